package transform

import (
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

func TestRegexRouter(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "match whole topic", class: "org.apache.kafka.connect.transforms.RegexRouter",
			kv: []string{"regex", "(.*)rs", "replacement", "$1r-$1"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if r.Topic != "order-orde" {
					t.Errorf("topic %s", r.Topic)
				}
			},
		},
		{
			name: "partial match is no match", class: "RegexRouter",
			kv: []string{"regex", "order", "replacement", "x"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if r.Topic != "orders" {
					t.Errorf("topic %s", r.Topic)
				}
			},
		},
		{
			name: "literal dollar", class: "RegexRouter",
			kv: []string{"regex", "orders", "replacement", `\$x`}, in: tombstone,
			check: func(t *testing.T, r *connectors.Record) {
				if r.Topic != "$x" {
					t.Errorf("topic %s", r.Topic)
				}
			},
		},
	})
}

func TestFilter(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "drops everything", class: "org.apache.kafka.connect.transforms.Filter", in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if r != nil {
					t.Errorf("kept %v", r)
				}
			},
		},
	})
}

func TestSetSchemaMetadata(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "name and version", class: "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
			kv: []string{"schema.name", "com.acme.Order", "schema.version", "3"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				rec, _ := recordOf(r.ValueSchema.Avro)
				if rec.FullName() != "com.acme.Order" || rec.Prop("connect.version") != 3 {
					t.Errorf("schema %s", r.ValueSchema.Text)
				}
				if r.Value.(map[string]any)["email"] != "ada@example.com" {
					t.Error("value changed")
				}
			},
		},
		{
			name: "version only keeps the name", class: "SetSchemaMetadata$Value",
			kv: []string{"schema.version", "2"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if rec, _ := recordOf(r.ValueSchema.Avro); rec.FullName() != "shop.Order" {
					t.Errorf("schema %s", r.ValueSchema.Text)
				}
			},
		},
		{
			name: "tombstone passes", class: "SetSchemaMetadata$Value", kv: []string{"schema.name", "x"},
			in:    tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
		{
			name: "schemaless fails", class: "SetSchemaMetadata$Value", kv: []string{"schema.name", "x"},
			in: schemaless, err: "schema required for [updating schema metadata]",
		},
	})
}

func TestPredicates(t *testing.T) {
	parse := func(t *testing.T, class string, kv ...string) Predicate {
		cfg := map[string]string{"predicates": "p", "predicates.p.type": class,
			"transforms": "f", "transforms.f.type": "Filter", "transforms.f.predicate": "p"}
		for i := 0; i+1 < len(kv); i += 2 {
			cfg["predicates.p."+kv[i]] = kv[i+1]
		}
		c, errs := Parse(cfg)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return c.steps[0].pred
	}
	rec := func(topic string, value any, headers ...string) *connectors.Record {
		r := &connectors.Record{Topic: topic, Value: value}
		for _, h := range headers {
			r.Headers = append(r.Headers, connectors.Header{Key: h})
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		pred  Predicate
		r     *connectors.Record
		match bool
	}{
		{"topic matches whole", parse(t, "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
			"pattern", "or.*s"), rec("orders", 1), true},
		{"topic partial", parse(t, "TopicNameMatches", "pattern", "order"), rec("orders", 1), false},
		{"empty topic", parse(t, "TopicNameMatches", "pattern", ".*"), rec("", 1), false},
		{"header present", parse(t, "HasHeaderKey", "name", "trace"), rec("t", 1, "a", "trace"), true},
		{"header absent", parse(t, "HasHeaderKey", "name", "trace"), rec("t", 1, "a"), false},
		{"tombstone", parse(t, "RecordIsTombstone"), rec("t", nil), true},
		{"not a tombstone", parse(t, "RecordIsTombstone"), rec("t", 0), false},
	} {
		if got := tc.pred.Test(tc.r); got != tc.match {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.match)
		}
	}
}
