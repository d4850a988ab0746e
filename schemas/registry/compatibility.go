package registry

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// Compatibility levels, as the config endpoints name them.
const (
	levelNone               = "NONE"
	levelBackward           = "BACKWARD"
	levelBackwardTransitive = "BACKWARD_TRANSITIVE"
	levelForward            = "FORWARD"
	levelForwardTransitive  = "FORWARD_TRANSITIVE"
	levelFull               = "FULL"
	levelFullTransitive     = "FULL_TRANSITIVE"
)

// defaultLevel applies when neither the subject nor the registry has one.
const defaultLevel = levelBackward

// parseLevel matches a compatibility level case-insensitively.
func parseLevel(s string) (string, bool) {
	up := strings.ToUpper(strings.TrimSpace(s))
	switch up {
	case levelNone, levelBackward, levelBackwardTransitive, levelForward,
		levelForwardTransitive, levelFull, levelFullTransitive:
		return up, true
	}
	return "", false
}

// Incompatibility kinds, Confluent's errorType names for them.
const (
	kindNameMismatch   = "NAME_MISMATCH"
	kindFixedSize      = "FIXED_SIZE_MISMATCH"
	kindEnumSymbols    = "MISSING_ENUM_SYMBOLS"
	kindMissingDefault = "READER_FIELD_MISSING_DEFAULT_VALUE"
	kindTypeMismatch   = "TYPE_MISMATCH"
	kindUnionBranch    = "MISSING_UNION_BRANCH"
	// kindAmbiguous has no errorType: Confluent's checker throws on it and
	// the registry reports the exception's text alone.
	kindAmbiguous = ""
)

// incompatibility is one reason a reader schema cannot decode what a writer
// schema wrote.
type incompatibility struct {
	kind string
	path string // JSON pointer into the reader schema, "/" for its root
	info string
}

// format renders the incompatibility as Confluent's registry does, with the
// reader and writer called by their roles in the check ("new", "old").
func (in incompatibility) format(reader, writer string) string {
	var desc string
	switch in.kind {
	case kindAmbiguous:
		return "Unexpected exception during compatibility check: " + in.info
	case kindNameMismatch:
		desc = fmt.Sprintf("The name of the schema has changed (path '%s')", in.path)
	case kindFixedSize:
		desc = fmt.Sprintf("The size of FIXED type field at path '%s' in the %s schema "+
			"does not match with the %s schema", in.path, reader, writer)
	case kindEnumSymbols:
		desc = fmt.Sprintf("The %s schema is missing enum symbols '%s' at path '%s' "+
			"in the %s schema", reader, in.info, in.path, writer)
	case kindMissingDefault:
		desc = fmt.Sprintf("The field '%s' at path '%s' in the %s schema has no default "+
			"value and is missing in the %s schema", in.info, in.path, reader, writer)
	case kindTypeMismatch:
		desc = fmt.Sprintf("The type (path '%s') of a field in the %s schema does not "+
			"match with the %s schema", in.path, reader, writer)
	case kindUnionBranch:
		desc = fmt.Sprintf("The %s schema is missing a type inside a union field at "+
			"path '%s' in the %s schema", reader, in.path, writer)
	}
	return fmt.Sprintf("{errorType:'%s', description:'%s', additionalInfo:'%s'}",
		in.kind, desc, in.info)
}

// readable reports whether a reader with schema reader can decode every
// datum written with schema writer, following the schema resolution rules
// of the Avro specification, and why not when it cannot.
//
// It walks the schemas hamba/avro parsed rather than calling that library's
// SchemaCompatibility, which differs from the specification where it
// matters to a registry: it stops at the first problem and names no
// location, so it cannot give Confluent's verbose reasons; it takes the
// first writer field a reader field's name or aliases match where the
// specification makes several matches an error; and it memoises results by
// parsing-canonical fingerprint, which ignores aliases and defaults.
func readable(reader, writer avro.Schema) (bool, []incompatibility) {
	c := &resolver{memo: map[[2]avro.Schema]*verdict{}}
	v := c.check(reader, writer, "/")
	return v.ok, v.found
}

// verdict is the outcome of checking one reader against one writer.
type verdict struct {
	ok    bool
	found []incompatibility
}

var compatibleVerdict = &verdict{ok: true}

func incompatible(kind, path, info string) *verdict {
	return &verdict{found: []incompatibility{{kind, path, info}}}
}

// merge adds other's findings to v.
func (v *verdict) merge(other *verdict) *verdict {
	if other.ok {
		return v
	}
	return &verdict{found: append(slices.Clip(v.found), other.found...)}
}

// resolver checks a pair of schemas. It memoises named types by identity:
// a pair still being checked counts as compatible, which is what makes a
// recursive type terminate, and a finished pair is not checked again, which
// keeps a type referenced many times from being walked many times.
type resolver struct {
	memo map[[2]avro.Schema]*verdict
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func typeOf(s avro.Schema) avro.Type {
	if t := s.Type(); t != avro.Error {
		return t
	}
	return avro.Record
}

func at(path, segment string) string {
	if path == "/" {
		return "/" + segment
	}
	return path + "/" + segment
}

func (c *resolver) check(reader, writer avro.Schema, path string) *verdict {
	reader, writer = deref(reader), deref(writer)
	_, named := reader.(avro.NamedSchema)
	key := [2]avro.Schema{reader, writer}
	if named {
		if v, ok := c.memo[key]; ok {
			return v
		}
		c.memo[key] = compatibleVerdict
	}
	v := c.match(reader, writer, path)
	if named {
		c.memo[key] = v
	}
	return v
}

func (c *resolver) match(reader, writer avro.Schema, path string) *verdict {
	rt, wt := typeOf(reader), typeOf(writer)
	if rt == wt {
		return c.sameType(reader, writer, path)
	}

	// A writer union is readable when each of its branches is.
	if wt == avro.Union {
		v := compatibleVerdict
		for _, branch := range writer.(*avro.UnionSchema).Types() {
			v = v.merge(c.check(reader, branch, path))
		}
		return v
	}
	// A reader union reads a writer that one of its branches reads.
	if rt == avro.Union {
		for _, branch := range reader.(*avro.UnionSchema).Types() {
			if c.check(branch, writer, path).ok {
				return compatibleVerdict
			}
		}
		return incompatible(kindUnionBranch, path,
			"reader union lacking writer type: "+typeName(wt))
	}
	if promotable(wt, rt) {
		return compatibleVerdict
	}
	return incompatible(kindTypeMismatch, path, fmt.Sprintf(
		"reader type: %s not compatible with writer type: %s", typeName(rt), typeName(wt)))
}

// promotable lists the specification's promotions of a writer's type to a
// reader's.
func promotable(writer, reader avro.Type) bool {
	switch writer {
	case avro.Int:
		return reader == avro.Long || reader == avro.Float || reader == avro.Double
	case avro.Long:
		return reader == avro.Float || reader == avro.Double
	case avro.Float:
		return reader == avro.Double
	case avro.String:
		return reader == avro.Bytes
	case avro.Bytes:
		return reader == avro.String
	}
	return false
}

func typeName(t avro.Type) string { return strings.ToUpper(string(t)) }

func (c *resolver) sameType(reader, writer avro.Schema, path string) *verdict {
	switch r := reader.(type) {
	case *avro.ArraySchema:
		return c.check(r.Items(), writer.(*avro.ArraySchema).Items(), at(path, "items"))
	case *avro.MapSchema:
		return c.check(r.Values(), writer.(*avro.MapSchema).Values(), at(path, "values"))
	case *avro.FixedSchema:
		w := writer.(*avro.FixedSchema)
		v := checkName(r, w, path)
		if r.Size() != w.Size() {
			v = v.merge(incompatible(kindFixedSize, at(path, "size"),
				fmt.Sprintf("expected: %d, found: %d", w.Size(), r.Size())))
		}
		return v
	case *avro.EnumSchema:
		w := writer.(*avro.EnumSchema)
		return checkName(r, w, path).merge(checkSymbols(r, w, path))
	case *avro.RecordSchema:
		w := writer.(*avro.RecordSchema)
		return checkName(r, w, path).merge(c.checkFields(r, w, path))
	case *avro.UnionSchema:
		v := compatibleVerdict
		for i, branch := range writer.(*avro.UnionSchema).Types() {
			if !c.check(reader, branch, path).ok {
				v = v.merge(incompatible(kindUnionBranch, at(path, strconv.Itoa(i)),
					"reader union lacking writer type: "+typeName(typeOf(deref(branch)))))
			}
		}
		return v
	}
	return compatibleVerdict // primitives of one type
}

// checkName matches named types: by unqualified name, or by a reader alias
// equal to the writer's full name (aliases are kept fully qualified).
func checkName(reader, writer avro.NamedSchema, path string) *verdict {
	if reader.Name() == writer.Name() || slices.Contains(reader.Aliases(), writer.FullName()) {
		return compatibleVerdict
	}
	return incompatible(kindNameMismatch, at(path, "name"), "expected: "+writer.FullName())
}

// checkSymbols requires every writer symbol in the reader's enum, unless the
// reader declares a default to decode unknown symbols as.
func checkSymbols(reader, writer *avro.EnumSchema, path string) *verdict {
	var missing []string
	for _, s := range writer.Symbols() {
		if !slices.Contains(reader.Symbols(), s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 || reader.HasDefault() {
		return compatibleVerdict
	}
	slices.Sort(missing)
	return incompatible(kindEnumSymbols, at(path, "symbols"),
		"["+strings.Join(missing, ", ")+"]")
}

// checkFields resolves each reader field against the writer's record.
// Writer fields the reader lacks are skipped by a reader, so they never
// matter; a reader field the writer lacks needs a default, and a null
// default is a default.
func (c *resolver) checkFields(reader, writer *avro.RecordSchema, path string) *verdict {
	v := compatibleVerdict
	fields := at(path, "fields")
	for i, rf := range reader.Fields() {
		fpath := at(fields, strconv.Itoa(i))
		wf, err := writerField(writer, rf)
		switch {
		case err != nil:
			v = v.merge(incompatible(kindAmbiguous, fpath, err.Error()))
		case wf != nil:
			v = v.merge(c.check(rf.Type(), wf.Type(), at(fpath, "type")))
		case !rf.HasDefault():
			v = v.merge(incompatible(kindMissingDefault, fpath, rf.Name()))
		}
	}
	return v
}

// writerField finds the writer field a reader field reads: the one with its
// name, or one named by its aliases. Only reader aliases count.
func writerField(writer *avro.RecordSchema, rf *avro.Field) (*avro.Field, error) {
	var found []*avro.Field
	for _, wf := range writer.Fields() {
		if wf.Name() == rf.Name() || slices.Contains(rf.Aliases(), wf.Name()) {
			found = append(found, wf)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("Reader record field %s matches multiple fields in writer "+
		"record schema %s", rf.Name(), writer.FullName())
}

// previous is a version a new schema is checked against.
type previous struct {
	version int
	text    string
	avro    avro.Schema // nil when the version is not (parseable) Avro
}

// maxQuotedSchema bounds the old schema text quoted in a message.
const maxQuotedSchema = 10 << 10

// compatibleWith checks next against the versions in prev, newest first,
// at level, and returns Confluent's messages when it fails. Transitive
// levels check every version and stop at the first that fails; the others
// check the newest only.
func compatibleWith(level string, next avro.Schema, prev []previous) (bool, []string) {
	if level == levelNone || len(prev) == 0 {
		return true, nil
	}
	if !strings.HasSuffix(level, "_TRANSITIVE") {
		prev = prev[:1]
	}
	base := strings.TrimSuffix(level, "_TRANSITIVE")
	for _, old := range prev {
		msgs := checkVersion(base, next, old)
		if len(msgs) > 0 {
			return false, append(msgs, fmt.Sprintf("{validateFields: 'false', compatibility: '%s'}",
				level))
		}
	}
	return true, nil
}

// checkVersion checks one direction or both and returns nothing when next
// and old are compatible at base (BACKWARD, FORWARD or FULL).
func checkVersion(base string, next avro.Schema, old previous) []string {
	if old.avro == nil {
		return []string{"Incompatible because of different schema type"}
	}
	var msgs []string
	if base == levelForward || base == levelFull {
		if ok, found := readable(old.avro, next); !ok {
			msgs = append(msgs, formatAll(found, "old", "new")...)
		}
	}
	if base == levelBackward || base == levelFull {
		if ok, found := readable(next, old.avro); !ok {
			msgs = append(msgs, formatAll(found, "new", "old")...)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	text := old.text
	if len(text) > maxQuotedSchema {
		text = text[:maxQuotedSchema] + "<truncated>"
	}
	return append(msgs, fmt.Sprintf("{oldSchemaVersion: %d}", old.version),
		fmt.Sprintf("{oldSchema: '%s'}", text))
}

func formatAll(found []incompatibility, reader, writer string) []string {
	out := make([]string, 0, len(found))
	for _, in := range found {
		out = append(out, in.format(reader, writer))
	}
	return out
}

// CanRead reports whether data written with writer can be read with reader
// under Avro's schema resolution rules, as the compatibility checks of the
// registry decide it. Sinks use it to tell whether records of two schema
// versions may share one file.
func CanRead(reader, writer avro.Schema) bool {
	ok, _ := readable(reader, writer)
	return ok
}
