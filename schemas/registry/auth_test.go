package registry

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServerAuthTLS serves over TLS with basic and bearer credentials and
// checks that each request passes only with a right credential.
func TestServerAuthTLS(t *testing.T) {
	// httptest's certificate, and a client that trusts it.
	certs := httptest.NewTLSServer(http.NotFoundHandler())
	defer certs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, ServerConfig{Brokers: newCluster(t), Addr: "127.0.0.1:0",
		Auth:      Auth{BasicUser: "ann", BasicPassword: "s3cret", BearerToken: "tok"},
		TLSConfig: &tls.Config{Certificates: certs.TLS.Certificates}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL() = %q, want https", s.URL())
	}

	for _, tt := range []struct {
		name   string
		set    func(*http.Request)
		status int
	}{
		{"none", func(*http.Request) {}, 401},
		{"basic", func(r *http.Request) { r.SetBasicAuth("ann", "s3cret") }, 200},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth("ann", "s3cre") }, 401},
		{"wrong user", func(r *http.Request) { r.SetBasicAuth("bob", "s3cret") }, 401},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }, 200},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer to") }, 401},
		{"token as basic", func(r *http.Request) { r.SetBasicAuth("tok", "") }, 401},
	} {
		req, _ := http.NewRequest("GET", s.URL()+"/subjects", nil)
		tt.set(req)
		resp, err := certs.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: GET /subjects = %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
	}

	// Plain HTTP to the TLS listener gets nowhere.
	resp, err := http.Get("http" + strings.TrimPrefix(s.URL(), "https") + "/subjects")
	if err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP to the TLS listener answered 200")
		}
	}
}

// TestServerAuthWrites checks that a write needs credentials too, and
// that the 401 body is the registry's error JSON.
func TestServerAuthWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := NewServer(ctx, ServerConfig{Brokers: newCluster(t), Auth: Auth{BearerToken: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer func() { ts.Close(); _ = s.Close() }()
	play(t, ts, []step{
		{"POST", "/subjects/a/versions", schemaBody(orderV1), 401, 401, nil},
		{"GET", "/subjects", "", 401, 401, nil},
	})
}
