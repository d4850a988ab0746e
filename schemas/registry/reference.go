package registry

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/hamba/avro/v2"
)

// reference is one schema a schema imports: under Name (for Avro, the full
// name of the imported type), the text of Subject's Version.
type reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// maxReferenceDepth bounds how deep imports may nest.
const maxReferenceDepth = 32

// resolveLocked appends to deps the texts a schema with refs imports,
// each after the texts it imports itself, every name once. Soft-deleted
// versions resolve only when deleted is set: a new schema may not import
// them, while one already stored keeps working. The caller holds v.mu.
func (v *view) resolveLocked(refs []reference, deleted bool, deps *[]string,
	seen map[string]bool, depth int,
) error {
	if depth > maxReferenceDepth {
		return fmt.Errorf("references nest deeper than %d", maxReferenceDepth)
	}
	for _, ref := range refs {
		if ref.Name == "" || ref.Subject == "" || ref.Version == 0 {
			return fmt.Errorf("Invalid reference: %+v; name, subject and version are required", ref)
		}
		if seen[ref.Name] {
			continue
		}
		sv := v.subjects[ref.Subject][ref.Version]
		if sv == nil || (sv.deleted && !deleted) {
			return fmt.Errorf("No schema reference found for subject \"%s\" and version %d",
				ref.Subject, ref.Version)
		}
		seen[ref.Name] = true
		c := v.byID[sv.id]
		if err := v.resolveLocked(c.references, deleted, deps, seen, depth+1); err != nil {
			return err
		}
		*deps = append(*deps, c.text)
	}
	return nil
}

// pinLocked replaces "latest" (-1) in refs by the newest live version of
// its subject, as a registration stores it. The caller holds v.mu.
func (v *view) pinLocked(refs []reference) []reference {
	out := slices.Clone(refs)
	for i, ref := range out {
		if ref.Version != -1 {
			continue
		}
		for n, sv := range v.subjects[ref.Subject] {
			if !sv.deleted && n > out[i].Version {
				out[i].Version = n
			}
		}
	}
	return out
}

// identifyWith parses text after the texts it imports, all in one name
// cache, and returns its identity: the canonical rendering of the whole
// schema (imports inlined) followed by the references, which Confluent's
// registry counts as part of a schema.
func identifyWith(text string, deps []string, refs []reference) (string, avro.Schema, error) {
	if err := checkJSON(text); err != nil {
		return "", nil, err
	}
	cache := &avro.SchemaCache{}
	for _, dep := range deps {
		if _, err := avro.ParseWithCache(dep, "", cache); err != nil {
			return "", nil, fmt.Errorf("parse referenced schema: %w", err)
		}
	}
	parsed, err := avro.ParseWithCache(text, "", cache)
	if err != nil {
		return "", nil, err
	}
	canon, err := json.Marshal(parsed)
	if err != nil {
		return "", nil, fmt.Errorf("render canonical form: %w", err)
	}
	refsJSON, _ := json.Marshal(refs)
	return string(canon) + "\x00" + string(refsJSON), parsed, nil
}

// parseWithRefs resolves a schema's references against the view and parses
// it; see resolveLocked for deleted.
func (v *view) parseWithRefs(text string, refs []reference, deleted bool) (
	ident string, parsed avro.Schema, pinned []reference, err error,
) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.parseWithRefsLocked(text, refs, deleted)
}

func (v *view) parseWithRefsLocked(text string, refs []reference, deleted bool) (
	ident string, parsed avro.Schema, pinned []reference, err error,
) {
	pinned = v.pinLocked(refs)
	var deps []string
	if err := v.resolveLocked(pinned, deleted, &deps, map[string]bool{}, 0); err != nil {
		return "", nil, nil, err
	}
	ident, parsed, err = identifyWith(text, deps, pinned)
	return ident, parsed, pinned, err
}

// normalizeRefs sorts references and drops duplicates, as normalize=true
// asks.
func normalizeRefs(refs []reference) []reference {
	out := slices.Clone(refs)
	slices.SortFunc(out, func(a, b reference) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Subject, b.Subject),
			cmp.Compare(a.Version, b.Version))
	})
	return slices.Compact(out)
}

// referrer is a subject-version whose schema imports another.
type referrer struct {
	id      int
	subject string
}

// referrers lists the subject-versions whose schemas import subject's
// version; soft-deleted ones count when deleted is set.
func (v *view) referrers(subject string, version int, deleted bool) []referrer {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []referrer
	for name, versions := range v.subjects {
		for _, sv := range versions {
			if sv.deleted && !deleted {
				continue
			}
			for _, ref := range v.byID[sv.id].references {
				if ref.Subject == subject && ref.Version == version {
					out = append(out, referrer{sv.id, name})
					break
				}
			}
		}
	}
	return out
}

// referenced reports whether another schema imports sv: for a soft delete
// only live importers count, for a permanent one soft-deleted ones too.
func (s *Server) referenced(sv subjectVersion, deleted bool) bool {
	return len(s.view.referrers(sv.subject, sv.version, deleted)) > 0
}

// referencedFromOutside is referenced, ignoring importers in sv's own
// subject, as deleting a whole subject does.
func (s *Server) referencedFromOutside(sv subjectVersion, deleted bool) bool {
	for _, r := range s.view.referrers(sv.subject, sv.version, deleted) {
		if r.subject != sv.subject {
			return true
		}
	}
	return false
}

func (s *Server) getReferencedBy(w http.ResponseWriter, r *http.Request) {
	sv, aerr := s.resolveVersion(r.PathValue("subject"), r.PathValue("version"), true)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	ids := []int{}
	for _, ref := range s.view.referrers(sv.subject, sv.version, boolParam(r, "deleted")) {
		ids = append(ids, ref.id)
	}
	slices.Sort(ids)
	writeJSON(w, r, http.StatusOK, paginate(r, slices.Compact(ids), maxSearchLimit))
}
