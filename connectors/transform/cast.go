package transform

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// castTypes are the types Cast casts to, with their Avro types.
var castTypes = map[string]avro.Type{
	"int8": avro.Int, "int16": avro.Int, "int32": avro.Int, "int64": avro.Long,
	"float32": avro.Float, "float64": avro.Double, "boolean": avro.Boolean, "string": avro.String,
}

var castTypeNames = []string{"int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string"}

// cast is Cast: it casts the whole key or value, or some of its top-level
// fields, to primitive types.
type cast struct {
	part        part
	whole       string            // target of a whole-value cast, or ""
	fields      map[string]string // field -> target
	replaceNull bool
	cache       schemaCache
}

func newCast(p *params, key bool) Transformation {
	t := &cast{part: part(key), fields: map[string]string{}}
	spec := p.requiredList("spec")
	t.replaceNull = p.boolean(keyReplaceNullWithDefault, true)
	for _, entry := range spec {
		field, typ, isField := strings.Cut(entry, ":")
		if !isField {
			typ = field
		}
		typ = strings.ToLower(strings.TrimSpace(typ))
		if _, ok := castTypes[typ]; !ok {
			p.errorf("spec", "Cast transformation does not support casting to %s; "+
				"supported types are [%s]", typ, strings.Join(castTypeNames, ", "))
			continue
		}
		if !isField {
			if len(spec) > 1 {
				p.errorf("spec", "a cast of the whole key or value must be the only entry, got %q",
					strings.Join(spec, ","))
			}
			t.whole = typ
			continue
		}
		t.fields[strings.TrimSpace(field)] = typ
	}
	return t
}

func (t *cast) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, true, t.cast)
}

func (t *cast) cast(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	if t.whole != "" {
		var lt avro.LogicalType
		if s != nil {
			lt = logicalOf(s.Avro)
		}
		out, err := castTo(v, t.whole, lt)
		if err != nil || s == nil {
			return nil, out, err
		}
		ns, err := t.cache.get(s, t.schema)
		return ns, out, err
	}
	rec, m, err := structOf("cast", s, v)
	if err != nil {
		return nil, nil, err
	}
	for name, typ := range t.fields {
		var lt avro.LogicalType
		if rec != nil {
			f := fieldOf(rec, name)
			if f == nil {
				continue
			}
			lt = logicalOf(f.Type())
		}
		fv := read(rec, m, name, t.replaceNull)
		if fv == nil {
			continue
		}
		out, err := castTo(fv, typ, lt)
		if err != nil {
			return nil, nil, fmt.Errorf("cast field %s: %w", name, err)
		}
		m[name] = out
	}
	if s == nil {
		return nil, m, nil
	}
	ns, err := t.cache.get(s, t.schema)
	return ns, m, err
}

func (t *cast) schema(in avro.Schema) (avro.Schema, error) {
	if t.whole != "" {
		if err := castable(in, t.whole); err != nil {
			return nil, err
		}
		return optionalIf(avro.NewPrimitiveSchema(castTypes[t.whole], nil), isOptional(in)), nil
	}
	rec, _ := recordOf(in)
	fields := make([]*avro.Field, 0, len(rec.Fields()))
	for _, f := range rec.Fields() {
		typ, ok := t.fields[f.Name()]
		if !ok {
			fields = append(fields, f)
			continue
		}
		if err := castable(f.Type(), typ); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name(), err)
		}
		ft := optionalIf(avro.NewPrimitiveSchema(castTypes[typ], nil), isOptional(f.Type()))
		var opts []avro.SchemaOption
		switch {
		case f.HasDefault() && f.Default() != nil:
			if def, err := castTo(f.Default(), typ, logicalOf(f.Type())); err == nil {
				opts = append(opts, avro.WithDefault(def))
			}
		case firstIsNull(ft):
			opts = append(opts, avro.WithDefault(nil))
		}
		nf, err := avro.NewField(f.Name(), ft, append(opts, avro.WithDoc(f.Doc()))...)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name(), err)
		}
		fields = append(fields, nf)
	}
	return newRecord(rec, fields)
}

// castable reports whether values of schema s can be cast to typ.
func castable(s avro.Schema, typ string) error {
	inner, _ := nonNull(s)
	switch inner.Type() {
	case avro.Record, avro.Array, avro.Map, avro.Union, avro.Enum:
		return fmt.Errorf("cast does not support %s values", inner.Type())
	case avro.Bytes, avro.Fixed:
		if logicalOf(inner) != avro.Decimal && typ != "string" {
			return fmt.Errorf("bytes can only be cast to string, not %s", typ)
		}
	}
	return nil
}

// logicalOf returns the logical type of s (or of its non-null branch).
func logicalOf(s avro.Schema) avro.LogicalType {
	inner, _ := nonNull(s)
	if ls, ok := inner.(avro.LogicalTypeSchema); ok && ls.Logical() != nil {
		return ls.Logical().Type()
	}
	return ""
}

// castTo casts one value; lt is its logical type, when known.
func castTo(v any, typ string, lt avro.LogicalType) (any, error) {
	switch typ {
	case "string":
		return castString(v, lt), nil
	case "boolean":
		return castBool(v)
	case "float32", "float64":
		bits := 64
		if typ == "float32" {
			bits = 32
		}
		f, err := asFloat(v, bits, lt)
		if err != nil {
			return nil, err
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	}
	bits := map[string]int{"int8": 8, "int16": 16, "int32": 32, "int64": 64}[typ]
	n, err := asInteger(v, bits, lt)
	if err != nil {
		return nil, err
	}
	switch bits {
	case 8:
		return int(int8(n)), nil
	case 16:
		return int(int16(n)), nil
	case 32:
		return int(int32(n)), nil
	}
	return n, nil
}

func castBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return strings.EqualFold(strings.TrimSpace(x), "true"), nil
	}
	f, err := asFloat(v, 64, "")
	if err != nil {
		return nil, err
	}
	return f != 0, nil
}

// asInteger converts v as a Java cast would: floats truncate, booleans are
// 1 or 0, strings are parsed into bits bits.
func asInteger(v any, bits int, lt avro.LogicalType) (int64, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float32:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, bits)
		if err != nil {
			return 0, fmt.Errorf("cast %q to int%d: %w", x, bits, err)
		}
		return n, nil
	case *big.Rat:
		q := new(big.Int).Quo(x.Num(), x.Denom())
		return q.Int64(), nil
	case time.Time:
		return timeInteger(x, lt), nil
	case time.Duration:
		return x.Milliseconds(), nil
	}
	return 0, fmt.Errorf("cannot cast %T to an integer", v)
}

// timeInteger is the integer encoding of a date (days) or timestamp (epoch
// milliseconds).
func timeInteger(t time.Time, lt avro.LogicalType) int64 {
	if lt == avro.Date {
		return int64(math.Floor(float64(t.Unix()) / 86400))
	}
	return t.UnixMilli()
}

func asFloat(v any, bits int, lt avro.LogicalType) (float64, error) {
	switch x := v.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), bits)
		if err != nil {
			return 0, fmt.Errorf("cast %q to float%d: %w", x, bits, err)
		}
		return f, nil
	case *big.Rat:
		f, _ := x.Float64()
		return f, nil
	}
	n, err := asInteger(v, 64, lt)
	return float64(n), err
}

// castString renders v as Cast does: bytes in Base64, dates, times and
// timestamps with a pattern chosen from the value, in UTC.
func castString(v any, lt avro.LogicalType) string {
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Duration:
		return time.UnixMilli(x.Milliseconds()).UTC().Format("15:04:05.000Z")
	case time.Time:
		x = x.UTC()
		ms := x.UnixMilli()
		switch {
		case ms >= 0 && ms < 86400000 && lt != avro.Date:
			return x.Format("15:04:05.000Z")
		case ms%86400000 == 0:
			return x.Format("2006-01-02")
		}
		return x.Format("2006-01-02T15:04:05.000Z")
	}
	return stringOf(v)
}
