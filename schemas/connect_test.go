package schemas

import (
	"context"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPlainConverters(t *testing.T) {
	ctx := context.Background()
	s, v, err := StringConverter{}.Decode(ctx, []byte("héllo"))
	if err != nil || s != StringSchema || v != "héllo" {
		t.Errorf("StringConverter = %v %v %v", s, v, err)
	}
	in := []byte{0, 1, 0xff}
	s, v, err = ByteArrayConverter{}.Decode(ctx, in)
	in[0] = 9 // the value must not alias the record's buffer
	if err != nil || s != BytesSchema || !reflect.DeepEqual(v, []byte{0, 1, 0xff}) {
		t.Errorf("ByteArrayConverter = %v %v %v", s, v, err)
	}
	for _, d := range []interface {
		Decode(context.Context, []byte) (*Schema, any, error)
	}{StringConverter{}, ByteArrayConverter{}, &JSONConverter{}} {
		if s, v, err := d.Decode(ctx, nil); s != nil || v != nil || err != nil {
			t.Errorf("%T tombstone = %v %v %v, want nils", d, s, v, err)
		}
	}
}

func TestJSONConverterSchemaless(t *testing.T) {
	c := &JSONConverter{}
	_, v, err := c.Decode(context.Background(),
		[]byte(`{"a":1,"b":[1.5,"x",null,true],"big":12345678901234}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": int64(1), "b": []any{1.5, "x", nil, true},
		"big": int64(12345678901234)}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got %#v, want %#v", v, want)
	}
}

// envelope is a JsonConverter value as Kafka Connect writes it with
// schemas.enable=true, with every type and logical type.
const envelope = `{"schema":{"type":"struct","name":"io.tributary.Click","optional":false,
"fields":[
 {"field":"i8","type":"int8"},{"field":"i64","type":"int64"},
 {"field":"f","type":"float"},{"field":"d","type":"double","optional":true},
 {"field":"ok","type":"boolean"},{"field":"s","type":"string","optional":true},
 {"field":"raw","type":"bytes"},
 {"field":"price","type":"bytes","name":"org.apache.kafka.connect.data.Decimal",
  "parameters":{"scale":"2"}},
 {"field":"day","type":"int32","name":"org.apache.kafka.connect.data.Date"},
 {"field":"at","type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},
 {"field":"tod","type":"int32","name":"org.apache.kafka.connect.data.Time"},
 {"field":"tags","type":"array","items":{"type":"string"}},
 {"field":"attrs","type":"map","keys":{"type":"string"},"values":{"type":"int32"}},
 {"field":"inner","type":"struct","optional":true,"fields":[{"field":"x","type":"int32"}]}
]},
"payload":{"i8":-3,"i64":9007199254740993,"f":1.5,"d":null,"ok":true,"s":"hi",
 "raw":"AAH/","price":"/4U=","day":19000,"at":1714953600123,"tod":3600000,
 "tags":["a","b"],"attrs":{"k":7},"inner":{"x":1}}}`

func TestJSONConverterEnvelope(t *testing.T) {
	c := &JSONConverter{SchemasEnable: true}
	s, v, err := c.Decode(context.Background(), []byte(envelope))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID >= 0 {
		t.Errorf("schema id %d, want a negative derived id", s.ID)
	}
	want := map[string]any{
		"i8": -3, "i64": int64(9007199254740993), "f": float32(1.5), "d": nil, "ok": true,
		"s": "hi", "raw": []byte{0, 1, 0xff}, "price": "rat:-123/100",
		"day": time.Date(2022, 1, 8, 0, 0, 0, 0, time.UTC),
		"at":  time.UnixMilli(1714953600123).UTC(), "tod": time.Hour,
		"tags": []any{"a", "b"}, "attrs": map[string]any{"k": 7},
		"inner": map[string]any{"x": 1},
	}
	if got := normalize(v); !reflect.DeepEqual(got, want) {
		t.Errorf("payload\n got %#v\nwant %#v", got, want)
	}
	for _, frag := range []string{`"name":"io.tributary.Click"`, `"logicalType":"decimal"`,
		`"scale":2`, `"logicalType":"date"`, `"logicalType":"timestamp-millis"`,
		`"logicalType":"time-millis"`, `["null","double"]`, `"io.confluent.connect.avro.ConnectDefault"`} {
		if !strings.Contains(s.Text, frag) {
			t.Errorf("avro schema %s lacks %s", s.Text, frag)
		}
	}

	// The same envelope gives the same schema, from the cache.
	s2, _, err := c.Decode(context.Background(), []byte(envelope))
	if err != nil || s2 != s {
		t.Errorf("second decode gave schema %p (%v), want the cached %p", s2, err, s)
	}

	// The converter's values encode with the Avro converter.
	if _, err := NewConverter(nil).Encode(&Schema{ID: 1, Avro: s.Avro}, v); err != nil {
		t.Errorf("encode converted payload: %v", err)
	}
}

func TestJSONConverterErrors(t *testing.T) {
	tests := []struct {
		name    string
		schemas bool
		in      string
		want    error
	}{
		{"not json", false, `{"a":`, ErrMalformed},
		{"trailing", false, `{} {}`, ErrTrailingBytes},
		{"too deep", false, strings.Repeat("[", 200) + strings.Repeat("]", 200), ErrTooLarge},
		{"no envelope", true, `{"a":1}`, ErrMalformed},
		{"required null", true, `{"schema":{"type":"int32"},"payload":null}`, ErrMalformed},
		{"wrong type", true, `{"schema":{"type":"int32"},"payload":"x"}`, ErrMalformed},
		{"int overflow", true, `{"schema":{"type":"int32"},"payload":4294967296}`, ErrMalformed},
		{"unknown type", true, `{"schema":{"type":"int128"},"payload":1}`, ErrMalformed},
		{"bad base64", true, `{"schema":{"type":"bytes"},"payload":"!"}`, ErrMalformed},
		{"date out of range", true, `{"schema":{"type":"int32",
			"name":"org.apache.kafka.connect.data.Date"},"payload":4294967296}`, ErrMalformed},
		{"time out of range", true, `{"schema":{"type":"int32",
			"name":"org.apache.kafka.connect.data.Time"},"payload":10000000000}`, ErrMalformed},
		{"logical base type", true, `{"schema":{"type":"string",
			"name":"org.apache.kafka.connect.data.Timestamp"},"payload":"x"}`, ErrMalformed},
		{"decimal scale too large", true, `{"schema":{"type":"bytes",
			"name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"999999999"}},
			"payload":"AA=="}`, ErrTooLarge},
		{"decimal scale", true, `{"schema":{"type":"bytes",
			"name":"org.apache.kafka.connect.data.Decimal"},"payload":"AA=="}`, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &JSONConverter{SchemasEnable: tt.schemas}
			_, v, err := c.Decode(context.Background(), []byte(tt.in))
			if !errors.Is(err, tt.want) || v != nil {
				t.Errorf("Decode = %v, %v; want %v", v, err, tt.want)
			}
		})
	}
	// A value that is not an envelope says what it is and what is wanted.
	_, _, err := (&JSONConverter{SchemasEnable: true}).Decode(context.Background(), []byte(`[1,2]`))
	if want := `malformed value: json array where schemas.enable=true wants an object ` +
		`{"schema": ..., "payload": ...}`; err == nil || err.Error() != want {
		t.Errorf("array: %v, want %s", err, want)
	}
	c := &JSONConverter{MaxBytes: 4}
	if _, _, err := c.Decode(context.Background(), []byte(`"12345"`)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized value: %v, want ErrTooLarge", err)
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in   []byte
		want any
	}{
		{nil, nil},
		{[]byte(""), ""},
		{[]byte("true"), true},
		{[]byte("false"), false},
		{[]byte("42"), int64(42)},
		{[]byte("-7"), int64(-7)},
		{[]byte("1.25"), 1.25},
		{[]byte("1e3"), 1000.0},
		{[]byte("web"), "web"},
		{[]byte("12abc"), "12abc"},
		{[]byte("Infinity"), "Infinity"},
		{[]byte(`[1,"a"]`), []any{int64(1), "a"}},
		{[]byte(`{"k":true}`), map[string]any{"k": true}},
		{[]byte(`{broken`), `{broken`},
	}
	for _, tt := range tests {
		if got := ParseHeader(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseHeader(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestSubjectStrategies(t *testing.T) {
	rec := newSchema(t, 1, `{"type":"record","name":"Booking","namespace":"io.tributary",
		"fields":[{"name":"a","type":"int"}]}`)
	tests := []struct {
		class string
		key   bool
		want  string
	}{
		{"", false, "bookings-value"},
		{TopicNameStrategy, true, "bookings-key"},
		{RecordNameStrategy, false, "io.tributary.Booking"},
		{"TopicRecordNameStrategy", false, "bookings-io.tributary.Booking"},
	}
	for _, tt := range tests {
		st, err := NewSubjectStrategy(tt.class)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := st("bookings", tt.key, rec.Avro); err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.class, got, err, tt.want)
		}
	}
	st, _ := NewSubjectStrategy(RecordNameStrategy)
	if _, err := st("t", false, StringSchema.Avro); err == nil {
		t.Error("RecordNameStrategy named a string schema")
	}
	if _, err := NewSubjectStrategy("Nope"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

// TestLogicalTypesExact decodes every logical type from hand-written bytes.
func TestLogicalTypesExact(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		body   []byte
		want   any
	}{
		{"decimal bytes negative", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`,
			[]byte{4, 0xff, 0x85}, big.NewRat(-123, 100)},
		{"decimal bytes positive", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":3}`,
			[]byte{4, 0x00, 0x80}, big.NewRat(128, 1000)},
		{"decimal fixed negative", `{"type":"fixed","name":"D","size":4,"logicalType":"decimal",
			"precision":9,"scale":1}`, []byte{0xff, 0xff, 0xff, 0xf6}, big.NewRat(-1, 1)},
		{"decimal fixed scale 0", `{"type":"fixed","name":"D","size":2,"logicalType":"decimal",
			"precision":4}`, []byte{0x01, 0x00}, big.NewRat(256, 1)},
		{"date", `{"type":"int","logicalType":"date"}`, []byte{0x01},
			time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"time-millis", `{"type":"int","logicalType":"time-millis"}`, []byte{0xd0, 0x0f},
			1000 * time.Millisecond},
		{"time-micros", `{"type":"long","logicalType":"time-micros"}`, []byte{0x02},
			time.Microsecond},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`, []byte{0x01},
			time.UnixMilli(-1).UTC()},
		{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`, []byte{0x04},
			time.UnixMicro(2).UTC()},
		{"local-timestamp-millis", `{"type":"long","logicalType":"local-timestamp-millis"}`,
			[]byte{0x06}, time.UnixMilli(3).UTC()},
		{"local-timestamp-micros", `{"type":"long","logicalType":"local-timestamp-micros"}`,
			[]byte{0x08}, time.UnixMicro(4).UTC()},
		{"uuid", `{"type":"string","logicalType":"uuid"}`,
			append([]byte{72}, "9b2f0c1e-5b1e-4b7f-8a3d-9a0e6d1c2b44"...),
			"9b2f0c1e-5b1e-4b7f-8a3d-9a0e6d1c2b44"},
	}
	c := NewConverter(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := c.DecodeBody(newSchema(t, 1, tt.schema), tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := tt.want.(*big.Rat); ok {
				if got, ok := v.(*big.Rat); !ok || got.Cmp(r) != 0 {
					t.Fatalf("got %v, want %v", v, r)
				}
				return
			}
			if !reflect.DeepEqual(v, tt.want) {
				t.Fatalf("got %#v, want %#v", v, tt.want)
			}
		})
	}
}
