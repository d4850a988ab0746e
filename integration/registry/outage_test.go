//go:build integration

package registry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/registry"
)

const clickSchema = `{"type":"record","name":"Click","namespace":"it.outage","fields":[
	{"name":"seq","type":"long"},{"name":"url","type":"string"}]}`

// retryWarning is what a task logs each time it backs off from a registry
// that could not answer.
const retryWarning = "schema registry unavailable; retrying"

// TestIntegrationRegistryOutage runs a sink task over a real Kafka topic
// while the registry that names its records' schema is down: the task
// neither fails nor skips a record but retries with backoff, and once the
// registry is back on its address every record reaches the sink, decoded
// and in order.
func TestIntegrationRegistryOutage(t *testing.T) {
	env := services.Require(t)
	topic := services.NewTopic(t, env, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The records are framed while the registry runs, then it stops.
	reg, s := registerClick(ctx, t, env.KafkaBrokers, topic)
	addr := strings.TrimPrefix(reg.URL(), "http://")
	const n = 50
	want := make([]any, n)
	records := make([]*kgo.Record, n)
	for i := range n {
		want[i] = map[string]any{"seq": int64(i), "url": fmt.Sprintf("/page/%d", i)}
		framed, err := schemas.NewConverter(nil).Encode(s, want[i])
		if err != nil {
			t.Fatal(err)
		}
		records[i] = &kgo.Record{Topic: topic, Value: framed}
	}
	produce(ctx, t, env.KafkaBrokers, records)
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}

	// A worker whose converter asks the stopped registry.
	w, sink, logs := startWorker(ctx, t, env.KafkaBrokers, topic, "http://"+addr)

	// Down: the task backs off and retries; nothing is skipped or failed.
	poll(ctx, t, "three retry warnings", func() bool { return logs.Count(retryWarning) >= 3 })
	if got := sink.values(); len(got) != 0 {
		t.Errorf("the sink got %d records while the registry was down, want none", len(got))
	}
	if st, err := w.Status(connectorName(topic)); err != nil || len(st.Tasks) != 1 ||
		st.Tasks[0].State != "RUNNING" {
		t.Errorf("status while the registry is down = %+v, %v; want one RUNNING task", st, err)
	}

	// Back: every record arrives, decoded, in order.
	retries := logs.Count(retryWarning)
	startRegistry(ctx, t, env.KafkaBrokers, "_schemas_"+topic, addr)
	poll(ctx, t, fmt.Sprintf("%d records in the sink", n), func() bool {
		return len(sink.values()) >= n
	})
	if got := sink.values(); !reflect.DeepEqual(got, want) {
		t.Errorf("the sink got %d records, want the %d produced, in order:\n%v", len(got), n, got)
	}
	t.Logf("%d records delivered after the registry came back; %d retries while it was down",
		n, retries)
}

// connectorName is the connector a test runs over topic. The topic is
// unique, so the connector's consumer group is the test's own on the shared
// Kafka, free of other tests' members and offsets.
func connectorName(topic string) string { return "clicks-" + topic }

// startWorker runs a worker with one connector over topic, whose records
// go to the returned recorder once decoded through the registry at url. It
// logs to the returned buffer.
func startWorker(ctx context.Context, t *testing.T, brokers []string, topic, url string,
	opts ...registry.ClientOption,
) (*worker.Worker, *recorder, *workertest.Logs) {
	t.Helper()
	logs := &workertest.Logs{}
	sink := &recorder{}
	w := worker.New(worker.Options{
		Brokers: brokers,
		Plugins: map[string]connectors.SinkConnector{"recorder": sink},
		NewDecoder: func(map[string]string) (worker.Decoder, error) {
			opts := append([]registry.ClientOption{registry.WithTimeout(time.Second)}, opts...)
			cl, err := registry.NewClient([]string{url}, opts...)
			if err != nil {
				return nil, err
			}
			return schemas.NewConverter(cl), nil
		},
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
		CommitInterval: 100 * time.Millisecond,
		SessionTimeout: 6 * time.Second,
	})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	err := w.Create(ctx, connectorName(topic), map[string]string{"connector.class": "recorder",
		"topics": topic, "fake.required": "x"}, store.TargetStarted, "")
	if err != nil {
		t.Fatalf("create connector: %v", err)
	}
	return w, sink, logs
}

// TestIntegrationRegistryDenied runs a sink task whose registry refuses
// its credentials: the task fails at once, saying why, without retrying
// and without handing a record to the sink.
func TestIntegrationRegistryDenied(t *testing.T) {
	env := services.Require(t)
	topic := services.NewTopic(t, env, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, s := registerClick(ctx, t, env.KafkaBrokers, topic)
	framed, err := schemas.NewConverter(nil).Encode(s, map[string]any{"seq": int64(1), "url": "/"})
	if err != nil {
		t.Fatal(err)
	}
	produce(ctx, t, env.KafkaBrokers, []*kgo.Record{{Topic: topic, Value: framed}})

	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error_code":403,"message":"Forbidden"}`))
	}))
	t.Cleanup(gate.Close)
	w, sink, logs := startWorker(ctx, t, env.KafkaBrokers, topic, gate.URL,
		registry.WithBasicAuth("reader", "wrong"))

	var st worker.ConnectorStatus
	poll(ctx, t, "the task to fail", func() bool {
		st, _ = w.Status(connectorName(topic))
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
	})
	if trace := st.Tasks[0].Trace; !strings.Contains(trace, "denied access") ||
		!strings.Contains(trace, "403") {
		t.Errorf("failed task trace = %q, want the registry's 403 named", trace)
	}
	if n := logs.Count(retryWarning); n != 0 {
		t.Errorf("%d retries of a registry that denied access, want none", n)
	}
	if got := sink.values(); len(got) != 0 {
		t.Errorf("the sink got %d records, want none", len(got))
	}
}

// registerClick starts a registry over a schema topic of its own and
// registers the click schema under topic's value subject.
func registerClick(ctx context.Context, t *testing.T, brokers []string, topic string) (
	*registry.Server, *schemas.Schema,
) {
	t.Helper()
	t.Cleanup(func() { deleteTopic(t, brokers, "_schemas_"+topic) })
	reg := startRegistry(ctx, t, brokers, "_schemas_"+topic, "127.0.0.1:0")
	writer, err := registry.NewClient([]string{reg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := writer.Register(ctx, topic+"-value", clickSchema)
	if err != nil {
		t.Fatal(err)
	}
	return reg, s
}

func startRegistry(ctx context.Context, t *testing.T, brokers []string, topic,
	addr string,
) *registry.Server {
	t.Helper()
	s, err := registry.Start(ctx, registry.ServerConfig{Brokers: brokers, Topic: topic,
		Addr: addr})
	if err != nil {
		t.Fatalf("start the registry on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func produce(ctx context.Context, t *testing.T, brokers []string, records []*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// deleteTopic removes a schema topic a registry created.
func deleteTopic(t *testing.T, brokers []string, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Errorf("delete topic %s: %v", topic, err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Errorf("delete topic %s: %v", topic, err)
	}
}

// poll waits until cond holds, failing the test when ctx ends first.
func poll(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// recorder is a sink connector that keeps the value of every record its
// tasks are handed.
type recorder struct {
	workertest.Sink
	mu  sync.Mutex
	got []any
}

func (r *recorder) NewTask() connectors.SinkTask {
	return &recordingTask{SinkTask: r.Sink.NewTask(), r: r}
}

func (r *recorder) values() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.got...)
}

type recordingTask struct {
	connectors.SinkTask
	r *recorder
}

func (t *recordingTask) Put(ctx context.Context, rs []*connectors.Record) error {
	t.r.mu.Lock()
	for _, rec := range rs {
		t.r.got = append(t.r.got, rec.Value)
	}
	t.r.mu.Unlock()
	return t.SinkTask.Put(ctx, rs)
}
