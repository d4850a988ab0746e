package rest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
)

// MaxBodyBytes bounds a request body. Connector configs are a few KiB.
const MaxBodyBytes = 1 << 20

// Herder is what the API drives: the worker, in standalone mode. Every
// method is safe for concurrent use; ctx bounds the call, not the tasks it
// starts. Errors wrap the worker package's sentinels and types, which the
// API maps to statuses.
type Herder interface {
	Connectors() []string
	Info(name string) (worker.Info, error)
	Status(name string) (worker.ConnectorStatus, error)
	TaskConfigs(name string) ([]map[string]string, error)
	Create(ctx context.Context, name string, cfg map[string]string, target, owner string) error
	PutConfig(ctx context.Context, name string, cfg map[string]string, by string) (bool, error)
	Delete(ctx context.Context, name, by string) error
	Pause(ctx context.Context, name string) error
	Resume(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	Restart(ctx context.Context, name string, includeTasks, onlyFailed bool) (worker.ConnectorStatus, error)
	RestartTask(ctx context.Context, name string, id int) error
	Offsets(ctx context.Context, name string) ([]worker.SinkOffset, error)
	AlterOffsets(ctx context.Context, name string, offsets map[connectors.TopicPartition]*int64) (bool, error)
	ResetOffsets(ctx context.Context, name string) (bool, error)
	Plugins() []string
	PluginConfigDef(class string) (connectors.ConfigDef, bool)
	ValidateFields(name string, cfg map[string]string) []connectors.FieldError
	Secrets() *config.Secrets
}

// Options configure a Server.
type Options struct {
	Herder Herder
	// Version and Commit are what GET / reports.
	Version, Commit string
	// ClusterID returns the Kafka cluster id for GET /; it is called once
	// and the answer is kept.
	ClusterID func(ctx context.Context) (string, error)
	// Loggers backs /admin/loggers; nil serves no admin routes.
	Loggers *Loggers
	// Logger receives the audit log of changes, secrets masked.
	Logger *slog.Logger
	// BasicUser and BasicPassword, when set, are required as HTTP basic
	// credentials; BearerToken, when set, is accepted as a bearer token.
	// With any of them set, every route requires credentials.
	BasicUser, BasicPassword, BearerToken string
	// TLS, when not nil, makes Serve serve HTTPS only.
	TLS *tls.Config
	// BaseURL is the scheme and host of Location headers, such as
	// http://127.0.0.1:8083; empty uses the request's Host.
	BaseURL string
	// Leader, in distributed mode, returns the REST URL of the cluster's
	// leader and whether this worker is it; requests that change anything
	// are forwarded to the leader, signed with InterWorkerKey. nil serves
	// every request here.
	Leader func() (url string, self bool)
	// InterWorkerKey signs forwarded requests (inter.worker.key); a request
	// carrying a signature is refused unless it verifies.
	InterWorkerKey []byte
	// ForwardClient forwards requests (default: a client with a 100s
	// timeout).
	ForwardClient *http.Client
}

// Server is the REST API.
type Server struct {
	opts      Options
	log       *slog.Logger
	mux       *http.ServeMux
	patterns  []string // every route, for the OpenAPI test
	ready     atomic.Bool
	clusterID atomic.Pointer[string]
}

// New returns a server; call SetReady once the worker has started its
// connectors, so that /health answers healthy.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	s.routes()
	return s
}

// SetReady marks the worker as having completed startup.
func (s *Server) SetReady() { s.ready.Store(true) }

// Handler returns the API with authentication, body limits and the JSON
// error body applied.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signed := r.Header.Get(HeaderSignature) != ""
		if signed && (len(s.opts.InterWorkerKey) == 0 ||
			!verify(s.opts.InterWorkerKey, r, time.Now())) {
			writeJSON(w, http.StatusForbidden, errorf(http.StatusForbidden,
				"invalid worker-to-worker signature"))
			return
		}
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="tributary"`)
			writeJSON(w, http.StatusUnauthorized, errorf(http.StatusUnauthorized,
				"authentication required"))
			return
		}
		if !acceptsJSON(r.Header.Values("Accept")) {
			writeJSON(w, http.StatusNotAcceptable, errorf(http.StatusNotAcceptable,
				"HTTP 406 Not Acceptable"))
			return
		}
		if r.Body != nil && r.ContentLength != 0 {
			if ct := r.Header.Get("Content-Type"); ct != "" {
				if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
					writeJSON(w, http.StatusUnsupportedMediaType, errorf(
						http.StatusUnsupportedMediaType, "HTTP 415 Unsupported Media Type"))
					return
				}
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		if s.forwards(r) {
			if signed {
				// Leadership moved while the request travelled: no second hop.
				writeJSON(w, http.StatusConflict, errorf(http.StatusConflict,
					"the leader changed; retry the request"))
				return
			}
			s.forward(w, r)
			return
		}
		s.mux.ServeHTTP(&errorWriter{ResponseWriter: w}, r)
	})
}

// acceptsJSON reports whether Accept header values admit application/json,
// the only type the API produces; no Accept header admits anything.
func acceptsJSON(values []string) bool {
	seen := false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q <= 0 {
				continue
			}
			switch mt {
			case "*/*", "application/*", "application/json":
				return true
			}
		}
	}
	return !seen
}

// authorized checks the request's credentials in constant time. Hashing
// first makes the comparison independent of the lengths too.
func (s *Server) authorized(r *http.Request) bool {
	o := s.opts
	if o.BasicUser == "" && o.BearerToken == "" {
		return true
	}
	same := func(a, b string) bool {
		ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
		return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
	}
	if o.BasicUser != "" {
		if u, p, ok := r.BasicAuth(); ok {
			// Both compared, always, so that timing tells nothing.
			okUser, okPass := same(u, o.BasicUser), same(p, o.BasicPassword)
			if okUser && okPass {
				return true
			}
		}
	}
	if o.BearerToken != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			return same(tok, o.BearerToken)
		}
	}
	return false
}

// Serve serves the API on ln until ctx is done, then shuts down within
// five seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Kafka Connect lets a request wait 90s for the worker.
		WriteTimeout:   100 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		TLSConfig:      s.opts.TLS,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.opts.TLS != nil {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve REST API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// handler is an endpoint that returns its status and body, or an error.
type handler func(r *http.Request) (int, any, error)

// handle registers h for pattern; errors become the JSON error body, with
// every secret the worker knows redacted.
func (s *Server) handle(pattern string, h handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err != nil {
			ae := apiError(err, r.PathValue("name"), "Connector "+r.PathValue("name")+" not found")
			ae.Message = s.opts.Herder.Secrets().Redact(ae.Message)
			if ae.Code >= 500 {
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path,
					"err", ae.Message)
			}
			writeJSON(w, ae.Code, ae)
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		if l, ok := body.(locatedInfo); ok {
			w.Header().Set("Location", l.location)
		}
		writeJSON(w, status, body)
	})
}

// decode reads a JSON body into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errorf(http.StatusRequestEntityTooLarge,
				"request body is larger than %d bytes", tooLarge.Limit)
		}
		if errors.Is(err, io.EOF) {
			return errorf(http.StatusBadRequest, "request body is empty")
		}
		return errorf(http.StatusBadRequest, "invalid JSON: %v", err)
	}
	return nil
}
