package transform

import (
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// insertHeader is InsertHeader: it adds a header with a literal value.
type insertHeader struct {
	header string
	value  []byte
	data   any // value as SimpleHeaderConverter reads it
}

func newInsertHeader(p *params, _ bool) Transformation {
	t := &insertHeader{header: p.required("header")}
	v, ok := p.lookup("value.literal")
	if !ok {
		p.errorf("value.literal", "required")
	}
	t.value = []byte(v)
	t.data = schemas.ParseHeader(t.value)
	return t
}

func (t *insertHeader) Apply(r *connectors.Record) (*connectors.Record, error) {
	r.Headers = append(r.Headers, connectors.Header{Key: t.header, Value: t.value, Data: t.data})
	return r, nil
}

// dropHeaders is DropHeaders: it removes every header with one of the
// names.
type dropHeaders struct {
	names []string
}

func newDropHeaders(p *params, _ bool) Transformation {
	return &dropHeaders{names: p.requiredList("headers")}
}

func (t *dropHeaders) Apply(r *connectors.Record) (*connectors.Record, error) {
	kept := r.Headers[:0]
	for _, h := range r.Headers {
		if !contains(t.names, h.Key) {
			kept = append(kept, h)
		}
	}
	clear(r.Headers[len(kept):])
	r.Headers = kept
	return r, nil
}

// headerFrom is HeaderFrom: it copies or moves fields into headers.
type headerFrom struct {
	part        part
	fields      []string
	headers     []string
	move        bool
	replaceNull bool
	cache       schemaCache
}

func newHeaderFrom(p *params, key bool) Transformation {
	t := &headerFrom{part: part(key)}
	t.fields = p.requiredList(keyFields)
	t.headers = p.requiredList("headers")
	if len(t.fields) != len(t.headers) {
		p.errorf("headers", "must name as many headers as fields: %d headers for %d fields",
			len(t.headers), len(t.fields))
	}
	op := p.required("operation")
	if op != "" && op != "move" && op != "copy" {
		p.errorf("operation", "must be move or copy; got %q", op)
	}
	t.move = op == "move"
	t.replaceNull = p.boolean(keyReplaceNullWithDefault, true)
	return t
}

func (t *headerFrom) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, false, t.apply)
}

func (t *headerFrom) apply(r *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	rec, m, err := structOf("header "+map[bool]string{true: "move", false: "copy"}[t.move], s, v)
	if err != nil {
		return nil, nil, err
	}
	for i, name := range t.fields {
		if rec != nil && fieldOf(rec, name) == nil {
			return nil, nil, fmt.Errorf("unknown field: %s", name)
		}
		fv := read(rec, m, name, t.replaceNull)
		var b []byte
		if fv != nil {
			b = []byte(stringOf(fv))
		}
		r.Headers = append(r.Headers, connectors.Header{Key: t.headers[i], Value: b, Data: fv})
	}
	if !t.move {
		return s, m, nil
	}
	for _, name := range t.fields {
		delete(m, name)
	}
	if s == nil {
		return nil, m, nil
	}
	ns, err := t.cache.get(s, func(in avro.Schema) (avro.Schema, error) {
		rec, _ := recordOf(in)
		var fields []*avro.Field
		for _, f := range rec.Fields() {
			if !contains(t.fields, f.Name()) {
				fields = append(fields, f)
			}
		}
		return newRecord(rec, fields)
	})
	return ns, m, err
}
