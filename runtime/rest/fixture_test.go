package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
)

// fixture is a worker on an in-process Kafka with the API in front.
type fixture struct {
	t      *testing.T
	w      *worker.Worker
	srv    *Server
	http   *httptest.Server
	topic  string
	kafka  *kfake.Cluster
	client *http.Client
	// check, when set, validates every exchange (the OpenAPI test sets it).
	check func(t *testing.T, req *http.Request, resp *http.Response, body []byte)
}

// newFixture starts the fixture on an in-process Kafka whose topic "orders"
// holds 10 records over 2 partitions; each of tweaks may change the
// worker's options before the worker is created.
func newFixture(t *testing.T, opts Options, tweaks ...func(*worker.Options)) *fixture {
	t.Helper()
	const topic = "orders"
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	produce(t, kc.ListenAddrs(), topic, 10)
	f := newFixtureOn(t, kc.ListenAddrs(), topic, opts, tweaks...)
	f.kafka = kc
	return f
}

// newFixtureOn starts the fixture on the given brokers, where topic holds
// 10 records over 2 partitions.
func newFixtureOn(t *testing.T, brokers []string, topic string, opts Options,
	tweaks ...func(*worker.Options)) *fixture {
	t.Helper()
	wo := worker.Options{
		Brokers:        brokers,
		Plugins:        map[string]connectors.SinkConnector{"fake": workertest.DeclaredSink{}},
		NewDecoder:     func(map[string]string) (worker.Decoder, error) { return workertest.Raw{}, nil },
		CommitInterval: 50 * time.Millisecond,
		SessionTimeout: 6 * time.Second,
		WorkerID:       "127.0.0.1:8083",
		Secrets:        &config.Secrets{},
		Providers: &config.Providers{Enabled: []string{config.ProviderEnv},
			Getenv: func(n string) (string, bool) {
				if n == "FAKE_SECRET" {
					return "resolved-s3cr3t-value", true
				}
				return "", false
			}},
	}
	for _, tweak := range tweaks {
		tweak(&wo)
	}
	w := worker.New(wo)
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	opts.Herder = w
	if opts.Version == "" {
		opts.Version = "1.0.0"
	}
	opts.Commit = "abc123"
	opts.ClusterID = func(context.Context) (string, error) { return "fake-cluster", nil }
	if opts.Loggers == nil {
		opts.Loggers = NewLoggers(slog.LevelInfo, wo.Secrets.Redact)
		slog.New(opts.Loggers.Handler(slog.DiscardHandler)).With("logger", "worker")
	}
	srv := New(opts)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &fixture{t: t, w: w, srv: srv, http: hs, topic: topic, client: hs.Client()}
}

func produce(t *testing.T, brokers []string, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range n {
		r := &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: []byte("v")}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// do sends a request and returns the status and the body.
func (f *fixture) do(method, path string, body any, header ...string) (int, []byte, http.Header) {
	f.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			f.t.Fatal(err)
		}
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.http.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.check != nil {
		req.Body = io.NopCloser(bytes.NewReader(raw))
		f.check(f.t, req, resp, out)
	}
	return resp.StatusCode, out, resp.Header
}

// expect sends a request, checks the status and decodes the body into v.
func (f *fixture) expect(status int, method, path string, body, v any) []byte {
	f.t.Helper()
	got, out, _ := f.do(method, path, body)
	if got != status {
		f.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, status, out)
	}
	if v != nil {
		reflect.ValueOf(v).Elem().SetZero() // Unmarshal merges into maps
		if err := json.Unmarshal(out, v); err != nil {
			f.t.Fatalf("%s %s: decode %s: %v", method, path, out, err)
		}
	}
	return out
}

// expectError checks an error answer: status, error_code and a message
// containing want.
func (f *fixture) expectError(status int, method, path string, body any, want string) {
	f.t.Helper()
	var e Error
	f.expect(status, method, path, body, &e)
	if e.Code != status || !strings.Contains(e.Message, want) {
		f.t.Fatalf("%s %s: error %+v, want code %d and a message with %q", method, path, e,
			status, want)
	}
}

// waitState polls the connector's status until the connector and every
// task reach state, or fails after a minute.
func (f *fixture) waitState(name, state string, tasks int) connectorState {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	var st connectorState
	for {
		f.expect(http.StatusOK, "GET", "/connectors/"+name+"/status", nil, &st)
		ok := st.Connector.State == state && len(st.Tasks) == tasks
		for _, ts := range st.Tasks {
			ok = ok && ts.State == state
		}
		if ok {
			return st
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("connector %s: status %+v, want %s with %d tasks", name, st, state, tasks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sinkConfig(extra ...string) map[string]any {
	return sinkConfigOn("orders", extra...)
}

// sinkConfig is the config of a sink of the fixture's topic.
func (f *fixture) sinkConfig(extra ...string) map[string]any {
	return sinkConfigOn(f.topic, extra...)
}

func sinkConfigOn(topic string, extra ...string) map[string]any {
	cfg := map[string]any{
		"connector.class": "fake", "topics": topic, "tasks.max": 2,
		"fake.required": "yes",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

// waitFor polls cond until it holds, or fails after a minute.
func (f *fixture) waitFor(cond func() bool, what string) {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
