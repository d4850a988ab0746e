package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
	"github.com/tributary-io/tributary/schemas"
)

// garbageDecoder decodes as workertest.Raw but fails the value "garbage".
type garbageDecoder struct{}

func (garbageDecoder) Decode(ctx context.Context, v []byte) (*schemas.Schema, any, error) {
	if bytes.Equal(v, []byte("garbage")) {
		return nil, nil, fmt.Errorf("decode: %w", schemas.ErrBadMagic)
	}
	return workertest.Raw{}.Decode(ctx, v)
}

// ordersCluster starts a kfake cluster with a topic orders of one
// partition, and a client of it.
func ordersCluster(t *testing.T) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kc, cl
}

// startGarbageConnector runs connector c on kc: it reads topic orders,
// fails the value "garbage" and, with errors.tolerance=all, dead-letters it
// to orders-dlq within a 2 s delivery timeout.
func startGarbageConnector(t *testing.T, kc *kfake.Cluster) *worker.Worker {
	t.Helper()
	w := worker.New(worker.Options{
		Brokers: kc.ListenAddrs(),
		Plugins: map[string]connectors.SinkConnector{"fake": workertest.Sink{}},
		NewDecoder: func(map[string]string) (worker.Decoder, error) {
			return garbageDecoder{}, nil
		},
		CommitInterval:    50 * time.Millisecond,
		DeadLetterTimeout: 2 * time.Second,
		Store:             store.NewMemory(),
	})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	must(t, w.Create(context.Background(), "c", map[string]string{"connector.class": "fake",
		"topics": "orders", "fake.required": "x", "errors.tolerance": "all",
		"errors.deadletterqueue.topic.name":               "orders-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable":   "true",
	}, store.TargetStarted, ""))
	return w
}

// TestDeadLetterOldRecord dead-letters a record whose timestamp is a year
// old, much older than the dead letter queue's delivery timeout: the dead
// letter is written, stamped when it was dead-lettered and carrying the
// original timestamp in a header, the task commits past it and stays
// running.
func TestDeadLetterOldRecord(t *testing.T) {
	ctx := context.Background()
	kc, cl := ordersCluster(t)
	old := time.Now().AddDate(-1, 0, 0).Truncate(time.Millisecond)
	must(t, cl.ProduceSync(ctx,
		&kgo.Record{Topic: "orders", Value: []byte("garbage"), Timestamp: old},
		&kgo.Record{Topic: "orders", Value: []byte("fine"), Timestamp: old},
	).FirstErr())

	began := time.Now()
	w := startGarbageConnector(t, kc)

	adm := kadm.NewClient(cl)
	waitFor(t, "the offset committed past the dead letter", func() bool {
		offs, err := adm.FetchOffsets(ctx, "connect-c")
		if err != nil {
			return false
		}
		at, _ := offs.Lookup("orders", 0)
		return at.At == 2
	})
	st, err := w.Status("c")
	if err != nil || len(st.Tasks) != 1 || st.Tasks[0].State != worker.StateRunning {
		t.Fatalf("status %+v, %v; want the task running", st, err)
	}

	rd, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("orders-dlq"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) == 0 && pctx.Err() == nil {
		got = append(got, rd.PollFetches(pctx).Records()...)
	}
	if len(got) != 1 {
		t.Fatalf("dead letters: %d, want 1", len(got))
	}
	dl := got[0]
	if string(dl.Value) != "garbage" || dl.Timestamp.Before(began.Truncate(time.Millisecond)) {
		t.Errorf("dead letter %q stamped %v, want the garbage stamped after %v", dl.Value,
			dl.Timestamp, began)
	}
	var orig string
	for _, h := range dl.Headers {
		if h.Key == worker.HeaderOriginalTimestamp {
			orig = string(h.Value)
		}
	}
	if want := strconv.FormatInt(old.UnixMilli(), 10); orig != want {
		t.Errorf("original timestamp header %q, want %q", orig, want)
	}
}

// TestDeadLetterFailureReported cuts the dead letter queue off: the dead
// letter is not acknowledged in time, the task fails, and its trace says
// why once.
func TestDeadLetterFailureReported(t *testing.T) {
	kc, cl := ordersCluster(t)
	must(t, cl.ProduceSync(context.Background(),
		&kgo.Record{Topic: "orders", Value: []byte("garbage")}).FirstErr())
	// From now on only the dead letter queue produces.
	kc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		return nil, errors.New("produce refused"), true
	})

	w := startGarbageConnector(t, kc)
	var task worker.TaskStatus
	waitFor(t, "the task to fail", func() bool {
		st, err := w.Status("c")
		if err != nil || len(st.Tasks) != 1 {
			return false
		}
		task = st.Tasks[0]
		return task.State == worker.StateFailed
	})
	const want = "dead letter queue orders-dlq: produce record orders/0@0: " +
		"not acknowledged within 2s"
	if n := strings.Count(task.Trace, want); n != 1 {
		t.Errorf("trace %q names the failure %d times, want once", task.Trace, n)
	}
}
