package storage

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
	"github.com/klauspost/compress/zstd"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// avroFormat writes Avro object container files.
//
// The container is written here rather than through hamba/avro's ocf
// encoder, which is used to read files back: that encoder draws a random
// sync marker on Reset and writes the header metadata and every Avro map
// in Go's random map order, so two runs over the same records would not
// give the same bytes. Here the header keys and map entries are sorted, and
// the sync marker is derived from the schema fingerprint. Records are
// encoded by a plan compiled once per schema.
type avroFormat struct{}

func (avroFormat) Name() string { return "avro" }

func (avroFormat) Extension() string { return ".avro" }

// avroPlans caches compiled plans by the hash of the schema's full JSON:
// the file header carries docs and properties, which the fingerprint
// ignores, and two files of the same records must not differ in them.
var avroPlans sync.Map // writerPlanKey -> *avroPlan

// avroPlan is the compiled encoder of one writer schema.
type avroPlan struct {
	enc    avroEncFunc // the value schema's encoder
	meta   bool        // append the Kafka metadata fields
	schema []byte      // JSON of the file schema, metadata fields included
	sync   [16]byte
}

// avroEncFunc appends the Avro binary encoding of v.
type avroEncFunc func(dst []byte, v any) ([]byte, error)

func (avroFormat) NewWriter(
	w io.Writer, s *schemas.Schema, opts WriterOptions,
) (RecordWriter, error) {
	if s == nil || s.Avro == nil {
		return nil, fmt.Errorf("avro: no value schema")
	}
	codec, name, err := avroCodec(opts.Codec)
	if err != nil {
		return nil, err
	}
	full, err := json.Marshal(s.Avro)
	if err != nil {
		return nil, fmt.Errorf("marshal avro schema: %w", err)
	}
	key := writerPlanKey{fingerprint: sha256.Sum256(full), meta: opts.KafkaMetadata}
	plan, _ := avroPlans.Load(key)
	if plan == nil {
		p, err := compileAvro(s.Avro, opts.KafkaMetadata)
		if err != nil {
			return nil, err
		}
		plan, _ = avroPlans.LoadOrStore(key, p)
	}
	aw := &avroWriter{
		w:       w,
		plan:    plan.(*avroPlan),
		codec:   codec,
		blockAt: min(opts.maxBuffer()/2, 1<<20),
	}
	if err := aw.writeHeader(name); err != nil {
		return nil, err
	}
	return aw, nil
}

func compileAvro(s avro.Schema, meta bool) (*avroPlan, error) {
	enc, err := avroEncoderOf(s, "")
	if err != nil {
		return nil, fmt.Errorf("avro encoder for %s: %w", unionBranchName(s), err)
	}
	file := s
	if meta {
		rec, err := recordSchema(&schemas.Schema{Avro: s}, "kafka metadata")
		if err != nil {
			return nil, err
		}
		if file, err = withKafkaMetadata(rec); err != nil {
			return nil, err
		}
	}
	// The full JSON keeps logical types and properties that the canonical
	// form would drop.
	text, err := json.Marshal(file)
	if err != nil {
		return nil, fmt.Errorf("marshal avro schema: %w", err)
	}
	plan := &avroPlan{enc: enc, meta: meta, schema: text}
	sum := sha256.Sum256(append([]byte("tributary avro sync\x00"), text...))
	copy(plan.sync[:], sum[:])
	return plan, nil
}

// avroCodec maps avro.codec values to a block compressor and the codec name
// recorded in the file header.
func avroCodec(name string) (func(dst, src []byte) ([]byte, error), string, error) {
	switch strings.ToLower(name) {
	case "", "null", "none":
		return nil, "null", nil
	case "deflate":
		return deflateBlock, "deflate", nil
	case "snappy":
		return snappyBlock, "snappy", nil
	case "zstd", "zstandard":
		return zstdBlock, "zstandard", nil
	}
	return nil, "", fmt.Errorf("unknown avro codec %q: want null, deflate, snappy or zstandard",
		name)
}

func deflateBlock(dst, src []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	fw, err := flate.NewWriter(buf, flate.DefaultCompression)
	if err != nil {
		return dst, err
	}
	if _, err := fw.Write(src); err != nil {
		return dst, err
	}
	if err := fw.Close(); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}

// snappyBlock follows the Avro spec: a raw snappy block followed by the
// big-endian CRC-32 of the uncompressed data.
func snappyBlock(dst, src []byte) ([]byte, error) {
	out := snappy.Encode(dst[:cap(dst)], src)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(src)), nil
}

// zstdEncoder is shared: EncodeAll is safe for concurrent use, and with a
// single goroutine per call its output depends only on its input.
var zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
})

func zstdBlock(dst, src []byte) ([]byte, error) {
	enc, err := zstdEncoder()
	if err != nil {
		return dst, err
	}
	return enc.EncodeAll(src, dst[:0]), nil
}

// avroWriter writes one container file: header, then blocks of records,
// each followed by the sync marker.
type avroWriter struct {
	w       io.Writer
	plan    *avroPlan
	codec   func(dst, src []byte) ([]byte, error)
	blockAt int // block size that triggers a flush; depends only on options

	block  []byte // encoded records of the open block
	count  int64
	packed []byte // compressed block
	out    []byte // block framing
	err    error
}

func (w *avroWriter) writeHeader(codec string) error {
	h := []byte("Obj\x01")
	// The metadata map, keys sorted: avro.codec before avro.schema.
	h = appendLong(h, 2)
	h = appendString(h, "avro.codec")
	h = appendString(h, codec)
	h = appendString(h, "avro.schema")
	h = appendLong(h, int64(len(w.plan.schema)))
	h = append(h, w.plan.schema...)
	h = appendLong(h, 0)
	h = append(h, w.plan.sync[:]...)
	if _, err := w.w.Write(h); err != nil {
		return fmt.Errorf("write avro header: %w", err)
	}
	return nil
}

func (w *avroWriter) Write(r *connectors.Record) error {
	if w.err != nil {
		return w.err
	}
	start := len(w.block)
	var err error
	w.block, err = w.plan.enc(w.block, r.Value)
	if err != nil {
		w.block = w.block[:start]
		return fmt.Errorf("encode record %s: %w", r.Position(), err)
	}
	if w.plan.meta {
		w.block = appendString(w.block, r.Topic)
		w.block = appendLong(w.block, int64(r.Partition))
		w.block = appendLong(w.block, r.Offset)
		w.block = appendLong(w.block, r.Timestamp.UnixMilli())
	}
	w.count++
	if len(w.block) >= w.blockAt {
		return w.flushBlock()
	}
	return nil
}

func (w *avroWriter) flushBlock() error {
	if w.count == 0 {
		return nil
	}
	data := w.block
	if w.codec != nil {
		var err error
		if w.packed, err = w.codec(w.packed[:0], w.block); err != nil {
			w.err = fmt.Errorf("compress avro block: %w", err)
			return w.err
		}
		data = w.packed
	}
	w.out = appendLong(w.out[:0], w.count)
	w.out = appendLong(w.out, int64(len(data)))
	w.out = append(w.out, data...)
	w.out = append(w.out, w.plan.sync[:]...)
	if _, err := w.w.Write(w.out); err != nil {
		w.err = fmt.Errorf("write avro block: %w", err)
		return w.err
	}
	w.block = w.block[:0]
	w.count = 0
	return nil
}

func (w *avroWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.flushBlock(); err != nil {
		return err
	}
	w.err = fmt.Errorf("avro writer is closed")
	return nil
}

// ReadPositions decodes the file with hamba/avro's ocf reader, which skips
// every field but the metadata ones.
func (avroFormat) ReadPositions(r io.ReaderAt, size int64) ([]Position, error) {
	dec, err := ocf.NewDecoder(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, fmt.Errorf("open avro file: %w", err)
	}
	rec, ok := deref(dec.Schema()).(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("avro schema %s: %w", dec.Schema().Type(), ErrNoKafkaMetadata)
	}
	found := 0
	for _, f := range rec.Fields() {
		switch f.Name() {
		case KafkaTopicField, KafkaPartitionField, KafkaOffsetField:
			found++
		}
	}
	if found != 3 {
		return nil, fmt.Errorf("avro record %s: %w", rec.FullName(), ErrNoKafkaMetadata)
	}
	var out []Position
	for dec.HasNext() {
		var row struct {
			Topic     string `avro:"_kafka_topic"`
			Partition int32  `avro:"_kafka_partition"`
			Offset    int64  `avro:"_kafka_offset"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("decode avro row %d: %w", len(out), err)
		}
		out = append(out, Position{Topic: row.Topic, Partition: row.Partition, Offset: row.Offset})
	}
	if err := dec.Error(); err != nil {
		return nil, fmt.Errorf("read avro file: %w", err)
	}
	return out, nil
}

func appendLong(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v<<1)^uint64(v>>63))
}

func appendString(dst []byte, s string) []byte {
	dst = appendLong(dst, int64(len(s)))
	return append(dst, s...)
}

// avroEncoderOf compiles the encoder of s; path names the field for errors.
func avroEncoderOf(s avro.Schema, path string) (avroEncFunc, error) {
	s = deref(s)
	var lt avro.LogicalType
	var logical avro.LogicalSchema
	if lts, ok := s.(avro.LogicalTypeSchema); ok && lts.Logical() != nil {
		logical = lts.Logical()
		lt = logical.Type()
	}

	switch s := s.(type) {
	case *avro.RecordSchema:
		return avroRecordEncoder(s, path)
	case *avro.UnionSchema:
		return avroUnionEncoder(s, path)
	case *avro.ArraySchema:
		items, err := avroEncoderOf(s.Items(), path+"[]")
		if err != nil {
			return nil, err
		}
		return func(dst []byte, v any) ([]byte, error) {
			a, ok := v.([]any)
			if !ok {
				return dst, fieldErr(path, typeError("array ([]any)", v))
			}
			if len(a) > 0 {
				dst = appendLong(dst, int64(len(a)))
				for _, item := range a {
					var err error
					if dst, err = items(dst, item); err != nil {
						return dst, err
					}
				}
			}
			return appendLong(dst, 0), nil
		}, nil
	case *avro.MapSchema:
		values, err := avroEncoderOf(s.Values(), path+".value")
		if err != nil {
			return nil, err
		}
		return func(dst []byte, v any) ([]byte, error) {
			m, ok := v.(map[string]any)
			if !ok {
				return dst, fieldErr(path, typeError("map (map[string]any)", v))
			}
			if len(m) > 0 {
				// Sorted keys keep files identical however Go iterates.
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				dst = appendLong(dst, int64(len(keys)))
				for _, k := range keys {
					dst = appendString(dst, k)
					var err error
					if dst, err = values(dst, m[k]); err != nil {
						return dst, err
					}
				}
			}
			return appendLong(dst, 0), nil
		}, nil
	case *avro.EnumSchema:
		index := make(map[string]int64, len(s.Symbols()))
		for i, sym := range s.Symbols() {
			index[sym] = int64(i)
		}
		return func(dst []byte, v any) ([]byte, error) {
			sym, ok := v.(string)
			if !ok {
				return dst, fieldErr(path, typeError("enum symbol", v))
			}
			i, ok := index[sym]
			if !ok {
				return dst, fieldErr(path, fmt.Errorf("%q is not a symbol of %s", sym, s.FullName()))
			}
			return appendLong(dst, i), nil
		}, nil
	case *avro.FixedSchema:
		size := s.Size()
		if dec, ok := logical.(*avro.DecimalLogicalSchema); ok {
			return avroDecimalEncoder(dec.Scale(), size, path), nil
		}
		return func(dst []byte, v any) ([]byte, error) {
			if d, ok := v.(avro.LogicalDuration); ok && size == 12 {
				dst = binary.LittleEndian.AppendUint32(dst, d.Months)
				dst = binary.LittleEndian.AppendUint32(dst, d.Days)
				return binary.LittleEndian.AppendUint32(dst, d.Milliseconds), nil
			}
			b, err := fixedBytes(v, size)
			if err != nil {
				return dst, fieldErr(path, err)
			}
			return append(dst, b...), nil
		}, nil
	case *avro.NullSchema:
		return func(dst []byte, v any) ([]byte, error) {
			if v != nil {
				return dst, fieldErr(path, typeError("null", v))
			}
			return dst, nil
		}, nil
	case *avro.PrimitiveSchema:
		return avroPrimitiveEncoder(s.Type(), lt, logical, path)
	}
	return nil, fmt.Errorf("field %s: unsupported avro type %s", path, s.Type())
}

func fieldErr(path string, err error) error {
	if path == "" {
		return err
	}
	return fmt.Errorf("field %s: %w", path, err)
}

func avroRecordEncoder(s *avro.RecordSchema, path string) (avroEncFunc, error) {
	type field struct {
		name string
		enc  avroEncFunc
	}
	fields := make([]field, len(s.Fields()))
	for i, f := range s.Fields() {
		enc, err := avroEncoderOf(f.Type(), joinPath(path, f.Name()))
		if err != nil {
			return nil, err
		}
		fields[i] = field{name: f.Name(), enc: enc}
	}
	return func(dst []byte, v any) ([]byte, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return dst, fieldErr(path, typeError("record (map[string]any)", v))
		}
		for i := range fields {
			var err error
			if dst, err = fields[i].enc(dst, m[fields[i].name]); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}, nil
}

// avroUnionEncoder picks the branch from the Go type of the value: nil is
// the null branch; a nullable union's other branch takes everything else;
// wider unions accept hamba's {"name": value} wrapper or a value whose Go
// type only one branch can hold.
func avroUnionEncoder(u *avro.UnionSchema, path string) (avroEncFunc, error) {
	types := u.Types()
	encs := make([]avroEncFunc, len(types))
	names := make([]string, len(types))
	null := int64(-1)
	for i, t := range types {
		if t.Type() == avro.Null {
			null = int64(i)
		}
		enc, err := avroEncoderOf(t, path)
		if err != nil {
			return nil, err
		}
		encs[i], names[i] = enc, unionBranchName(t)
	}
	if inner, ok := nullableBranch(u); ok {
		other := 1 - null
		name := unionBranchName(inner)
		return func(dst []byte, v any) ([]byte, error) {
			if v == nil {
				return appendLong(dst, null), nil
			}
			v = unwrapUnion(v, name)
			return encs[other](appendLong(dst, other), v)
		}, nil
	}
	return func(dst []byte, v any) ([]byte, error) {
		if v == nil {
			if null < 0 {
				return dst, fieldErr(path, typeError("non-null union value", v))
			}
			return appendLong(dst, null), nil
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for i, name := range names {
				if inner, ok := m[name]; ok {
					return encs[i](appendLong(dst, int64(i)), inner)
				}
			}
		}
		// Try the branches in order; an encoder that rejects the value
		// leaves dst as it was, so the next one starts clean.
		for i, enc := range encs {
			if int64(i) == null {
				continue
			}
			start := len(dst)
			out, err := enc(appendLong(dst, int64(i)), v)
			if err == nil {
				return out, nil
			}
			dst = out[:start]
		}
		return dst, fieldErr(path, fmt.Errorf("%T matches no branch of %s", v, u.String()))
	}, nil
}

func avroDecimalEncoder(scale, size int, path string) avroEncFunc {
	return func(dst []byte, v any) ([]byte, error) {
		r, ok := v.(*big.Rat)
		if !ok {
			return dst, fieldErr(path, typeError("decimal (*big.Rat)", v))
		}
		if size > 0 {
			out, err := appendDecimalBytes(dst, r, scale, size)
			if err != nil {
				return dst, fieldErr(path, err)
			}
			return out, nil
		}
		// bytes: a length prefix, then the fewest bytes that hold the value.
		var scratch [32]byte
		b, err := appendDecimalBytes(scratch[:0], r, scale, 0)
		if err != nil {
			return dst, fieldErr(path, err)
		}
		dst = appendLong(dst, int64(len(b)))
		return append(dst, b...), nil
	}
}

func avroPrimitiveEncoder(
	t avro.Type, lt avro.LogicalType, logical avro.LogicalSchema, path string,
) (avroEncFunc, error) {
	fail := func(dst []byte, want string, v any) ([]byte, error) {
		return dst, fieldErr(path, typeError(want, v))
	}
	switch t {
	case avro.Boolean:
		return func(dst []byte, v any) ([]byte, error) {
			b, ok := v.(bool)
			if !ok {
				return fail(dst, "boolean", v)
			}
			if b {
				return append(dst, 1), nil
			}
			return append(dst, 0), nil
		}, nil
	case avro.Int:
		switch lt {
		case avro.Date:
			return func(dst []byte, v any) ([]byte, error) {
				tm, ok := v.(time.Time)
				if !ok {
					return fail(dst, "date (time.Time)", v)
				}
				return appendLong(dst, epochDays(tm)), nil
			}, nil
		case avro.TimeMillis:
			return func(dst []byte, v any) ([]byte, error) {
				d, ok := v.(time.Duration)
				if !ok {
					return fail(dst, "time (time.Duration)", v)
				}
				return appendLong(dst, d.Milliseconds()), nil
			}, nil
		}
		return func(dst []byte, v any) ([]byte, error) {
			n, err := asInt32(v)
			if err != nil {
				return dst, fieldErr(path, err)
			}
			return appendLong(dst, int64(n)), nil
		}, nil
	case avro.Long:
		var conv func(any) (int64, bool)
		switch lt {
		case avro.TimestampMillis, avro.LocalTimestampMillis:
			conv = func(v any) (int64, bool) {
				tm, ok := v.(time.Time)
				return tm.UnixMilli(), ok
			}
		case avro.TimestampMicros, avro.LocalTimestampMicros:
			conv = func(v any) (int64, bool) {
				tm, ok := v.(time.Time)
				return tm.UnixMicro(), ok
			}
		case avro.TimeMicros:
			conv = func(v any) (int64, bool) {
				d, ok := v.(time.Duration)
				return d.Microseconds(), ok
			}
		default:
			conv = asInt64
		}
		want := "long"
		if lt != "" {
			want = string(lt)
		}
		return func(dst []byte, v any) ([]byte, error) {
			n, ok := conv(v)
			if !ok {
				return fail(dst, want, v)
			}
			return appendLong(dst, n), nil
		}, nil
	case avro.Float:
		return func(dst []byte, v any) ([]byte, error) {
			switch f := v.(type) {
			case float32:
				return binary.LittleEndian.AppendUint32(dst, math.Float32bits(f)), nil
			case float64:
				return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
			}
			return fail(dst, "float", v)
		}, nil
	case avro.Double:
		return func(dst []byte, v any) ([]byte, error) {
			switch f := v.(type) {
			case float64:
				return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
			case float32:
				return binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(f))), nil
			}
			return fail(dst, "double", v)
		}, nil
	case avro.String:
		return func(dst []byte, v any) ([]byte, error) {
			s, ok := v.(string)
			if !ok {
				return fail(dst, "string", v)
			}
			return appendString(dst, s), nil
		}, nil
	case avro.Bytes:
		if dec, ok := logical.(*avro.DecimalLogicalSchema); ok {
			return avroDecimalEncoder(dec.Scale(), 0, path), nil
		}
		return func(dst []byte, v any) ([]byte, error) {
			b, ok := v.([]byte)
			if !ok {
				return fail(dst, "bytes", v)
			}
			dst = appendLong(dst, int64(len(b)))
			return append(dst, b...), nil
		}, nil
	}
	return nil, fmt.Errorf("field %s: unsupported avro type %s", path, t)
}
