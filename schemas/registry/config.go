package registry

import (
	"net/http"
	"strings"
)

// Modes of the registry and of a subject.
const (
	modeReadWrite        = "READWRITE"
	modeReadOnly         = "READONLY"
	modeReadOnlyOverride = "READONLY_OVERRIDE" // deprecated; behaves as READONLY
	modeImport           = "IMPORT"
	modeForward          = "FORWARD" // global only
)

// configRequest is the body of PUT /config: the Config entity, with the
// level named "compatibility". It is also what the PUT answers.
type configRequest struct {
	Compatibility  string `json:"compatibility,omitempty"`
	Normalize      *bool  `json:"normalize,omitempty"`
	ValidateFields *bool  `json:"validateFields,omitempty"`
	Alias          string `json:"alias,omitempty"`
}

// scope is the subject a config or mode request is about; "" is global.
// Confluent names the default context's global scope ":.:" on these paths.
func scope(r *http.Request) string {
	s := r.PathValue("subject")
	if s == ":.:" {
		return ""
	}
	return s
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	subject := scope(r)
	if subject == "" || boolParam(r, "defaultToGlobal") {
		writeJSON(w, r, http.StatusOK, s.view.effectiveConfig(subject))
		return
	}
	c, ok := s.view.config(subject)
	if !ok {
		writeError(w, r, errNoSubjectConfig(subject))
		return
	}
	if c.CompatibilityLevel == "" {
		c.CompatibilityLevel = defaultLevel
	}
	writeJSON(w, r, http.StatusOK, c)
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	subject := scope(r)
	if subject != "" {
		if aerr := checkSubject(subject); aerr != nil {
			writeError(w, r, aerr)
			return
		}
	}
	var req configRequest
	if aerr := readBody(r, &req); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	update := configValue{Normalize: req.Normalize, ValidateFields: req.ValidateFields,
		Alias: req.Alias}
	if req.Compatibility != "" {
		level, ok := parseLevel(req.Compatibility)
		if !ok {
			writeError(w, r, errInvalidLevel)
			return
		}
		update.CompatibilityLevel = level
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if aerr := s.checkWritable(subject); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	stored, _ := s.view.config(subject)
	stored = stored.mergedWith(update)
	if aerr := s.commit(r.Context(), configRecord(subject, &stored)); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	s.cfg.Logger.Info("schema registry config updated", "subject", subject,
		"compatibility", stored.CompatibilityLevel)
	writeJSON(w, r, http.StatusOK, configRequest{Compatibility: stored.CompatibilityLevel,
		Normalize: stored.Normalize, ValidateFields: stored.ValidateFields, Alias: stored.Alias})
}

func (s *Server) deleteConfig(w http.ResponseWriter, r *http.Request) {
	subject := scope(r)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if aerr := s.checkWritable(subject); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	old, ok := s.view.config(subject)
	if !ok {
		if subject != "" {
			writeError(w, r, errSubjectNotFound(subject))
			return
		}
		writeJSON(w, r, http.StatusOK, s.view.effectiveConfig(""))
		return
	}
	if aerr := s.commit(r.Context(), configRecord(subject, nil)); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if old.CompatibilityLevel == "" {
		old.CompatibilityLevel = defaultLevel
	}
	writeJSON(w, r, http.StatusOK, old)
}

// checkWritable refuses config updates where the mode is read-only.
func (s *Server) checkWritable(subject string) *apiError {
	if m := s.view.effectiveMode(subject); m == modeReadOnly || m == modeReadOnlyOverride {
		if subject == "" {
			return errNotPermitted("The registry is in read-only mode")
		}
		return errReadOnly(subject)
	}
	return nil
}

type modeBody struct {
	Mode string `json:"mode"`
}

func (s *Server) getMode(w http.ResponseWriter, r *http.Request) {
	subject := scope(r)
	if subject == "" || boolParam(r, "defaultToGlobal") {
		writeJSON(w, r, http.StatusOK, modeBody{s.view.effectiveMode(subject)})
		return
	}
	m, ok := s.view.mode(subject)
	if !ok {
		writeError(w, r, errNoSubjectMode(subject))
		return
	}
	writeJSON(w, r, http.StatusOK, modeBody{m})
}

func (s *Server) putMode(w http.ResponseWriter, r *http.Request) {
	subject := scope(r)
	if subject != "" {
		if aerr := checkSubject(subject); aerr != nil {
			writeError(w, r, aerr)
			return
		}
	}
	var req modeBody
	if aerr := readBody(r, &req); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	mode := strings.ToUpper(strings.TrimSpace(req.Mode))
	switch mode {
	case modeReadWrite, modeReadOnly, modeReadOnlyOverride, modeImport:
	case modeForward:
		if subject != "" {
			writeError(w, r, &apiError{http.StatusUnprocessableEntity, 42204,
				"Forward mode only supported on global level"})
			return
		}
	default:
		writeError(w, r, errInvalidMode)
		return
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if mode == modeImport && !boolParam(r, "force") && s.hasLiveSubjects(subject) {
		writeError(w, r, errNotPermitted("Cannot import since found existing subjects"))
		return
	}
	if aerr := s.commit(r.Context(), modeRecord(subject, mode)); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	s.cfg.Logger.Info("schema registry mode set", "subject", subject, "mode", mode)
	writeJSON(w, r, http.StatusOK, req)
}

// hasLiveSubjects reports whether the scope (one subject, or the whole
// registry for "") has a version not soft-deleted.
func (s *Server) hasLiveSubjects(subject string) bool {
	if subject != "" {
		return len(live(s.view.history(subject))) > 0
	}
	return len(s.view.subjectList(subjectsLive)) > 0
}

func (s *Server) deleteMode(w http.ResponseWriter, r *http.Request) {
	subject := scope(r)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	old, ok := s.view.mode(subject)
	if !ok {
		if subject != "" {
			writeError(w, r, errSubjectNotFound(subject))
			return
		}
		writeJSON(w, r, http.StatusOK, modeBody{modeReadWrite})
		return
	}
	if aerr := s.commit(r.Context(), modeRecord(subject, "")); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	writeJSON(w, r, http.StatusOK, modeBody{old})
}

// dropSubjectSettings returns the records that delete a subject's own
// config and mode, for a subject that no longer has any version.
func (s *Server) dropSubjectSettings(subject string) []record {
	var recs []record
	if _, ok := s.view.config(subject); ok {
		recs = append(recs, configRecord(subject, nil))
	}
	if _, ok := s.view.mode(subject); ok {
		recs = append(recs, modeRecord(subject, ""))
	}
	return recs
}
