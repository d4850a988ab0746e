package transform

import (
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// flatten is Flatten: nested structs become top-level fields whose names
// join the path with the delimiter.
type flatten struct {
	part      part
	delimiter string
	cache     schemaCache
}

func newFlatten(p *params, key bool) Transformation {
	return &flatten{part: part(key), delimiter: p.str("delimiter", ".")}
}

func (t *flatten) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, true, t.flatten)
}

func (t *flatten) flatten(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	rec, m, err := structOf("flattening", s, v)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]any, len(m))
	if rec == nil {
		t.flattenMap("", m, out)
		return nil, out, nil
	}
	ns, err := t.cache.get(s, t.schema)
	if err != nil {
		return nil, nil, err
	}
	t.flattenStruct("", rec, m, out)
	return ns, out, nil
}

func (t *flatten) join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + t.delimiter + name
}

// flattenMap flattens schemaless maps; other values, arrays included, are
// kept as they are.
func (t *flatten) flattenMap(prefix string, m, out map[string]any) {
	for k, v := range m {
		if nested, ok := v.(map[string]any); ok {
			t.flattenMap(t.join(prefix, k), nested, out)
			continue
		}
		out[t.join(prefix, k)] = v
	}
}

// flattenStruct flattens a record value; a null nested struct makes all
// its fields null.
func (t *flatten) flattenStruct(prefix string, rec *avro.RecordSchema, m, out map[string]any) {
	for _, f := range rec.Fields() {
		name := t.join(prefix, f.Name())
		v := m[f.Name()]
		if nested, ok := recordOf(f.Type()); ok {
			sub, _ := v.(map[string]any)
			if sub == nil {
				sub = map[string]any{}
			}
			t.flattenStruct(name, nested, sub, out)
			continue
		}
		out[name] = v
	}
}

func (t *flatten) schema(in avro.Schema) (avro.Schema, error) {
	rec, _ := recordOf(in)
	var fields []*avro.Field
	if err := t.fields("", rec, false, &fields); err != nil {
		return nil, err
	}
	return newRecord(rec, fields)
}

// fields collects the flattened fields of rec. Children of an optional
// struct are optional.
func (t *flatten) fields(prefix string, rec *avro.RecordSchema, opt bool, out *[]*avro.Field) error {
	for _, f := range rec.Fields() {
		name := t.join(prefix, f.Name())
		if nested, ok := recordOf(f.Type()); ok {
			if err := t.fields(name, nested, opt || isOptional(f.Type()), out); err != nil {
				return err
			}
			continue
		}
		if inner, _ := nonNull(f.Type()); inner.Type() == avro.Map {
			return fmt.Errorf("flatten does not support MAP for record with schemas (for field %s)", name)
		}
		nf, err := copyField(f, name, optionalIf(f.Type(), opt), !opt)
		if err != nil {
			return err
		}
		*out = append(*out, nf)
	}
	return nil
}
