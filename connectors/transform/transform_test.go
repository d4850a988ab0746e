package transform

import (
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// orderSchema has a field of every kind the transforms care about: plain
// primitives, logical types, an optional string, an array and an optional
// nested record.
const orderSchema = `{"type":"record","name":"Order","namespace":"shop","fields":[
 {"name":"id","type":"long"},
 {"name":"email","type":"string"},
 {"name":"qty","type":"int"},
 {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
 {"name":"day","type":{"type":"int","logicalType":"date"}},
 {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"note","type":["null","string"],"default":null},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"addr","type":["null",{"type":"record","name":"Address","fields":[
   {"name":"city","type":"string"},{"name":"zip","type":"string"}]}],"default":null}
]}`

var (
	orderAt  = time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)
	orderDay = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
)

func mustSchema(t testing.TB, id int, text string) *schemas.Schema {
	t.Helper()
	s, err := avro.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return &schemas.Schema{ID: id, Avro: s, Text: text}
}

// order returns a fresh order value: transforms change values in place.
func order() map[string]any {
	return map[string]any{
		"id": int64(7), "email": "ada@example.com", "qty": 3,
		"price": big.NewRat(1999, 100), "day": orderDay, "at": orderAt,
		"note": nil, "tags": []any{"a", "b"},
		"addr": map[string]any{"city": "Lyon", "zip": "69001"},
	}
}

// orderRecord returns a record holding order() with orderSchema.
func orderRecord(t testing.TB) *connectors.Record {
	return &connectors.Record{
		Topic: "orders", Partition: 2, Offset: 41, Timestamp: orderAt,
		Key: []byte(`{"id":7}`), Headers: []connectors.Header{{Key: "h", Value: []byte("v")}},
		ValueSchema: mustSchema(t, 1, orderSchema), Value: order(),
	}
}

// chainOf builds a chain of one transform alias "t" of class with the keys
// given as key, value pairs.
func chainOf(t testing.TB, class string, kv ...string) *Chain {
	t.Helper()
	cfg := map[string]string{"transforms": "t", "transforms.t.type": class}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg["transforms.t."+kv[i]] = kv[i+1]
	}
	c, errs := Parse(cfg)
	if len(errs) > 0 {
		t.Fatalf("parse %v: %v", cfg, errs)
	}
	return c
}

// tcase is one record through one transform.
type tcase struct {
	name  string
	class string
	kv    []string
	in    func(t testing.TB) *connectors.Record
	// check inspects the result; err, when set, is a substring of the
	// expected error.
	check func(t *testing.T, r *connectors.Record)
	err   string
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := chainOf(t, tc.class, tc.kv...)
			r, err := c.Apply(tc.in(t))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r != nil && r.ValueSchema != nil {
				roundTrip(t, r)
			}
			tc.check(t, r)
		})
	}
}

// roundTrip checks that the record's value is valid for its schema: the
// project's Avro encoder writes it and the decoder reads it back.
func roundTrip(t *testing.T, r *connectors.Record) {
	t.Helper()
	conv := schemas.NewConverter(nil)
	s := &schemas.Schema{ID: 1, Avro: r.ValueSchema.Avro}
	b, err := conv.Encode(s, r.Value)
	if err != nil {
		t.Fatalf("value does not match its schema %s: %v\nvalue: %#v", r.ValueSchema.Text, err, r.Value)
	}
	_, body, err := schemas.ParseWire(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.DecodeBody(s, body); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

// schemaIs compares a schema with the expected JSON, in canonical form.
func schemaIs(t *testing.T, got *schemas.Schema, want string) {
	t.Helper()
	if got == nil {
		t.Fatalf("schema is nil, want %s", want)
	}
	w, err := avro.Parse(want)
	if err != nil {
		t.Fatalf("bad expected schema: %v", err)
	}
	if got.Avro.String() != w.String() {
		t.Errorf("schema\n got %s\nwant %s", got.Avro.String(), w.String())
	}
	if got.ID >= 0 {
		t.Errorf("derived schema id %d, want negative", got.ID)
	}
}

func valueIs(t *testing.T, r *connectors.Record, want any) {
	t.Helper()
	if r == nil {
		t.Fatal("record dropped")
	}
	if !reflect.DeepEqual(r.Value, want) {
		t.Errorf("value\n got %#v\nwant %#v", r.Value, want)
	}
}

func fieldNames(s *schemas.Schema) []string {
	rec, _ := recordOf(s.Avro)
	var out []string
	for _, f := range rec.Fields() {
		out = append(out, f.Name())
	}
	return out
}

// tombstone is a record with a null value and no schema.
func tombstone(testing.TB) *connectors.Record {
	return &connectors.Record{Topic: "orders", Partition: 0, Offset: 9, Timestamp: orderAt,
		Key: []byte("k")}
}

// schemaless is a record whose value is a map without a schema.
func schemaless(testing.TB) *connectors.Record {
	return &connectors.Record{Topic: "orders", Partition: 1, Offset: 5, Timestamp: orderAt,
		Key: []byte("k"), Value: map[string]any{
			"id": int64(7), "email": "ada@example.com",
			"addr": map[string]any{"city": "Lyon"}, "tags": []any{"a"},
		}}
}
