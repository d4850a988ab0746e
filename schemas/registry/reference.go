package registry

import "net/http"

// reference is one schema a schema imports.
type reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func (s *Server) referenced(sv subjectVersion, deleted bool) bool { return false }

func (s *Server) referencedFromOutside(sv subjectVersion, deleted bool) bool { return false }

func (s *Server) getReferencedBy(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, []int{})
}
