package worker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
)

// assignment says which worker runs which task, as a cluster's leader does.
type assignment struct {
	mu    sync.Mutex
	owner map[int]string
}

func (a *assignment) set(owner map[int]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.owner = owner
}

func (a *assignment) owns(worker string) func(string, int) bool {
	return func(_ string, id int) bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.owner[id] == worker
	}
}

func taskIDs(t *testing.T, w *worker.Worker, name string) []int {
	t.Helper()
	st, err := w.Status(name)
	if err != nil {
		return nil
	}
	var ids []int
	for _, ts := range st.Tasks {
		ids = append(ids, ts.ID)
	}
	return ids
}

// clusterWorker returns a worker of the fake sink over st that runs the
// tasks owns gives it, as a distributed worker does; it closes with t.
func clusterWorker(t *testing.T, kc *kfake.Cluster, st store.ConfigStore,
	owns func(string, int) bool,
) *worker.Worker {
	w := worker.New(worker.Options{
		Brokers: kc.ListenAddrs(),
		Plugins: map[string]connectors.SinkConnector{"fake": workertest.Sink{}},
		NewDecoder: func(map[string]string) (worker.Decoder, error) {
			return workertest.Raw{}, nil
		},
		CommitInterval: 50 * time.Millisecond,
		SessionTimeout: 6 * time.Second,
		Store:          st,
		Owns:           owns,
	})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

// TestSyncFollowsStoreAndAssignment runs two workers over one store, each
// running the tasks the assignment gives it, as distributed workers do.
func TestSyncFollowsStoreAndAssignment(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close) // after the workers' cleanups: their tasks leave the group
	st := store.NewMemory()
	a := &assignment{owner: map[int]string{0: "w1", 1: "w2"}}
	workers := map[string]*worker.Worker{}
	for _, name := range []string{"w1", "w2"} {
		workers[name] = clusterWorker(t, kc, st, a.owns(name))
	}
	w1, w2 := workers["w1"], workers["w2"]
	cfg := map[string]string{"connector.class": "fake", "topics": "orders",
		"fake.required": "x", "tasks.max": "2"}
	if n := w1.TaskCount("c", cfg); n != 2 {
		t.Fatalf("task count %d, want 2", n)
	}

	// Created through w1, which runs task 0 only; w2 learns of it from the
	// store and runs task 1.
	must(t, w1.Create(ctx, "c", cfg, store.TargetStarted, ""))
	must(t, w2.Sync(ctx))
	if got1, got2 := taskIDs(t, w1, "c"), taskIDs(t, w2, "c"); !slices.Equal(got1, []int{0}) ||
		!slices.Equal(got2, []int{1}) {
		t.Fatalf("tasks: w1 %v, w2 %v; want [0] and [1]", got1, got2)
	}

	// Task 1 moves: it stops on w2 before it starts on w1.
	a.set(map[int]string{0: "w1", 1: "w1"})
	must(t, w2.Sync(ctx))
	if got := taskIDs(t, w2, "c"); len(got) != 0 {
		t.Fatalf("w2 still runs %v", got)
	}
	must(t, w1.Sync(ctx))
	if got := taskIDs(t, w1, "c"); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("w1 runs %v, want [0 1]", got)
	}

	// A target state set through w1 reaches w2 without a restart.
	must(t, w1.Pause(ctx, "c"))
	must(t, w2.Sync(ctx))
	waitFor(t, "w2 paused", func() bool {
		st, err := w2.Status("c")
		return err == nil && st.State == worker.StatePaused
	})
	must(t, w1.Resume(ctx, "c"))
	must(t, w2.Sync(ctx))
	if st, err := w2.Status("c"); err != nil || st.State != worker.StateRunning {
		t.Fatalf("w2 after resume: %+v %v", st, err)
	}

	// A config change through w1 reaches w2; a delete removes it there.
	a.set(map[int]string{0: "w1", 1: "w2"})
	cfg["fake.required"] = "y"
	if _, err := w1.PutConfig(ctx, "c", cfg, ""); err != nil {
		t.Fatal(err)
	}
	must(t, w2.Sync(ctx))
	info, err := w2.Info("c")
	if err != nil || info.Config["fake.required"] != "y" {
		t.Fatalf("w2 holds %+v, %v", info.Config, err)
	}
	if got := taskIDs(t, w2, "c"); !slices.Equal(got, []int{1}) {
		t.Fatalf("w2 runs %v after the change, want [1]", got)
	}
	must(t, w1.Delete(ctx, "c", ""))
	must(t, w2.Sync(ctx))
	if got := w2.Connectors(); len(got) != 0 {
		t.Fatalf("w2 still holds %v", got)
	}
}

// slowReads is a store whose next Connectors call, once armed, returns
// its view only after release is closed, as a worker's Sync can find
// when its read of the store overlaps a write of its own.
type slowReads struct {
	store.ConfigStore
	armed   chan struct{} // closed when the armed read has its view
	release chan struct{}
	mu      sync.Mutex
	arm     bool
}

func (s *slowReads) Connectors(ctx context.Context) ([]store.Connector, error) {
	got, err := s.ConfigStore.Connectors(ctx)
	s.mu.Lock()
	arm := s.arm
	s.arm = false
	s.mu.Unlock()
	if arm {
		close(s.armed)
		<-s.release
	}
	return got, err
}

// TestSyncKeepsLaterWrites checks that a Sync whose read of the store
// is overtaken by a pause through the same worker does not apply the
// older view over it, and that a resume then reaches the store even if
// the worker held STARTED meanwhile.
func TestSyncKeepsLaterWrites(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	st := &slowReads{ConfigStore: store.NewMemory(),
		armed: make(chan struct{}), release: make(chan struct{})}
	w := clusterWorker(t, kc, st, func(string, int) bool { return true })
	cfg := map[string]string{"connector.class": "fake", "topics": "orders",
		"fake.required": "x", "tasks.max": "1"}
	must(t, w.Create(ctx, "c", cfg, store.TargetStarted, ""))

	st.mu.Lock()
	st.arm = true
	st.mu.Unlock()
	synced := make(chan error, 1)
	go func() { synced <- w.Sync(ctx) }()
	<-st.armed // the Sync holds a view with the connector STARTED
	must(t, w.Pause(ctx, "c"))
	close(st.release)
	must(t, <-synced)
	if got := storedTarget(t, st, "c"); got != store.TargetPaused {
		t.Fatalf("store holds %s after the pause, want PAUSED", got)
	}
	waitFor(t, "the connector paused", func() bool {
		s, err := w.Status("c")
		return err == nil && s.State == worker.StatePaused
	})

	must(t, w.Resume(ctx, "c"))
	if got := storedTarget(t, st, "c"); got != store.TargetStarted {
		t.Fatalf("store holds %s after the resume, want STARTED", got)
	}
	must(t, w.Sync(ctx))
	if s, err := w.Status("c"); err != nil || s.State != worker.StateRunning {
		t.Fatalf("after the resume: %+v %v", s, err)
	}
}

func storedTarget(t *testing.T, st store.ConfigStore, name string) string {
	t.Helper()
	all, err := st.Connectors(context.Background())
	must(t, err)
	for _, c := range all {
		if c.Name == name {
			return c.Target
		}
	}
	t.Fatalf("connector %s not in the store", name)
	return ""
}
