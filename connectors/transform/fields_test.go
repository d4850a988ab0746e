package transform

import (
	"math/big"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connectors"
)

func TestInsertField(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "schema: every field", class: "org.apache.kafka.connect.transforms.InsertField$Value",
			kv: []string{"topic.field", "t!", "partition.field", "p", "offset.field", "o",
				"timestamp.field", "ts", "static.field", "s", "static.value", "v1"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				m := r.Value.(map[string]any)
				if m["t"] != "orders" || m["p"] != 2 || m["o"] != int64(41) || m["s"] != "v1" ||
					!m["ts"].(time.Time).Equal(orderAt) || m["email"] != "ada@example.com" {
					t.Errorf("value %v", m)
				}
				names := fieldNames(r.ValueSchema)
				if !slices.Equal(names[len(names)-5:], []string{"t", "p", "o", "ts", "s"}) {
					t.Errorf("fields %v", names)
				}
				rec, _ := recordOf(r.ValueSchema.Avro)
				if isOptional(fieldOf(rec, "t").Type()) || !isOptional(fieldOf(rec, "p").Type()) {
					t.Error("t! must be required and p optional")
				}
				if logicalOf(fieldOf(rec, "ts").Type()) != "timestamp-millis" {
					t.Error("ts must be a timestamp")
				}
				if rec.FullName() != "shop.Order" {
					t.Errorf("record renamed to %s", rec.FullName())
				}
			},
		},
		{
			name: "schemaless: timestamp as epoch millis", class: "InsertField$Value",
			kv: []string{"timestamp.field", "ts", "topic.field", "t"},
			in: schemaless,
			check: func(t *testing.T, r *connectors.Record) {
				m := r.Value.(map[string]any)
				if m["ts"] != orderAt.UnixMilli() || m["t"] != "orders" || r.ValueSchema != nil {
					t.Errorf("value %v", m)
				}
			},
		},
		{
			name: "tombstone passes", class: "InsertField$Value", kv: []string{"topic.field", "t"},
			in:    tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
		{
			name: "key: JSON object", class: "InsertField$Key", kv: []string{"static.field", "k", "static.value", "x"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != `{"id":7,"k":"x"}` {
					t.Errorf("key %s", r.Key)
				}
			},
		},
		{
			name: "key: a string is no struct", class: "InsertField$Key", kv: []string{"topic.field", "t"},
			in:  tombstone,
			err: "only Map objects supported in absence of schema for [field insertion], found: string",
		},
		{
			name: "schema: field exists already", class: "InsertField$Value", kv: []string{"topic.field", "email"},
			in: orderRecord, err: "field email exists already",
		},
	})
}

func TestReplaceField(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "exclude and rename", class: "ReplaceField$Value",
			kv: []string{"exclude", "price,tags", "renames", "email:mail,qty:quantity"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				want := []string{"id", "mail", "quantity", "day", "at", "note", "addr"}
				if got := fieldNames(r.ValueSchema); !slices.Equal(got, want) {
					t.Errorf("fields %v, want %v", got, want)
				}
				m := r.Value.(map[string]any)
				if m["mail"] != "ada@example.com" || m["quantity"] != 3 || m["price"] != nil {
					t.Errorf("value %v", m)
				}
			},
		},
		{
			name: "include wins order of schema, exclude wins over include", class: "ReplaceField$Value",
			kv: []string{"include", "qty,id,email", "exclude", "email"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				schemaIs(t, r.ValueSchema, `{"type":"record","name":"Order","namespace":"shop",
					"fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}`)
				valueIs(t, r, map[string]any{"id": int64(7), "qty": 3})
			},
		},
		{
			name: "old names whitelist and blacklist", class: "ReplaceField$Value",
			kv: []string{"whitelist", "id,email", "blacklist", "email"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, map[string]any{"id": int64(7)})
			},
		},
		{
			name: "schemaless", class: "ReplaceField$Value", kv: []string{"renames", "addr:address", "exclude", "tags"},
			in: schemaless,
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, map[string]any{"id": int64(7), "email": "ada@example.com",
					"address": map[string]any{"city": "Lyon"}})
			},
		},
		{
			name: "tombstone passes", class: "ReplaceField$Value", kv: []string{"exclude", "id"},
			in:    tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
		{
			name: "key", class: "ReplaceField$Key", kv: []string{"renames", "id:order_id"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != `{"order_id":7}` {
					t.Errorf("key %s", r.Key)
				}
			},
		},
	})
}

func TestMaskField(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "empty values by type", class: "MaskField$Value",
			kv: []string{"fields", "id,email,qty,price,day,at,note,tags"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				m := r.Value.(map[string]any)
				if m["id"] != int64(0) || m["email"] != "" || m["qty"] != 0 ||
					m["price"].(*big.Rat).Sign() != 0 || !m["day"].(time.Time).Equal(time.Unix(0, 0)) ||
					!m["at"].(time.Time).Equal(time.Unix(0, 0)) || m["note"] != nil ||
					len(m["tags"].([]any)) != 0 {
					t.Errorf("value %v", m)
				}
				if r.ValueSchema.ID != 1 {
					t.Errorf("masking changed the schema to %d", r.ValueSchema.ID)
				}
			},
		},
		{
			name: "replacement", class: "MaskField$Value",
			kv: []string{"fields", "email,qty,price", "replacement", "42"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				m := r.Value.(map[string]any)
				if m["email"] != "42" || m["qty"] != 42 || m["price"].(*big.Rat).Cmp(big.NewRat(42, 1)) != 0 {
					t.Errorf("value %v", m)
				}
			},
		},
		{
			name: "replacement on a date", class: "MaskField$Value", kv: []string{"fields", "day", "replacement", "x"},
			in: orderRecord, err: "cannot mask value of type time.Time with custom replacement",
		},
		{
			name: "replacement not a number", class: "MaskField$Value", kv: []string{"fields", "qty", "replacement", "x"},
			in: orderRecord, err: `unable to convert "x"`,
		},
		{
			name: "tombstone fails", class: "MaskField$Value", kv: []string{"fields", "email"},
			in: tombstone, err: "found: null",
		},
		{
			name: "unknown field with schema", class: "MaskField$Value", kv: []string{"fields", "nope"},
			in: orderRecord, err: "unknown field: nope",
		},
		{
			name: "schemaless nested struct becomes empty map", class: "MaskField$Value",
			kv: []string{"fields", "addr,email"}, in: schemaless,
			check: func(t *testing.T, r *connectors.Record) {
				m := r.Value.(map[string]any)
				if len(m["addr"].(map[string]any)) != 0 || m["email"] != "" {
					t.Errorf("value %v", m)
				}
			},
		},
	})
}

func TestHoistField(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "schema", class: "HoistField$Value", kv: []string{"field", "order"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				m := r.Value.(map[string]any)
				if m["order"].(map[string]any)["email"] != "ada@example.com" {
					t.Errorf("value %v", m)
				}
				rec, _ := recordOf(r.ValueSchema.Avro)
				if rec.FullName() != "io.confluent.connect.avro.ConnectDefault" ||
					!slices.Equal(fieldNames(r.ValueSchema), []string{"order"}) {
					t.Errorf("schema %s", r.ValueSchema.Text)
				}
			},
		},
		{
			name: "tombstone wrapped", class: "HoistField$Value", kv: []string{"field", "v"}, in: tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, map[string]any{"v": nil}) },
		},
		{
			name: "key string", class: "HoistField$Key", kv: []string{"field", "k"}, in: tombstone,
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != `{"k":"k"}` {
					t.Errorf("key %s", r.Key)
				}
			},
		},
	})
}

func TestExtractField(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "top-level", class: "ExtractField$Value", kv: []string{"field", "email"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, "ada@example.com")
				schemaIs(t, r.ValueSchema, `"string"`)
			},
		},
		{
			name: "decimal keeps its logical type", class: "ExtractField$Value", kv: []string{"field", "price"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if logicalOf(r.ValueSchema.Avro) != "decimal" {
					t.Errorf("schema %s", r.ValueSchema.Text)
				}
			},
		},
		{
			name: "nested V2 path below an optional struct", class: "ExtractField$Value",
			kv: []string{"field", "addr.city", "field.syntax.version", "V2"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, "Lyon")
				schemaIs(t, r.ValueSchema, `["null","string"]`)
			},
		},
		{
			name: "V1 takes dots literally", class: "ExtractField$Value", kv: []string{"field", "addr.city"},
			in: orderRecord, err: "unknown field: addr.city",
		},
		{
			name: "schemaless missing is null", class: "ExtractField$Value", kv: []string{"field", "nope"},
			in:    schemaless,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
		{
			name: "tombstone passes", class: "ExtractField$Value", kv: []string{"field", "x"}, in: tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
		{
			name: "key", class: "ExtractField$Key", kv: []string{"field", "id"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != "7" {
					t.Errorf("key %q", r.Key)
				}
			},
		},
	})
}

func TestParseFieldPath(t *testing.T) {
	for in, want := range map[string][]string{
		"a.b":          {"a", "b"},
		"`a.b`.c":      {"a.b", "c"},
		"a\\`b":        {"a`b"},
		"plain":        {"plain"},
		"`x.y`":        {"x.y"},
		"addr.city.id": {"addr", "city", "id"},
	} {
		got, err := parseFieldPath(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseFieldPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"a..b", "`a", ".a"} {
		if _, err := parseFieldPath(bad); err == nil {
			t.Errorf("parseFieldPath(%q) accepted", bad)
		}
	}
}

func TestValueToKey(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "schema", class: "org.apache.kafka.connect.transforms.ValueToKey",
			kv: []string{"fields", "id,email,price,day"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				want := `{"day":1773446400000,"email":"ada@example.com","id":7,"price":19.99}`
				if string(r.Key) != want {
					t.Errorf("key %s, want %s", r.Key, want)
				}
				if r.Value.(map[string]any)["email"] != "ada@example.com" {
					t.Error("value changed")
				}
			},
		},
		{
			name: "missing field with schema", class: "ValueToKey", kv: []string{"fields", "nope"},
			in: orderRecord, err: "field does not exist: nope",
		},
		{
			name: "schemaless missing is null", class: "ValueToKey", kv: []string{"fields", "id,nope"},
			in: schemaless,
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != `{"id":7,"nope":null}` {
					t.Errorf("key %s", r.Key)
				}
			},
		},
		{
			name: "tombstone fails", class: "ValueToKey", kv: []string{"fields", "id"}, in: tombstone,
			err: "found: null",
		},
	})
}
