package transform

import (
	"fmt"
	"maps"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// connectVersionProp is the schema property in which Confluent's Avro
// converter keeps a Connect schema version.
const connectVersionProp = "connect.version"

// setSchemaMetadata is SetSchemaMetadata: it renames the record schema of
// the key or value and sets its version.
type setSchemaMetadata struct {
	part    part
	name    string
	version *int
	cache   schemaCache
}

func newSetSchemaMetadata(p *params, key bool) Transformation {
	t := &setSchemaMetadata{part: part(key), name: strings.TrimSpace(p.str("schema.name", ""))}
	t.version = p.optionalInt("schema.version")
	p.boolean(keyReplaceNullWithDefault, true)
	if t.name == "" && t.version == nil {
		p.errorf("schema.name", "neither schema name nor version configured")
	}
	return t
}

func (t *setSchemaMetadata) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, false, t.apply)
}

func (t *setSchemaMetadata) apply(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	if s == nil {
		if v == nil {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("schema required for [updating schema metadata]")
	}
	ns, err := t.cache.get(s, t.schema)
	return ns, v, err
}

func (t *setSchemaMetadata) schema(in avro.Schema) (avro.Schema, error) {
	rec, ok := recordOf(in)
	if !ok {
		return nil, fmt.Errorf("setting schema metadata needs a record schema, got %s", in.Type())
	}
	name, ns := rec.Name(), rec.Namespace()
	if t.name != "" {
		name, ns = t.name, ""
		if i := strings.LastIndexByte(t.name, '.'); i >= 0 {
			ns, name = t.name[:i], t.name[i+1:]
		}
	}
	props := maps.Clone(rec.Props())
	if t.version != nil {
		if props == nil {
			props = map[string]any{}
		}
		props[connectVersionProp] = *t.version
	}
	out, err := renamedRecord(rec, name, ns, props, rec.Fields())
	if err != nil {
		return nil, err
	}
	return optionalIf(out, isOptional(in)), nil
}
