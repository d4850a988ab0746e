package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

func TestClientAgainstServer(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")
	ctx := context.Background()
	cl, err := NewClient([]string{ts.URL})
	if err != nil {
		t.Fatal(err)
	}

	reg, err := cl.Register(ctx, "orders-value", orderV1)
	if err != nil || reg.ID != 1 {
		t.Fatalf("Register = %+v, %v; want id 1", reg, err)
	}
	again, err := cl.Register(ctx, "orders-value", orderV1Spaced)
	if err != nil || again.ID != 1 {
		t.Fatalf("Register again = %+v, %v; want id 1", again, err)
	}

	fresh, err := NewClient([]string{ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	got, err := fresh.SchemaByID(ctx, 1)
	if err != nil {
		t.Fatalf("SchemaByID: %v", err)
	}
	if got.ID != 1 || got.Text != canonical(t, orderV1) || got.Avro.Type() != "record" {
		t.Errorf("SchemaByID = %+v", got)
	}
	cached, _ := fresh.SchemaByID(ctx, 1)
	if cached != got {
		t.Error("second SchemaByID did not come from the cache")
	}

	s, version, err := cl.Lookup(ctx, "orders-value", orderV1)
	if err != nil || s.ID != 1 || version != 1 {
		t.Errorf("Lookup = %+v, %d, %v; want id 1 version 1", s, version, err)
	}
	if _, _, err := cl.Lookup(ctx, "orders-value", clickV1); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Lookup of an unregistered schema err = %v, want ErrUnknownSchema", err)
	}
	if _, _, err := cl.Lookup(ctx, "nope", clickV1); !errors.Is(err, ErrSubjectNotFound) {
		t.Errorf("Lookup in an unknown subject err = %v, want ErrSubjectNotFound", err)
	}
	_, err = cl.SchemaByID(ctx, 99)
	if !errors.Is(err, schemas.ErrUnknownSchema) || schemas.IsTransient(err) {
		t.Errorf("SchemaByID(99) err = %v, want permanent ErrUnknownSchema", err)
	}
	if _, err := cl.Register(ctx, "x", `{"type":"nope"}`); err == nil {
		t.Error("Register of an invalid schema succeeded")
	}

	// The converter resolves ids through the client.
	conv := schemas.NewConverter(fresh)
	wire, err := conv.Encode(got, map[string]any{"id": int64(5)})
	if err != nil {
		t.Fatal(err)
	}
	_, v, err := conv.Decode(ctx, wire)
	if err != nil || v.(map[string]any)["id"] != int64(5) {
		t.Errorf("Decode = %v, %v", v, err)
	}
}

func TestClientErrorClasses(t *testing.T) {
	var status atomic.Int64
	var body atomic.Value
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaV1)
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(body.Load().(string)))
	}))
	defer ts.Close()

	tests := []struct {
		name      string
		status    int
		body      string
		want      error
		transient bool
	}{
		{"unknown id", 404, `{"error_code":40403,"message":"Schema 5 not found"}`,
			schemas.ErrUnknownSchema, false},
		{"unknown subject", 404, `{"error_code":40401,"message":"Subject 'x' not found."}`,
			ErrSubjectNotFound, false},
		{"server error", 500, `{"error_code":50001,"message":"store"}`, schemas.ErrRegistryUnavailable, true},
		{"bad gateway without body", 502, ``, schemas.ErrTransient, true},
		{"throttled", 429, `{}`, schemas.ErrTransient, true},
		{"unauthorized", 401, `{"error_code":401,"message":"Unauthorized"}`, ErrAccessDenied, false},
		{"forbidden", 403, `{"error_code":403,"message":"Forbidden"}`, ErrAccessDenied, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(int64(tt.status))
			body.Store(tt.body)
			cl, err := NewClient([]string{ts.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.SchemaByID(context.Background(), i+1)
			if !errors.Is(err, tt.want) || schemas.IsTransient(err) != tt.transient {
				t.Errorf("err = %v, want %v (transient %v)", err, tt.want, tt.transient)
			}
		})
	}
}

// refusingAddr returns an address that refuses connections for the whole
// test: a socket bound and never listening holds its port, where a port
// freed again could be taken by a server that answers.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

func TestClientUnreachable(t *testing.T) {
	addr := refusingAddr(t)
	cl, err := NewClient([]string{"http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SchemaByID(context.Background(), 1); !schemas.IsTransient(err) {
		t.Errorf("connection refused: err = %v, want transient", err)
	}
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	cl, err := NewClient([]string{ts.URL}, WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SchemaByID(context.Background(), 1); !schemas.IsTransient(err) {
		t.Errorf("timeout: err = %v, want transient", err)
	}
}

// WithRootCAs makes a registry with a certificate of a private CA
// reachable, and keeps the timeout and a given HTTP client's transport.
func TestClientRootCAs(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaV1)
		_, _ = w.Write([]byte(`{"schema":"\"string\""}`))
	}))
	defer ts.Close()
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())

	plain, err := NewClient([]string{ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.SchemaByID(context.Background(), 1); err == nil {
		t.Error("a certificate of an unknown CA was trusted")
	}
	for _, opts := range [][]ClientOption{
		{WithRootCAs(roots)},
		{WithHTTPClient(&http.Client{Transport: &http.Transport{}}), WithRootCAs(roots)},
	} {
		cl, err := NewClient([]string{ts.URL}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		s, err := cl.SchemaByID(context.Background(), 1)
		if err != nil || s.Text != `"string"` {
			t.Errorf("with the CA: %+v, %v", s, err)
		}
	}
	_, err = NewClient([]string{ts.URL},
		WithHTTPClient(&http.Client{Transport: roundTripper(nil)}), WithRootCAs(roots))
	if err == nil {
		t.Error("root CAs were accepted for a transport they cannot apply to")
	}
}

// roundTripper is an http.RoundTripper that is not an *http.Transport.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The user info of a URL authenticates the requests to that URL, and no
// error quotes its password.
func TestClientURLUserInfo(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaV1)
		if user, pass, ok := r.BasicAuth(); !ok || user != "reader" || pass != "pw-1234" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
			return
		}
		_, _ = w.Write([]byte(`{"schema":"\"string\""}`))
	}))
	defer ts.Close()
	withCreds := strings.Replace(ts.URL, "http://", "http://reader:pw-1234@", 1)

	cl, err := NewClient([]string{withCreds})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := cl.SchemaByID(context.Background(), 1); err != nil || s.Text != `"string"` {
		t.Fatalf("SchemaByID with the URL's credentials = %v, %v", s, err)
	}
	cl, err = NewClient([]string{withCreds}, WithBasicAuth("reader", "other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SchemaByID(context.Background(), 1); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("WithBasicAuth did not win over the URL's user info: %v", err)
	}

	// Nobody answers.
	cl, err = NewClient([]string{"http://reader:pw-1234@" + refusingAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.SchemaByID(context.Background(), 1)
	if err == nil || strings.Contains(err.Error(), "pw-1234") {
		t.Errorf("unreachable registry: err %v", err)
	}
	_, err = NewClient([]string{"http://reader:pw-1234@host:port\x7f"})
	if err == nil || strings.Contains(err.Error(), "pw-1234") {
		t.Errorf("unparsable URL: err %v", err)
	}
}
