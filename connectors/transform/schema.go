package transform

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/schemas"
)

// derive wraps an Avro schema a transform built in a schemas.Schema. The
// schema is not registered: its ID is negative, derived from the schema's
// full JSON form, so that one shape always has one ID, across tasks and
// restarts, and two shapes never share one. Sinks that keep a file per
// writer schema ID thus keep a file per shape.
func derive(s avro.Schema) (*schemas.Schema, error) {
	text, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("render derived schema: %w", err)
	}
	sum := sha256.Sum256(text)
	id := int(binary.BigEndian.Uint64(sum[:8]) >> 12) // 52 bits, positive
	return &schemas.Schema{ID: -1 - id, Avro: s, Text: string(text)}, nil
}

// maxCached bounds the derived schemas one transform keeps. Past it,
// schemas are derived again for every record: correct, only slower.
const maxCached = 1024

// schemaCache maps input schemas to the schema a transform derives from
// them. Lookups cost no allocation.
type schemaCache struct {
	m  sync.Map // *schemas.Schema -> *derived
	n  int64
	mu sync.Mutex
}

type derived struct {
	s   *schemas.Schema
	err error
}

// get returns the schema derived from in by build, building it once.
func (c *schemaCache) get(in *schemas.Schema, build func(avro.Schema) (avro.Schema, error)) (*schemas.Schema, error) {
	if d, ok := c.m.Load(in); ok {
		return d.(*derived).s, d.(*derived).err
	}
	d := &derived{}
	out, err := build(in.Avro)
	if err == nil {
		d.s, err = derive(out)
	}
	d.err = err
	c.mu.Lock()
	if c.n < maxCached {
		c.n++
		c.m.Store(in, d)
	}
	c.mu.Unlock()
	return d.s, d.err
}

// deref follows references to the named schema they point at.
func deref(s avro.Schema) avro.Schema {
	for {
		ref, ok := s.(*avro.RefSchema)
		if !ok {
			return s
		}
		s = ref.Schema()
	}
}

// nonNull returns the schema without its null branch: for ["null", T] it
// returns T and true. Other schemas are returned as they are.
func nonNull(s avro.Schema) (avro.Schema, bool) {
	s = deref(s)
	u, ok := s.(*avro.UnionSchema)
	if !ok || !u.Nullable() {
		return s, false
	}
	for _, t := range u.Types() {
		if t.Type() != avro.Null {
			return deref(t), true
		}
	}
	return s, true
}

// isOptional reports whether s admits null.
func isOptional(s avro.Schema) bool {
	s = deref(s)
	if s.Type() == avro.Null {
		return true
	}
	u, ok := s.(*avro.UnionSchema)
	return ok && u.Nullable()
}

// optional returns s made nullable, with null first so that null can be
// the default, as Confluent's Avro converter writes optional fields.
func optional(s avro.Schema) avro.Schema {
	if isOptional(s) {
		return s
	}
	u, err := avro.NewUnionSchema([]avro.Schema{avro.NewNullSchema(), s})
	if err != nil {
		return s // only fails for nested unions, excluded above
	}
	return u
}

// optionalIf returns optional(s) when opt is set, else s.
func optionalIf(s avro.Schema, opt bool) avro.Schema {
	if opt {
		return optional(s)
	}
	return s
}

// recordOf returns the record schema of s: s itself, a reference to a
// record, or the record branch of a nullable union.
func recordOf(s avro.Schema) (*avro.RecordSchema, bool) {
	inner, _ := nonNull(s)
	rec, ok := inner.(*avro.RecordSchema)
	return rec, ok
}

// newField builds a field. A field that is optional gets a null default,
// as Confluent's converter gives optional Connect fields.
func newField(name string, typ avro.Schema) (*avro.Field, error) {
	if isOptional(typ) && firstIsNull(typ) {
		return avro.NewField(name, typ, avro.WithDefault(nil))
	}
	return avro.NewField(name, typ)
}

func firstIsNull(s avro.Schema) bool {
	u, ok := deref(s).(*avro.UnionSchema)
	return ok && len(u.Types()) > 0 && u.Types()[0].Type() == avro.Null
}

// copyField copies f under name with type typ, keeping its doc, aliases,
// order and properties, and its default when keepDefault is set.
func copyField(f *avro.Field, name string, typ avro.Schema, keepDefault bool) (*avro.Field, error) {
	opts := []avro.SchemaOption{
		avro.WithDoc(f.Doc()), avro.WithOrder(f.Order()), avro.WithProps(f.Props()),
	}
	if name == f.Name() {
		opts = append(opts, avro.WithAliases(f.Aliases()))
	}
	switch {
	case keepDefault && f.HasDefault():
		opts = append(opts, avro.WithDefault(f.Default()))
	case firstIsNull(typ):
		opts = append(opts, avro.WithDefault(nil))
	}
	out, err := avro.NewField(name, typ, opts...)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", name, err)
	}
	return out, nil
}

// newRecord builds a record with like's name, namespace, doc, aliases and
// properties and the given fields.
func newRecord(like *avro.RecordSchema, fields []*avro.Field) (*avro.RecordSchema, error) {
	return renamedRecord(like, like.Name(), like.Namespace(), like.Props(), fields)
}

func renamedRecord(like *avro.RecordSchema, name, ns string, props map[string]any,
	fields []*avro.Field,
) (*avro.RecordSchema, error) {
	rec, err := avro.NewRecordSchema(name, ns, fields, avro.WithDoc(like.Doc()),
		avro.WithAliases(like.Aliases()), avro.WithProps(props))
	if err != nil {
		return nil, fmt.Errorf("build record %s: %w", name, err)
	}
	return rec, nil
}

// fieldOf returns the field called name of rec, or nil.
func fieldOf(rec *avro.RecordSchema, name string) *avro.Field {
	for _, f := range rec.Fields() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

// connectDefault is the record name Confluent's Avro converter gives
// structs that have no name, such as the one HoistField builds.
const (
	connectDefaultName      = "ConnectDefault"
	connectDefaultNamespace = "io.confluent.connect.avro"
)
