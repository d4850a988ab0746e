package store

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func openStatus(t *testing.T, brokers []string) *KafkaStatus {
	t.Helper()
	return openStore(t, brokers, func(ctx context.Context, log *slog.Logger, opts ...kgo.Opt,
	) (*KafkaStatus, error) {
		return OpenKafkaStatus(ctx, Topic{Name: "connect-status", Partitions: 5,
			ReplicationFactor: 1}, log, opts...)
	})
}

func TestKafkaStatusSharesStatesBetweenWorkers(t *testing.T) {
	brokers, ctx := fakeCluster(t)
	w1 := openStatus(t, brokers)
	w2 := openStatus(t, brokers)

	put := func(s *KafkaStatus, k StatusKey, st Status) {
		t.Helper()
		if err := s.Put(ctx, k, st); err != nil {
			t.Fatal(err)
		}
	}
	conn := StatusKey{Connector: "s3-sink-a", Task: ConnectorUnit}
	up := Status{State: "RUNNING", WorkerID: "w1:8083", Generation: 3}
	put(w1, conn, up)
	put(w1, StatusKey{"s3-sink-a", 0}, up)
	failed := Status{State: "FAILED", Trace: "boom", WorkerID: "w2:8083", Generation: 3}
	put(w2, StatusKey{"s3-sink-a", 1}, failed)
	put(w2, StatusKey{"s3-sink-a-b", 0}, Status{State: "PAUSED", WorkerID: "w2:8083",
		Generation: 3})

	want := map[int]Status{0: up, 1: failed}
	for i, s := range []*KafkaStatus{w1, w2} {
		if err := s.ReadToEnd(ctx); err != nil {
			t.Fatal(err)
		}
		if got := s.Tasks("s3-sink-a"); !reflect.DeepEqual(got, want) {
			t.Fatalf("worker %d sees tasks %+v, want %+v", i+1, got, want)
		}
		if got, ok := s.Get(conn); !ok || got != up {
			t.Fatalf("worker %d sees connector %+v %v, want %+v", i+1, got, ok, up)
		}
		if got := s.Tasks("s3-sink-a-b"); len(got) != 1 || got[0].State != "PAUSED" {
			t.Fatalf("worker %d sees tasks of s3-sink-a-b %+v", i+1, got)
		}
	}

	// A worker that starts later reads the same states.
	w3 := openStatus(t, brokers)
	if got := w3.Tasks("s3-sink-a"); !reflect.DeepEqual(got, want) {
		t.Fatalf("late reader sees %+v, want %+v", got, want)
	}
}

func TestKafkaStatusKeepsNewerGeneration(t *testing.T) {
	brokers, ctx := fakeCluster(t)
	w1 := openStatus(t, brokers)
	w2 := openStatus(t, brokers)
	task := StatusKey{Connector: "a", Task: 0}

	// w2 took the task over in generation 5; w1 gave it up in generation 4.
	moved := Status{State: "RUNNING", WorkerID: "w2", Generation: 5}
	if err := w2.Put(ctx, task, moved); err != nil {
		t.Fatal(err)
	}
	if err := w1.ReadToEnd(ctx); err != nil {
		t.Fatal(err)
	}
	stale := Status{State: "UNASSIGNED", WorkerID: "w1", Generation: 4}
	if err := w1.Put(ctx, task, stale); !errors.Is(err, ErrStaleStatus) {
		t.Fatalf("stale put returned %v, want ErrStaleStatus", err)
	}

	// A stale record that reaches the topic anyway, from a worker that had
	// not read the newer one, is skipped by every reader.
	stray := &kgo.Record{Topic: "connect-status", Key: []byte(task.String()),
		Value: []byte(`{"state":"UNASSIGNED","worker_id":"w1","generation":4}`)}
	if err := w1.f.Client().ProduceSync(ctx, stray).FirstErr(); err != nil {
		t.Fatal(err)
	}
	w3 := openStatus(t, brokers)
	for i, s := range []*KafkaStatus{w1, w2, w3} {
		if err := s.ReadToEnd(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(task); got != moved {
			t.Fatalf("worker %d sees %+v, want %+v", i+1, got, moved)
		}
	}

	// The owner may change its own report, and a later generation wins.
	failed := Status{State: "FAILED", Trace: "x", WorkerID: "w2", Generation: 5}
	if err := w2.Put(ctx, task, failed); err != nil {
		t.Fatal(err)
	}
	back := Status{State: "RUNNING", WorkerID: "w1", Generation: 6}
	if err := w1.Put(ctx, task, back); err != nil {
		t.Fatal(err)
	}
	if err := w2.ReadToEnd(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := w2.Get(task); got != back {
		t.Fatalf("after generation 6: %+v, want %+v", got, back)
	}
}

func TestKafkaStatusDeleteWritesTombstones(t *testing.T) {
	brokers, ctx := fakeCluster(t)
	w1 := openStatus(t, brokers)
	w2 := openStatus(t, brokers)
	up := Status{State: "RUNNING", WorkerID: "w1", Generation: 1}
	keys := []StatusKey{{"a", ConnectorUnit}, {"a", 0}, {"a", 1}, {"b", 0}}
	for _, k := range keys {
		if err := w1.Put(ctx, k, up); err != nil {
			t.Fatal(err)
		}
	}
	if err := w2.ReadToEnd(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w2.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := w1.ReadToEnd(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := w1.Get(keys[0]); ok {
		t.Fatal("connector status survives its delete")
	}
	if got := w1.Tasks("a"); len(got) != 0 {
		t.Fatalf("task statuses survive the delete: %+v", got)
	}
	if got := w1.Tasks("b"); len(got) != 1 {
		t.Fatalf("other connector's tasks: %+v", got)
	}

	// The records are tombstones: nil values under the three keys.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics("connect-status"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tombstones := map[string]bool{}
	for len(tombstones) < 3 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				tombstones[string(r.Key)] = true
			}
		})
	}
	for _, k := range keys[:3] {
		if !tombstones[k.String()] {
			t.Fatalf("no tombstone for %s: %v", k, tombstones)
		}
	}
}

func TestParseStatusKey(t *testing.T) {
	for _, k := range []StatusKey{{"a", ConnectorUnit}, {"a-b-1", 12}, {"x", 0}} {
		if got, ok := parseStatusKey(k.String()); !ok || got != k {
			t.Fatalf("parse %q: %+v %v", k.String(), got, ok)
		}
	}
	for _, bad := range []string{"status-topic-t:a", "status-task-a", "status-task-a-x"} {
		if _, ok := parseStatusKey(bad); ok {
			t.Fatalf("parsed %q", bad)
		}
	}
}
