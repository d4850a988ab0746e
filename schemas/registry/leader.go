package registry

import "net/http"

func (s *Server) leaderOnly(h http.HandlerFunc) http.HandlerFunc { return h }
