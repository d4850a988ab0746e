package store

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

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

}
