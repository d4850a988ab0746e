package storage

import (
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/registry"
)

// The schema.compatibility levels, as Confluent's storage sinks name them.
//
// Under NONE a segment holds one file per output partition and writer
// schema. Under the other levels, records whose schemas are compatible at
// that level share a file, written with one schema chosen among them:
// the newest (highest registry id) under BACKWARD and FULL, the oldest
// under FORWARD. Every record is projected to that schema by Avro's
// resolution rules: fields the chosen schema adds take their defaults,
// fields it lacks are dropped. A record whose schema is not compatible
// with a file's starts another file in the same segment.
//
// The chosen schema is a function of the segment's records alone, never of
// the order records of earlier segments arrived in or of the clock, so a
// re-executed plan renders the same bytes. The price is memory: such a
// segment holds its decoded records until it ends, at most flush.size of
// them per partition.
const (
	CompatNone     = "NONE"
	CompatBackward = "BACKWARD"
	CompatForward  = "FORWARD"
	CompatFull     = "FULL"
)

// evolving reports whether records of several schemas may share a file.
func (t *Task) evolving() bool { return t.cfg.Compatibility != CompatNone }

// canRead reports, memoised by schema id, whether reader reads data written
// with writer.
func (t *Task) canRead(reader, writer *schemas.Schema) bool {
	if reader == writer || reader.ID == writer.ID && reader.ID != 0 {
		return true
	}
	key := [2]int{reader.ID, writer.ID}
	if ok, found := t.readable[key]; found && reader.ID != 0 && writer.ID != 0 {
		return ok
	}
	ok := registry.CanRead(reader.Avro, writer.Avro)
	if t.readable == nil {
		t.readable = make(map[[2]int]bool)
	}
	t.readable[key] = ok
	return ok
}

// target returns the schema a file of the given members is written with.
func (t *Task) target(members []*schemas.Schema) *schemas.Schema {
	best := members[0]
	for _, s := range members[1:] {
		if t.cfg.Compatibility == CompatForward {
			if s.ID < best.ID {
				best = s
			}
		} else if s.ID > best.ID {
			best = s
		}
	}
	return best
}

// accepts reports whether a record of schema s may join file f.
func (t *Task) accepts(f *openFile, s *schemas.Schema) bool {
	if hasMember(f.members, s) {
		return true
	}
	all := append(f.members[:len(f.members):len(f.members)], s)
	tgt := t.target(all)
	for _, m := range all {
		if !t.canRead(tgt, m) {
			return false
		}
		if t.cfg.Compatibility == CompatFull && !t.canRead(m, tgt) {
			return false
		}
	}
	return true
}

// evolvingFile returns the file of seg for output partition part that
// accepts schema s, or nil.
func (t *Task) evolvingFile(seg *segment, part string, s *schemas.Schema) *openFile {
	for _, f := range seg.byPart[part] {
		if t.accepts(f, s) {
			return f
		}
	}
	return nil
}

// hold adds r to the file of seg it belongs to, opening one if needed. The
// record is written when the segment ends, by render.
func (t *Task) hold(
	tp connectors.TopicPartition, seg *segment, part string, r *connectors.Record,
) *openFile {
	f := t.evolvingFile(seg, part, r.ValueSchema)
	if f == nil {
		f = &openFile{key: dataKey(t.cfg, tp, part, r.Offset), part: part}
		if seg.byPart == nil {
			seg.byPart = make(map[string][]*openFile)
		}
		seg.byPart[part] = append(seg.byPart[part], f)
		seg.files = append(seg.files, f)
	}
	if !hasMember(f.members, r.ValueSchema) {
		f.members = append(f.members, r.ValueSchema)
	}
	f.held = append(f.held, r)
	return f
}

func hasMember(members []*schemas.Schema, s *schemas.Schema) bool {
	for _, m := range members {
		if m == s || m.ID == s.ID && s.ID != 0 {
			return true
		}
	}
	return false
}

// render writes the held records of seg's files, each projected to its
// file's schema.
func (t *Task) render(tp connectors.TopicPartition, seg *segment) error {
	for _, f := range seg.files {
		if f.held == nil {
			continue
		}
		if f.spool != nil { // an earlier attempt failed half-way
			removeSpool(f.spool)
		}
		tgt := t.target(f.members)
		first := f.held[0]
		nf, err := t.newFile(tp, f.part, tgt, first)
		if err != nil {
			return err
		}
		f.spool, f.buf, f.w = nf.spool, nf.buf, nf.w
		for _, r := range f.held {
			out := r
			if r.ValueSchema != tgt && r.ValueSchema.ID != tgt.ID {
				v, err := project(tgt.Avro, r.ValueSchema.Avro, r.Value)
				if err != nil {
					return fmt.Errorf("project record %s from schema %d to %d: %w",
						r.Position(), r.ValueSchema.ID, tgt.ID, err)
				}
				cp := *r
				cp.ValueSchema, cp.Value = tgt, v
				out = &cp
			}
			if err := f.w.Write(out); err != nil {
				return fmt.Errorf("write record %s to %s: %w", r.Position(), f.key, err)
			}
		}
		f.held = nil
	}
	return nil
}

// project converts v, a value written with schema writer, into a value of
// schema reader by Avro's schema resolution: record fields are matched by
// name or alias, fields the writer lacks take the reader's default, and
// numbers and strings are promoted where Avro allows.
func project(reader, writer avro.Schema, v any) (any, error) {
	reader, writer = deref(reader), deref(writer)
	if v == nil {
		return nil, nil
	}
	if wu, ok := writer.(*avro.UnionSchema); ok {
		if writer = branchOf(wu, v); writer == nil {
			return v, nil
		}
	}
	if ru, ok := reader.(*avro.UnionSchema); ok {
		if reader = matchBranch(ru, writer); reader == nil {
			return v, nil
		}
	}
	switch rs := reader.(type) {
	case *avro.RecordSchema:
		return projectRecord(rs, writer, v)
	case *avro.ArraySchema:
		ws, ok := writer.(*avro.ArraySchema)
		items, ok2 := v.([]any)
		if !ok || !ok2 {
			return v, nil
		}
		out := make([]any, len(items))
		for i, item := range items {
			pv, err := project(rs.Items(), ws.Items(), item)
			if err != nil {
				return nil, err
			}
			out[i] = pv
		}
		return out, nil
	case *avro.MapSchema:
		ws, ok := writer.(*avro.MapSchema)
		m, ok2 := v.(map[string]any)
		if !ok || !ok2 {
			return v, nil
		}
		out := make(map[string]any, len(m))
		for k, item := range m {
			pv, err := project(rs.Values(), ws.Values(), item)
			if err != nil {
				return nil, err
			}
			out[k] = pv
		}
		return out, nil
	}
	return promote(reader.Type(), v), nil
}

func projectRecord(rs *avro.RecordSchema, writer avro.Schema, v any) (any, error) {
	ws, ok := writer.(*avro.RecordSchema)
	m, ok2 := v.(map[string]any)
	if !ok || !ok2 {
		return nil, fmt.Errorf("record %s: value %T is not a record", rs.FullName(), v)
	}
	out := make(map[string]any, len(rs.Fields()))
	for _, rf := range rs.Fields() {
		wf := writerFieldOf(ws, rf)
		if wf == nil {
			if !rf.HasDefault() {
				return nil, fmt.Errorf("field %s.%s: absent from the writer and without default",
					rs.FullName(), rf.Name())
			}
			out[rf.Name()] = rf.Default()
			continue
		}
		pv, err := project(rf.Type(), wf.Type(), m[wf.Name()])
		if err != nil {
			return nil, err
		}
		out[rf.Name()] = pv
	}
	return out, nil
}

// writerFieldOf returns the writer's field that reader field rf reads: the
// one of the same name, else the first that one of rf's aliases names.
func writerFieldOf(ws *avro.RecordSchema, rf *avro.Field) *avro.Field {
	for _, wf := range ws.Fields() {
		if wf.Name() == rf.Name() {
			return wf
		}
	}
	for _, alias := range rf.Aliases() {
		for _, wf := range ws.Fields() {
			if wf.Name() == alias {
				return wf
			}
		}
	}
	return nil
}

// branchOf returns the branch of a writer union a decoded value came from,
// for the values projection must look inside (records, maps, arrays), or
// nil when the value needs no projection beyond promotion.
func branchOf(u *avro.UnionSchema, v any) avro.Schema {
	var want avro.Type
	switch v.(type) {
	case map[string]any:
		want = avro.Record
	case []any:
		want = avro.Array
	default:
		return nil
	}
	for _, b := range u.Types() {
		b = deref(b)
		if b.Type() == want || want == avro.Record && b.Type() == avro.Map {
			return b
		}
	}
	return nil
}

// matchBranch returns the reader union's branch that reads writer: the
// first of the same type, preferring the same full name for named types.
func matchBranch(u *avro.UnionSchema, writer avro.Schema) avro.Schema {
	var first avro.Schema
	for _, b := range u.Types() {
		b = deref(b)
		if b.Type() != writer.Type() {
			continue
		}
		rn, ok1 := b.(avro.NamedSchema)
		wn, ok2 := writer.(avro.NamedSchema)
		if ok1 && ok2 && rn.FullName() == wn.FullName() {
			return b
		}
		if first == nil {
			first = b
		}
	}
	return first
}

// promote applies Avro's primitive promotions to v for a reader of type t.
func promote(t avro.Type, v any) any {
	switch t {
	case avro.Long:
		if i, ok := v.(int); ok {
			return int64(i)
		}
	case avro.Float:
		switch n := v.(type) {
		case int:
			return float32(n)
		case int64:
			return float32(n)
		}
	case avro.Double:
		switch n := v.(type) {
		case int:
			return float64(n)
		case int64:
			return float64(n)
		case float32:
			return float64(n)
		}
	case avro.String:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	case avro.Bytes:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	}
	return v
}
