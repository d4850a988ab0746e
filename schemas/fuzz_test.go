package schemas

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// Limits the fuzz targets decode under: small enough that a violation
// shows within a fuzzing run's inputs.
const (
	fuzzMaxBytes    = 1 << 10
	fuzzMaxElements = 1 << 8
	fuzzMaxDepth    = 16
)

// checkCaps fails t when v holds a string or bytes value longer than
// maxBytes, more array and map entries than maxElements in all, or nesting
// deeper than maxDepth: the converter must have refused such a value.
func checkCaps(t *testing.T, v any, maxBytes, maxElements, maxDepth int) {
	t.Helper()
	elements := 0
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > maxDepth {
			t.Fatalf("value nests deeper than %d", maxDepth)
		}
		switch x := v.(type) {
		case string:
			if len(x) > maxBytes {
				t.Fatalf("string of %d bytes passed the %d cap", len(x), maxBytes)
			}
		case []byte:
			if len(x) > maxBytes {
				t.Fatalf("bytes of %d passed the %d cap", len(x), maxBytes)
			}
		case []any:
			elements += len(x)
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			elements += len(x)
			for k, e := range x {
				walk(k, depth+1)
				walk(e, depth+1)
			}
		}
	}
	walk(v, 0)
	// Record fields count as map entries in the walk; the schemas below
	// have few, so twice the cap is still a tight bound.
	if elements > 2*maxElements {
		t.Fatalf("%d entries passed the %d cap", elements, maxElements)
	}
}

func FuzzParseWire(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 2, 'a'})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, body, err := ParseWire(b)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBadMagic) {
				t.Fatalf("ParseWire error %v is neither truncated nor bad magic", err)
			}
			return
		}
		if again := AppendWire(nil, id, body); !bytes.Equal(again, b) {
			t.Fatalf("AppendWire(ParseWire(%x)) = %x", b, again)
		}
	})
}

// logicalSchema has every logical type, a recursive list and maps of
// arrays, so that the body fuzzer reaches every decoding path.
const logicalSchema = `{"type":"record","name":"L","fields":[
	{"name":"db","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":3}},
	{"name":"df","type":{"type":"fixed","name":"DF","size":6,"logicalType":"decimal",
	 "precision":14,"scale":2}},
	{"name":"date","type":{"type":"int","logicalType":"date"}},
	{"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
	{"name":"tu","type":{"type":"long","logicalType":"time-micros"}},
	{"name":"tsm","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"tsu","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"ltm","type":{"type":"long","logicalType":"local-timestamp-millis"}},
	{"name":"ltu","type":{"type":"long","logicalType":"local-timestamp-micros"}},
	{"name":"id","type":{"type":"string","logicalType":"uuid"}},
	{"name":"dur","type":{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
	{"name":"m","type":{"type":"map","values":{"type":"array","items":["null","bytes"]}}},
	{"name":"next","type":["null","L"]}]}`

func FuzzDecodeBody(f *testing.F) {
	s := newSchema(f, 1, logicalSchema)
	c := NewConverter(nil, WithMaxBytes(fuzzMaxBytes), WithMaxElements(fuzzMaxElements),
		WithMaxDepth(fuzzMaxDepth))
	f.Add([]byte{4, 0xff, 0x85, 0, 0, 0, 0, 0, 1, 2, 4, 6, 8, 10, 12, 14, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0})
	f.Add([]byte{0xfe, 0xff, 0xff, 0xff, 0x0f})                                // huge bytes length
	f.Add(bytes.Repeat([]byte{0}, 40))                                         // zeros everywhere
	f.Add(append(bytes.Repeat([]byte{0}, 30), 1, 0xfe, 0xff, 0xff, 7))         // huge map block
	f.Add(append(bytes.Repeat([]byte{0}, 32), bytes.Repeat([]byte{2}, 64)...)) // deep recursion
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := c.DecodeBody(s, body)
		if err != nil {
			if v != nil {
				t.Fatalf("DecodeBody returned %v with error %v", v, err)
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) &&
				!errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTrailingBytes) {
				t.Fatalf("DecodeBody error %v is not classified", err)
			}
			return
		}
		checkCaps(t, v, fuzzMaxBytes, fuzzMaxElements, 2*fuzzMaxDepth+2)
	})
}

func FuzzJSONConverter(f *testing.F) {
	f.Add(true, []byte(envelope))
	f.Add(false, []byte(`{"a":[1,2.5,"x",null,{"b":true}]}`))
	f.Add(true, []byte(`{"schema":{"type":"int32"},"payload":4294967296}`))
	f.Add(true, []byte(`{"schema":{"type":"array","items":{"type":"bytes","optional":true}},`+
		`"payload":["AAE=",null]}`))
	f.Add(true, []byte(`{"schema":{"type":"map","keys":{"type":"string"},`+
		`"values":{"type":"int64"}},"payload":{"a":1}}`))
	f.Add(false, []byte(strings.Repeat("[", 40)))
	f.Add(false, []byte(`"\\"[[[[[`))
	f.Fuzz(func(t *testing.T, schemas bool, b []byte) {
		c := &JSONConverter{SchemasEnable: schemas, MaxBytes: 1 << 12, MaxDepth: fuzzMaxDepth}
		s, v, err := c.Decode(context.Background(), b)
		if err != nil {
			if v != nil || s != nil {
				t.Fatalf("Decode returned %v %v with error %v", s, v, err)
			}
			return
		}
		checkCaps(t, v, 1<<12, 1<<12, fuzzMaxDepth)
		if s == nil {
			return
		}
		// What the converter hands on is a valid value of its schema.
		if _, err := NewConverter(nil).Encode(&Schema{ID: 1, Avro: s.Avro}, v); err != nil {
			t.Fatalf("converted value does not encode with schema %s: %v", s.Text, err)
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	for _, seed := range []string{"", "true", "42", "-1.5e3", "web", `[1,{"a":"b"}]`,
		`{"k":`, strings.Repeat("[", 300), "9223372036854775808"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch v := ParseHeader(b).(type) {
		case nil, bool, int64, float64, []any, map[string]any:
		case string:
			if v != string(b) {
				t.Fatalf("ParseHeader(%q) = %q, want the input unchanged", b, v)
			}
		default:
			t.Fatalf("ParseHeader(%q) = %T", b, v)
		}
	})
}
