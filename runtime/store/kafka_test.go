package store

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeCluster starts a kfake cluster for the test and returns its brokers
// and a context that bounds the test.
func fakeCluster(t *testing.T) ([]string, context.Context) {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return kc.ListenAddrs(), ctx
}

// openStore opens a Kafka-backed store with open, closing it after the
// test.
func openStore[S interface{ Close() }](t *testing.T, brokers []string,
	open func(context.Context, *slog.Logger, ...kgo.Opt) (S, error),
) S {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := open(ctx, slog.New(slog.DiscardHandler), kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func openKafka(t *testing.T, brokers []string, topic string) *Kafka {
	t.Helper()
	return openStore(t, brokers, func(ctx context.Context, log *slog.Logger, opts ...kgo.Opt,
	) (*Kafka, error) {
		return OpenKafka(ctx, topic, 1, log, opts...)
	})
}

func TestKafkaSharesConnectorsBetweenWorkers(t *testing.T) {
	brokers, ctx := fakeCluster(t)

	w1 := openKafka(t, brokers, "connect-configs")
	w2 := openKafka(t, brokers, "connect-configs")
	if got, _ := w2.Connectors(ctx); len(got) != 0 {
		t.Fatalf("new topic holds %+v", got)
	}
	a := Connector{Name: "a", Config: map[string]string{"topics": "t"}, Target: TargetStarted}
	b := Connector{Name: "b", Config: map[string]string{"k": "${env:X}"}, Target: TargetPaused}
	for _, c := range []Connector{b, a} {
		if err := w1.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w2.Connectors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Connector{a, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("other worker reads %+v, want %+v", got, want)
	}

	if err := w2.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got, _ = w1.Connectors(ctx)
	if len(got) != 1 || got[0].Name != "b" {
		t.Fatalf("after a delete through the other worker: %+v", got)
	}
	if off := w1.Offset(); off != 2 {
		t.Fatalf("offset %d after three records, want 2", off)
	}

	// A worker that starts later reads the same state.
	w3 := openKafka(t, brokers, "connect-configs")
	if got, _ := w3.Connectors(ctx); !reflect.DeepEqual(got, []Connector{b}) {
		t.Fatalf("late reader: %+v", got)
	}

	// The topic is compacted and has one partition.
	adm := kadm.NewClient(w1.f.cl)
	rc, err := adm.DescribeTopicConfigs(ctx, "connect-configs")
	if err != nil {
		t.Fatal(err)
	}
	c, err := rc.On("connect-configs", nil)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, kv := range c.Configs {
		if kv.Key == "cleanup.policy" {
			policy = kv.MaybeValue()
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy %q, want compact", policy)
	}
}

func TestEnsureTopicRefusesOtherPartitionCount(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "configs"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = EnsureTopic(ctx, kadm.NewClient(cl), Topic{Name: "configs", Partitions: 1,
		ReplicationFactor: 1})
	if err == nil || !strings.Contains(err.Error(), "has 3 partitions, want 1") {
		t.Fatalf("got %v, want a partition count error", err)
	}
	if err := EnsureTopic(ctx, kadm.NewClient(cl), Topic{Name: "statuses", Partitions: 5,
		ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
}
