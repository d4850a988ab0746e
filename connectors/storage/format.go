package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Format turns records into the bytes of one object-store file and reads
// the Kafka coordinates back out of such a file.
//
// A Format is stateless and safe for concurrent use; each RecordWriter it
// returns belongs to one goroutine.
type Format interface {
	// Name is the short name of the format: "parquet", "avro" or "json".
	Name() string

	// Extension is the file name suffix, with its dot: ".parquet".
	Extension() string

	// NewWriter starts one file whose records all have the writer schema s,
	// which is never nil. Writing the same records in the same order with
	// the same schema and options produces the same bytes, which is what
	// lets a sink rewrite a file after a crash and get an identical object.
	NewWriter(w io.Writer, s *schemas.Schema, opts WriterOptions) (RecordWriter, error)

	// ReadPositions reads a whole file back and returns the Kafka
	// coordinates of each row, in file order. It needs the Kafka metadata
	// columns (WriterOptions.KafkaMetadata) and fails on a file without them.
	ReadPositions(r io.ReaderAt, size int64) ([]Position, error)
}

// WriterOptions configures one RecordWriter.
type WriterOptions struct {
	// KafkaMetadata appends four columns after the schema's own fields:
	// _kafka_topic (string), _kafka_partition (int), _kafka_offset (long)
	// and _kafka_timestamp (timestamp-millis). The value schema must then
	// be a record.
	KafkaMetadata bool

	// Codec is the compression codec; "" picks the format's default
	// (parquet: snappy, avro: null, json: none).
	Codec string

	// MaxBufferBytes bounds the memory a writer holds before it pushes bytes
	// to its io.Writer; 0 means DefaultMaxBufferBytes. Where a format cuts
	// its blocks depends on this value, so it is part of what makes two
	// files identical.
	MaxBufferBytes int
}

// DefaultMaxBufferBytes is the buffer bound used when
// WriterOptions.MaxBufferBytes is 0.
const DefaultMaxBufferBytes = 8 << 20

func (o WriterOptions) maxBuffer() int {
	if o.MaxBufferBytes <= 0 {
		return DefaultMaxBufferBytes
	}
	return o.MaxBufferBytes
}

// Position is the Kafka coordinate of one row of a file.
type Position struct {
	Topic     string
	Partition int32
	Offset    int64
}

// RecordWriter writes the records of one file. It is not safe for
// concurrent use.
type RecordWriter interface {
	// Write appends r. r.Value is the generic Avro value (see
	// connectors.Record) for the writer schema given to NewWriter. An error
	// leaves the file unusable: the caller discards it and starts again.
	Write(r *connectors.Record) error

	// Close finishes the file (footer, last block, flush). It does not
	// close the io.Writer.
	Close() error
}

// Names of the Kafka metadata columns added by WriterOptions.KafkaMetadata.
const (
	KafkaTopicField     = "_kafka_topic"
	KafkaPartitionField = "_kafka_partition"
	KafkaOffsetField    = "_kafka_offset"
	KafkaTimestampField = "_kafka_timestamp"
)

// ErrNoKafkaMetadata is returned by ReadPositions for a file written
// without the Kafka metadata columns.
var ErrNoKafkaMetadata = errors.New("file has no kafka metadata columns")

// NewFormat returns the format called name: a short name (parquet, avro,
// json) or the class name Confluent's S3 sink uses for it in format.class.
func NewFormat(name string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "parquet", "io.confluent.connect.s3.format.parquet.parquetformat":
		return parquetFormat{}, nil
	case "avro", "io.confluent.connect.s3.format.avro.avroformat":
		return avroFormat{}, nil
	case "json", "io.confluent.connect.s3.format.json.jsonformat":
		return jsonFormat{}, nil
	}
	return nil, fmt.Errorf("unknown format %q: want parquet, avro or json", name)
}

// recordSchema returns s as a record schema, or an error naming why a
// format that needs a record cannot take it.
func recordSchema(s *schemas.Schema, why string) (*avro.RecordSchema, error) {
	if s == nil || s.Avro == nil {
		return nil, errors.New("no value schema")
	}
	rec, ok := deref(s.Avro).(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("%s needs a record value schema, got %s", why, s.Avro.Type())
	}
	return rec, nil
}

// deref follows references to named types to the schema they name.
func deref(s avro.Schema) avro.Schema {
	for {
		ref, ok := s.(*avro.RefSchema)
		if !ok {
			return s
		}
		s = ref.Schema()
	}
}

// kafkaMetadataFields is the JSON of the four metadata fields as they are
// appended to a record schema.
const kafkaMetadataFields = `[
	{"name":"` + KafkaTopicField + `","type":"string"},
	{"name":"` + KafkaPartitionField + `","type":"int"},
	{"name":"` + KafkaOffsetField + `","type":"long"},
	{"name":"` + KafkaTimestampField + `",` +
	`"type":{"type":"long","logicalType":"timestamp-millis"}}
]`

// withKafkaMetadata returns rec with the four metadata fields appended. It
// goes through the schema's JSON so that every property of the original
// (docs, defaults, logical types) survives unchanged.
func withKafkaMetadata(rec *avro.RecordSchema) (avro.Schema, error) {
	for _, f := range rec.Fields() {
		switch f.Name() {
		case KafkaTopicField, KafkaPartitionField, KafkaOffsetField, KafkaTimestampField:
			return nil, fmt.Errorf("record %s already has a field %s", rec.FullName(), f.Name())
		}
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("marshal schema %s: %w", rec.FullName(), err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("unmarshal schema %s: %w", rec.FullName(), err)
	}
	var extra []any
	if err := json.Unmarshal([]byte(kafkaMetadataFields), &extra); err != nil {
		return nil, err
	}
	fields, _ := doc["fields"].([]any)
	doc["fields"] = append(fields, extra...)
	raw, err = json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	// A private cache keeps the extended record from clashing with the
	// original, which has the same full name.
	return avro.ParseBytesWithCache(raw, "", &avro.SchemaCache{})
}

// nullableBranch returns T for a union ["null", T] or [T, "null"].
func nullableBranch(u *avro.UnionSchema) (avro.Schema, bool) {
	types := u.Types()
	if len(types) != 2 {
		return nil, false
	}
	switch {
	case types[0].Type() == avro.Null && types[1].Type() != avro.Null:
		return types[1], true
	case types[1].Type() == avro.Null && types[0].Type() != avro.Null:
		return types[0], true
	}
	return nil, false
}

// unionBranchName is the key under which hamba/avro's generic decoder wraps
// a union value: the full name of a named type, else the type name with its
// logical type, as in "long.timestamp-millis".
func unionBranchName(s avro.Schema) string {
	if named, ok := s.(avro.NamedSchema); ok {
		return named.FullName()
	}
	if ref, ok := s.(*avro.RefSchema); ok {
		return ref.Schema().FullName()
	}
	name := string(s.Type())
	if lts, ok := s.(avro.LogicalTypeSchema); ok && lts.Logical() != nil {
		name += "." + string(lts.Logical().Type())
	}
	return name
}

// unwrapUnion strips the {"branch": value} wrapper that hamba/avro's generic
// decoder puts around union values. Values the converter already unwrapped
// pass through unchanged.
func unwrapUnion(v any, branch string) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if inner, ok := m[branch]; ok {
			return inner
		}
	}
	return v
}

// pow10 holds the powers of ten that fit an int64.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// errInexactDecimal reports a decimal value with more fractional digits
// than its schema's scale; rounding it would silently change the data.
var errInexactDecimal = errors.New("decimal has more fractional digits than its scale")

// decimalInt64 returns r scaled by 10^scale as an int64. ok is false when
// the result does not fit an int64 (or the fast path does not apply); the
// caller then uses decimalBig.
func decimalInt64(r *big.Rat, scale int) (v int64, ok bool, err error) {
	num, den := r.Num(), r.Denom()
	if scale < 0 || scale >= len(pow10) || !num.IsInt64() || !den.IsUint64() {
		return 0, false, nil
	}
	d := den.Uint64()
	p := uint64(pow10[scale])
	if p%d != 0 {
		return 0, false, errInexactDecimal
	}
	n := num.Int64()
	neg := n < 0
	abs := uint64(n)
	if neg {
		abs = -abs
	}
	hi, lo := bits.Mul64(abs, p/d)
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false, nil
	}
	if neg {
		return -int64(lo), true, nil
	}
	return int64(lo), true, nil
}

// decimalBig returns r scaled by 10^scale as an integer.
func decimalBig(r *big.Rat, scale int) (*big.Int, error) {
	n := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	n.Mul(n, r.Num())
	q, m := n.QuoRem(n, r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		return nil, errInexactDecimal
	}
	return q, nil
}

// appendTwosComplement appends x as a big-endian two's-complement integer of
// size bytes, or of the fewest bytes that hold it when size is 0.
func appendTwosComplement(dst []byte, x *big.Int, size int) ([]byte, error) {
	// A negative x is stored as the bitwise complement of |x|-1, which
	// needs as many bits as |x|-1 plus the sign bit.
	neg := x.Sign() < 0
	m := x
	if neg {
		m = new(big.Int).Neg(x)
		m.Sub(m, big.NewInt(1))
	}
	n := m.BitLen()/8 + 1
	if size == 0 {
		size = n
	}
	if n > size {
		return dst, fmt.Errorf("decimal %s does not fit %d bytes", x, size)
	}
	start := len(dst)
	dst = append(dst, make([]byte, size)...)
	out := dst[start:]
	m.FillBytes(out)
	if neg {
		for i := range out {
			out[i] = ^out[i]
		}
	}
	return dst, nil
}

// appendInt64Bytes appends v as a big-endian two's-complement integer of
// size bytes, or of the fewest bytes that hold it when size is 0.
func appendInt64Bytes(dst []byte, v int64, size int) ([]byte, error) {
	n := 8
	for n > 1 {
		// Drop a leading byte while the next one still carries the sign.
		top := v >> (8*(n-1) - 1)
		if top != 0 && top != -1 {
			break
		}
		n--
	}
	if size == 0 {
		size = n
	}
	if n > size {
		return dst, fmt.Errorf("decimal %d does not fit %d bytes", v, size)
	}
	for i := size - 1; i >= 0; i-- {
		if i >= 8 {
			dst = append(dst, byte(v>>63))
			continue
		}
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst, nil
}

// appendDecimalBytes appends the unscaled value of r as two's-complement
// bytes (size 0: as few as needed).
func appendDecimalBytes(dst []byte, r *big.Rat, scale, size int) ([]byte, error) {
	if v, ok, err := decimalInt64(r, scale); err != nil {
		return dst, err
	} else if ok {
		return appendInt64Bytes(dst, v, size)
	}
	x, err := decimalBig(r, scale)
	if err != nil {
		return dst, err
	}
	return appendTwosComplement(dst, x, size)
}

// epochDays returns the day of t, counted from 1970-01-01 in UTC.
func epochDays(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// appendUUID appends the 16 bytes of a UUID in its canonical text form.
func appendUUID(dst []byte, s string) ([]byte, error) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return dst, fmt.Errorf("invalid uuid %q", s)
	}
	for i := 0; i < 36; {
		if s[i] == '-' {
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return dst, fmt.Errorf("invalid uuid %q", s)
		}
		dst = append(dst, hi<<4|lo)
		i += 2
	}
	return dst, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// fixedBytes returns the bytes of a fixed value: hamba/avro decodes fixed
// types to Go arrays of their size; []byte is accepted too.
func fixedBytes(v any, size int) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		if len(b) != size {
			return nil, fmt.Errorf("fixed value has %d bytes, want %d", len(b), size)
		}
		return b, nil
	case [16]byte:
		if size == 16 {
			return b[:], nil
		}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 || rv.Len() != size {
		return nil, fmt.Errorf("want a fixed value of %d bytes, got %T", size, v)
	}
	out := make([]byte, size)
	reflect.Copy(reflect.ValueOf(out), rv)
	return out, nil
}

// asInt64 accepts the Go integer types a generic Avro int or long may have.
func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	}
	return 0, false
}

// asInt32 is asInt64 with a range check for Avro int.
func asInt32(v any) (int32, error) {
	n, ok := asInt64(v)
	if !ok {
		return 0, typeError("int", v)
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%d overflows an int", n)
	}
	return int32(n), nil
}

func typeError(want string, got any) error {
	if got == nil {
		return fmt.Errorf("want %s, got null", want)
	}
	return fmt.Errorf("want %s, got %T", want, got)
}
