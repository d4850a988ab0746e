package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
)

func newWorker(t *testing.T, brokers []string, st store.ConfigStore) *worker.Worker {
	t.Helper()
	return newWorkerWith(t, brokers, st, workertest.Sink{})
}

// newWorkerWith is newWorker with sink as the "fake" connector.
func newWorkerWith(t *testing.T, brokers []string, st store.ConfigStore,
	sink connectors.SinkConnector,
) *worker.Worker {
	t.Helper()
	w := worker.New(worker.Options{
		Brokers:        brokers,
		Plugins:        map[string]connectors.SinkConnector{"fake": sink},
		NewDecoder:     func(map[string]string) (worker.Decoder, error) { return workertest.Raw{}, nil },
		CommitInterval: 50 * time.Millisecond,
		SessionTimeout: 6 * time.Second,
		Store:          st,
	})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

func writeConnector(t *testing.T, path, name, required string) {
	t.Helper()
	yaml := "name: " + name + "\nconfig:\n  connector.class: fake\n  topics: orders\n" +
		"  fake.required: " + required + "\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newKafka returns a fake Kafka with a one-partition topic "orders",
// closed when t ends.
func newKafka(t *testing.T) *kfake.Cluster {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close) // after the workers' cleanups: their tasks leave the group
	return kc
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPipelinesAndRestore applies a pipelines directory, follows its
// changes, keeps connectors created through the API, and brings everything
// back in its target state in a new worker over the same store.
func TestPipelinesAndRestore(t *testing.T) {
	ctx := context.Background()
	kc := newKafka(t)
	dir := t.TempDir()
	pipes := filepath.Join(dir, "pipelines")
	if err := os.Mkdir(pipes, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenFile(filepath.Join(dir, "state", "connectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, kc.ListenAddrs(), st)
	p := worker.Pipelines{Dir: pipes}

	aFile := filepath.Join(pipes, "a.yaml")
	writeConnector(t, aFile, "a", "one")
	changes, err := w.Apply(ctx, p)
	if err != nil || len(changes) != 1 || changes[0].Action != store.ActionCreate {
		t.Fatalf("apply: %+v %v", changes, err)
	}
	must(t, w.Create(ctx, "api", map[string]string{"connector.class": "fake", "topics": "orders",
		"fake.required": "x"}, store.TargetStarted, ""))

	var owned *worker.OwnedError
	if _, err := w.PutConfig(ctx, "a", map[string]string{}, ""); !errors.As(err, &owned) ||
		owned.File != aFile {
		t.Fatalf("API change of a file's connector: %v", err)
	}
	if err := w.Delete(ctx, "a", ""); !errors.As(err, &owned) {
		t.Fatalf("API delete of a file's connector: %v", err)
	}

	// Follow the directory: an edit, a new file, a removed file.
	wctx, stop := context.WithCancel(ctx)
	watched := make(chan error, 1)
	go func() { watched <- w.Watch(wctx, p) }()
	defer func() {
		stop()
		if err := <-watched; err != nil {
			t.Error(err)
		}
	}()
	writeConnector(t, aFile, "a", "two")
	waitFor(t, "a reconfigured", func() bool {
		info, err := w.Info("a")
		return err == nil && info.Config["fake.required"] == "two"
	})
	writeConnector(t, filepath.Join(pipes, "b.yml"), "b", "b")
	waitFor(t, "b created", func() bool { return slices.Contains(w.Connectors(), "b") })
	must(t, os.Remove(aFile))
	waitFor(t, "a deleted", func() bool { return !slices.Contains(w.Connectors(), "a") })
	// Kafka Connect's .properties files are followed too.
	props := filepath.Join(pipes, "c.properties")
	writeProps := func(value string) {
		must(t, os.WriteFile(props, []byte("name=c\nconnector.class=fake\ntopics=orders\n"+
			"fake.required="+value+"\n"), 0o600))
	}
	writeProps("c1")
	waitFor(t, "c created", func() bool { return slices.Contains(w.Connectors(), "c") })
	writeProps("c2")
	waitFor(t, "c reconfigured", func() bool {
		info, err := w.Info("c")
		return err == nil && info.Config["fake.required"] == "c2"
	})
	must(t, os.Remove(props))
	waitFor(t, "c deleted", func() bool { return !slices.Contains(w.Connectors(), "c") })
	if got := w.Connectors(); !slices.Equal(got, []string{"api", "b"}) {
		t.Fatalf("connectors: %v", got)
	}

	// A new worker over the same store resumes each in its target state.
	must(t, w.Pause(ctx, "api"))
	must(t, w.Stop(ctx, "b"))
	stop()
	must(t, w.Close(ctx))
	st2, err := store.OpenFile(filepath.Join(dir, "state", "connectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	w2 := newWorker(t, kc.ListenAddrs(), st2)
	must(t, w2.Restore(ctx))
	if plan, err := w2.Plan(ctx, p); err != nil || len(plan) != 0 {
		t.Errorf("plan after restore: %+v %v", plan, err)
	}
	waitFor(t, "api paused and b stopped", func() bool {
		api, _ := w2.Status("api")
		b, _ := w2.Status("b")
		return api.State == worker.StatePaused && len(api.Tasks) == 1 &&
			api.Tasks[0].State == worker.StatePaused &&
			b.State == worker.StateStopped && len(b.Tasks) == 0
	})
	if info, _ := w2.Info("b"); info.Owner != filepath.Join(pipes, "b.yml") {
		t.Errorf("owner of b after restore: %q", info.Owner)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoadPipelinesReportsEverything reports a shared key's error and the
// connector's own together, each at its line, for every file at once.
func TestLoadPipelinesReportsEverything(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	must(t, os.WriteFile(bad, []byte("name: bad\nconfig:\n  connector.class: fake\n"+
		"  topics: orders\n  tasks.max: -3\n"), 0o600))
	writeConnector(t, filepath.Join(dir, "good.yaml"), "good", "yes")
	writeConnector(t, filepath.Join(dir, "other.yaml"), "other", `""`)
	// A bad name does not stop the checks of the config.
	must(t, os.WriteFile(filepath.Join(dir, "slash.yaml"), []byte("name: a/b\nconfig:\n"+
		"  connector.class: fake\n  topics: orders\n  tasks.max: x\n"), 0o600))

	w := newWorker(t, []string{"127.0.0.1:1"}, store.NewMemory())
	_, err := w.LoadPipelines(worker.Pipelines{Dir: dir})
	if err == nil {
		t.Fatal("LoadPipelines accepted three invalid files")
	}
	for _, want := range []string{
		"bad.yaml:5: config.tasks.max: must be at least 1",
		"bad.yaml:2: config.fake.required: is required", // a missing key: at config
		"other.yaml:5: config.fake.required: is required",
		"invalid config " + filepath.Join(dir, "slash.yaml") + ": 3 error(s)",
		"slash.yaml:1: name: \"a/b\" must not contain '/'",
		"slash.yaml:2: config.fake.required: is required",
		"slash.yaml:5: config.tasks.max: want an integer, got \"x\"",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "good.yaml") {
		t.Errorf("error names the valid file:\n%v", err)
	}
}

// TestWatchLogsSyntaxErrorAtItsLine edits a pipelines file into invalid
// YAML while the worker watches: the worker logs the file and the line of
// the mistake and keeps the connector as it was.
func TestWatchLogsSyntaxErrorAtItsLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	file := filepath.Join(dir, "a.yaml")
	writeConnector(t, file, "a", "one")
	var logs workertest.Logs
	w := worker.New(worker.Options{
		Brokers:    []string{"127.0.0.1:1"},
		Plugins:    map[string]connectors.SinkConnector{"fake": workertest.Sink{}},
		NewDecoder: func(map[string]string) (worker.Decoder, error) { return workertest.Raw{}, nil },
		Store:      store.NewMemory(),
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	p := worker.Pipelines{Dir: dir}
	if _, err := w.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	watched := make(chan error, 1)
	go func() { watched <- w.Watch(ctx, p) }()
	defer func() {
		cancel()
		must(t, <-watched)
	}()

	must(t, os.WriteFile(file, []byte("name: a\nconfig:\n  connector.class: fake\n"+
		"  topics: \"orders\n  fake.required: two\n"), 0o600))
	want := file + ":4: scanning a quoted scalar that starts here (column 11)"
	waitFor(t, "the syntax error logged", func() bool {
		return strings.Contains(logs.String(), want)
	})
	if !strings.Contains(logs.String(), `level=ERROR msg="pipelines not applied; fix the files"`) {
		t.Errorf("log lacks the failed apply:\n%s", logs.String())
	}
	if info, err := w.Info("a"); err != nil || info.Config["fake.required"] != "one" {
		t.Errorf("connector a after a bad edit: %+v %v", info, err)
	}
}

// recordingSink is the test sink that records the fake.required value of
// every config it splits into tasks.
type recordingSink struct {
	workertest.Sink
	mu   sync.Mutex
	seen []string
}

func (s *recordingSink) TaskConfigs(cfg map[string]string, n int) []map[string]string {
	s.mu.Lock()
	s.seen = append(s.seen, cfg["fake.required"])
	s.mu.Unlock()
	return s.Sink.TaskConfigs(cfg, n)
}

func (s *recordingSink) values() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// TestRestoreStartsWithFileConfig edits a connector's file while the
// worker is down: the restarted worker starts the connector with the
// file's config, never the stale one of its store.
func TestRestoreStartsWithFileConfig(t *testing.T) {
	ctx := context.Background()
	kc := newKafka(t)
	dir := t.TempDir()
	aFile := filepath.Join(dir, "a.yaml")
	writeConnector(t, aFile, "a", "new")
	st := store.NewMemory()
	must(t, st.Put(ctx, store.Connector{Name: "a", Owner: aFile, Target: store.TargetStarted,
		Config: map[string]string{"connector.class": "fake", "topics": "orders",
			"fake.required": "old"}}))

	sink := &recordingSink{}
	w := newWorkerWith(t, kc.ListenAddrs(), st, sink)
	p := worker.Pipelines{Dir: dir}
	files, err := w.LoadPipelines(p)
	must(t, err)
	must(t, w.Restore(ctx, files...))
	if changes, err := w.Apply(ctx, p); err != nil || len(changes) != 0 {
		t.Errorf("apply after restore: %+v %v", changes, err)
	}
	waitFor(t, "a running", func() bool {
		s, err := w.Status("a")
		return err == nil && len(s.Tasks) == 1 && s.Tasks[0].State == worker.StateRunning
	})
	if got := sink.values(); len(got) == 0 || slices.Contains(got, "old") {
		t.Errorf("task configs used fake.required %q, want only \"new\"", got)
	}
	stored, err := st.Connectors(ctx)
	must(t, err)
	if len(stored) != 1 || stored[0].Config["fake.required"] != "new" ||
		stored[0].Target != store.TargetStarted {
		t.Errorf("stored after restore: %+v", stored)
	}
}
