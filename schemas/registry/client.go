package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"golang.org/x/sync/singleflight"

	"github.com/tributary-io/tributary/schemas"
)

// DefaultTimeout bounds one request to the registry. Retrying is the
// caller's business (the runtime backs off on schemas.ErrTransient), so a
// request that hangs must fail soon rather than hold a task.
const DefaultTimeout = 10 * time.Second

// Errors a registry answers with, besides schemas.ErrUnknownSchema. They
// are permanent.
var (
	// ErrSubjectNotFound reports a subject with no versions (40401).
	ErrSubjectNotFound = errors.New("subject not found")
	// ErrVersionNotFound reports a version the subject does not have (40402).
	ErrVersionNotFound = errors.New("version not found")
	// ErrAccessDenied reports a registry that refused the credentials (HTTP
	// 401 or 403). Retrying does not help; the configuration must change.
	ErrAccessDenied = errors.New("schema registry denied access")
)

// ClientOption changes a Client's defaults.
type ClientOption func(*clientOptions)

type clientOptions struct {
	timeout time.Duration
	httpcl  *http.Client
	srOpts  []sr.ClientOpt
	roots   *x509.CertPool
	// auth is set when an option gives credentials, which win over those
	// in the URLs.
	auth bool
}

// WithTimeout bounds each request (default DefaultTimeout).
func WithTimeout(d time.Duration) ClientOption {
	return func(o *clientOptions) { o.timeout = d }
}

// WithHTTPClient makes the client send its requests through httpcl. Its
// Timeout, when zero, is set from WithTimeout.
func WithHTTPClient(httpcl *http.Client) ClientOption {
	return func(o *clientOptions) { o.httpcl = httpcl }
}

// WithBasicAuth authenticates every request with user and password.
func WithBasicAuth(user, password string) ClientOption {
	return func(o *clientOptions) {
		o.srOpts, o.auth = append(o.srOpts, sr.BasicAuth(user, password)), true
	}
}

// WithBearerToken authenticates every request with token.
func WithBearerToken(token string) ClientOption {
	return func(o *clientOptions) {
		o.srOpts, o.auth = append(o.srOpts, sr.BearerToken(token)), true
	}
}

// WithRootCAs makes the client trust only the CAs in roots for https://
// registries, such as a private CA or a self-signed registry certificate.
// It applies to the client WithHTTPClient gives too, when that client's
// transport is an *http.Transport or nil.
func WithRootCAs(roots *x509.CertPool) ClientOption {
	return func(o *clientOptions) { o.roots = roots }
}

// Client talks to a Confluent-compatible Schema Registry. It implements
// schemas.Resolver and caches every schema it fetched by id for its
// lifetime: an id never changes meaning. It is safe for concurrent use;
// concurrent lookups of one id share one request.
type Client struct {
	sr    *sr.Client
	cache sync.Map // int -> *schemas.Schema
	group singleflight.Group
}

// NewClient returns a client for the registry at urls, tried in order. The
// user info of a URL, as in http://user:password@registry:8081, is sent as
// basic credentials to that URL unless WithBasicAuth or WithBearerToken
// gives others; it is never part of a request URL, so no error quotes it.
func NewClient(urls []string, opts ...ClientOption) (*Client, error) {
	o := clientOptions{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	urls, creds, err := splitUserInfo(urls)
	if err != nil {
		return nil, err
	}
	if len(creds) > 0 && !o.auth {
		o.srOpts = append(o.srOpts, sr.PreReq(func(r *http.Request) error {
			if ui := creds[r.URL.Scheme+"://"+r.URL.Host]; ui != nil {
				pass, _ := ui.Password()
				r.SetBasicAuth(ui.Username(), pass)
			}
			return nil
		}))
	}
	httpcl := o.httpcl
	if httpcl == nil {
		httpcl = &http.Client{}
	}
	if httpcl.Timeout == 0 || o.roots != nil {
		copied := *httpcl
		if copied.Timeout == 0 {
			copied.Timeout = o.timeout
		}
		if o.roots != nil {
			t, err := trusting(copied.Transport, o.roots)
			if err != nil {
				return nil, err
			}
			copied.Transport = t
		}
		httpcl = &copied
	}
	srOpts := append([]sr.ClientOpt{sr.URLs(urls...), sr.HTTPClient(httpcl)}, o.srOpts...)
	cl, err := sr.NewClient(srOpts...)
	if err != nil {
		return nil, fmt.Errorf("create schema registry client: %w", err)
	}
	return &Client{sr: cl}, nil
}

// splitUserInfo returns urls without their user info, and the user info
// by scheme and host. An unparsable URL is refused without quoting it, as
// it may hold a password.
func splitUserInfo(urls []string) ([]string, map[string]*url.Userinfo, error) {
	bare := make([]string, len(urls))
	var creds map[string]*url.Userinfo
	for i, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			// Even the parser's reason may quote a piece of the password.
			return nil, nil, fmt.Errorf("create schema registry client: URL %d of %d "+
				"does not parse", i+1, len(urls))
		}
		if u.User != nil {
			if creds == nil {
				creds = make(map[string]*url.Userinfo)
			}
			creds[u.Scheme+"://"+u.Host] = u.User
			u.User = nil
		}
		bare[i] = u.String()
	}
	return bare, creds, nil
}

// trusting returns a copy of rt, or of http.DefaultTransport when rt is
// nil, that trusts roots.
func trusting(rt http.RoundTripper, roots *x509.CertPool) (http.RoundTripper, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("create schema registry client: root CAs need an *http.Transport, "+
			"got %T", rt)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.RootCAs = roots
	return t, nil
}

// SchemaByID returns the schema registered under id. An unknown id fails
// with schemas.ErrUnknownSchema, an unreachable or failing registry with an
// error wrapping schemas.ErrTransient. Only successes are cached.
func (c *Client) SchemaByID(ctx context.Context, id int) (*schemas.Schema, error) {
	if s, ok := c.cache.Load(id); ok {
		return s.(*schemas.Schema), nil
	}
	v, err, _ := c.group.Do(strconv.Itoa(id), func() (any, error) {
		if s, ok := c.cache.Load(id); ok {
			return s, nil
		}
		got, err := c.sr.SchemaByID(ctx, id)
		if err != nil {
			return nil, classify(fmt.Sprintf("get schema %d", id), err)
		}
		s, err := parse(id, got)
		if err != nil {
			return nil, err
		}
		c.cache.Store(id, s)
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*schemas.Schema), nil
}

// Register registers the Avro schema text under subject and returns the
// schema with the id the registry assigned, or the existing one when the
// registry already has it.
func (c *Client) Register(ctx context.Context, subject, text string) (*schemas.Schema, error) {
	parsed, err := parseAvro(text)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", subject, err)
	}
	id, err := c.sr.RegisterSchema(ctx, subject, sr.Schema{Schema: text, Type: sr.TypeAvro}, -1, -1)
	if err != nil {
		return nil, classify("register "+subject, err)
	}
	s := &schemas.Schema{ID: id, Avro: parsed, Text: text}
	c.cache.LoadOrStore(id, s)
	return s, nil
}

// Lookup returns the schema and version under which subject already holds
// the Avro schema text. It fails with ErrSubjectNotFound or
// schemas.ErrUnknownSchema when the registry does not have it.
func (c *Client) Lookup(ctx context.Context, subject, text string) (*schemas.Schema, int, error) {
	parsed, err := parseAvro(text)
	if err != nil {
		return nil, 0, fmt.Errorf("look up %s: %w", subject, err)
	}
	ss, err := c.sr.LookupSchema(ctx, subject, sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		return nil, 0, classify("look up "+subject, err)
	}
	return &schemas.Schema{ID: ss.ID, Avro: parsed, Text: ss.Schema.Schema}, ss.Version, nil
}

func parse(id int, s sr.Schema) (*schemas.Schema, error) {
	if s.Type != sr.TypeAvro {
		return nil, fmt.Errorf("schema %d has type %s; only AVRO is supported", id, s.Type)
	}
	if len(s.References) > 0 {
		return nil, fmt.Errorf("schema %d has references, which are not supported", id)
	}
	parsed, err := parseAvro(s.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema %d: %w", id, err)
	}
	return &schemas.Schema{ID: id, Avro: parsed, Text: s.Schema}, nil
}

// parseAvro parses text with a fresh name cache, so that named types of
// one schema never resolve references in another.
func parseAvro(text string) (avro.Schema, error) {
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parse avro schema: %w", err)
	}
	return s, nil
}

// classify maps a registry failure to the errors callers act on: not found
// and access denied are permanent; network failures, timeouts, throttling
// and server errors are transient. It is the one place that decides.
func classify(op string, err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusNotFound && re.ErrorCode == 40403:
			return fmt.Errorf("%s: %w", op, schemas.ErrUnknownSchema)
		case re.StatusCode == http.StatusNotFound && re.ErrorCode == 40401:
			return fmt.Errorf("%s: %w", op, ErrSubjectNotFound)
		case re.StatusCode == http.StatusNotFound && re.ErrorCode == 40402:
			return fmt.Errorf("%s: %w", op, ErrVersionNotFound)
		case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%s: %w (HTTP %d)", op, ErrAccessDenied, re.StatusCode)
		case re.StatusCode >= 500 || re.StatusCode == http.StatusTooManyRequests ||
			re.StatusCode == http.StatusRequestTimeout:
			return fmt.Errorf("%s: %w: HTTP %d, error code %d: %s",
				op, schemas.ErrRegistryUnavailable, re.StatusCode, re.ErrorCode, re.Message)
		}
		return fmt.Errorf("%s: HTTP %d, error code %d: %s",
			op, re.StatusCode, re.ErrorCode, re.Message)
	}
	if errors.Is(err, context.Canceled) {
		// The caller gave up; nothing to retry.
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, schemas.ErrRegistryUnavailable, err)
}
