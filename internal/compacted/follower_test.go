package compacted

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeCluster starts a kfake cluster for the test and returns it with a
// context that bounds the test.
func fakeCluster(t *testing.T, opts ...kfake.Opt) (*kfake.Cluster, context.Context) {
	t.Helper()
	kc, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return kc, ctx
}

func newClient(t *testing.T, kc *kfake.Cluster) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// view is a test's view of a topic: the latest value of each key.
type view struct {
	f *Follower
	m map[string]string // guarded by f's lock
}

func (v *view) get(k string) (string, bool) {
	v.f.Lock()
	defer v.f.Unlock()
	val, ok := v.m[k]
	return val, ok
}

// follow opens a Follower of t into a new view, closing it after the test.
func follow(ctx context.Context, t *testing.T, kc *kfake.Cluster, topic Topic) *view {
	t.Helper()
	v := &view{m: map[string]string{}}
	f, err := Follow(ctx, newClient(t, kc), topic, "test", slog.New(slog.DiscardHandler),
		func(r *kgo.Record) {
			if r.Value == nil {
				delete(v.m, string(r.Key))
				return
			}
			v.m[string(r.Key)] = string(r.Value)
		})
	if err != nil {
		t.Fatal(err)
	}
	v.f = f
	t.Cleanup(f.Close)
	return v
}

func TestEnsureTopic(t *testing.T) {
	kc, ctx := fakeCluster(t, kfake.SeedTopics(3, "three"))
	cl := newClient(t, kc)
	defer cl.Close()
	adm := kadm.NewClient(cl)

	err := EnsureTopic(ctx, adm, Topic{Name: "three", Partitions: 1, ReplicationFactor: 1})
	if err == nil || !strings.Contains(err.Error(), "topic three has 3 partitions, want 1") {
		t.Fatalf("got %v, want a partition count error", err)
	}
	if err := EnsureTopic(ctx, adm, Topic{Name: "three", Partitions: 3,
		ReplicationFactor: 1}); err != nil {
		t.Fatalf("existing topic with the right count: %v", err)
	}

	for range 2 { // creates it, then finds it
		if err := EnsureTopic(ctx, adm, Topic{Name: "new", Partitions: 2,
			ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
	}
	details, err := adm.ListTopics(ctx, "new")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details["new"].Partitions); n != 2 {
		t.Fatalf("new topic has %d partitions, want 2", n)
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "new")
	if err != nil {
		t.Fatal(err)
	}
	c, err := rc.On("new", nil)
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

func TestFollowersShareWrites(t *testing.T) {
	kc, ctx := fakeCluster(t)
	topic := Topic{Name: "shared", Partitions: 3, ReplicationFactor: 1}
	a, b := follow(ctx, t, kc, topic), follow(ctx, t, kc, topic)
	if err := a.f.ReadToEnd(ctx); err != nil {
		t.Fatalf("read a new topic to its end: %v", err)
	}

	// A write returns once the writer's own view holds it.
	for i := range 10 {
		k := fmt.Sprintf("k%d", i)
		r := &kgo.Record{Key: []byte(k), Value: []byte("v1")}
		if err := a.f.WriteAndWait(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.get(k); got != "v1" {
			t.Fatalf("writer's view holds %s=%q right after the write, want v1", k, got)
		}
		if off := a.f.Offset(r.Partition); off < r.Offset {
			t.Fatalf("partition %d applied to %d, want at least %d", r.Partition, off,
				r.Offset)
		}
	}
	if err := a.f.WriteAndWait(ctx, &kgo.Record{Key: []byte("k0")}); err != nil {
		t.Fatal(err)
	}

	// The other follower, and one that starts later, read them all.
	c := follow(ctx, t, kc, topic)
	for _, v := range []*view{b, c} {
		if err := v.f.ReadToEnd(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := v.get("k0"); ok {
			t.Fatal("a deleted key is still in a reader's view")
		}
		for i := 1; i < 10; i++ {
			if got, _ := v.get(fmt.Sprintf("k%d", i)); got != "v1" {
				t.Fatalf("reader's view holds k%d=%q, want v1", i, got)
			}
		}
	}
}

func TestWriteThenWaitFor(t *testing.T) {
	kc, ctx := fakeCluster(t)
	v := follow(ctx, t, kc, Topic{Name: "waited", Partitions: 1, ReplicationFactor: 1})
	progress := v.f.Progress()
	var last *kgo.Record
	for i := range 3 {
		last = &kgo.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "v%d", i)}
		if err := v.f.Write(ctx, last); err != nil {
			t.Fatal(err)
		}
		if last.Partition != 0 || last.Offset != int64(i) {
			t.Fatalf("record %d written at %d/%d", i, last.Partition, last.Offset)
		}
	}
	if err := v.f.WaitFor(ctx, 0, last.Offset); err != nil {
		t.Fatal(err)
	}
	if got, _ := v.get("k"); got != "v2" {
		t.Fatalf("view holds k=%q after waiting for the last write, want v2", got)
	}
	select {
	case <-progress:
	default:
		t.Fatal("progress channel still open after records were applied")
	}
}

func TestWriteStopsWaitingWhenCtxEnds(t *testing.T) {
	kc, ctx := fakeCluster(t)
	v := follow(ctx, t, kc, Topic{Name: "gone", Partitions: 1, ReplicationFactor: 1})
	if err := v.f.ReadToEnd(ctx); err != nil {
		t.Fatal(err)
	}
	kc.Close() // the client keeps retrying a broker that has gone
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := v.f.Write(wctx, &kgo.Record{Key: []byte("k"), Value: []byte("v")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write to a gone broker: %v, want the context's deadline", err)
	}
}

func TestCloseUnblocksWaiters(t *testing.T) {
	kc, ctx := fakeCluster(t)
	cl := newClient(t, kc)
	f, err := Follow(ctx, cl, Topic{Name: "closed", Partitions: 2, ReplicationFactor: 1},
		"test", slog.New(slog.DiscardHandler), func(*kgo.Record) {})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for p := range int32(2) {
		go func() { errs <- f.WaitFor(ctx, p, 100) }()
	}
	f.Close()
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("wait on a closed follower: %v, want ErrClosed", err)
		}
	}
	if err := f.WaitFor(ctx, 0, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait after close: %v, want ErrClosed", err)
	}
}

// TestWaitersMissNoWakeup has many waiters wait for records that arrive
// one by one, the last with nothing after it: a waiter that read the
// applied offset and the progress channel apart could miss the record
// applied in between and wait for one that never comes.
func TestWaitersMissNoWakeup(t *testing.T) {
	kc, ctx := fakeCluster(t)
	v := follow(ctx, t, kc, Topic{Name: "wakeups", Partitions: 1, ReplicationFactor: 1})
	writer := newClient(t, kc)
	defer writer.Close()

	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for off := range int64(n) {
		wg.Go(func() { errs <- v.f.WaitFor(ctx, 0, off) })
	}
	for i := range n {
		r := &kgo.Record{Topic: "wakeups", Key: []byte("k"), Value: fmt.Append(nil, i)}
		if err := writer.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("waiter: %v", err)
		}
	}
	if off := v.f.Offset(0); off != n-1 {
		t.Fatalf("applied to %d, want %d", off, n-1)
	}
}
