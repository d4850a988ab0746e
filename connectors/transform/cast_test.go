package transform

import (
	"testing"
	"time"

	"github.com/tributary-io/tributary/connectors"
)

func TestCast(t *testing.T) {
	runCases(t, []tcase{
		{
			name: "fields", class: "org.apache.kafka.connect.transforms.Cast$Value",
			kv: []string{"spec", "id:string,qty:float64,price:int32,email:boolean,at:int64,day:string"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				m := r.Value.(map[string]any)
				if m["id"] != "7" || m["qty"] != float64(3) || m["price"] != 19 || m["email"] != false ||
					m["at"] != orderAt.UnixMilli() || m["day"] != "2026-03-14" {
					t.Errorf("value %v", m)
				}
				rec, _ := recordOf(r.ValueSchema.Avro)
				for name, want := range map[string]string{
					"id": "string", "qty": "double", "price": "int", "email": "boolean", "at": "long",
				} {
					if got := string(fieldOf(rec, name).Type().Type()); got != want {
						t.Errorf("%s: %s, want %s", name, got, want)
					}
				}
			},
		},
		{
			name: "optional field stays optional, null stays null", class: "Cast$Value",
			kv: []string{"spec", "note:int32"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				rec, _ := recordOf(r.ValueSchema.Avro)
				if f := fieldOf(rec, "note"); !isOptional(f.Type()) || r.Value.(map[string]any)["note"] != nil {
					t.Errorf("note: %s", f.Type())
				}
			},
		},
		{
			name: "narrowing like Java", class: "Cast$Value", kv: []string{"spec", "id:int8"},
			in: func(t testing.TB) *connectors.Record {
				r := orderRecord(t)
				r.Value.(map[string]any)["id"] = int64(300)
				return r
			},
			check: func(t *testing.T, r *connectors.Record) {
				if got := r.Value.(map[string]any)["id"]; got != 44 {
					t.Errorf("int8(300) = %v, want 44", got)
				}
			},
		},
		{
			name: "string out of range", class: "Cast$Value", kv: []string{"spec", "email:int16"},
			in: func(t testing.TB) *connectors.Record {
				r := schemaless(t)
				r.Value.(map[string]any)["email"] = "70000"
				return r
			},
			err: "cast field email",
		},
		{
			name: "struct cannot be cast", class: "Cast$Value", kv: []string{"spec", "addr:string"},
			in: orderRecord, err: "cast does not support record",
		},
		{
			name: "whole value", class: "Cast$Value", kv: []string{"spec", "string"},
			in: func(t testing.TB) *connectors.Record {
				return &connectors.Record{ValueSchema: mustSchema(t, 3, `"long"`), Value: int64(12)}
			},
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, "12")
				schemaIs(t, r.ValueSchema, `"string"`)
			},
		},
		{
			name: "bytes to base64", class: "Cast$Value", kv: []string{"spec", "b:string"},
			in: func(t testing.TB) *connectors.Record {
				return &connectors.Record{Value: map[string]any{"b": []byte("hi")}}
			},
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, map[string]any{"b": "aGk="})
			},
		},
		{
			name: "time of day to string", class: "Cast$Value", kv: []string{"spec", "t:string"},
			in: func(t testing.TB) *connectors.Record {
				return &connectors.Record{Value: map[string]any{"t": orderAt.Sub(orderDay)}}
			},
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, map[string]any{"t": "15:09:26.535Z"})
			},
		},
		{
			name: "timestamp to string", class: "Cast$Value", kv: []string{"spec", "at:string"},
			in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if got := r.Value.(map[string]any)["at"]; got != "2026-03-14T15:09:26.535Z" {
					t.Errorf("at = %v", got)
				}
			},
		},
		{
			name: "schemaless strings and booleans", class: "Cast$Value",
			kv: []string{"spec", "a:boolean,b:int64,c:float32,d:boolean"},
			in: func(t testing.TB) *connectors.Record {
				return &connectors.Record{Value: map[string]any{"a": "TRUE", "b": true, "c": "1.5", "d": 0}}
			},
			check: func(t *testing.T, r *connectors.Record) {
				valueIs(t, r, map[string]any{"a": true, "b": int64(1), "c": float32(1.5), "d": false})
			},
		},
		{
			name: "tombstone passes", class: "Cast$Value", kv: []string{"spec", "int32"}, in: tombstone,
			check: func(t *testing.T, r *connectors.Record) { valueIs(t, r, nil) },
		},
		{
			name: "key", class: "Cast$Key", kv: []string{"spec", "id:string"}, in: orderRecord,
			check: func(t *testing.T, r *connectors.Record) {
				if string(r.Key) != `{"id":"7"}` {
					t.Errorf("key %s", r.Key)
				}
			},
		},
	})
}

func TestCastString(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{time.Unix(0, 0).Add(90 * time.Minute), "01:30:00.000Z"},
		{orderDay, "2026-03-14"},
		{orderAt, "2026-03-14T15:09:26.535Z"},
		{float64(1.25), "1.25"},
		{true, "true"},
	} {
		if got := castString(tc.v, ""); got != tc.want {
			t.Errorf("castString(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
