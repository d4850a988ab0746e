package transform

import (
	"reflect"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

// keySchema is the Avro schema of convertedKey's key.
const keySchema = `{"type":"record","name":"Key","fields":[
 {"name":"id","type":"long"},{"name":"region","type":"string"}]}`

// convertedKey is orderRecord with a key a key converter decoded, with a
// schema: the transforms must use it rather than the key's bytes, which
// hold something else.
func convertedKey(t testing.TB) *connectors.Record {
	r := orderRecord(t)
	r.Key = []byte("stale")
	r.KeyConverted = true
	r.KeySchema = mustSchema(t, 3, keySchema)
	r.KeyData = map[string]any{"id": int64(7), "region": "eu"}
	return r
}

// stringKey is orderRecord with a key the StringConverter decoded.
func stringKey(t testing.TB) *connectors.Record {
	r := orderRecord(t)
	r.KeyConverted = true
	r.KeyData = `{"id":7}`
	return r
}

func TestConvertedKey(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "ExtractField$Key", class: "ExtractField$Key", kv: []string{"field", "region"},
			in: convertedKey,
			check: func(t *testing.T, r *connectors.Record) {
				if r.KeyData != "eu" || string(r.Key) != "eu" {
					t.Errorf("key %#v bytes %q", r.KeyData, r.Key)
				}
				schemaIs(t, r.KeySchema, `"string"`)
			},
		},
		{
			name: "ReplaceField$Key", class: "ReplaceField$Key", kv: []string{"exclude", "region"},
			in: convertedKey,
			check: func(t *testing.T, r *connectors.Record) {
				want := map[string]any{"id": int64(7)}
				if !reflect.DeepEqual(r.KeyData, want) || string(r.Key) != `{"id":7}` {
					t.Errorf("key %#v bytes %q", r.KeyData, r.Key)
				}
				if got := fieldNames(r.KeySchema); !reflect.DeepEqual(got, []string{"id"}) {
					t.Errorf("key schema fields %v", got)
				}
			},
		},
		{
			name: "Cast$Key", class: "Cast$Key", kv: []string{"spec", "id:string"},
			in: convertedKey,
			check: func(t *testing.T, r *connectors.Record) {
				if m, _ := r.KeyData.(map[string]any); m["id"] != "7" {
					t.Errorf("key %#v", r.KeyData)
				}
			},
		},
		{
			name: "HoistField$Key on a string key", class: "HoistField$Key",
			kv: []string{"field", "k"}, in: stringKey,
			check: func(t *testing.T, r *connectors.Record) {
				want := map[string]any{"k": `{"id":7}`}
				if !reflect.DeepEqual(r.KeyData, want) {
					t.Errorf("key %#v", r.KeyData)
				}
			},
		},
		{
			// The StringConverter's key is a string, not the JSON object
			// its bytes spell.
			name: "ExtractField$Key on a string key", class: "ExtractField$Key",
			kv: []string{"field", "id"}, in: stringKey, err: "ExtractField$Key",
		},
		{
			name: "ValueToKey", class: "ValueToKey", kv: []string{"fields", "id"},
			in: convertedKey,
			check: func(t *testing.T, r *connectors.Record) {
				want := map[string]any{"id": int64(7)}
				if !reflect.DeepEqual(r.KeyData, want) || string(r.Key) != `{"id":7}` {
					t.Errorf("key %#v bytes %q", r.KeyData, r.Key)
				}
				schemaIs(t, r.KeySchema, `{"type":"record","name":`+
					`"io.confluent.connect.avro.ConnectDefault","fields":[`+
					`{"name":"id","type":"long"}]}`)
			},
		},
	})
}
