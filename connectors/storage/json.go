package storage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// jsonFormat writes JSON lines: one object per record, fields in Avro
// order, each line ended by '\n'.
//
// Values render the way a person reads them, as Confluent's JsonFormat does
// with schemas.enable=false, with logical types spelled out: decimals as
// JSON numbers with exactly their scale's digits (75.50 stays 75.50),
// dates as "2015-07-01", timestamps as RFC 3339 in UTC with milliseconds
// (microseconds for timestamp-micros), local timestamps without a zone,
// times as "15:04:05.000", bytes and fixed as base64 strings, unions as
// their branch's value. JSON has no NaN or infinities: they are written
// as the strings "NaN", "Infinity" and "-Infinity".
type jsonFormat struct{}

func (jsonFormat) Name() string { return "json" }

func (jsonFormat) Extension() string { return ".json" }

// jsonPlans caches compiled encoders by schema fingerprint.
var jsonPlans sync.Map // [32]byte -> jsonEncFunc

// jsonEncFunc appends the JSON text of v.
type jsonEncFunc func(dst []byte, v any) ([]byte, error)

func (jsonFormat) NewWriter(
	w io.Writer, s *schemas.Schema, opts WriterOptions,
) (RecordWriter, error) {
	if s == nil || s.Avro == nil {
		return nil, fmt.Errorf("json: no value schema")
	}
	if opts.KafkaMetadata {
		if _, err := recordSchema(s, "kafka metadata"); err != nil {
			return nil, err
		}
	}
	jw := &jsonWriter{w: w, meta: opts.KafkaMetadata, flushAt: min(opts.maxBuffer()/2, 256<<10)}
	switch strings.ToLower(opts.Codec) {
	case "", "none":
	case "gzip":
		// A zero gzip header has no name and no modification time, so the
		// output depends on the records only.
		jw.gz = gzip.NewWriter(w)
		jw.w = jw.gz
	default:
		return nil, fmt.Errorf("unknown json codec %q: want none or gzip", opts.Codec)
	}

	fp := s.Avro.Fingerprint()
	enc, _ := jsonPlans.Load(fp)
	if enc == nil {
		e, err := jsonEncoderOf(s.Avro, "")
		if err != nil {
			return nil, fmt.Errorf("json encoder for %s: %w", unionBranchName(s.Avro), err)
		}
		enc, _ = jsonPlans.LoadOrStore(fp, e)
	}
	jw.enc = enc.(jsonEncFunc)
	return jw, nil
}

type jsonWriter struct {
	w       io.Writer
	gz      *gzip.Writer
	enc     jsonEncFunc
	meta    bool
	flushAt int
	buf     []byte
	err     error
}

func (w *jsonWriter) Write(r *connectors.Record) error {
	if w.err != nil {
		return w.err
	}
	start := len(w.buf)
	var err error
	w.buf, err = w.enc(w.buf, r.Value)
	if err != nil {
		w.buf = w.buf[:start]
		return fmt.Errorf("encode record %s: %w", r.Position(), err)
	}
	if w.meta {
		// Reopen the record's object to append the metadata fields.
		w.buf = w.buf[:len(w.buf)-1]
		if w.buf[len(w.buf)-1] != '{' {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, `"`+KafkaTopicField+`":`...)
		w.buf = appendJSONString(w.buf, r.Topic)
		w.buf = append(w.buf, `,"`+KafkaPartitionField+`":`...)
		w.buf = strconv.AppendInt(w.buf, int64(r.Partition), 10)
		w.buf = append(w.buf, `,"`+KafkaOffsetField+`":`...)
		w.buf = strconv.AppendInt(w.buf, r.Offset, 10)
		w.buf = append(w.buf, `,"`+KafkaTimestampField+`":"`...)
		w.buf = r.Timestamp.UTC().AppendFormat(w.buf, jsonMillisLayout)
		w.buf = append(w.buf, `"}`...)
	}
	w.buf = append(w.buf, '\n')
	if len(w.buf) >= w.flushAt {
		return w.flush()
	}
	return nil
}

func (w *jsonWriter) flush() error {
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("write json lines: %w", err)
		return w.err
	}
	w.buf = w.buf[:0]
	return nil
}

func (w *jsonWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if w.gz != nil {
		if err := w.gz.Close(); err != nil {
			w.err = fmt.Errorf("close gzip stream: %w", err)
			return w.err
		}
	}
	w.err = fmt.Errorf("json writer is closed")
	return nil
}

// ReadPositions parses each line for its metadata fields; gzip files are
// recognised by their magic bytes.
func (jsonFormat) ReadPositions(r io.ReaderAt, size int64) ([]Position, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open gzip stream: %w", err)
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	var out []Position
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var row struct {
				Topic     *string `json:"_kafka_topic"`
				Partition *int32  `json:"_kafka_partition"`
				Offset    *int64  `json:"_kafka_offset"`
			}
			if err := json.Unmarshal(line, &row); err != nil {
				return nil, fmt.Errorf("parse json line %d: %w", len(out)+1, err)
			}
			if row.Topic == nil || row.Partition == nil || row.Offset == nil {
				return nil, fmt.Errorf("json line %d: %w", len(out)+1, ErrNoKafkaMetadata)
			}
			out = append(out, Position{
				Topic: *row.Topic, Partition: *row.Partition, Offset: *row.Offset,
			})
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read json lines: %w", err)
		}
	}
}

const (
	jsonDateLayout        = "2006-01-02"
	jsonMillisLayout      = "2006-01-02T15:04:05.000Z07:00"
	jsonMicrosLayout      = "2006-01-02T15:04:05.000000Z07:00"
	jsonLocalMillisLayout = "2006-01-02T15:04:05.000"
	jsonLocalMicrosLayout = "2006-01-02T15:04:05.000000"
)

// jsonEncoderOf compiles the encoder of s; path names the field for errors.
func jsonEncoderOf(s avro.Schema, path string) (jsonEncFunc, error) {
	s = deref(s)
	var lt avro.LogicalType
	var logical avro.LogicalSchema
	if lts, ok := s.(avro.LogicalTypeSchema); ok && lts.Logical() != nil {
		logical = lts.Logical()
		lt = logical.Type()
	}
	if dec, ok := logical.(*avro.DecimalLogicalSchema); ok {
		return jsonDecimal(dec.Scale(), path), nil
	}

	switch s := s.(type) {
	case *avro.RecordSchema:
		return jsonRecordEncoder(s, path)
	case *avro.UnionSchema:
		return jsonUnionEncoder(s, path)
	case *avro.ArraySchema:
		items, err := jsonEncoderOf(s.Items(), path+"[]")
		if err != nil {
			return nil, err
		}
		return func(dst []byte, v any) ([]byte, error) {
			a, ok := v.([]any)
			if !ok {
				return dst, fieldErr(path, typeError("array ([]any)", v))
			}
			dst = append(dst, '[')
			for i, item := range a {
				if i > 0 {
					dst = append(dst, ',')
				}
				var err error
				if dst, err = items(dst, item); err != nil {
					return dst, err
				}
			}
			return append(dst, ']'), nil
		}, nil
	case *avro.MapSchema:
		values, err := jsonEncoderOf(s.Values(), path+".value")
		if err != nil {
			return nil, err
		}
		return func(dst []byte, v any) ([]byte, error) {
			m, ok := v.(map[string]any)
			if !ok {
				return dst, fieldErr(path, typeError("map (map[string]any)", v))
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			dst = append(dst, '{')
			for i, k := range keys {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, k)
				dst = append(dst, ':')
				var err error
				if dst, err = values(dst, m[k]); err != nil {
					return dst, err
				}
			}
			return append(dst, '}'), nil
		}, nil
	case *avro.FixedSchema:
		size := s.Size()
		return func(dst []byte, v any) ([]byte, error) {
			if d, ok := v.(avro.LogicalDuration); ok {
				return fmt.Appendf(dst, `{"months":%d,"days":%d,"milliseconds":%d}`,
					d.Months, d.Days, d.Milliseconds), nil
			}
			b, err := fixedBytes(v, size)
			if err != nil {
				return dst, fieldErr(path, err)
			}
			return appendJSONBase64(dst, b), nil
		}, nil
	case *avro.EnumSchema:
		return jsonStringEncoder("enum symbol", path), nil
	case *avro.NullSchema:
		return func(dst []byte, v any) ([]byte, error) {
			if v != nil {
				return dst, fieldErr(path, typeError("null", v))
			}
			return append(dst, "null"...), nil
		}, nil
	case *avro.PrimitiveSchema:
		return jsonPrimitiveEncoder(s.Type(), lt, path)
	}
	return nil, fmt.Errorf("field %s: unsupported avro type %s", path, s.Type())
}

func jsonRecordEncoder(s *avro.RecordSchema, path string) (jsonEncFunc, error) {
	type field struct {
		name string
		key  []byte // `"name":` or `,"name":`, escaped once here
		enc  jsonEncFunc
	}
	fields := make([]field, len(s.Fields()))
	for i, f := range s.Fields() {
		enc, err := jsonEncoderOf(f.Type(), joinPath(path, f.Name()))
		if err != nil {
			return nil, err
		}
		var key []byte
		if i > 0 {
			key = append(key, ',')
		}
		key = appendJSONString(key, f.Name())
		key = append(key, ':')
		fields[i] = field{name: f.Name(), key: key, enc: enc}
	}
	return func(dst []byte, v any) ([]byte, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return dst, fieldErr(path, typeError("record (map[string]any)", v))
		}
		dst = append(dst, '{')
		for i := range fields {
			f := &fields[i]
			dst = append(dst, f.key...)
			var err error
			if dst, err = f.enc(dst, m[f.name]); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}, nil
}

// jsonUnionEncoder renders the value of the branch it belongs to; the
// branch is chosen as avroUnionEncoder chooses it.
func jsonUnionEncoder(u *avro.UnionSchema, path string) (jsonEncFunc, error) {
	types := u.Types()
	encs := make([]jsonEncFunc, len(types))
	names := make([]string, len(types))
	for i, t := range types {
		enc, err := jsonEncoderOf(t, path)
		if err != nil {
			return nil, err
		}
		encs[i], names[i] = enc, unionBranchName(t)
	}
	return func(dst []byte, v any) ([]byte, error) {
		if v == nil {
			return append(dst, "null"...), nil
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for i, name := range names {
				if inner, ok := m[name]; ok {
					return encs[i](dst, inner)
				}
			}
		}
		for i, enc := range encs {
			if types[i].Type() == avro.Null {
				continue
			}
			start := len(dst)
			out, err := enc(dst, v)
			if err == nil {
				return out, nil
			}
			dst = out[:start]
		}
		return dst, fieldErr(path, fmt.Errorf("%T matches no branch of %s", v, u.String()))
	}, nil
}

func jsonDecimal(scale int, path string) jsonEncFunc {
	return func(dst []byte, v any) ([]byte, error) {
		r, ok := v.(*big.Rat)
		if !ok {
			return dst, fieldErr(path, typeError("decimal (*big.Rat)", v))
		}
		n, fits, err := decimalInt64(r, scale)
		if err != nil {
			return dst, fieldErr(path, err)
		}
		if fits {
			var digits [24]byte
			return appendScaled(dst, strconv.AppendInt(digits[:0], n, 10), scale), nil
		}
		x, err := decimalBig(r, scale)
		if err != nil {
			return dst, fieldErr(path, err)
		}
		return appendScaled(dst, x.Append(nil, 10), scale), nil
	}
}

// appendScaled writes the integer text digits divided by 10^scale.
func appendScaled(dst, digits []byte, scale int) []byte {
	if digits[0] == '-' {
		dst = append(dst, '-')
		digits = digits[1:]
	}
	if scale == 0 {
		return append(dst, digits...)
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

func jsonStringEncoder(want, path string) jsonEncFunc {
	return func(dst []byte, v any) ([]byte, error) {
		s, ok := v.(string)
		if !ok {
			return dst, fieldErr(path, typeError(want, v))
		}
		return appendJSONString(dst, s), nil
	}
}

func jsonTimeEncoder(layout, path string) jsonEncFunc {
	return func(dst []byte, v any) ([]byte, error) {
		t, ok := v.(time.Time)
		if !ok {
			return dst, fieldErr(path, typeError("time.Time", v))
		}
		dst = append(dst, '"')
		dst = t.UTC().AppendFormat(dst, layout)
		return append(dst, '"'), nil
	}
}

func jsonClockEncoder(layout, path string) jsonEncFunc {
	return func(dst []byte, v any) ([]byte, error) {
		d, ok := v.(time.Duration)
		if !ok {
			return dst, fieldErr(path, typeError("time.Duration", v))
		}
		dst = append(dst, '"')
		dst = time.Unix(0, 0).UTC().Add(d).AppendFormat(dst, layout)
		return append(dst, '"'), nil
	}
}

func jsonPrimitiveEncoder(t avro.Type, lt avro.LogicalType, path string) (jsonEncFunc, error) {
	switch lt {
	case avro.Date:
		return jsonTimeEncoder(jsonDateLayout, path), nil
	case avro.TimestampMillis:
		return jsonTimeEncoder(jsonMillisLayout, path), nil
	case avro.TimestampMicros:
		return jsonTimeEncoder(jsonMicrosLayout, path), nil
	case avro.LocalTimestampMillis:
		return jsonTimeEncoder(jsonLocalMillisLayout, path), nil
	case avro.LocalTimestampMicros:
		return jsonTimeEncoder(jsonLocalMicrosLayout, path), nil
	case avro.TimeMillis:
		return jsonClockEncoder("15:04:05.000", path), nil
	case avro.TimeMicros:
		return jsonClockEncoder("15:04:05.000000", path), nil
	}
	switch t {
	case avro.Boolean:
		return func(dst []byte, v any) ([]byte, error) {
			b, ok := v.(bool)
			if !ok {
				return dst, fieldErr(path, typeError("boolean", v))
			}
			return strconv.AppendBool(dst, b), nil
		}, nil
	case avro.Int, avro.Long:
		return func(dst []byte, v any) ([]byte, error) {
			n, ok := asInt64(v)
			if !ok {
				return dst, fieldErr(path, typeError(string(t), v))
			}
			return strconv.AppendInt(dst, n, 10), nil
		}, nil
	case avro.Float:
		return func(dst []byte, v any) ([]byte, error) {
			switch f := v.(type) {
			case float32:
				return appendJSONFloat(dst, float64(f), 32), nil
			case float64:
				return appendJSONFloat(dst, f, 32), nil
			}
			return dst, fieldErr(path, typeError("float", v))
		}, nil
	case avro.Double:
		return func(dst []byte, v any) ([]byte, error) {
			switch f := v.(type) {
			case float64:
				return appendJSONFloat(dst, f, 64), nil
			case float32:
				return appendJSONFloat(dst, float64(f), 64), nil
			}
			return dst, fieldErr(path, typeError("double", v))
		}, nil
	case avro.String:
		return jsonStringEncoder("string", path), nil
	case avro.Bytes:
		return func(dst []byte, v any) ([]byte, error) {
			b, ok := v.([]byte)
			if !ok {
				return dst, fieldErr(path, typeError("bytes", v))
			}
			return appendJSONBase64(dst, b), nil
		}, nil
	}
	return nil, fmt.Errorf("field %s: unsupported avro type %s", path, t)
}

// appendJSONFloat formats like encoding/json: the shortest text that reads
// back to the same value, in exponent form only for very large or small
// magnitudes.
func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	fmtByte := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			fmtByte = 'e'
		}
	}
	return strconv.AppendFloat(dst, f, fmtByte, -1, bits)
}

func appendJSONBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendJSONString appends s quoted. Unlike encoding/json it leaves <, >
// and & alone: the output is data, not HTML.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 end lines in JavaScript; escape them as
		// encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"
