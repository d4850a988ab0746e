package transform

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Keys of the transforms that work on fields.
const (
	keyField                  = "field"
	keyFields                 = "fields"
	keyReplaceNullWithDefault = "replace.null.with.default"
)

// fieldSpec is an InsertField field name with its !/? marker.
type fieldSpec struct {
	name     string
	required bool
}

func parseFieldSpec(s string) fieldSpec {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasSuffix(s, "!"):
		return fieldSpec{name: s[:len(s)-1], required: true}
	case strings.HasSuffix(s, "?"):
		return fieldSpec{name: s[:len(s)-1]}
	}
	return fieldSpec{name: s}
}

// insertField is InsertField: it adds the record's topic, partition,
// offset, timestamp or a static value as fields.
type insertField struct {
	part                                        part
	topic, partition, offset, timestamp, static fieldSpec
	staticValue                                 string
	cache                                       schemaCache
}

func newInsertField(p *params, key bool) Transformation {
	t := &insertField{part: part(key)}
	t.topic = parseFieldSpec(p.str("topic.field", ""))
	t.partition = parseFieldSpec(p.str("partition.field", ""))
	t.offset = parseFieldSpec(p.str("offset.field", ""))
	t.timestamp = parseFieldSpec(p.str("timestamp.field", ""))
	t.static = parseFieldSpec(p.str("static.field", ""))
	t.staticValue = p.str("static.value", "")
	p.boolean(keyReplaceNullWithDefault, true)
	if t.static.name != "" && t.staticValue == "" {
		p.errorf("static.value", "required when static.field is set")
	}
	if t.topic.name == "" && t.partition.name == "" && t.offset.name == "" &&
		t.timestamp.name == "" && t.static.name == "" {
		p.errorf("topic.field", "no field insertion configured: set at least one of "+
			"topic.field, partition.field, offset.field, timestamp.field, static.field")
	}
	return t
}

func (t *insertField) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, true, t.insert)
}

func (t *insertField) insert(r *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	_, m, err := structOf("field insertion", s, v)
	if err != nil {
		return nil, nil, err
	}
	var ts any
	if !r.Timestamp.IsZero() {
		if s != nil {
			ts = r.Timestamp.UTC().Truncate(time.Millisecond)
		} else {
			ts = r.Timestamp.UnixMilli()
		}
	}
	for _, f := range []struct {
		spec fieldSpec
		v    any
	}{
		{t.topic, r.Topic}, {t.partition, int(r.Partition)}, {t.offset, r.Offset},
		{t.timestamp, ts}, {t.static, t.staticValue},
	} {
		if f.spec.name == "" {
			continue
		}
		if f.v == nil && s == nil {
			continue // schemaless: only known values are inserted
		}
		if f.v == nil && f.spec.required {
			return nil, nil, fmt.Errorf("field %s is required but the record has no value for it",
				f.spec.name)
		}
		m[f.spec.name] = f.v
	}
	if s == nil {
		return nil, m, nil
	}
	out, err := t.cache.get(s, t.schema)
	return out, m, err
}

func (t *insertField) schema(in avro.Schema) (avro.Schema, error) {
	rec, _ := recordOf(in)
	fields := make([]*avro.Field, 0, len(rec.Fields())+5)
	for _, f := range rec.Fields() {
		fields = append(fields, f)
	}
	for _, add := range []struct {
		spec fieldSpec
		typ  avro.Schema
	}{
		{t.topic, avro.NewPrimitiveSchema(avro.String, nil)},
		{t.partition, avro.NewPrimitiveSchema(avro.Int, nil)},
		{t.offset, avro.NewPrimitiveSchema(avro.Long, nil)},
		{t.timestamp, avro.NewPrimitiveSchema(avro.Long,
			avro.NewPrimitiveLogicalSchema(avro.TimestampMillis))},
		{t.static, avro.NewPrimitiveSchema(avro.String, nil)},
	} {
		if add.spec.name == "" {
			continue
		}
		if fieldOf(rec, add.spec.name) != nil {
			return nil, fmt.Errorf("field %s exists already in %s", add.spec.name, rec.FullName())
		}
		f, err := newField(add.spec.name, optionalIf(add.typ, !add.spec.required))
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	return newRecord(rec, fields)
}

// replaceField is ReplaceField: it drops, keeps and renames top-level
// fields.
type replaceField struct {
	part             part
	exclude, include []string
	renames          map[string]string
	cache            schemaCache
}

func newReplaceField(p *params, key bool) Transformation {
	t := &replaceField{part: part(key), renames: map[string]string{}}
	t.exclude = listWithAlias(p, "exclude", "blacklist")
	t.include = listWithAlias(p, "include", "whitelist")
	for _, pair := range p.list("renames") {
		from, to, ok := strings.Cut(pair, ":")
		if !ok || strings.Contains(to, ":") || from == "" || to == "" {
			p.errorf("renames", "want old:new pairs, got %q", pair)
			continue
		}
		t.renames[from] = to
	}
	p.boolean(keyReplaceNullWithDefault, true)
	return t
}

// listWithAlias reads a list key that Kafka Connect renamed, accepting the
// old name when the new one is not set.
func listWithAlias(p *params, key, old string) []string {
	if l := p.list(key); len(l) > 0 {
		p.list(old)
		return l
	}
	return p.list(old)
}

func (t *replaceField) keep(name string) bool {
	return !contains(t.exclude, name) && (len(t.include) == 0 || contains(t.include, name))
}

func (t *replaceField) renamed(name string) string {
	if to, ok := t.renames[name]; ok {
		return to
	}
	return name
}

func (t *replaceField) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, true, t.replace)
}

func (t *replaceField) replace(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	rec, m, err := structOf("field replacement", s, v)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]any, len(m))
	if rec == nil {
		for k, e := range m {
			if t.keep(k) {
				out[t.renamed(k)] = e
			}
		}
		return nil, out, nil
	}
	for _, f := range rec.Fields() {
		if t.keep(f.Name()) {
			out[t.renamed(f.Name())] = m[f.Name()]
		}
	}
	ns, err := t.cache.get(s, t.schema)
	return ns, out, err
}

func (t *replaceField) schema(in avro.Schema) (avro.Schema, error) {
	rec, _ := recordOf(in)
	var fields []*avro.Field
	for _, f := range rec.Fields() {
		if !t.keep(f.Name()) {
			continue
		}
		nf, err := copyField(f, t.renamed(f.Name()), f.Type(), true)
		if err != nil {
			return nil, err
		}
		fields = append(fields, nf)
	}
	return newRecord(rec, fields)
}

// maskField is MaskField: it replaces field values with the empty value of
// their type, or with a replacement.
type maskField struct {
	part        part
	fields      []string
	replacement string
	replaceNull bool
}

func newMaskField(p *params, key bool) Transformation {
	t := &maskField{part: part(key)}
	t.fields = p.requiredList(keyFields)
	t.replacement = p.str("replacement", "")
	t.replaceNull = p.boolean(keyReplaceNullWithDefault, true)
	return t
}

func (t *maskField) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, false, t.mask)
}

func (t *maskField) mask(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	rec, m, err := structOf("masking", s, v)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range t.fields {
		var typ avro.Schema
		if rec != nil {
			f := fieldOf(rec, name)
			if f == nil {
				return nil, nil, fmt.Errorf("unknown field: %s", name)
			}
			typ = f.Type()
		}
		masked, err := t.masked(read(rec, m, name, t.replaceNull), typ)
		if err != nil {
			return nil, nil, fmt.Errorf("mask field %s: %w", name, err)
		}
		m[name] = masked
	}
	return s, m, nil
}

// masked returns the masked form of v, whose schema is typ (nil when
// schemaless). Null stays null.
func (t *maskField) masked(v any, typ avro.Schema) (any, error) {
	if v == nil {
		return nil, nil
	}
	if typ != nil {
		inner, _ := nonNull(typ)
		if inner.Type() == avro.Enum {
			return nil, fmt.Errorf("cannot mask enum %s: the empty string is not one of its symbols",
				inner.(*avro.EnumSchema).FullName())
		}
		typ = inner
	}
	if t.replacement != "" {
		return replacementFor(v, t.replacement)
	}
	switch x := v.(type) {
	case bool:
		return false, nil
	case int:
		return 0, nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case string:
		return "", nil
	case []byte:
		if f, ok := typ.(*avro.FixedSchema); ok {
			return make([]byte, f.Size()), nil
		}
		return []byte{}, nil
	case *big.Rat:
		return new(big.Rat), nil
	case time.Time:
		return time.Unix(0, 0).UTC(), nil
	case time.Duration:
		return time.Duration(0), nil
	case []any:
		return []any{}, nil
	case map[string]any:
		if typ != nil && typ.Type() == avro.Record {
			return nil, fmt.Errorf("cannot mask a struct")
		}
		return map[string]any{}, nil
	default:
		return nil, fmt.Errorf("cannot mask value of type %T", x)
	}
}

// replacementFor converts the replacement to v's numeric type, or uses it
// as a string.
func replacementFor(v any, repl string) (any, error) {
	bad := func(err error) (any, error) {
		return nil, fmt.Errorf("unable to convert %q to the type %T: %w", repl, v, err)
	}
	switch v.(type) {
	case string:
		return repl, nil
	case int:
		n, err := strconv.ParseInt(repl, 10, 32)
		if err != nil {
			return bad(err)
		}
		return int(n), nil
	case int32:
		n, err := strconv.ParseInt(repl, 10, 32)
		if err != nil {
			return bad(err)
		}
		return int32(n), nil
	case int64:
		n, err := strconv.ParseInt(repl, 10, 64)
		if err != nil {
			return bad(err)
		}
		return n, nil
	case float32:
		f, err := strconv.ParseFloat(repl, 32)
		if err != nil {
			return bad(err)
		}
		return float32(f), nil
	case float64:
		f, err := strconv.ParseFloat(repl, 64)
		if err != nil {
			return bad(err)
		}
		return f, nil
	case *big.Rat:
		r, ok := new(big.Rat).SetString(repl)
		if !ok {
			return bad(fmt.Errorf("not a decimal"))
		}
		return r, nil
	}
	return nil, fmt.Errorf("cannot mask value of type %T with custom replacement", v)
}

// hoistField is HoistField: it wraps the key or value in a struct of one
// field.
type hoistField struct {
	part  part
	field string
	cache schemaCache
}

func newHoistField(p *params, key bool) Transformation {
	return &hoistField{part: part(key), field: p.required(keyField)}
}

func (t *hoistField) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, false, t.hoist)
}

func (t *hoistField) hoist(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	out := map[string]any{t.field: v}
	if s == nil {
		return nil, out, nil
	}
	if v == nil && !isOptional(s.Avro) {
		return nil, nil, fmt.Errorf("cannot hoist a null value of the required schema %s", s.Avro.Type())
	}
	ns, err := t.cache.get(s, func(in avro.Schema) (avro.Schema, error) {
		f, err := newField(t.field, in)
		if err != nil {
			return nil, err
		}
		return avro.NewRecordSchema(connectDefaultName, connectDefaultNamespace, []*avro.Field{f})
	})
	return ns, out, err
}

// extractField is ExtractField: it replaces the key or value by one of its
// fields.
type extractField struct {
	part        part
	path        []string
	replaceNull bool
	cache       schemaCache
}

func newExtractField(p *params, key bool) Transformation {
	t := &extractField{part: part(key)}
	field := p.required(keyField)
	version := p.oneOf("field.syntax.version", "V1", "V1", "V2")
	t.replaceNull = p.boolean(keyReplaceNullWithDefault, true)
	if version == "V1" {
		t.path = []string{field}
		return t
	}
	path, err := parseFieldPath(field)
	if err != nil {
		p.errorf(keyField, "%v", err)
	}
	t.path = path
	return t
}

// parseFieldPath splits a V2 field path at dots; a name holding dots is
// wrapped in backticks and a literal backtick escaped with a backslash.
func parseFieldPath(s string) ([]string, error) {
	var (
		out    []string
		cur    strings.Builder
		quoted bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '`':
			cur.WriteByte('`')
			i++
		case c == '`':
			quoted = !quoted
		case c == '.' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated backtick in %q", s)
	}
	out = append(out, cur.String())
	for _, p := range out {
		if p == "" {
			return nil, fmt.Errorf("empty field name in path %q", s)
		}
	}
	return out, nil
}

func (t *extractField) Apply(r *connectors.Record) (*connectors.Record, error) {
	return applyPart(t.part, r, true, t.extract)
}

func (t *extractField) extract(_ *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error) {
	rec, m, err := structOf("field extraction", s, v)
	if err != nil {
		return nil, nil, err
	}
	var out any = m
	for _, name := range t.path {
		cur, ok := out.(map[string]any)
		if !ok {
			out = nil
			break
		}
		out = read(rec, cur, name, t.replaceNull)
		if rec != nil {
			if f := fieldOf(rec, name); f != nil {
				rec, _ = recordOf(f.Type())
			}
		}
	}
	if s == nil {
		return nil, out, nil
	}
	ns, err := t.cache.get(s, t.schema)
	return ns, out, err
}

func (t *extractField) schema(in avro.Schema) (avro.Schema, error) {
	cur := in
	opt := false
	for i, name := range t.path {
		rec, ok := recordOf(cur)
		if !ok {
			return nil, fmt.Errorf("unknown field: %s", strings.Join(t.path, "."))
		}
		// A field below an optional struct is null when the struct is.
		opt = opt || (i > 0 && isOptional(cur))
		f := fieldOf(rec, name)
		if f == nil {
			return nil, fmt.Errorf("unknown field: %s", strings.Join(t.path, "."))
		}
		cur = f.Type()
	}
	return optionalIf(cur, opt), nil
}

// valueToKey is ValueToKey: it builds the key from fields of the value.
// When the record's key was converted and the value has a schema, the key
// gets a schema too: a ConnectDefault record of the selected fields, as
// Kafka Connect builds an unnamed struct.
type valueToKey struct {
	fields      []string
	replaceNull bool
	cache       schemaCache
}

func newValueToKey(p *params, _ bool) Transformation {
	return &valueToKey{
		fields:      p.requiredList(keyFields),
		replaceNull: p.boolean(keyReplaceNullWithDefault, true),
	}
}

func (t *valueToKey) Apply(r *connectors.Record) (*connectors.Record, error) {
	rec, m, err := structOf("copying fields from value to key", r.ValueSchema, r.Value)
	if err != nil {
		return nil, err
	}
	key := make(map[string]any, len(t.fields))
	for _, name := range t.fields {
		if rec != nil && fieldOf(rec, name) == nil {
			return nil, fmt.Errorf("field does not exist: %s", name)
		}
		key[name] = read(rec, m, name, t.replaceNull)
	}
	var ks *schemas.Schema
	if rec != nil && r.KeyConverted {
		if ks, err = t.cache.get(r.ValueSchema, t.schema); err != nil {
			return nil, err
		}
	}
	if err := partKey.set(r, ks, key); err != nil {
		return nil, err
	}
	return r, nil
}

// schema builds the key schema from the value schema in.
func (t *valueToKey) schema(in avro.Schema) (avro.Schema, error) {
	rec, _ := recordOf(in)
	fields := make([]*avro.Field, 0, len(t.fields))
	for _, name := range t.fields {
		f := fieldOf(rec, name)
		nf, err := copyField(f, name, f.Type(), true)
		if err != nil {
			return nil, err
		}
		fields = append(fields, nf)
	}
	return avro.NewRecordSchema(connectDefaultName, connectDefaultNamespace, fields)
}
