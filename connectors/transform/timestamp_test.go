package transform

import (
	"testing"
	"time"

	"github.com/tributary-io/tributary/connectors"
)

func TestTimestampConverter(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "timestamp field to string", class: "org.apache.kafka.connect.transforms.TimestampConverter$Value",
			kv: []string{"field", "at", "target.type", "string", "format", "yyyy-MM-dd'T'HH:mm:ss.SSS"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if got := r.Value.(map[string]any)["at"]; got != "2026-03-14T15:09:26.535" {
					t.Errorf("at = %v", got)
				}
				rec, _ := recordOf(r.ValueSchema.Avro)
				if fieldOf(rec, "at").Type().Type() != "string" {
					t.Errorf("schema %s", r.ValueSchema.Text)
				}
			},
		},
		{
			name: "timestamp to unix seconds", class: "TimestampConverter$Value",
			kv: []string{"field", "at", "target.type", "unix", "unix.precision", "seconds"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if got := r.Value.(map[string]any)["at"]; got != orderAt.Unix() {
					t.Errorf("at = %v", got)
				}
			},
		},
		{
			name: "timestamp to Date and Time", class: "TimestampConverter$Value",
			kv: []string{"field", "at", "target.type", "Date"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if got := r.Value.(map[string]any)["at"]; !got.(time.Time).Equal(orderDay) {
					t.Errorf("at = %v", got)
				}
				rec, _ := recordOf(r.ValueSchema.Avro)
				if logicalOf(fieldOf(rec, "at").Type()) != "date" {
					t.Errorf("schema %s", r.ValueSchema.Text)
				}
			},
		},
		{
			name: "date to Time", class: "TimestampConverter$Value",
			kv: []string{"field", "at", "target.type", "Time"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if got := r.Value.(map[string]any)["at"]; got != orderAt.Sub(orderDay) {
					t.Errorf("at = %v", got)
				}
			},
		},
		{
			name: "string to Timestamp", class: "TimestampConverter$Value",
			kv: []string{"field", "email", "target.type", "Timestamp", "format", "yyyy-MM-dd HH:mm:ss"},
			in: func(t testing.TB) *connectors.Record {
				r := orderRecord(t)
				r.Value.(map[string]any)["email"] = "2026-03-14 15:09:26"
				return r
			},
			check: func(t *testing.T, r *connectors.Record) {
				got := r.Value.(map[string]any)["email"].(time.Time)
				if !got.Equal(orderAt.Truncate(time.Second)) {
					t.Errorf("email = %v", got)
				}
			},
		},
		{
			name: "unparsable string", class: "TimestampConverter$Value",
			kv: []string{"field", "email", "target.type", "Timestamp", "format", "yyyy-MM-dd"},
			in: orderRecord, err: "parse timestamp",
		},
		{
			name: "null field stays null, schema converted", class: "TimestampConverter$Value",
			kv: []string{"field", "note", "target.type", "unix"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				rec, _ := recordOf(r.ValueSchema.Avro)
				f := fieldOf(rec, "note")
				if r.Value.(map[string]any)["note"] != nil || !isOptional(f.Type()) {
					t.Errorf("note %s", f.Type())
				}
			},
		},
		{
			name: "whole value unix millis to Timestamp", class: "TimestampConverter$Value",
			kv: []string{"target.type", "Timestamp"},
			in: func(t testing.TB) *connectors.Record {
				return &connectors.Record{ValueSchema: mustSchema(t, 4, `"long"`), Value: orderAt.UnixMilli()}
			},
			check: func(t *testing.T, r *connectors.Record) {
				if !r.Value.(time.Time).Equal(orderAt) || logicalOf(r.ValueSchema.Avro) != "timestamp-millis" {
					t.Errorf("value %v schema %s", r.Value, r.ValueSchema.Text)
				}
			},
		},
		{
			name: "tombstone passes", class: "TimestampConverter$Value",
			kv: []string{"field", "at", "target.type", "unix"}, in: tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
	})
}

func TestTimestampRouter(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "defaults", class: "org.apache.kafka.connect.transforms.TimestampRouter", in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if r.Topic != "orders-20260314" {
					t.Errorf("topic %s", r.Topic)
				}
			},
		},
		{
			name: "format", class: "TimestampRouter",
			kv: []string{"topic.format", "${timestamp}_${topic}", "timestamp.format", "yyyy.MM"},
			in: tombstone,
			check: func(t *testing.T, r *connectors.Record) {
				if r.Topic != "2026.03_orders" {
					t.Errorf("topic %s", r.Topic)
				}
			},
		},
		{
			name: "no timestamp", class: "TimestampRouter",
			in:  func(testing.TB) *connectors.Record { return &connectors.Record{Topic: "x"} },
			err: "timestamp missing on record",
		},
	})
}

func TestJavaLayout(t *testing.T) {
	for in, want := range map[string]string{
		"yyyyMMdd":                     "20260314",
		"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'": "2026-03-14T15:09:26.535Z",
		"EEE, d MMM yy hh:mm a":        "Sat, 14 Mar 26 03:09 PM",
		"yyyy-MM-dd HH:mm:ssXXX":       "2026-03-14 15:09:26Z",
		"''yy''":                       "'26'",
	} {
		layout, err := javaLayout(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := orderAt.Format(layout); got != want {
			t.Errorf("%q formats %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"yyyySSS", "yyyy'01'", "'open", "yyyy-QQ"} {
		if _, err := javaLayout(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
