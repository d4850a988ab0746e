package registry

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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
	refs       json.RawMessage // references, as stored
	references []reference     // refs decoded
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
	configs  map[string]configValue // by subject; "" holds the global entry
	modes    map[string]string      // by subject; "" holds the global entry
}

func newView(log *slog.Logger) *view {
	return &view{
		log:      log,
		byID:     map[int]*content{},
		byIdent:  map[string]*content{},
		subjects: map[string]map[int]*subjectVersion{},
		configs:  map[string]configValue{},
		modes:    map[string]string{},
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
	if err := checkJSON(text); err != nil {
		return "", nil, err
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

// checkJSON reports Avro schema text that is not JSON, which the Avro
// parser would read as the name of a type and refuse as an unknown one.
func checkJSON(text string) error {
	var probe any
	if err := json.Unmarshal([]byte(text), &probe); err != nil {
		return fmt.Errorf("the schema is not valid JSON: %v", err)
	}
	return nil
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

// find returns the newest version of subject that carries ident.
// subjectFound reports whether the subject has any version to look at.
func (v *view) find(subject, ident string, deleted bool) (
	sv subjectVersion, found, subjectFound bool,
) {
	v.mu.RLock()
	defer v.mu.RUnlock()
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

// contentByIdent returns the content whose identity is ident.
func (v *view) contentByIdent(ident string) (*content, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.byIdent[ident]
	return c, ok
}

// history returns every version of subject, soft-deleted ones included,
// in ascending order.
func (v *view) history(subject string) []subjectVersion {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]subjectVersion, 0, len(v.subjects[subject]))
	for _, sv := range v.subjects[subject] {
		out = append(out, *sv)
	}
	slices.SortFunc(out, func(a, b subjectVersion) int { return a.version - b.version })
	return out
}

// live filters out soft-deleted versions.
func live(svs []subjectVersion) []subjectVersion {
	return slices.DeleteFunc(slices.Clone(svs), func(sv subjectVersion) bool { return sv.deleted })
}

// nextVersion is the number a new version of subject takes: one more than
// the highest present, soft-deleted ones counting.
func nextVersion(history []subjectVersion) int {
	if len(history) == 0 {
		return 1
	}
	return history[len(history)-1].version + 1
}

// nextID is the id new content takes: one more than the highest ever seen.
func (v *view) nextID() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.maxID + 1
}

// version returns one version of subject; n == -1 means the newest one
// that is not deleted.
func (v *view) version(subject string, n int, deleted bool) (subjectVersion, bool) {
	h := v.history(subject)
	if n == -1 {
		h = live(h)
		if len(h) == 0 {
			return subjectVersion{}, false
		}
		return h[len(h)-1], true
	}
	for _, sv := range h {
		if sv.version == n && (!sv.deleted || deleted) {
			return sv, true
		}
	}
	return subjectVersion{}, false
}

// subjectFilter selects subjects by the state of their versions.
type subjectFilter int

const (
	subjectsLive        subjectFilter = iota // with a version not soft-deleted
	subjectsAll                              // with any version
	subjectsDeletedOnly                      // whose versions are all soft-deleted
)

// subjectList lists the subjects the filter selects, sorted.
func (v *view) subjectList(f subjectFilter) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := []string{}
	for name, versions := range v.subjects {
		alive := false
		for _, sv := range versions {
			alive = alive || !sv.deleted
		}
		if f == subjectsAll || alive == (f == subjectsLive) {
			out = append(out, name)
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
	slices.SortFunc(out, compareSubjectVersions)
	return out
}

func compareSubjectVersions(a, b subjectVersion) int {
	if c := strings.Compare(a.subject, b.subject); c != 0 {
		return c
	}
	return a.version - b.version
}

// config returns the config stored for subject ("" for the global one).
func (v *view) config(subject string) (configValue, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.configs[subject]
	return c, ok
}

// effectiveConfig is the subject's config merged over the global one, with
// the default level when neither sets one.
func (v *view) effectiveConfig(subject string) configValue {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := v.configs[""]
	if subject != "" {
		out = out.mergedWith(v.configs[subject])
	}
	if out.CompatibilityLevel == "" {
		out.CompatibilityLevel = defaultLevel
	}
	out.Subject = nil
	return out
}

// mode returns the mode stored for subject ("" for the global one).
func (v *view) mode(subject string) (string, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	m, ok := v.modes[subject]
	return m, ok
}

// effectiveMode is the subject's mode, else the global one, else READWRITE.
func (v *view) effectiveMode(subject string) string {
	if m, ok := v.mode(subject); ok && subject != "" {
		return m
	}
	if m, ok := v.mode(""); ok {
		return m
	}
	return modeReadWrite
}

// schemaOf returns c as a schemas.Schema, or an error when c is not Avro.
func schemaOf(c *content) (*schemas.Schema, error) {
	if c.avro == nil {
		return nil, fmt.Errorf("schema %d is %s with references or unparseable; "+
			"only plain AVRO is supported", c.id, c.schemaType)
	}
	return &schemas.Schema{ID: c.id, Avro: c.avro, Text: c.text}, nil
}
