package registry

import (
	"fmt"
	"net/http"
	"slices"
)

// deleteVersion soft-deletes one version, or removes a soft-deleted one for
// good with permanent=true, checking Confluent's conditions in its order.
func (s *Server) deleteVersion(w http.ResponseWriter, r *http.Request) {
	subject, permanent := r.PathValue("subject"), boolParam(r, "permanent")
	n, aerr := parseVersion(r.PathValue("version"))
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	history := s.view.history(subject)
	target, found := s.view.version(subject, n, true)
	switch {
	case found && target.deleted && !permanent:
		aerr = errVersionSoftDeleted(subject, target.version)
	case len(history) == 0:
		aerr = errSubjectNotFound(subject)
	case !found:
		aerr = errVersionNotFound(n)
	case s.readOnly(subject):
		aerr = errReadOnly(subject)
	case s.referenced(target, permanent):
		aerr = errReferenceExists(subject, target.version)
	case permanent && !target.deleted:
		aerr = errVersionNotSoftDeleted(subject, target.version)
	}
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}

	var recs []record
	if permanent {
		recs = append(recs, record{key: schemaKey(subject, target.version)})
		if len(history) == 1 {
			recs = append(recs, s.dropSubjectSettings(subject)...)
		}
	} else {
		c, _ := s.view.contentByID(target.id)
		value := schemaValue{Subject: subject, Version: target.version, ID: target.id,
			References: c.refs, Schema: c.text, Deleted: true}
		if c.schemaType != typeAvro {
			value.SchemaType = c.schemaType
		}
		recs = append(recs, schemaRecord(value))
	}
	if aerr := s.commit(r.Context(), recs...); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	s.cfg.Logger.Info("schema version deleted", "subject", subject, "version", target.version,
		"permanent", permanent)
	writeJSON(w, r, http.StatusOK, target.version)
}

// deleteSubject soft-deletes every live version of a subject, or removes
// every version of a soft-deleted subject with permanent=true.
func (s *Server) deleteSubject(w http.ResponseWriter, r *http.Request) {
	subject, permanent := r.PathValue("subject"), boolParam(r, "permanent")
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	history := s.view.history(subject)
	alive := live(history)
	var aerr *apiError
	switch {
	case len(history) == 0:
		aerr = errSubjectNotFound(subject)
	case !permanent && len(alive) == 0:
		aerr = errSubjectSoftDeleted(subject)
	case s.readOnly(subject):
		aerr = errReadOnly(subject)
	}
	if aerr == nil {
		for _, sv := range history {
			if s.referencedFromOutside(sv, permanent) {
				aerr = errReferenceExists(subject, sv.version)
				break
			}
		}
	}
	if aerr == nil && permanent && len(alive) > 0 {
		aerr = errSubjectNotSoftDeleted(subject)
	}
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}

	affected := alive
	var recs []record
	if permanent {
		affected = history
		for _, sv := range slices.Backward(history) {
			recs = append(recs, record{key: schemaKey(subject, sv.version)})
		}
		recs = append(recs, s.dropSubjectSettings(subject)...)
	} else {
		recs = append(recs, deleteSubjectRecord(subject, alive[len(alive)-1].version))
	}
	if aerr := s.commit(r.Context(), recs...); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	versions := make([]int, 0, len(affected))
	for _, sv := range affected {
		versions = append(versions, sv.version)
	}
	s.cfg.Logger.Info("subject deleted", "subject", subject, "versions", len(versions),
		"permanent", permanent)
	writeJSON(w, r, http.StatusOK, versions)
}

func (s *Server) readOnly(subject string) bool {
	m := s.view.effectiveMode(subject)
	return m == modeReadOnly || m == modeReadOnlyOverride
}

// deleteContext answers for the only context there is, the default one,
// which cannot be deleted while it holds subjects.
func (s *Server) deleteContext(w http.ResponseWriter, r *http.Request) {
	if name := r.PathValue("context"); name != defaultContext {
		writeError(w, r, &apiError{http.StatusNotFound, 40401,
			fmt.Sprintf("Context '%s' not found.", name)})
		return
	}
	if len(s.view.subjectList(subjectsAll)) > 0 {
		writeError(w, r, &apiError{http.StatusUnprocessableEntity, 42211,
			"Context '.' is not empty"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
