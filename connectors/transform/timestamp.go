package transform

import (
	"fmt"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Target types of TimestampConverter, spelt as Kafka Connect spells them.
const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"
)

// timestampConverter is TimestampConverter: it converts timestamps between
// strings, epoch numbers and the date, time and timestamp logical types.
type timestampConverter struct {
	part        part
	field       string
	target      string
	layout      string // Go layout of format; "" when unset
	precision   string
	replaceNull bool
	cache       schemaCache
}

func newTimestampConverter(p *params, key bool) Transformation {
	t := &timestampConverter{part: part(key), field: p.str(keyField, "")}
	t.target = p.required("target.type")
	if t.target != "" && !contains([]string{tsString, tsUnix, tsDate, tsTime, tsTimestamp}, t.target) {
		p.errorf("target.type", "must be one of string, unix, Date, Time, Timestamp; got %q", t.target)
	}
	if format := p.str("format", ""); format != "" {
		layout, err := javaLayout(format)
		if err != nil {
			p.errorf("format", "%v", err)
		}
		t.layout = layout
	} else if t.target == tsString {
		p.errorf("format", "required when target.type is string")
	}
	t.precision = p.oneOf("unix.precision", "milliseconds",
		"seconds", "milliseconds", "microseconds", "nanoseconds")
	t.replaceNull = p.boolean(keyReplaceNullWithDefault, true)
	return t
}

func (t *timestampConverter) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, false, t.convert)
}

func (t *timestampConverter) convert(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	if t.field == "" {
		if v == nil {
			if s == nil {
				return nil, nil, nil
			}
			ns, err := t.cache.get(s, t.schema)
			return ns, nil, err
		}
		var in avro.Schema
		if s != nil {
			in = s.Avro
		}
		out, err := t.value(v, in)
		if err != nil || s == nil {
			return nil, out, err
		}
		ns, err := t.cache.get(s, t.schema)
		return ns, out, err
	}

	if v == nil {
		return s, v, nil
	}
	rec, m, err := structOf("converting timestamp formats", s, v)
	if err != nil {
		return nil, nil, err
	}
	var in avro.Schema
	if rec != nil {
		f := fieldOf(rec, t.field)
		if f == nil {
			return nil, nil, fmt.Errorf("unknown field: %s", t.field)
		}
		in = f.Type()
	}
	if fv := read(rec, m, t.field, t.replaceNull); fv != nil {
		out, err := t.value(fv, in)
		if err != nil {
			return nil, nil, fmt.Errorf("field %s: %w", t.field, err)
		}
		m[t.field] = out
	}
	if s == nil {
		return nil, m, nil
	}
	ns, err := t.cache.get(s, t.schema)
	return ns, m, err
}

// value converts one timestamp whose schema is in (nil when schemaless).
func (t *timestampConverter) value(v any, in avro.Schema) (any, error) {
	ts, err := t.parse(v, in)
	if err != nil {
		return nil, err
	}
	ts = ts.UTC().Truncate(time.Millisecond)
	switch t.target {
	case tsString:
		return ts.Format(t.layout), nil
	case tsUnix:
		ms := ts.UnixMilli()
		switch t.precision {
		case "seconds":
			return floorDiv(ms, 1000), nil
		case "microseconds":
			return ms * 1000, nil
		case "nanoseconds":
			return ms * 1000000, nil
		}
		return ms, nil
	case tsDate:
		return time.UnixMilli(floorDiv(ts.UnixMilli(), 86400000) * 86400000).UTC(), nil
	case tsTime:
		ms := ts.UnixMilli() - floorDiv(ts.UnixMilli(), 86400000)*86400000
		return time.Duration(ms) * time.Millisecond, nil
	}
	return ts, nil
}

// parse reads a timestamp in any of the forms TimestampConverter accepts.
func (t *timestampConverter) parse(v any, in avro.Schema) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case time.Duration:
		return time.UnixMilli(0).Add(x), nil
	case int64:
		return t.fromUnix(x), nil
	case int:
		if in != nil && logicalOf(in) == avro.Date {
			return time.Unix(int64(x)*86400, 0), nil
		}
		return t.fromUnix(int64(x)), nil
	case string:
		if t.layout == "" {
			return time.Time{}, fmt.Errorf("format is required to parse the string %q", x)
		}
		ts, err := time.Parse(t.layout, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("parse timestamp %q: %w", x, err)
		}
		return ts, nil
	}
	return time.Time{}, fmt.Errorf("expected a timestamp, string or number, found %T", v)
}

func (t *timestampConverter) fromUnix(n int64) time.Time {
	switch t.precision {
	case "seconds":
		return time.Unix(n, 0)
	case "microseconds":
		return time.UnixMicro(n)
	case "nanoseconds":
		return time.Unix(0, n)
	}
	return time.UnixMilli(n)
}

// targetSchema is the Avro schema of the target type.
func (t *timestampConverter) targetSchema() avro.Schema {
	switch t.target {
	case tsString:
		return avro.NewPrimitiveSchema(avro.String, nil)
	case tsUnix:
		return avro.NewPrimitiveSchema(avro.Long, nil)
	case tsDate:
		return avro.NewPrimitiveSchema(avro.Int, avro.NewPrimitiveLogicalSchema(avro.Date))
	case tsTime:
		return avro.NewPrimitiveSchema(avro.Int, avro.NewPrimitiveLogicalSchema(avro.TimeMillis))
	}
	return avro.NewPrimitiveSchema(avro.Long, avro.NewPrimitiveLogicalSchema(avro.TimestampMillis))
}

func (t *timestampConverter) schema(in avro.Schema) (avro.Schema, error) {
	if t.field == "" {
		if err := timestampSource(in); err != nil {
			return nil, err
		}
		return optionalIf(t.targetSchema(), isOptional(in)), nil
	}
	rec, _ := recordOf(in)
	fields := make([]*avro.Field, 0, len(rec.Fields()))
	for _, f := range rec.Fields() {
		if f.Name() != t.field {
			fields = append(fields, f)
			continue
		}
		if err := timestampSource(f.Type()); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name(), err)
		}
		nf, err := copyField(f, f.Name(), optionalIf(t.targetSchema(), isOptional(f.Type())), false)
		if err != nil {
			return nil, err
		}
		fields = append(fields, nf)
	}
	return newRecord(rec, fields)
}

// timestampSource checks that a schema holds a timestamp in some form.
func timestampSource(s avro.Schema) error {
	inner, _ := nonNull(s)
	switch inner.Type() {
	case avro.String, avro.Long, avro.Int:
		return nil
	}
	return fmt.Errorf("schema type %s holds no timestamp", inner.Type())
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
