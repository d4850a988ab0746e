package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults of Config.
const (
	DefaultTopic        = "_schemas"
	DefaultWriteTimeout = 10 * time.Second
)

// maxBodySize bounds a request body; Avro schemas are far smaller.
const maxBodySize = 8 << 20

// ServerConfig configures a Server.
type ServerConfig struct {
	// Brokers are the Kafka seed brokers. Required.
	Brokers []string
	// Addr is the address Start listens on, such as "127.0.0.1:8081"; port
	// 0 picks a free one. NewServer ignores it.
	Addr string
	// Topic is the compacted topic holding the registry's state (default
	// DefaultTopic). It is created with one partition if missing.
	Topic string
	// ReplicationFactor of the topic when the server creates it (default 1).
	ReplicationFactor int
	// WriteTimeout bounds how long a registration waits for its record to
	// be written and read back (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// KafkaOpts are extra franz-go client options, for TLS or SASL.
	KafkaOpts []kgo.Opt
	// Logger receives the server's logs (default: discarded).
	Logger *slog.Logger
}

// Server serves Confluent Schema Registry's REST API from a view of a
// compacted Kafka topic. It is an http.Handler; mount it on an http.Server.
// Reads are served from memory. Writes go through Kafka and are answered
// once applied, so that a client reading right after its write sees it.
type Server struct {
	cfg   ServerConfig
	view  *view
	store *store
	mux   *http.ServeMux

	// Set by Start only.
	http     *http.Server
	listener net.Listener
	served   chan struct{}

	// writeMu serialises id and version assignment with the write that
	// makes them durable.
	// TODO(#4): elect one writer among instances; two instances taking
	// registrations at once can hand out the same id.
	writeMu sync.Mutex
}

// NewServer connects to Kafka, creates the topic if needed and returns once
// its view holds the whole topic. ctx bounds that start-up only; Close
// stops the server.
func NewServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("schema registry: no kafka brokers configured")
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.ReplicationFactor <= 0 {
		cfg.ReplicationFactor = 1
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, view: newView(cfg.Logger)}
	st, err := openStore(ctx, cfg, s.view)
	if err != nil {
		return nil, fmt.Errorf("open schema store: %w", err)
	}
	s.store = st
	s.routes()
	cfg.Logger.Info("schema registry started", "topic", cfg.Topic,
		"subjects", len(s.view.subjectList(false)))
	return s, nil
}

// Start creates a Server as NewServer does and serves it over HTTP on
// cfg.Addr until Close.
func Start(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.Addr == "" {
		return nil, errors.New("schema registry: no listen address configured")
	}
	s, err := NewServer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.store.close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.listener = ln
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("schema registry stopped serving", "err", err)
		}
	}()
	s.cfg.Logger.Info("schema registry listening", "addr", ln.Addr().String())
	return s, nil
}

// URL is the base URL a server started with Start answers on; it is empty
// for one made with NewServer.
func (s *Server) URL() string {
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// closeTimeout bounds how long Close waits for requests in flight.
const closeTimeout = 5 * time.Second

// Close stops the server in order: it stops accepting requests and lets
// those in flight finish (when started with Start), then stops following
// the topic and closes the Kafka client. A request still waiting for its
// write then fails. Close does not stop another http.Server serving s.
func (s *Server) Close() error {
	var err error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		err = s.http.Shutdown(ctx)
		cancel()
		<-s.served
	}
	s.store.close()
	return err
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Method != http.MethodGet && !acceptedContentType(r) {
		writeError(w, r, errStatus(http.StatusUnsupportedMediaType))
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeError(w, r, s.unrouted(r))
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, struct{}{})
	})
	m.HandleFunc("GET /schemas/types", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, []string{typeAvro})
	})
	m.HandleFunc("GET /config", s.getConfig)
	m.HandleFunc("GET /config/{subject}", s.getSubjectConfig)
	m.HandleFunc("GET /mode", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, map[string]string{"mode": "READWRITE"})
	})
	m.HandleFunc("GET /schemas/ids/{id}", s.getSchemaByID)
	m.HandleFunc("GET /schemas/ids/{id}/schema", s.getSchemaTextByID)
	m.HandleFunc("GET /schemas/ids/{id}/versions", s.getVersionsByID)
	m.HandleFunc("GET /schemas/ids/{id}/subjects", s.getSubjectsByID)
	m.HandleFunc("GET /subjects", s.getSubjects)
	m.HandleFunc("POST /subjects/{subject}", s.lookup)
	m.HandleFunc("POST /subjects/{subject}/{$}", s.lookup)
	m.HandleFunc("GET /subjects/{subject}/versions", s.getVersions)
	m.HandleFunc("GET /subjects/{subject}/versions/{$}", s.getVersions)
	m.HandleFunc("POST /subjects/{subject}/versions", s.register)
	m.HandleFunc("POST /subjects/{subject}/versions/{$}", s.register)
	m.HandleFunc("GET /subjects/{subject}/versions/{version}", s.getVersion)
	m.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", s.getVersionText)
	s.mux = m
}

// unrouted tells an unknown path (404) from a known path asked with the
// wrong method (405), as Confluent's registry does.
func (s *Server) unrouted(r *http.Request) *apiError {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			return errStatus(http.StatusMethodNotAllowed)
		}
	}
	return errStatus(http.StatusNotFound)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]string{"compatibilityLevel": s.view.compatibility()})
}

func (s *Server) getSubjectConfig(w http.ResponseWriter, r *http.Request) {
	if !boolParam(r, "defaultToGlobal") {
		subject := r.PathValue("subject")
		writeError(w, r, &apiError{http.StatusNotFound, 40408,
			fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured",
				subject)})
		return
	}
	s.getConfig(w, r)
}

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

func (s *Server) getSchemaByID(w http.ResponseWriter, r *http.Request) {
	c, aerr := s.contentParam(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	resp := struct {
		SchemaType string          `json:"schemaType,omitempty"`
		References json.RawMessage `json:"references,omitempty"`
		Schema     string          `json:"schema"`
	}{References: c.refs, Schema: c.text}
	if c.schemaType != typeAvro {
		resp.SchemaType = c.schemaType
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
	writeJSON(w, r, http.StatusOK, out)
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
	writeJSON(w, r, http.StatusOK, out)
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
	writeJSON(w, r, http.StatusOK, s.view.subjectList(boolParam(r, "deleted")))
}

func (s *Server) getVersions(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	versions := s.view.versions(subject, boolParam(r, "deleted"))
	if len(versions) == 0 {
		writeError(w, r, errSubjectNotFound(subject))
		return
	}
	writeJSON(w, r, http.StatusOK, versions)
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	resp, aerr := s.versionParam(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	writeJSON(w, r, http.StatusOK, resp)
}

func (s *Server) getVersionText(w http.ResponseWriter, r *http.Request) {
	resp, aerr := s.versionParam(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	writeRaw(w, r, resp.Schema)
}

// versionParam resolves the {subject} and {version} path parameters.
func (s *Server) versionParam(r *http.Request) (schemaResponse, *apiError) {
	subject := r.PathValue("subject")
	n, aerr := parseVersion(r.PathValue("version"))
	if aerr != nil {
		return schemaResponse{}, aerr
	}
	deleted := boolParam(r, "deleted")
	sv, ok := s.view.version(subject, n, deleted)
	if !ok {
		if len(s.view.versions(subject, true)) == 0 {
			return schemaResponse{}, errSubjectNotFound(subject)
		}
		return schemaResponse{}, &apiError{http.StatusNotFound, 40402,
			fmt.Sprintf("Version %s not found.", r.PathValue("version"))}
	}
	return s.response(sv)
}

// parseVersion reads a {version} path parameter: "latest" or -1 for the
// newest version, else an integer in [1, 2^31-1].
func parseVersion(raw string) (int, *apiError) {
	v := strings.TrimSpace(raw)
	if strings.EqualFold(v, "latest") {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 || n < -1 || n > math.MaxInt32 {
		return 0, &apiError{http.StatusUnprocessableEntity, 42202, fmt.Sprintf(
			"The specified version '%s' is not a valid version id. Allowed values are "+
				"between [1, 2^31-1] and the string \"latest\"", raw)}
	}
	return int(n), nil
}

// registerRequest is the body of register and lookup requests.
type registerRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
	Version    int               `json:"version"`
	ID         int               `json:"id"`
	Metadata   json.RawMessage   `json:"metadata"`
	RuleSet    json.RawMessage   `json:"ruleSet"`
}

// readSchemaRequest decodes and checks a register or lookup body and
// returns the schema's identity and canonical text.
func readSchemaRequest(r *http.Request) (req registerRequest, ident string, aerr *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodySize))
	if err != nil {
		return req, "", &apiError{http.StatusRequestEntityTooLarge, 413, err.Error()}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return req, "", &apiError{http.StatusUnprocessableEntity, 422, "Request body is required"}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return req, "", &apiError{http.StatusBadRequest, 400, err.Error()}
		}
		return req, "", &apiError{http.StatusBadRequest, 400, "Unrecognized request body"}
	}
	switch req.SchemaType {
	case "", typeAvro:
	default:
		return req, "", errInvalidSchema("Invalid schema type " + req.SchemaType +
			"; this registry accepts AVRO only")
	}
	if len(req.References) > 0 {
		return req, "", errInvalidSchema("Schema references are not supported by this registry")
	}
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" ||
		len(req.RuleSet) > 0 && string(req.RuleSet) != "null" {
		return req, "", errInvalidSchema(
			"Metadata and rule sets are not supported by this registry")
	}
	if strings.TrimSpace(req.Schema) == "" {
		return req, "", errInvalidSchema("Empty schema")
	}
	ident, _, err = identify(typeAvro, req.Schema)
	if err != nil {
		return req, "", errInvalidSchema(
			fmt.Sprintf("Invalid schema %s, details: %v", req.Schema, err))
	}
	return req, ident, nil
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	_, ident, aerr := readSchemaRequest(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	sv, found, subjectFound := s.view.find(subject, ident, boolParam(r, "deleted"))
	switch {
	case !subjectFound:
		writeError(w, r, errSubjectNotFound(subject))
		return
	case !found:
		writeError(w, r, &apiError{http.StatusNotFound, 40403, "Schema not found"})
		return
	}
	resp, aerr := s.response(sv)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	writeJSON(w, r, http.StatusOK, resp)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	if subject == "" || strings.ContainsFunc(subject, isControl) ||
		subject == "__GLOBAL" || subject == "__EMPTY" {
		writeError(w, r, &apiError{http.StatusUnprocessableEntity, 42208,
			fmt.Sprintf("The specified subject '%s' is not a valid.", subject)})
		return
	}
	req, ident, aerr := readSchemaRequest(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if req.ID > 0 {
		writeError(w, r, &apiError{http.StatusUnprocessableEntity, 42205,
			fmt.Sprintf("Subject %s is not in import mode", subject)})
		return
	}
	sv, aerr := s.registerSchema(r.Context(), subject, ident, req.Version)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	resp, aerr := s.response(sv)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	resp.Subject = ""
	writeJSON(w, r, http.StatusOK, resp)
}

// registerSchema returns the version of subject carrying ident, writing a
// new one when there is none. The canonical text is what gets stored.
func (s *Server) registerSchema(
	ctx context.Context, subject, ident string, want int,
) (subjectVersion, *apiError) {
	sv, found, _ := s.view.find(subject, ident, false)
	if found && (want <= 0 || want == sv.version) {
		return sv, nil
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	existing, found, id, version := s.view.plan(subject, ident)
	if found && (want <= 0 || want == existing.version) {
		return existing, nil
	}
	if want > 0 && want != version {
		return subjectVersion{}, errInvalidSchema("Version is not one more than previous version")
	}
	key, value, err := schemaRecord(subject, version, id, ident)
	if err != nil {
		return subjectVersion{}, &apiError{http.StatusInternalServerError, 50001, err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	off, err := s.store.write(ctx, key, value)
	if err == nil {
		err = s.store.waitApplied(ctx, off)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return subjectVersion{}, &apiError{http.StatusInternalServerError, 50002,
			"Write to the Kafka store timed out while registering the schema"}
	case err != nil:
		return subjectVersion{}, &apiError{http.StatusInternalServerError, 50001,
			"Error while registering the schema: " + err.Error()}
	}
	s.cfg.Logger.Info("schema registered", "subject", subject, "version", version, "schema_id", id)
	sv, ok := s.view.version(subject, version, false)
	if !ok || sv.id != id {
		// Another writer took this subject-version first; see TODO(#4).
		return subjectVersion{}, &apiError{http.StatusInternalServerError, 50001,
			"Another registry instance registered a conflicting schema; retry"}
	}
	return sv, nil
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

func boolParam(r *http.Request, name string) bool {
	return strings.EqualFold(r.URL.Query().Get(name), "true")
}

// Media types of the registry API. Requests may use any of them (no
// Content-Type counts as octet-stream, read as JSON).
const (
	mediaV1      = "application/vnd.schemaregistry.v1+json"
	mediaDefault = "application/vnd.schemaregistry+json"
	mediaJSON    = "application/json"
	mediaOctet   = "application/octet-stream"
)

func acceptedContentType(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case mediaV1, mediaDefault, mediaJSON, mediaOctet:
		return true
	}
	return false
}

// responseType answers with the registry's own type unless the client asked
// for plain JSON only. It never refuses: Java clients send Accept headers
// that list neither type but hold a wildcard.
func responseType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, mediaJSON) && !strings.Contains(accept, "schemaregistry") &&
		!strings.Contains(accept, "*/*") {
		return mediaJSON
	}
	return mediaV1
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error_code":500,"message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", responseType(r))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeRaw answers with a stored schema text as it is, for the endpoints
// that return a bare schema.
func writeRaw(w http.ResponseWriter, r *http.Request, text string) {
	w.Header().Set("Content-Type", responseType(r))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, text)
}

// apiError is an error answer: HTTP status, Schema Registry error code and
// message, rendered as {"error_code": ..., "message": ...}.
type apiError struct {
	status int
	code   int
	msg    string
}

func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	writeJSON(w, r, e.status, struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}{e.code, e.msg})
}

// errStatus is a framework-level error whose code is its HTTP status.
func errStatus(status int) *apiError {
	return &apiError{status, status, fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))}
}

func errSubjectNotFound(subject string) *apiError {
	return &apiError{http.StatusNotFound, 40401, fmt.Sprintf("Subject '%s' not found.", subject)}
}

func errSchemaNotFound(id int) *apiError {
	return &apiError{http.StatusNotFound, 40403, fmt.Sprintf("Schema %d not found", id)}
}

func errInvalidSchema(msg string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, 42201, msg}
}
