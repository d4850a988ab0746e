package registry

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// schemaResponse is the subject-version view of a schema.
type schemaResponse struct {
	Subject    string          `json:"subject,omitempty"`
	Version    int             `json:"version,omitempty"`
	ID         int             `json:"id"`
	SchemaType string          `json:"schemaType,omitempty"`
	References json.RawMessage `json:"references,omitempty"`
	Schema     string          `json:"schema"`
}

func (s *Server) response(sv subjectVersion) (schemaResponse, *apiError) {
	c, ok := s.view.contentByID(sv.id)
	if !ok {
		return schemaResponse{}, errSchemaNotFound(sv.id)
	}
	resp := schemaResponse{
		Subject: sv.subject, Version: sv.version, ID: sv.id,
		Schema: c.text, References: c.refs,
	}
	if c.schemaType != typeAvro {
		resp.SchemaType = c.schemaType
	}
	return resp, nil
}

// maxSearchLimit bounds the lists of GET /schemas and referencedby, as
// Confluent's schema.search.max.limit does by default.
const maxSearchLimit = 1000

func (s *Server) listSchemas(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("subjectPrefix")
	deleted, latestOnly := boolParam(r, "deleted"), boolParam(r, "latestOnly")
	out := []schemaResponse{}
	for _, subject := range s.view.subjectList(subjectsAll) {
		if !strings.HasPrefix(subject, prefix) {
			continue
		}
		versions := s.view.history(subject)
		if !deleted {
			versions = live(versions)
		}
		if latestOnly && len(versions) > 0 {
			versions = versions[len(versions)-1:]
		}
		for _, sv := range versions {
			if resp, aerr := s.response(sv); aerr == nil {
				out = append(out, resp)
			}
		}
	}
	writeJSON(w, r, http.StatusOK, paginate(r, out, maxSearchLimit))
}

func (s *Server) getSchemaByID(w http.ResponseWriter, r *http.Request) {
	c, aerr := s.contentParam(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	resp := struct {
		Subject    string          `json:"subject,omitempty"`
		Version    int             `json:"version,omitempty"`
		SchemaType string          `json:"schemaType,omitempty"`
		References json.RawMessage `json:"references,omitempty"`
		Schema     string          `json:"schema"`
		MaxID      int             `json:"maxId,omitempty"`
	}{References: c.refs, Schema: c.text}
	if c.schemaType != typeAvro {
		resp.SchemaType = c.schemaType
	}
	if subject := r.URL.Query().Get("subject"); subject != "" {
		for _, sv := range s.view.usages(c.id, true) {
			if sv.subject == subject {
				resp.Subject, resp.Version = sv.subject, sv.version
			}
		}
	}
	if boolParam(r, "fetchMaxId") {
		resp.MaxID = s.view.nextID() - 1
	}
	writeJSON(w, r, http.StatusOK, resp)
}

func (s *Server) getSchemaTextByID(w http.ResponseWriter, r *http.Request) {
	c, aerr := s.contentParam(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	writeRaw(w, r, c.text)
}

func (s *Server) getVersionsByID(w http.ResponseWriter, r *http.Request) {
	c, aerr := s.contentParam(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	type subjectVersionJSON struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	out := []subjectVersionJSON{}
	for _, sv := range s.view.usages(c.id, boolParam(r, "deleted")) {
		out = append(out, subjectVersionJSON{sv.subject, sv.version})
	}
	writeJSON(w, r, http.StatusOK, paginate(r, out, 0))
}

func (s *Server) getSubjectsByID(w http.ResponseWriter, r *http.Request) {
	c, aerr := s.contentParam(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	out := []string{}
	for _, sv := range s.view.usages(c.id, boolParam(r, "deleted")) {
		if len(out) == 0 || out[len(out)-1] != sv.subject {
			out = append(out, sv.subject)
		}
	}
	writeJSON(w, r, http.StatusOK, paginate(r, out, 0))
}

// contentParam resolves the {id} path parameter. A non-integer id is an
// unknown path, as in Confluent's registry.
func (s *Server) contentParam(r *http.Request) (*content, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 32)
	if err != nil {
		return nil, errStatus(http.StatusNotFound)
	}
	c, ok := s.view.contentByID(int(id))
	if !ok {
		return nil, errSchemaNotFound(int(id))
	}
	return c, nil
}

func (s *Server) getSubjects(w http.ResponseWriter, r *http.Request) {
	f := subjectsLive
	switch {
	case boolParam(r, "deletedOnly"):
		f = subjectsDeletedOnly
	case boolParam(r, "deleted"):
		f = subjectsAll
	}
	prefix := r.URL.Query().Get("subjectPrefix")
	if prefix == ":*:" {
		prefix = ""
	}
	out := []string{}
	for _, subject := range s.view.subjectList(f) {
		if strings.HasPrefix(subject, prefix) {
			out = append(out, subject)
		}
	}
	writeJSON(w, r, http.StatusOK, paginate(r, out, 0))
}

func (s *Server) getVersions(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	out := []int{}
	deletedOnly, deleted := boolParam(r, "deletedOnly"), boolParam(r, "deleted")
	for _, sv := range s.view.history(subject) {
		if deletedOnly && sv.deleted || !deletedOnly && (deleted || !sv.deleted) {
			out = append(out, sv.version)
		}
	}
	if len(out) == 0 {
		writeError(w, r, errSubjectNotFound(subject))
		return
	}
	writeJSON(w, r, http.StatusOK, paginate(r, out, 0))
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	resp, aerr := s.versionParam(r, boolParam(r, "deleted"))
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	writeJSON(w, r, http.StatusOK, resp)
}

func (s *Server) getVersionText(w http.ResponseWriter, r *http.Request) {
	resp, aerr := s.versionParam(r, boolParam(r, "deleted"))
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	writeRaw(w, r, resp.Schema)
}

// versionParam resolves the {subject} and {version} path parameters.
// "latest" is the newest version not soft-deleted, whatever deleted says.
func (s *Server) versionParam(r *http.Request, deleted bool) (schemaResponse, *apiError) {
	sv, aerr := s.resolveVersion(r.PathValue("subject"), r.PathValue("version"), deleted)
	if aerr != nil {
		return schemaResponse{}, aerr
	}
	return s.response(sv)
}

func (s *Server) resolveVersion(subject, raw string, deleted bool) (subjectVersion, *apiError) {
	n, aerr := parseVersion(raw)
	if aerr != nil {
		return subjectVersion{}, aerr
	}
	sv, ok := s.view.version(subject, n, deleted)
	if ok {
		return sv, nil
	}
	h := s.view.history(subject)
	if !deleted {
		h = live(h)
	}
	if len(h) == 0 {
		return subjectVersion{}, errSubjectNotFound(subject)
	}
	return subjectVersion{}, errVersionNotFound(n)
}

// schemaRequest is the body of register, lookup and compatibility
// requests.
type schemaRequest struct {
	Schema     string          `json:"schema"`
	SchemaType string          `json:"schemaType"`
	References []reference     `json:"references"`
	Version    int             `json:"version"`
	ID         int             `json:"id"`
	Metadata   json.RawMessage `json:"metadata"`
	RuleSet    json.RawMessage `json:"ruleSet"`
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	var req schemaRequest
	if aerr := readBody(r, &req); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	p, aerr := s.parseRequest(req, s.normalizes(r, subject))
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	sv, found, subjectFound := s.view.find(subject, p.ident, boolParam(r, "deleted"))
	switch {
	case !subjectFound:
		writeError(w, r, errSubjectNotFound(subject))
		return
	case !found:
		writeError(w, r, errLookupNotFound)
		return
	}
	s.writeSchema(w, r, sv, true)
}

// writeSchema answers with the subject-version view of sv; registration
// answers leave the subject out.
func (s *Server) writeSchema(w http.ResponseWriter, r *http.Request, sv subjectVersion, subject bool) {
	resp, aerr := s.response(sv)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if !subject {
		resp.Subject = ""
	}
	writeJSON(w, r, http.StatusOK, resp)
}

// normalizes reports whether a request normalizes its schema: when it says
// so, or the subject's config does.
func (s *Server) normalizes(r *http.Request, subject string) bool {
	if boolParam(r, "normalize") {
		return true
	}
	n := s.view.effectiveConfig(subject).Normalize
	return n != nil && *n
}
