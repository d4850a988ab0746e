package registry

import (
	"context"
	"crypto/tls"
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

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/compacted"
)

// Defaults of ServerConfig.
const (
	DefaultTopic          = "_schemas"
	DefaultWriteTimeout   = 10 * time.Second
	DefaultSessionTimeout = 10 * time.Second
)

// maxBodySize bounds a request body; Avro schemas are far smaller.
const maxBodySize = 8 << 20

// maxRecordSize bounds a record of the topic, under Kafka's default
// message.max.bytes of 1 MiB with room for the batch around it.
const maxRecordSize = 1<<20 - 1<<10

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
	// WriteTimeout bounds how long a write waits for its records to be
	// written and read back, or for a leader to forward it to (default
	// DefaultWriteTimeout).
	WriteTimeout time.Duration
	// AdvertisedURL is the base URL other instances forward writes to when
	// this one leads. Start sets it from its listener when empty; a server
	// made with NewServer and no URL can lead but not be forwarded to.
	AdvertisedURL string
	// GroupID is the Kafka consumer group through which instances over
	// one topic elect their leader (default: the topic name followed by
	// ".leader").
	GroupID string
	// SessionTimeout is how long a leader that stopped heartbeating keeps
	// its role before another instance takes over (default
	// DefaultSessionTimeout). A leader that closes hands over at once.
	SessionTimeout time.Duration
	// Auth is what every request must present (default: nothing). Use it
	// with TLSConfig: basic credentials travel in the clear otherwise.
	// Forwarded writes carry the client's credentials to the leader.
	Auth Auth
	// TLSConfig, when set, makes Start serve https with it, and is the
	// certificate set instances forward writes with. Its ClientCAs, when
	// set, are also the roots the leader's certificate is checked against.
	TLSConfig *tls.Config
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
	cfg       ServerConfig
	view      *view
	store     *compacted.Follower
	lead      *leadership
	forwarder *http.Client
	mux       *http.ServeMux
	deleteCtx http.HandlerFunc // DELETE /contexts/{context}, routed by hand

	// Set by Start only.
	http     *http.Server
	listener net.Listener
	served   chan struct{}

	closeOnce sync.Once
	closeErr  error

	// writeMu serialises every write's decision (ids, versions, the checks
	// of a delete) with the records that make it durable.
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
	if cfg.GroupID == "" {
		cfg.GroupID = cfg.Topic + ".leader"
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, view: newView(cfg.Logger),
		forwarder: &http.Client{Timeout: cfg.WriteTimeout}}
	if cfg.TLSConfig != nil {
		s.forwarder.Transport = &http.Transport{TLSClientConfig: forwardTLS(cfg.TLSConfig)}
	}
	st, err := openStore(ctx, cfg, s.view)
	if err != nil {
		return nil, fmt.Errorf("open schema store: %w", err)
	}
	s.store = st
	if s.lead, err = startLeadership(cfg); err != nil {
		st.Close()
		return nil, err
	}
	s.routes()
	cfg.Logger.Info("schema registry started", "topic", cfg.Topic,
		"subjects", len(s.view.subjectList(subjectsLive)))
	return s, nil
}

// Start creates a Server as NewServer does and serves it over HTTP on
// cfg.Addr until Close.
func Start(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.Addr == "" {
		return nil, errors.New("schema registry: no listen address configured")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.TLSConfig != nil {
		ln = tls.NewListener(ln, cfg.TLSConfig)
	}
	if cfg.AdvertisedURL == "" {
		cfg.AdvertisedURL = scheme(cfg) + ln.Addr().String()
	}
	s, err := NewServer(ctx, cfg)
	if err != nil {
		_ = ln.Close()
		return nil, err
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
	return scheme(s.cfg) + s.listener.Addr().String()
}

// scheme starts the URL of a server with cfg.
func scheme(cfg ServerConfig) string {
	if cfg.TLSConfig != nil {
		return "https://"
	}
	return "http://"
}

// closeTimeout bounds how long Close waits for requests in flight.
const closeTimeout = 3 * time.Second

// Close stops the server in order: it stops accepting requests and lets
// those in flight finish (when started with Start), leaves the leader
// election so that another instance takes writes at once, then stops
// following the topic and closes the Kafka client. A request still waiting
// for its write then fails. Close does not stop another http.Server
// serving s.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			if err := s.http.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
				// Graceful stop ran out of time: cut what is left,
				// including connections a client opened but never used.
				s.cfg.Logger.Warn("schema registry closing connections still open",
					"timeout", closeTimeout)
				s.closeErr = s.http.Close()
			} else {
				s.closeErr = err
			}
			cancel()
			<-s.served
		}
		s.lead.close()
		s.store.Close()
	})
	return s.closeErr
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Auth.allows(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="schema-registry"`)
		writeError(w, r, errUnauthorized)
		return
	}
	if r.Body != nil && r.Method != http.MethodGet && !acceptedContentType(r) {
		writeError(w, r, errStatus(http.StatusUnsupportedMediaType))
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/contexts/"); ok &&
		r.Method == http.MethodDelete && name != "" && !strings.Contains(name, "/") {
		// The mux would clean the default context's name, ".", away.
		r.SetPathValue("context", name)
		s.deleteCtx(w, r)
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
	handle := func(pattern string, h http.HandlerFunc) {
		m.HandleFunc(pattern, h)
		if strings.HasSuffix(pattern, "}") || strings.HasSuffix(pattern, "s") {
			// Clients add a trailing slash to some paths; route both alike.
			m.HandleFunc(pattern+"/{$}", h)
		}
	}
	empty := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, struct{}{})
	}
	m.HandleFunc("GET /{$}", empty)
	m.HandleFunc("POST /{$}", empty)
	handle("GET /schemas/types", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, []string{typeAvro})
	})
	handle("GET /contexts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, []string{defaultContext})
	})
	s.deleteCtx = s.leaderOnly(s.deleteContext)
	handle("DELETE /contexts/{context}", s.deleteCtx)
	handle("GET /v1/metadata/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, map[string]string{"version": serverVersion})
	})
	handle("GET /schemas", s.listSchemas)
	handle("GET /schemas/ids/{id}", s.getSchemaByID)
	handle("GET /schemas/ids/{id}/schema", s.getSchemaTextByID)
	handle("GET /schemas/ids/{id}/versions", s.getVersionsByID)
	handle("GET /schemas/ids/{id}/subjects", s.getSubjectsByID)
	handle("GET /subjects", s.getSubjects)
	handle("POST /subjects/{subject}", s.lookup)
	handle("DELETE /subjects/{subject}", s.leaderOnly(s.deleteSubject))
	handle("GET /subjects/{subject}/versions", s.getVersions)
	handle("POST /subjects/{subject}/versions", s.leaderOnly(s.register))
	handle("GET /subjects/{subject}/versions/{version}", s.getVersion)
	handle("DELETE /subjects/{subject}/versions/{version}", s.leaderOnly(s.deleteVersion))
	handle("GET /subjects/{subject}/versions/{version}/schema", s.getVersionText)
	handle("GET /subjects/{subject}/versions/{version}/referencedby", s.getReferencedBy)
	handle("POST /compatibility/subjects/{subject}/versions", s.checkAll)
	handle("POST /compatibility/subjects/{subject}/versions/{version}", s.checkOne)
	for _, scope := range []string{"", "/{subject}"} {
		handle("GET /config"+scope, s.getConfig)
		handle("PUT /config"+scope, s.leaderOnly(s.putConfig))
		handle("DELETE /config"+scope, s.leaderOnly(s.deleteConfig))
		handle("GET /mode"+scope, s.getMode)
		handle("PUT /mode"+scope, s.leaderOnly(s.putMode))
		handle("DELETE /mode"+scope, s.leaderOnly(s.deleteMode))
	}
	s.mux = m
}

// serverVersion is the Confluent release whose API this server follows.
const serverVersion = "7.9.0"

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

// commit writes records in order and returns once this instance's view
// has applied the last one, so that the caller's answer reflects them. The
// caller holds writeMu.
func (s *Server) commit(ctx context.Context, recs ...record) *apiError {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	last := int64(-1)
	for _, rec := range recs {
		r := &kgo.Record{Partition: 0, Key: rec.key, Value: rec.value}
		if err := s.store.Write(ctx, r); err != nil {
			return writeFailure(err)
		}
		last = r.Offset
	}
	if last < 0 {
		return nil
	}
	if err := s.store.WaitFor(ctx, 0, last); err != nil {
		return writeFailure(err)
	}
	recordOffset(ctx, last)
	return nil
}

func writeFailure(err error) *apiError {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errTimeout
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return errSchemaTooLarge
	}
	return errStore(err)
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// checkSubject refuses the names Confluent's registry refuses.
func checkSubject(subject string) *apiError {
	if subject == "" || strings.ContainsFunc(subject, isControl) ||
		subject == "__GLOBAL" || subject == "__EMPTY" {
		return errInvalidSubject(subject)
	}
	return nil
}

// boolParam reads a boolean query parameter: only "true", in any case, is
// true.
func boolParam(r *http.Request, name string) bool {
	return strings.EqualFold(r.URL.Query().Get(name), "true")
}

// paginate applies the offset and limit query parameters; a limit that is
// absent, not positive or above maxLimit means maxLimit (0: no limit).
func paginate[T any](r *http.Request, items []T, maxLimit int) []T {
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	offset = max(offset, 0)
	if offset >= len(items) {
		return items[:0]
	}
	items = items[offset:]
	if limit <= 0 || (maxLimit > 0 && limit > maxLimit) {
		limit = maxLimit
	}
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items
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
		return 0, errInvalidVersion(raw)
	}
	return int(n), nil
}

// readBody decodes a JSON request body into v. An empty body is refused as
// Confluent's registry refuses it.
func readBody(r *http.Request, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodySize))
	if err != nil {
		return &apiError{http.StatusRequestEntityTooLarge, 413, err.Error()}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return &apiError{http.StatusUnprocessableEntity, 422, "Request body is required"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return &apiError{http.StatusBadRequest, 400, err.Error()}
		}
		return &apiError{http.StatusBadRequest, 400, "Unrecognized request body"}
	}
	return nil
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
