package actions_test

import (
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/schemas/actions"
)

// fieldType describes what a test expects of one record field: its Avro type,
// its logical type if any, and whether it is a null-first union.
type fieldType struct {
	typ      avro.Type
	logical  avro.LogicalType
	nullable bool
}

func TestSchemasParse(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		fullName string
		fields   int
		want     map[string]fieldType
	}{
		{
			name:     "booking",
			text:     actions.Booking,
			fullName: "io.tributary.actions.Booking",
			fields:   35,
			want: map[string]fieldType{
				"hotel":                   {typ: avro.String},
				"is_canceled":             {typ: avro.Int},
				"children":                {typ: avro.Int, nullable: true},
				"country":                 {typ: avro.String, nullable: true},
				"agent":                   {typ: avro.Int, nullable: true},
				"company":                 {typ: avro.Int, nullable: true},
				"adr":                     {typ: avro.Bytes, logical: avro.Decimal},
				"reservation_status_date": {typ: avro.Int, logical: avro.Date},
				"arrival_date":            {typ: avro.Int, logical: avro.Date},
				"event_time":              {typ: avro.Long, logical: avro.TimestampMillis},
				"action_id":               {typ: avro.String, logical: avro.UUID},
			},
		},
		{
			name:     "click",
			text:     actions.Click,
			fullName: "io.tributary.actions.Click",
			fields:   10,
			want: map[string]fieldType{
				"action_id":  {typ: avro.String, logical: avro.UUID},
				"event_time": {typ: avro.Long, logical: avro.TimestampMillis},
				"session_id": {typ: avro.String},
				"user_id":    {typ: avro.String, nullable: true},
				"page":       {typ: avro.String},
				"element":    {typ: avro.String},
				"referrer":   {typ: avro.String, nullable: true},
				"user_agent": {typ: avro.String, nullable: true},
				"country":    {typ: avro.String, nullable: true},
				"device":     {typ: avro.Enum},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := avro.ParseBytes([]byte(tt.text))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			rec, ok := s.(*avro.RecordSchema)
			if !ok {
				t.Fatalf("schema is %T, want a record", s)
			}
			if rec.FullName() != tt.fullName {
				t.Errorf("full name %q, want %q", rec.FullName(), tt.fullName)
			}
			if rec.Doc() == "" {
				t.Error("record has no doc")
			}
			if len(rec.Fields()) != tt.fields {
				t.Errorf("%d fields, want %d", len(rec.Fields()), tt.fields)
			}
			byName := map[string]*avro.Field{}
			for _, f := range rec.Fields() {
				byName[f.Name()] = f
				if f.Doc() == "" {
					t.Errorf("field %s has no doc", f.Name())
				}
			}
			for name, want := range tt.want {
				f := byName[name]
				if f == nil {
					t.Errorf("field %s missing", name)
					continue
				}
				checkField(t, f, want)
			}
		})
	}
}

func checkField(t *testing.T, f *avro.Field, want fieldType) {
	t.Helper()
	s := f.Type()
	if want.nullable {
		u, ok := s.(*avro.UnionSchema)
		if !ok || len(u.Types()) != 2 || u.Types()[0].Type() != avro.Null {
			t.Errorf("field %s: type %s, want a union of null and %s", f.Name(), s, want.typ)
			return
		}
		if !f.HasDefault() || f.Default() != nil {
			t.Errorf("field %s: want default null", f.Name())
		}
		s = u.Types()[1]
	}
	if s.Type() != want.typ {
		t.Errorf("field %s: type %s, want %s", f.Name(), s.Type(), want.typ)
	}
	var got avro.LogicalType
	if ls, ok := s.(avro.LogicalTypeSchema); ok && ls.Logical() != nil {
		got = ls.Logical().Type()
	}
	if got != want.logical {
		t.Errorf("field %s: logical type %q, want %q", f.Name(), got, want.logical)
	}
}

func TestBookingADRDecimal(t *testing.T) {
	s := avro.MustParse(actions.Booking).(*avro.RecordSchema)
	for _, f := range s.Fields() {
		if f.Name() != "adr" {
			continue
		}
		dec, ok := f.Type().(*avro.PrimitiveSchema).Logical().(*avro.DecimalLogicalSchema)
		if !ok {
			t.Fatalf("adr logical schema is %T", f.Type().(*avro.PrimitiveSchema).Logical())
		}
		if dec.Precision() != 10 || dec.Scale() != 2 {
			t.Errorf("adr is decimal(%d,%d), want decimal(10,2)", dec.Precision(), dec.Scale())
		}
		return
	}
	t.Fatal("booking has no adr field")
}
