package transform

import (
	"slices"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

func headerKeys(r *connectors.Record) []string {
	var out []string
	for _, h := range r.Headers {
		out = append(out, h.Key+"="+string(h.Value))
	}
	return out
}

func TestHeaders(t *testing.T) {
	withHeaders := func(t testing.TB) *connectors.Record {
		r := orderRecord(t)
		r.Headers = []connectors.Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")},
			{Key: "a", Value: []byte("3")}}
		return r
	}
	runCases(t, []tcase{
		{
			name: "insert keeps existing", class: "org.apache.kafka.connect.transforms.InsertHeader",
			kv: []string{"header", "a", "value.literal", "true"}, in: withHeaders,
			check: func(t *testing.T, r *connectors.Record) {
				if got := headerKeys(r); !slices.Equal(got, []string{"a=1", "b=2", "a=3", "a=true"}) {
					t.Errorf("headers %v", got)
				}
			},
		},
		{
			name: "insert on a tombstone", class: "InsertHeader", kv: []string{"header", "x", "value.literal", "y"},
			in: tombstone,
			check: func(t *testing.T, r *connectors.Record) {
				if got := headerKeys(r); !slices.Equal(got, []string{"x=y"}) || r.Value != nil {
					t.Errorf("headers %v", got)
				}
			},
		},
		{
			name: "drop every header with the names", class: "DropHeaders", kv: []string{"headers", "a,zz"},
			in: withHeaders,
			check: func(t *testing.T, r *connectors.Record) {
				if got := headerKeys(r); !slices.Equal(got, []string{"b=2"}) {
					t.Errorf("headers %v", got)
				}
			},
		},
		{
			name: "copy fields", class: "org.apache.kafka.connect.transforms.HeaderFrom$Value",
			kv: []string{"fields", "id,email,price,note", "headers", "hid,hmail,hprice,hnote", "operation", "copy"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				want := []string{"h=v", "hid=7", "hmail=ada@example.com", "hprice=19.99", "hnote="}
				if got := headerKeys(r); !slices.Equal(got, want) {
					t.Errorf("headers %v", got)
				}
				if r.ValueSchema.ID != 1 || r.Value.(map[string]any)["email"] == nil {
					t.Error("copy changed the value")
				}
			},
		},
		{
			name: "move fields", class: "HeaderFrom$Value",
			kv: []string{"fields", "email", "headers", "mail", "operation", "move"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if _, ok := r.Value.(map[string]any)["email"]; ok ||
					slices.Contains(fieldNames(r.ValueSchema), "email") {
					t.Error("email still in the value")
				}
				if got := headerKeys(r); !slices.Equal(got, []string{"h=v", "mail=ada@example.com"}) {
					t.Errorf("headers %v", got)
				}
			},
		},
		{
			name: "tombstone fails", class: "HeaderFrom$Value",
			kv: []string{"fields", "a", "headers", "b", "operation", "copy"}, in: tombstone, err: "found: null",
		},
		{
			name: "unknown field with schema", class: "HeaderFrom$Value",
			kv: []string{"fields", "nope", "headers", "b", "operation", "copy"}, in: orderRecord,
			err: "unknown field: nope",
		},
		{
			name: "key", class: "HeaderFrom$Key",
			kv: []string{"fields", "id", "headers", "kid", "operation", "move"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != `{}` || !slices.Contains(headerKeys(r), "kid=7") {
					t.Errorf("key %s headers %v", r.Key, headerKeys(r))
				}
			},
		},
	})
}
