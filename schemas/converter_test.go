package schemas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

// mapResolver serves schemas from a map and counts the lookups.
type mapResolver struct {
	schemas map[int]*Schema
	err     error
	calls   atomic.Int64
}

func (r *mapResolver) SchemaByID(_ context.Context, id int) (*Schema, error) {
	r.calls.Add(1)
	if r.err != nil {
		return nil, r.err
	}
	s, ok := r.schemas[id]
	if !ok {
		return nil, fmt.Errorf("schema %d: %w", id, ErrUnknownSchema)
	}
	return s, nil
}

func newSchema(t testing.TB, id int, text string) *Schema {
	t.Helper()
	a, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parse schema %d: %v", id, err)
	}
	return &Schema{ID: id, Avro: a, Text: text}
}

func newConverter(t testing.TB, opts []ConverterOption, schemas ...*Schema) (*Converter, *mapResolver) {
	r := &mapResolver{schemas: map[int]*Schema{}}
	for _, s := range schemas {
		r.schemas[s.ID] = s
	}
	return NewConverter(r, opts...), r
}

// normalize makes decoded values comparable with reflect.DeepEqual: big.Rat
// values become their exact string form.
func normalize(v any) any {
	switch x := v.(type) {
	case *big.Rat:
		return "rat:" + x.RatString()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

const nodeSchema = `{"type":"record","name":"Node","namespace":"t","fields":[
	{"name":"v","type":"int"},
	{"name":"next","type":["null","Node"],"default":null}]}`

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		value  any
		want   any // nil means value
	}{
		{"null", `"null"`, nil, nil},
		{"boolean", `"boolean"`, true, nil},
		{"int", `"int"`, -42, nil},
		{"long", `"long"`, int64(1) << 60, nil},
		{"float", `"float"`, float32(1.5), nil},
		{"double", `"double"`, 2.25, nil},
		{"string", `"string"`, "héllo", nil},
		{"bytes at top level", `"bytes"`, []byte{0, 1, 2}, nil},
		{"uuid", `{"type":"string","logicalType":"uuid"}`, "0b7e2d3c-1111-2222-3333-444455556666", nil},
		{
			"date", `{"type":"int","logicalType":"date"}`,
			time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), nil,
		},
		{
			"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`,
			time.UnixMilli(1714953600123).UTC(), nil,
		},
		{
			"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`,
			time.UnixMicro(-1714953600123456).UTC(), nil,
		},
		{"time-millis", `{"type":"int","logicalType":"time-millis"}`, 3 * time.Second, nil},
		{"time-micros", `{"type":"long","logicalType":"time-micros"}`, 5 * time.Microsecond, nil},
		{
			"decimal bytes", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`,
			big.NewRat(-12345, 100), nil,
		},
		{
			"decimal fixed",
			`{"type":"fixed","name":"D","size":5,"logicalType":"decimal","precision":9,"scale":3}`,
			big.NewRat(-1, 8), nil,
		},
		{"fixed", `{"type":"fixed","name":"F","size":3}`, []byte{7, 8, 9}, nil},
		{"fixed from array", `{"type":"fixed","name":"F","size":2}`, [2]byte{1, 2}, []byte{1, 2}},
		{
			"duration", `{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}`,
			avro.LogicalDuration{Months: 1, Days: 2, Milliseconds: 3}, nil,
		},
		{"enum", `{"type":"enum","name":"E","symbols":["A","B","C"]}`, "C", nil},
		{"array", `{"type":"array","items":"long"}`, []any{int64(1), int64(-2)}, nil},
		{"empty array", `{"type":"array","items":"long"}`, []any{}, nil},
		{"typed slice", `{"type":"array","items":"string"}`, []string{"a", "b"}, []any{"a", "b"}},
		{"map", `{"type":"map","values":"string"}`, map[string]any{"a": "x", "b": "y"}, nil},
		{"typed map", `{"type":"map","values":"int"}`, map[string]int{"k": 1}, map[string]any{"k": 1}},
		{"nullable null", `["null","string"]`, nil, nil},
		{"nullable string", `["null","string"]`, "s", nil},
		{"union long over int", `["null","int","long"]`, int64(1) << 40, nil},
		{
			"union of records",
			`["null",{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},
			  {"type":"record","name":"B","fields":[{"name":"b","type":"string"}]}]`,
			map[string]any{"b": "yes"}, nil,
		},
		{
			"union enum and array",
			`[{"type":"enum","name":"E","symbols":["X"]},{"type":"array","items":"int"}]`,
			[]any{1, 2}, nil,
		},
		{
			"recursive list", nodeSchema,
			map[string]any{"v": 1, "next": map[string]any{"v": 2, "next": nil}}, nil,
		},
		{
			"defaults fill missing fields",
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},
			  {"name":"b","type":["null","string"],"default":null},
			  {"name":"c","type":"string","default":"dflt"}]}`,
			map[string]any{"a": 1},
			map[string]any{"a": 1, "b": nil, "c": "dflt"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchema(t, i+1, tt.schema)
			c, _ := newConverter(t, nil, s)
			wire, err := c.Encode(s, tt.value)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, v, err := c.Decode(context.Background(), wire)
			if err != nil {
				t.Fatalf("Decode(%x): %v", wire, err)
			}
			if got != s {
				t.Errorf("Decode schema = %v, want the registered one", got)
			}
			want := tt.want
			if want == nil {
				want = tt.value
			}
			if !reflect.DeepEqual(normalize(v), normalize(want)) {
				t.Errorf("Decode = %#v (%T), want %#v", v, v, want)
			}
		})
	}
}

// flatSchema is a 33-field record shaped like the actions Tributary moves:
// nullable strings, ints and longs, a decimal, a date, a timestamp and a uuid.
func flatSchema() string {
	var f []string
	for i := range 10 {
		f = append(f, fmt.Sprintf(`{"name":"s%d","type":["null","string"],"default":null}`, i))
	}
	for i := range 10 {
		f = append(f, fmt.Sprintf(`{"name":"i%d","type":["null","int"],"default":null}`, i))
	}
	for i := range 9 {
		f = append(f, fmt.Sprintf(`{"name":"l%d","type":["null","long"],"default":null}`, i))
	}
	f = append(f,
		`{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}}`,
		`{"name":"day","type":{"type":"int","logicalType":"date"}}`,
		`{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}`,
		`{"name":"id","type":{"type":"string","logicalType":"uuid"}}`)
	return `{"type":"record","name":"Booking","namespace":"io.tributary","fields":[` +
		strings.Join(f, ",") + `]}`
}

func flatValue() map[string]any {
	v := map[string]any{}
	for i := range 10 {
		v[fmt.Sprintf("s%d", i)] = fmt.Sprintf("value-%d", i)
		v[fmt.Sprintf("i%d", i)] = i * 1000
	}
	for i := range 9 {
		v[fmt.Sprintf("l%d", i)] = int64(i) << 40
	}
	v["s3"] = nil
	v["i4"] = nil
	v["amount"] = big.NewRat(123456, 100)
	v["day"] = time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	v["at"] = time.UnixMilli(1714953600123).UTC()
	v["id"] = "9b2f0c1e-5b1e-4b7f-8a3d-9a0e6d1c2b44"
	return v
}

// TestMatchesHamba checks the converter against hamba/avro itself: the
// bytes it writes and the values it reads are the reference's.
func TestMatchesHamba(t *testing.T) {
	s := newSchema(t, 7, flatSchema())
	c, _ := newConverter(t, nil, s)

	ref, err := avro.Marshal(s.Avro, flatValue())
	if err != nil {
		t.Fatalf("hamba Marshal: %v", err)
	}
	wire, err := c.Encode(s, flatValue())
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if got := wire[WireHeaderSize:]; string(got) != string(ref) {
		t.Fatalf("Encode body = %x\nhamba writes  %x", got, ref)
	}

	var want any
	if err := avro.Unmarshal(s.Avro, ref, &want); err != nil {
		t.Fatalf("hamba Unmarshal: %v", err)
	}
	_, got, err := c.Decode(context.Background(), wire)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Fatalf("Decode = %v\nhamba reads %v", got, want)
	}
}

func TestDecodeTombstone(t *testing.T) {
	c, r := newConverter(t, nil)
	s, v, err := c.Decode(context.Background(), nil)
	if s != nil || v != nil || err != nil {
		t.Fatalf("Decode(nil) = %v, %v, %v; want nil, nil, nil", s, v, err)
	}
	if _, _, err := c.Decode(context.Background(), []byte{}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("Decode(empty) err = %v, want ErrTruncated", err)
	}
	if n := r.calls.Load(); n != 0 {
		t.Errorf("resolver called %d times, want 0", n)
	}
}

func TestDecodeErrors(t *testing.T) {
	rec := newSchema(t, 1, `{"type":"record","name":"R","fields":[
		{"name":"u","type":["null","string"]},
		{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}`)
	str := newSchema(t, 2, `"string"`)
	arr := newSchema(t, 3, `{"type":"array","items":"null"}`)
	list := newSchema(t, 4, nodeSchema)
	mp := newSchema(t, 5, `{"type":"map","values":"null"}`)
	i32 := newSchema(t, 6, `"int"`)
	fl := newSchema(t, 7, `"double"`)
	opts := []ConverterOption{WithMaxBytes(1024), WithMaxElements(100), WithMaxDepth(10)}
	c, _ := newConverter(t, opts, rec, str, arr, list, mp, i32, fl)

	// The zig-zag varints of the largest and the smallest long.
	maxLong := []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	minLong := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	deep := []byte{}
	for range 11 {
		deep = append(deep, 2, 2) // v=1, next: branch 1
	}
	deep = append(deep, 2, 0)

	tests := []struct {
		name  string
		value []byte
		want  error
	}{
		{"short header", []byte{0, 0, 0}, ErrTruncated},
		{"bad magic", []byte{2, 0, 0, 0, 1, 0}, ErrBadMagic},
		{"unknown id", AppendWire(nil, 99, []byte{0}), ErrUnknownSchema},
		{"empty body", AppendWire(nil, 2, nil), ErrTruncated},
		{"string cut short", AppendWire(nil, 2, []byte{10, 'a'}), ErrTruncated},
		{"huge string length", AppendWire(nil, 2, []byte{0xfe, 0xff, 0xff, 0xff, 0x0f}), ErrTooLarge},
		{"string longer than the rest", AppendWire(nil, 2, []byte{0xc8, 0x01, 'a'}), ErrTruncated},
		{"negative length", AppendWire(nil, 2, []byte{3}), ErrMalformed},
		{"trailing bytes", AppendWire(nil, 2, []byte{2, 'a', 'b'}), ErrTrailingBytes},
		{"union index", AppendWire(nil, 1, []byte{4, 0}), ErrMalformed},
		{"negative union index", AppendWire(nil, 1, []byte{1, 0}), ErrMalformed},
		{"enum index", AppendWire(nil, 1, []byte{0, 4}), ErrMalformed},
		{"record cut short", AppendWire(nil, 1, []byte{2, 2, 'x'}), ErrTruncated},
		{"array count over limit", AppendWire(nil, 3, []byte{0xca, 0x01, 0}), ErrTooLarge},
		{"array huge count", AppendWire(nil, 3, maxLong), ErrTooLarge},
		{"array min int64 count", AppendWire(nil, 3, minLong), ErrMalformed},
		{"array blocks add up over limit", AppendWire(nil, 3, []byte{100, 100, 100, 0}), ErrTooLarge},
		{"map count beyond input", AppendWire(nil, 5, []byte{40, 0, 0}), ErrTruncated},
		{"nesting too deep", AppendWire(nil, 4, deep), ErrTooLarge},
		{"varint too long", AppendWire(nil, 6, append(bytes.Repeat([]byte{0x80}, 10), 1)), ErrMalformed},
		{"int overflow", AppendWire(nil, 6, []byte{0x80, 0x80, 0x80, 0x80, 0x10}), ErrMalformed},
		{"double cut short", AppendWire(nil, 7, []byte{1, 2, 3}), ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, v, err := c.Decode(context.Background(), tt.value)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%x) = %v, %v; want error %v", tt.value, v, err, tt.want)
			}
			if v != nil {
				t.Errorf("Decode value = %v, want nil on error", v)
			}
			if IsTransient(err) {
				t.Errorf("IsTransient(%v) = true, want false", err)
			}
		})
	}
}

func TestDecodeTransientResolver(t *testing.T) {
	r := &mapResolver{err: fmt.Errorf("get schema: %w: connection refused", ErrRegistryUnavailable)}
	c := NewConverter(r)
	_, _, err := c.Decode(context.Background(), AppendWire(nil, 3, []byte{0}))
	if !IsTransient(err) {
		t.Fatalf("Decode err = %v, want a transient error", err)
	}
	// Failures are not cached: the next record asks the registry again.
	_, _, _ = c.Decode(context.Background(), AppendWire(nil, 3, []byte{0}))
	if n := r.calls.Load(); n != 2 {
		t.Errorf("resolver called %d times, want 2", n)
	}
}

func TestDecodeCachesSchemas(t *testing.T) {
	s := newSchema(t, 42, `"long"`)
	c, r := newConverter(t, nil, s)
	wire, err := c.Encode(s, int64(5))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if _, v, err := c.Decode(context.Background(), wire); err != nil || v != int64(5) {
					t.Errorf("Decode = %v, %v; want 5", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := r.calls.Load(); n > 8 {
		t.Errorf("resolver called %d times for one id, want at most one per goroutine", n)
	}
}

func TestTopLevelBytesHaveNoLengthPrefix(t *testing.T) {
	s := newSchema(t, 9, `"bytes"`)
	c, _ := newConverter(t, nil, s)
	wire, err := c.Encode(s, []byte("raw"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x00\x00\x00\x00\x09raw"; string(wire) != want {
		t.Fatalf("Encode = %q, want %q", wire, want)
	}
}

func TestEncodeErrors(t *testing.T) {
	s := newSchema(t, 1, `{"type":"record","name":"R","fields":[
		{"name":"a","type":"int"},
		{"name":"d","default":"\u0000",
		 "type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":1}},
		{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]},"default":"A"},
		{"name":"u","type":["null","long"],"default":null}]}`)
	c, _ := newConverter(t, nil, s)
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"missing field", map[string]any{}, "field a missing"},
		{"wrong type", map[string]any{"a": "1"}, "string is not an integer"},
		{"int overflow", map[string]any{"a": int64(1) << 40}, "overflows int"},
		{"inexact decimal", map[string]any{"a": 1, "d": big.NewRat(1, 100)}, "does not fit"},
		{"unknown symbol", map[string]any{"a": 1, "e": "Z"}, "not a symbol"},
		{"no union branch", map[string]any{"a": 1, "u": "x"}, "matches no branch"},
		{"not a record", []any{1}, "not a map[string]any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Encode(s, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := c.Encode(&Schema{Avro: s.Avro}, map[string]any{"a": 1}); err == nil {
		t.Error("Encode with an unregistered schema succeeded, want an error")
	}
}

func TestEncodeStruct(t *testing.T) {
	type order struct {
		ID   int64   `avro:"id"`
		Note *string `avro:"note"`
	}
	s := newSchema(t, 3, `{"type":"record","name":"O","fields":[
		{"name":"id","type":"long"},{"name":"note","type":["null","string"]}]}`)
	c, _ := newConverter(t, nil, s)
	note := "n"
	wire, err := c.Encode(s, &order{ID: 12, Note: &note})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	_, v, err := c.Decode(context.Background(), wire)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if want := map[string]any{"id": int64(12), "note": "n"}; !reflect.DeepEqual(v, want) {
		t.Fatalf("Decode = %v, want %v", v, want)
	}
}

func FuzzDecode(f *testing.F) {
	flat := newSchema(f, 1, flatSchema())
	list := newSchema(f, 2, nodeSchema)
	nested := newSchema(f, 3, `{"type":"record","name":"N","fields":[
		{"name":"m","type":{"type":"map","values":{"type":"array","items":["null","double"]}}},
		{"name":"f","type":{"type":"fixed","name":"F","size":4}},
		{"name":"d","type":{"type":"fixed","name":"D","size":8,
		 "logicalType":"decimal","precision":18,"scale":4}}]}`)
	opts := []ConverterOption{WithMaxBytes(1 << 16), WithMaxElements(1 << 12), WithMaxDepth(32)}
	c, _ := newConverter(f, opts, flat, list, nested)

	valid, err := c.Encode(flat, flatValue())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(append([]byte{1}, valid[1:]...))                             // wrong magic
	f.Add(AppendWire(nil, 77, valid[WireHeaderSize:]))                 // unknown id
	f.Add(valid[:len(valid)/2])                                        // truncated
	f.Add(valid[:3])                                                   // truncated header
	f.Add(AppendWire(nil, 1, []byte{2, 0xfe, 0xff, 0xff, 0xff, 0x0f})) // huge string length
	f.Add(AppendWire(nil, 3, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}))
	f.Add(AppendWire(nil, 2, []byte{2, 2, 4, 2, 6, 0}))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, value []byte) {
		s, v, err := c.Decode(context.Background(), value)
		if err != nil {
			if v != nil {
				t.Fatalf("Decode returned value %v with error %v", v, err)
			}
			return
		}
		checkCaps(t, v, 1<<16, 1<<12, 33)
		// A value that decodes re-encodes, and its encoding is stable: the
		// decoder accepted nothing the encoder cannot represent. Bytes are
		// compared rather than values, so that NaN payloads compare equal.
		again, err := c.Encode(s, v)
		if err != nil {
			t.Fatalf("Encode of decoded %v: %v", v, err)
		}
		_, v2, err := c.Decode(context.Background(), again)
		if err != nil {
			t.Fatalf("Decode of re-encoded %x: %v", again, err)
		}
		third, err := c.Encode(s, v2)
		if err != nil || string(third) != string(again) {
			t.Fatalf("re-encoding is unstable: %x then %x (%v)", again, third, err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	s := newSchema(b, 1, flatSchema())
	c, _ := newConverter(b, nil, s)
	wire, err := c.Encode(s, flatValue())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Decode(ctx, wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	s := newSchema(b, 1, flatSchema())
	c, _ := newConverter(b, nil, s)
	v := flatValue()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(s, v); err != nil {
			b.Fatal(err)
		}
	}
}
