package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hamba/avro/v2"
)

// parsedSchema is a request's schema once parsed: what identifies it, the
// text to store and the Avro schema to check compatibility with.
type parsedSchema struct {
	ident      string
	text       string
	schemaType string
	refs       json.RawMessage
	avro       avro.Schema
}

// parseRequest checks a request's schema and parses it, with the
// schemas it references. Without references the stored text is the
// canonical rendering (or with normalize, the normalized one); with them,
// it is the client's text, since the rendering would inline the imports.
func (s *Server) parseRequest(req schemaRequest, normalize bool) (parsedSchema, *apiError) {
	switch req.SchemaType {
	case "", typeAvro:
	default:
		return parsedSchema{}, errInvalidSchema("Invalid schema type " + req.SchemaType +
			"; this registry accepts AVRO only")
	}
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
		return parsedSchema{}, errInvalidSchema("Metadata is not supported by this registry")
	}
	if len(req.RuleSet) > 0 && string(req.RuleSet) != "null" {
		return parsedSchema{}, &apiError{http.StatusUnprocessableEntity, 42210,
			"Rule sets are not supported by this registry"}
	}
	if strings.TrimSpace(req.Schema) == "" {
		return parsedSchema{}, errInvalidSchema("Empty schema")
	}
	invalid := func(err error) *apiError {
		return errInvalidSchema(fmt.Sprintf("Invalid schema %s, details: %v", req.Schema, err))
	}
	p := parsedSchema{schemaType: typeAvro}
	if len(req.References) == 0 {
		ident, parsed, err := identify(typeAvro, req.Schema)
		if err != nil {
			return parsedSchema{}, invalid(err)
		}
		if normalize {
			// Rendered again, the normalized text is its own identity,
			// as the view computes it when it reads the record back.
			if ident, parsed, err = identify(typeAvro, normalizedText(ident)); err != nil {
				return parsedSchema{}, invalid(err)
			}
		}
		p.ident, p.text, p.avro = ident, ident, parsed
		return p, nil
	}
	refs := req.References
	if normalize {
		refs = normalizeRefs(refs)
	}
	ident, parsed, pinned, err := s.view.parseWithRefs(req.Schema, refs, false)
	if err != nil {
		return parsedSchema{}, invalid(err)
	}
	p.ident, p.text, p.avro = ident, strings.TrimSpace(req.Schema), parsed
	p.refs, _ = json.Marshal(pinned)
	return p, nil
}

// normalizedText is a canonical rendering with every aliases list sorted,
// which the caller renders canonically again.
func normalizedText(canon string) string {
	var tree any
	dec := json.NewDecoder(strings.NewReader(canon))
	dec.UseNumber() // defaults keep their digits
	if err := dec.Decode(&tree); err != nil {
		return canon
	}
	var walk func(any)
	walk = func(n any) {
		switch n := n.(type) {
		case map[string]any:
			if aliases, ok := n["aliases"].([]any); ok {
				slices.SortFunc(aliases, func(a, b any) int {
					return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
				})
			}
			for k, child := range n {
				if k != "default" {
					walk(child)
				}
			}
		case []any:
			for _, child := range n {
				walk(child)
			}
		}
	}
	walk(tree)
	out, err := compactJSON(tree)
	if err != nil {
		return canon
	}
	return string(out)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if aerr := checkSubject(subject); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	var req schemaRequest
	if aerr := readBody(r, &req); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	opts := registerOptions{normalize: s.normalizes(r, subject), force: boolParam(r, "force")}
	sv, aerr := s.registerSchema(r.Context(), subject, req, opts)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	s.writeSchema(w, r, sv, false)
}

type registerOptions struct {
	normalize bool // store the normalized form
	force     bool // skip the compatibility check
}

// registerSchema returns the version of subject carrying the request's
// schema, writing a new one when there is none, in the order of Confluent's
// registry: an identical schema is answered before the mode is consulted,
// so that it succeeds even on a read-only subject.
func (s *Server) registerSchema(
	ctx context.Context, subject string, req schemaRequest, opts registerOptions,
) (subjectVersion, *apiError) {
	if strings.TrimSpace(req.Schema) != "" {
		if p, aerr := s.parseRequest(req, opts.normalize); aerr == nil {
			sv, found, _ := s.view.find(subject, p.ident, false)
			if found && (req.Version <= 0 || req.Version == sv.version) &&
				(req.ID <= 0 || req.ID == sv.id) {
				return sv, nil
			}
		}
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	mode := s.view.effectiveMode(subject)
	importing := mode == modeImport || mode == modeForward
	switch {
	case mode == modeReadOnly || mode == modeReadOnlyOverride:
		return subjectVersion{}, errReadOnly(subject)
	case req.ID > 0 && !importing:
		return subjectVersion{}, errNotPermitted(fmt.Sprintf(
			"Subject %s in context %s is not in import mode", subject, defaultContext))
	case req.ID <= 0 && mode != modeReadWrite:
		return subjectVersion{}, errNotPermitted(fmt.Sprintf(
			"Subject %s in context %s is not in read-write mode", subject, defaultContext))
	}

	history := s.view.history(subject)
	alive := live(history)
	if strings.TrimSpace(req.Schema) == "" && len(alive) > 0 {
		// An empty schema re-registers the latest one.
		c, _ := s.view.contentByID(alive[len(alive)-1].id)
		req.Schema, req.SchemaType, req.References = c.text, c.schemaType, c.references
	}
	p, aerr := s.parseRequest(req, opts.normalize)
	if aerr != nil {
		return subjectVersion{}, aerr
	}
	existing, known := s.view.contentByIdent(p.ident)
	if known && req.Version <= 0 {
		for _, sv := range slices.Backward(alive) {
			if sv.id == existing.id {
				return sv, nil
			}
		}
	}
	if !importing && !opts.force {
		level := s.view.effectiveConfig(subject).CompatibilityLevel
		if ok, msgs := compatibleWith(level, p.avro, s.previous(alive)); !ok {
			return subjectVersion{}, errIncompatible(subject, msgs)
		}
	}

	version := nextVersion(history)
	if req.Version > 0 && req.Version != version {
		if !importing {
			return subjectVersion{}, errInvalidSchema("Version is not one more than previous version")
		}
		version = req.Version
	}
	id := s.view.nextID()
	if known {
		id = existing.id
	}
	if req.ID > 0 {
		if c, ok := s.view.contentByID(req.ID); ok && c.ident != p.ident {
			return subjectVersion{}, errNotPermitted(fmt.Sprintf(
				"Overwrite new schema with id %d in context %s is not permitted.",
				req.ID, defaultContext))
		}
		id = req.ID
	}

	value := schemaValue{Subject: subject, Version: version, ID: id, References: p.refs,
		Schema: p.text}
	if p.schemaType != typeAvro {
		value.SchemaType = p.schemaType
	}
	recs := []record{schemaRecord(value)}
	if len(recs[0].value) > maxRecordSize {
		return subjectVersion{}, errSchemaTooLarge
	}
	// A soft-deleted version of the same schema is superseded by the new
	// one and goes for good.
	for _, sv := range history {
		if sv.deleted && sv.id == id && sv.version < version && !s.referenced(sv, true) {
			recs = append(recs, record{key: schemaKey(subject, sv.version)})
		}
	}
	if aerr := s.commit(ctx, recs...); aerr != nil {
		return subjectVersion{}, aerr
	}
	s.cfg.Logger.Info("schema registered", "subject", subject, "version", version, "schema_id", id)
	sv, ok := s.view.version(subject, version, false)
	if !ok || sv.id != id {
		return subjectVersion{}, errStore(fmt.Errorf(
			"another registry instance wrote %s version %d at the same time; retry", subject, version))
	}
	return sv, nil
}

// previous returns the versions a new schema is checked against, newest
// first.
func (s *Server) previous(versions []subjectVersion) []previous {
	out := make([]previous, 0, len(versions))
	for _, sv := range slices.Backward(versions) {
		c, ok := s.view.contentByID(sv.id)
		if !ok {
			continue
		}
		out = append(out, previous{version: sv.version, text: c.text, avro: c.avro})
	}
	return out
}

// compatibilityResponse is the answer of the compatibility endpoints.
type compatibilityResponse struct {
	IsCompatible bool      `json:"is_compatible"`
	Messages     *[]string `json:"messages,omitempty"` // only when verbose, maybe empty
}

// checkAll tests a schema as registering it would: against the versions
// its subject's level names.
func (s *Server) checkAll(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	s.checkAgainst(w, r, subject, live(s.view.history(subject)))
}

// checkOne tests a schema against one version; a transitive level then
// means the same as its plain form.
func (s *Server) checkOne(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	n, aerr := parseVersion(r.PathValue("version"))
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	var against []subjectVersion
	sv, ok := s.view.version(subject, n, false)
	switch {
	case ok:
		against = []subjectVersion{sv}
	case n != -1:
		writeError(w, r, errVersionNotFound(n))
		return
	}
	s.checkAgainst(w, r, subject, against)
}

func (s *Server) checkAgainst(
	w http.ResponseWriter, r *http.Request, subject string, against []subjectVersion,
) {
	verbose := boolParam(r, "verbose")
	var req schemaRequest
	if aerr := readBody(r, &req); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	p, aerr := s.parseRequest(req, s.normalizes(r, subject))
	if aerr != nil {
		if !verbose || aerr.code != 42201 {
			writeError(w, r, aerr)
			return
		}
		writeJSON(w, r, http.StatusOK, compatibilityResponse{Messages: &[]string{aerr.msg}})
		return
	}
	level := s.view.effectiveConfig(subject).CompatibilityLevel
	ok, msgs := compatibleWith(level, p.avro, s.previous(against))
	resp := compatibilityResponse{IsCompatible: ok}
	if verbose {
		all := append([]string{}, msgs...)
		resp.Messages = &all
	}
	writeJSON(w, r, http.StatusOK, resp)
}
