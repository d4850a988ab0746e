package registry

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/schemas"
)

// typeAvro is the schema type of Avro schemas; an absent type means AVRO.
const typeAvro = "AVRO"

// content is one schema text with its registry id. Several subject-versions
// may carry the same content.
type content struct {
	id         int
	text       string
	schemaType string
	refs       json.RawMessage // references, carried as read
	ident      string          // what makes two registrations the same schema
	avro       avro.Schema     // nil when the text is not parseable Avro
	users      int             // subject-versions carrying it, soft-deleted included
}

// subjectVersion is one version of a subject.
type subjectVersion struct {
	subject string
	version int
	id      int
	deleted bool
}

// view is the registry's state, rebuilt from its records. Kafka-backed
// servers feed it from the topic; Memory writes to it directly.
type view struct {
	log *slog.Logger

	mu       sync.RWMutex
	byID     map[int]*content
	byIdent  map[string]*content
	subjects map[string]map[int]*subjectVersion
	maxID    int
	compat   string // global compatibility level; "" when none is stored
}

func newView(log *slog.Logger) *view {
	return &view{
		log:      log,
		byID:     map[int]*content{},
		byIdent:  map[string]*content{},
		subjects: map[string]map[int]*subjectVersion{},
	}
}

// identify parses a schema text and returns what decides whether two
// registrations are the same schema: for Avro, the canonical JSON rendering
// of the parsed schema (it ignores whitespace and key order but keeps
// defaults, docs and properties, which the parsing canonical form would
// drop). Parsing uses a fresh name cache, so one schema's named types never
// leak into another's.
func identify(schemaType, text string) (ident string, parsed avro.Schema, err error) {
	if schemaType != typeAvro {
		return schemaType + "\x00" + text, nil, nil
	}
	parsed, err = avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return "", nil, err
	}
	canon, err := json.Marshal(parsed)
	if err != nil {
		return "", nil, fmt.Errorf("render canonical form: %w", err)
	}
	return string(canon), parsed, nil
}

// applySchema records subject-version sv with its content, or removes it
// when c is nil (a tombstone). The caller holds v.mu.
func (v *view) applySchema(subject string, version int, c *content, deleted bool) {
	versions := v.subjects[subject]
	old := versions[version]
	if c == nil {
		if old != nil {
			delete(versions, version)
			if len(versions) == 0 {
				delete(v.subjects, subject)
			}
			v.release(old.id)
		}
		return
	}

	// A record may only bind an id to one content; a conflicting record
	// comes from a writer that disagrees with this view and is ignored.
	if have, ok := v.byID[c.id]; ok && have.ident != c.ident {
		v.log.Warn("ignoring schema record whose id is bound to another schema",
			"subject", subject, "version", version, "schema_id", c.id)
		return
	}
	v.maxID = max(v.maxID, c.id)
	if have, ok := v.byID[c.id]; ok {
		c = have
	} else {
		v.byID[c.id] = c
		if _, taken := v.byIdent[c.ident]; !taken {
			v.byIdent[c.ident] = c
		}
	}
	if versions == nil {
		versions = map[int]*subjectVersion{}
		v.subjects[subject] = versions
	}
	c.users++
	if old != nil {
		v.release(old.id)
	}
	versions[version] = &subjectVersion{
		subject: subject, version: version, id: c.id, deleted: deleted,
	}
}

// release drops one user of id's content, and the content itself with its
// last user: registering it again then takes a new id.
func (v *view) release(id int) {
	c := v.byID[id]
	if c == nil {
		return
	}
	c.users--
	if c.users > 0 {
		return
	}
	delete(v.byID, id)
	if v.byIdent[c.ident] == c {
		delete(v.byIdent, c.ident)
	}
}

// applyDeleteSubject soft-deletes versions 1 to upTo of subject. The caller
// holds v.mu.
func (v *view) applyDeleteSubject(subject string, upTo int) {
	for n, sv := range v.subjects[subject] {
		if n <= upTo {
			sv.deleted = true
		}
	}
}

// contentByID returns the content registered under id.
func (v *view) contentByID(id int) (*content, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.byID[id]
	return c, ok
}

// find returns the version of subject that carries ident, newest first.
// subjectFound reports whether the subject has any version to look at.
func (v *view) find(subject, ident string, deleted bool) (
	sv subjectVersion, found, subjectFound bool,
) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.findLocked(subject, ident, deleted)
}

func (v *view) findLocked(subject, ident string, deleted bool) (
	sv subjectVersion, found, subjectFound bool,
) {
	c := v.byIdent[ident]
	best := (*subjectVersion)(nil)
	for _, cand := range v.subjects[subject] {
		if cand.deleted && !deleted {
			continue
		}
		subjectFound = true
		if c != nil && cand.id == c.id && (best == nil || cand.version > best.version) {
			best = cand
		}
	}
	if best == nil {
		return subjectVersion{}, false, subjectFound
	}
	return *best, true, true
}

// plan decides where a registration of ident under subject goes: the
// existing version carrying it, or the id (reused when another subject has
// the same content) and the version number a new record takes. The caller
// holds the server's write lock, so that the plan stays valid until its
// record is applied.
func (v *view) plan(subject, ident string) (existing subjectVersion, found bool, id, version int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.planLocked(subject, ident)
}

func (v *view) planLocked(subject, ident string) (
	existing subjectVersion, found bool, id, version int,
) {
	if sv, ok, _ := v.findLocked(subject, ident, false); ok {
		return sv, true, 0, 0
	}
	if c, ok := v.byIdent[ident]; ok {
		id = c.id
	} else {
		id = v.maxID + 1
	}
	version = 1
	for n := range v.subjects[subject] {
		version = max(version, n+1)
	}
	return subjectVersion{}, false, id, version
}

// versions lists subject's version numbers in ascending order.
func (v *view) versions(subject string, deleted bool) []int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []int
	for n, sv := range v.subjects[subject] {
		if !sv.deleted || deleted {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// version returns one version of subject; n == -1 means the newest one
// that is not deleted.
func (v *view) version(subject string, n int, deleted bool) (subjectVersion, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if n == -1 {
		var best *subjectVersion
		for _, sv := range v.subjects[subject] {
			if !sv.deleted && (best == nil || sv.version > best.version) {
				best = sv
			}
		}
		if best == nil {
			return subjectVersion{}, false
		}
		return *best, true
	}
	sv, ok := v.subjects[subject][n]
	if !ok || (sv.deleted && !deleted) {
		return subjectVersion{}, false
	}
	return *sv, true
}

// subjectList lists the subjects with at least one version, sorted.
func (v *view) subjectList(deleted bool) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := []string{}
	for name, versions := range v.subjects {
		for _, sv := range versions {
			if !sv.deleted || deleted {
				out = append(out, name)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// usages lists the subject-versions that carry id, sorted.
func (v *view) usages(id int, deleted bool) []subjectVersion {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []subjectVersion
	for _, versions := range v.subjects {
		for _, sv := range versions {
			if sv.id == id && (!sv.deleted || deleted) {
				out = append(out, *sv)
			}
		}
	}
	slices.SortFunc(out, func(a, b subjectVersion) int {
		if a.subject != b.subject {
			if a.subject < b.subject {
				return -1
			}
			return 1
		}
		return a.version - b.version
	})
	return out
}

func (v *view) compatibility() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.compat == "" {
		return "BACKWARD"
	}
	return v.compat
}

// schemaOf returns c as a schemas.Schema, or an error when c is not Avro.
func schemaOf(c *content) (*schemas.Schema, error) {
	if c.avro == nil {
		return nil, fmt.Errorf("schema %d is %s with references or unparseable; "+
			"only plain AVRO is supported", c.id, c.schemaType)
	}
	return &schemas.Schema{ID: c.id, Avro: c.avro, Text: c.text}, nil
}
