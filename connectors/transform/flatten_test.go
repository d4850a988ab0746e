package transform

import (
	"slices"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

// nestedSchema has a required nested record, an optional one, an array of
// records and a map.
const nestedSchema = `{"type":"record","name":"Trip","fields":[
 {"name":"id","type":"long"},
 {"name":"from","type":{"type":"record","name":"Place","fields":[
   {"name":"city","type":"string"},
   {"name":"geo","type":{"type":"record","name":"Geo","fields":[
     {"name":"lat","type":"double"},{"name":"lon","type":"double"}]}}]}},
 {"name":"to","type":["null","Place"],"default":null},
 {"name":"stops","type":{"type":"array","items":"Place"}}
]}`

func trip(t testing.TB) *connectors.Record {
	place := func(city string) map[string]any {
		return map[string]any{"city": city, "geo": map[string]any{"lat": 45.7, "lon": 4.8}}
	}
	return &connectors.Record{Topic: "trips", ValueSchema: mustSchema(t, 2, nestedSchema),
		Value: map[string]any{"id": int64(1), "from": place("Lyon"), "to": nil,
			"stops": []any{place("Dijon")}}}
}

func TestFlatten(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "schema", class: "org.apache.kafka.connect.transforms.Flatten$Value",
			kv: []string{"delimiter", "_"}, in: trip,
			check: func(t *testing.T, r *connectors.Record) {
				want := []string{"id", "from_city", "from_geo_lat", "from_geo_lon",
					"to_city", "to_geo_lat", "to_geo_lon", "stops"}
				if got := fieldNames(r.ValueSchema); !slices.Equal(got, want) {
					t.Errorf("fields %v, want %v", got, want)
				}
				rec, _ := recordOf(r.ValueSchema.Avro)
				if isOptional(fieldOf(rec, "from_city").Type()) || !isOptional(fieldOf(rec, "to_city").Type()) {
					t.Error("children of an optional struct must be optional, others not")
				}
				m := r.Value.(map[string]any)
				if m["from_geo_lat"] != 45.7 || m["to_city"] != nil || len(m["stops"].([]any)) != 1 {
					t.Errorf("value %v", m)
				}
			},
		},
		{
			name: "schemaless with the default delimiter", class: "Flatten$Value", in: schemaless,
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, map[string]any{"id": int64(7), "email": "ada@example.com",
					"addr.city": "Lyon", "tags": []any{"a"}})
			},
		},
		{
			name: "dots are no Avro names", class: "Flatten$Value", in: trip,
			err: "from.city",
		},
		{
			name: "map with schema", class: "Flatten$Value", kv: []string{"delimiter", "_"},
			in: func(t testing.TB) *connectors.Record {
				return &connectors.Record{ValueSchema: mustSchema(t, 5, `{"type":"record","name":"M",
					"fields":[{"name":"m","type":{"type":"map","values":"int"}}]}`),
					Value: map[string]any{"m": map[string]any{"a": 1}}}
			},
			err: "does not support MAP",
		},
		{
			name: "tombstone passes", class: "Flatten$Value", in: tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
		{
			name: "key", class: "Flatten$Key",
			in: func(testing.TB) *connectors.Record {
				return &connectors.Record{Key: []byte(`{"a":{"b":1}}`)}
			},
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != `{"a.b":1}` {
					t.Errorf("key %s", r.Key)
				}
			},
		},
	})
}
