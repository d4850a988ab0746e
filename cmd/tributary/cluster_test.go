package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/cluster"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
)

// newTestDistributed returns the cluster side of a worker called id over a
// shared config store and the status topic of a kfake cluster, owning the
// given units in generation 1.
func newTestDistributed(t *testing.T, brokers []string, st store.ConfigStore, id string,
	units ...cluster.Unit,
) *distributed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	statuses, err := store.OpenKafkaStatus(ctx, store.Topic{Name: "statuses", Partitions: 3,
		ReplicationFactor: 1}, log, kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(statuses.Close)
	d := &distributed{statuses: statuses, log: log, gen: 1,
		owned: map[cluster.Unit]bool{}, reported: map[store.StatusKey]store.Status{}}
	for _, u := range units {
		d.owned[u] = true
	}
	d.w = worker.New(worker.Options{
		Brokers: brokers, WorkerID: id, Store: st, Owns: d.owns, Logger: log,
		Plugins: map[string]connectors.SinkConnector{"fake": workertest.Sink{}},
		NewDecoder: func(map[string]string) (worker.Decoder, error) {
			return workertest.Raw{}, nil
		},
		CommitInterval: 50 * time.Millisecond,
		SessionTimeout: 6 * time.Second,
	})
	t.Cleanup(func() { _ = d.w.Close(context.Background()) })
	return d
}

// TestDistributedStatusCoversCluster runs two workers' cluster sides over
// one status topic: each reports what it runs, and both answer the status
// of the whole connector.
func TestDistributedStatusCoversCluster(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close) // after the workers' cleanups: their tasks leave the group
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := store.NewMemory()
	name := "orders-sink"
	d1 := newTestDistributed(t, kc.ListenAddrs(), st, "w1",
		cluster.Unit{Connector: name, Task: cluster.ConnectorUnit},
		cluster.Unit{Connector: name, Task: 0})
	d2 := newTestDistributed(t, kc.ListenAddrs(), st, "w2",
		cluster.Unit{Connector: name, Task: 1})
	cfg := map[string]string{"connector.class": "fake", "topics": "orders",
		"fake.required": "x", "tasks.max": "2"}
	if err := d1.w.Create(ctx, name, cfg, store.TargetStarted, ""); err != nil {
		t.Fatal(err)
	}
	if err := d2.w.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// want polls until both workers report conn and the tasks as given.
	want := func(conn string, tasks ...string) {
		t.Helper()
		var got worker.ConnectorStatus
		for _, d := range []*distributed{d1, d2, d1} {
			for {
				d1.report(ctx)
				d2.report(ctx)
				if err := d.statuses.ReadToEnd(ctx); err != nil {
					t.Fatal(err)
				}
				if got, err = d.status(d.w, name); err != nil {
					t.Fatal(err)
				}
				if render(got) == conn+" "+fmtTasks(tasks) {
					break
				}
				select {
				case <-ctx.Done():
					t.Fatalf("status %s, want %s %s", render(got), conn, fmtTasks(tasks))
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
	}
	want("RUNNING@w1", "RUNNING@w1", "RUNNING@w2")

	// The second worker gives task 1 up.
	d2.Revoke(ctx, []cluster.Unit{{Connector: name, Task: 1}})
	want("RUNNING@w1", "RUNNING@w1", "UNASSIGNED@w2")

	// Deleting the connector deletes its states.
	if err := d1.w.Delete(ctx, name, ""); err != nil {
		t.Fatal(err)
	}
	if err := d2.w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d1.report(ctx)
	d2.report(ctx)
	for _, d := range []*distributed{d1, d2} {
		if err := d.statuses.ReadToEnd(ctx); err != nil {
			t.Fatal(err)
		}
		_, ok := d.statuses.Get(store.StatusKey{Connector: name, Task: store.ConnectorUnit})
		if tasks := d.statuses.Tasks(name); ok || len(tasks) != 0 {
			t.Fatalf("states after delete: connector %v, tasks %+v", ok, tasks)
		}
	}
}

func render(st worker.ConnectorStatus) string {
	var tasks []string
	for _, ts := range st.Tasks {
		tasks = append(tasks, ts.State+"@"+ts.WorkerID)
	}
	return st.State + "@" + st.WorkerID + " " + fmtTasks(tasks)
}

func fmtTasks(tasks []string) string { return "[" + strings.Join(tasks, " ") + "]" }
