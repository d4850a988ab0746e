package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/rest"
	"github.com/tributary-io/tributary/runtime/worker"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tributary test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "rest.crt"), filepath.Join(dir, "rest.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestRESTServerTLSAndAuth starts the REST API as the worker command does,
// with TLS and a basic password given as ${env:...}.
func TestRESTServerTLSAndAuth(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	t.Setenv("REST_TEST_PASSWORD", "pw-from-env")
	wc := config.DefaultWorker()
	wc.Listeners = []string{"https://127.0.0.1:0"}
	wc.RESTTLSCertFile, wc.RESTTLSKeyFile = certFile, keyFile
	wc.RESTBasicUsername, wc.RESTBasicPassword = "admin", "${env:REST_TEST_PASSWORD}"
	if err := wc.Validate(); err != nil {
		t.Fatal(err)
	}
	providers, err := workerProviders(wc)
	if err != nil {
		t.Fatal(err)
	}
	ln := serveREST(t, wc, worker.New(worker.Options{}), providers)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(user, pass string) int {
		req, _ := http.NewRequest("GET", "https://"+ln.Addr().String()+"/connectors", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("admin", "pw-from-env"); got != http.StatusOK {
		t.Errorf("with the resolved password: %d", got)
	}
	if got := get("admin", "${env:REST_TEST_PASSWORD}"); got != http.StatusUnauthorized {
		t.Errorf("with the reference as password: %d", got)
	}
	if got := get("", ""); got != http.StatusUnauthorized {
		t.Errorf("without credentials: %d", got)
	}
	if resp, err := http.Get("http://" + ln.Addr().String() + "/connectors"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP on the TLS listener answered %d", resp.StatusCode)
		}
	}
}

// serveREST serves w's REST API as wc configures it until t ends, and
// returns its listener.
func serveREST(t *testing.T, wc *config.Worker, w *worker.Worker,
	providers *config.Providers,
) net.Listener {
	t.Helper()
	srv, ln, err := newRESTServer(wc, w, rest.NewLoggers(0, nil), providers, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln
}
