package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/registry"
)

const orderSchema = `{"type":"record","name":"Order","namespace":"acme",
	"fields":[{"name":"id","type":"long"},{"name":"item","type":"string"}]}`

// TestWorkerBuiltInRegistryTLSAndAuth starts the built-in registry as the
// worker does, with basic auth over TLS and the password from ${env:...},
// and runs a file sink whose converter reaches it with the worker's own
// credentials and trusts its certificate.
func TestWorkerBuiltInRegistryTLSAndAuth(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	must(t, err)
	defer kc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	t.Setenv("REGISTRY_TEST_PASSWORD", "registry-pw-1")
	wc := config.DefaultWorker()
	wc.BootstrapServers = kc.ListenAddrs()
	wc.RegistryListener = "127.0.0.1:0"
	wc.RegistryTLSCertFile, wc.RegistryTLSKeyFile = certFile, keyFile
	wc.RegistryBasicUser = "eng"
	wc.RegistryBasicPassword = "${env:REGISTRY_TEST_PASSWORD}"
	must(t, wc.Validate())
	providers, err := workerProviders(wc)
	must(t, err)
	secrets := &config.Secrets{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg, stop, err := workerRegistry(ctx, log, wc, providers, secrets, false)
	must(t, err)
	defer stop()
	if len(reg.urls) != 1 || !strings.HasPrefix(reg.urls[0], "https://127.0.0.1:") {
		t.Fatalf("registry URLs %v, want one https:// URL", reg.urls)
	}
	if got := secrets.Redact("password registry-pw-1"); got != "password [hidden]" {
		t.Errorf("the resolved password is not redacted: %q", got)
	}

	// Without credentials the registry refuses; with them it registers.
	anon, err := registry.NewClient(reg.urls, registry.WithRootCAs(pool))
	must(t, err)
	if _, err := anon.Register(ctx, "orders-value", orderSchema); !errors.Is(err,
		registry.ErrAccessDenied) {
		t.Fatalf("register without credentials: %v, want access denied", err)
	}
	writer, err := registry.NewClient(reg.urls, registry.WithRootCAs(pool),
		registry.WithBasicAuth("eng", "registry-pw-1"))
	must(t, err)
	s, err := writer.Register(ctx, "orders-value", orderSchema)
	must(t, err)
	framed, err := schemas.NewConverter(nil).Encode(s, map[string]any{"id": int64(7),
		"item": "kettle"})
	must(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	must(t, err)
	defer cl.Close()
	must(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: framed}).FirstErr())

	out := t.TempDir()
	w := worker.New(worker.Options{
		Brokers: kc.ListenAddrs(), Plugins: sinkPlugins(), NewDecoder: decoders(reg),
		Logger: log, CommitInterval: 100 * time.Millisecond, SpoolDir: t.TempDir(),
		Secrets: secrets,
	})
	defer func() { _ = w.Close(context.Background()) }()
	must(t, w.Start(ctx, "orders-sink", map[string]string{
		"connector.class": "file", "file.dir": out, "topics": "orders",
		"format.class": "json", "flush.size": "1",
	}))
	var written string
	for written == "" {
		st, _ := w.Status("orders-sink")
		if ctx.Err() != nil || len(st.Tasks) > 0 && st.Tasks[0].State == "FAILED" {
			t.Fatalf("no file written: status %+v", st)
		}
		// The data file, orders+0+<offset>.json, not the segment's plan,
		// which is JSON too and written before it.
		_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "orders+") &&
				strings.HasSuffix(p, ".json") {
				data, _ := os.ReadFile(p)
				written = string(data)
			}
			return nil
		})
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(written, `"item":"kettle"`) || !strings.Contains(written, `"id":7`) {
		t.Errorf("sink wrote %q, want the decoded order", written)
	}
}

// TestConverterExternalRegistryBasicAuth reaches a registry that requires
// basic auth with USER_INFO credentials, per connector and from the worker,
// and checks that without them the refusal is permanent and names 401.
func TestConverterExternalRegistryBasicAuth(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		if u, p, ok := r.BasicAuth(); !ok || u != "reader" || p != "pw:2" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
			return
		}
		_, _ = w.Write([]byte(`{"schema":"\"string\""}`))
	}))
	defer ts.Close()
	framed := []byte{0, 0, 0, 0, 1, 6, 'a', 'b', 'c'} // id 1, the Avro string "abc"
	decode := func(reg registryAccess, cfg map[string]string) error {
		dec, err := decoders(reg)(cfg)
		if err != nil {
			return err
		}
		_, v, err := dec.Decode(context.Background(), framed)
		if err == nil && v != "abc" {
			t.Errorf("decoded %#v, want abc", v)
		}
		return err
	}
	own := map[string]string{config.KeyValueRegistryURL: ts.URL}
	withInfo := map[string]string{
		config.KeyValueRegistryURL:       ts.URL,
		config.KeyValueBasicAuthSource:   "USER_INFO",
		config.KeyValueBasicAuthUserInfo: "reader:pw:2",
	}
	fromURL := map[string]string{
		config.KeyValueRegistryURL:     strings.Replace(ts.URL, "://", "://reader:pw%3A2@", 1),
		config.KeyValueBasicAuthSource: "URL",
	}

	t.Setenv("REGISTRY_TEST_USER_INFO", "reader:pw:2")
	wc := config.DefaultWorker()
	wc.SchemaRegistryURLs = []string{ts.URL}
	wc.SchemaRegistryUserInfo = "${env:REGISTRY_TEST_USER_INFO}"
	must(t, wc.Validate())
	providers, err := workerProviders(wc)
	must(t, err)
	workerReg, _, err := workerRegistry(context.Background(), nil, wc, providers,
		&config.Secrets{}, true)
	must(t, err)

	for _, tt := range []struct {
		name string
		reg  registryAccess
		cfg  map[string]string
		ok   bool
	}{
		{"connector user info", registryAccess{}, withInfo, true},
		{"connector URL credentials", registryAccess{}, fromURL, true},
		{"worker user info", workerReg, map[string]string{}, true},
		{"worker user info, same URL", workerReg, own, true},
		{"no credentials", registryAccess{}, own, false},
		{"worker credentials kept from another URL",
			registryAccess{urls: []string{"http://127.0.0.1:1"}, auth: workerReg.auth}, own, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := decode(tt.reg, tt.cfg)
			if tt.ok {
				if err != nil {
					t.Errorf("decode: %v", err)
				}
				return
			}
			if !errors.Is(err, registry.ErrAccessDenied) || schemas.IsTransient(err) ||
				!strings.Contains(err.Error(), "401") {
				t.Errorf("decode: %v, want a permanent access denied naming 401", err)
			}
			if err != nil && strings.Contains(err.Error(), "pw:2") {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}
}

// A password in the worker's schema.registry.url is a secret the worker
// redacts, even where a message shows it without its URL.
func TestWorkerRegistryURLPasswordRedacted(t *testing.T) {
	wc := config.DefaultWorker()
	wc.SchemaRegistryURLs = []string{"http://reader:url-pw-9d2c@127.0.0.1:1"}
	must(t, wc.Validate())
	providers, err := workerProviders(wc)
	must(t, err)
	secrets := &config.Secrets{}
	_, _, err = workerRegistry(context.Background(), nil, wc, providers, secrets, true)
	must(t, err)
	if got := secrets.Redact("auth url-pw-9d2c refused"); got != "auth [hidden] refused" {
		t.Errorf("the URL's password is not redacted: %q", got)
	}
}
