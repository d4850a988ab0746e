package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// memStore is an in-memory Store with create-only writes.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	puts    int
}

func newMemStore() *memStore { return &memStore{objects: map[string][]byte{}} }

func (m *memStore) PutIfAbsent(ctx context.Context, key string, r io.Reader, size int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; ok {
		return fmt.Errorf("put %s: %w", key, ErrExist)
	}
	m.objects[key] = b
	m.puts++
	return nil
}

func (m *memStore) Get(ctx context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotExist)
	}
	return b, nil
}

func (m *memStore) List(ctx context.Context, prefix, after string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func (m *memStore) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func (m *memStore) String() string { return "mem://" }

// snapshot copies the objects.
func (m *memStore) snapshot() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, v := range m.objects {
		out[k] = string(v)
	}
	return out
}

var testSchema = &schemas.Schema{ID: 7, Avro: avro.MustParse(`{"type":"record","name":"Action",
	"fields":[{"name":"id","type":"long"},{"name":"kind","type":"string"}]}`)}

// records returns n records of partition 0 from offset from, spread over
// three kinds so that a segment has several files.
func records(from, n int) []*connectors.Record {
	out := make([]*connectors.Record, n)
	for i := range out {
		off := int64(from + i)
		out[i] = &connectors.Record{
			Topic: "actions", Partition: 0, Offset: off,
			Timestamp:   time.UnixMilli(1_700_000_000_000 + off*1000),
			ValueSchema: testSchema,
			Value:       map[string]any{"id": off, "kind": []string{"click", "search", "book"}[off%3]},
		}
	}
	return out
}

var tp0 = connectors.TopicPartition{Topic: "actions", Partition: 0}

type harness struct {
	t       *testing.T
	store   *memStore
	rewinds []int64
	clock   time.Time
	metrics connectors.SinkMetrics // nil: none
}

// task starts a task over the harness's store with config overrides.
func (h *harness) task(extra map[string]string) *Task {
	h.t.Helper()
	cfg := map[string]string{
		"flush.size":           "10",
		"format.class":         "parquet",
		"partitioner.class":    "field",
		"partition.field.name": "kind",
		"spool.dir":            h.t.TempDir(),
	}
	for k, v := range extra {
		cfg[k] = v
	}
	task := &Task{
		newStore: func(context.Context, map[string]string) (Store, error) { return h.store, nil },
		now:      func() time.Time { return h.clock },
	}
	tc := connectors.SinkTaskContext{Connector: "c", Rewind: func(tp connectors.TopicPartition, off int64) {
		h.rewinds = append(h.rewinds, off)
	}, Metrics: h.metrics}
	if err := task.Start(context.Background(), tc, cfg); err != nil {
		h.t.Fatal(err)
	}
	return task
}

func (h *harness) open(task *Task, committed int64) int64 {
	h.t.Helper()
	resume, err := task.Open(context.Background(), map[connectors.TopicPartition]int64{tp0: committed})
	if err != nil {
		h.t.Fatal(err)
	}
	if off, ok := resume[tp0]; ok {
		return off
	}
	return committed
}

func (h *harness) put(task *Task, recs []*connectors.Record) {
	h.t.Helper()
	if err := task.Put(context.Background(), recs); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) durable(task *Task) int64 {
	h.t.Helper()
	offs, err := task.PreCommit(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	if off, ok := offs[tp0]; ok {
		return off
	}
	return -1
}

// oracle counts each offset's rows across the data objects.
func (h *harness) oracle() map[int64]int {
	h.t.Helper()
	f, _ := NewFormat("parquet")
	seen := map[int64]int{}
	for key, body := range h.store.snapshot() {
		if !strings.HasSuffix(key, ".parquet") {
			continue
		}
		pos, err := f.ReadPositions(bytes.NewReader([]byte(body)), int64(len(body)))
		if err != nil {
			h.t.Fatal(err)
		}
		for _, p := range pos {
			seen[p.Offset]++
		}
	}
	return seen
}

func (h *harness) exactlyOnce(upTo int) {
	h.t.Helper()
	seen := h.oracle()
	for off := range int64(upTo) {
		if seen[off] != 1 {
			h.t.Errorf("offset %d is in %d rows, want 1", off, seen[off])
		}
	}
	if len(seen) != upTo {
		h.t.Errorf("sink holds %d offsets, want %d", len(seen), upTo)
	}
}

func TestSegmentsCommitAtFlushSize(t *testing.T) {
	h := &harness{t: t, store: newMemStore()}
	task := h.task(nil)
	h.open(task, -1)
	h.put(task, records(0, 25))
	if got := h.durable(task); got != 20 {
		t.Fatalf("durable offset %d, want 20 (two full segments of 10)", got)
	}
	h.exactlyOnce(20)
	plans, _ := h.store.List(context.Background(), planPrefix("topics", tp0), "")
	if len(plans) != 2 {
		t.Fatalf("plans %v, want 2", plans)
	}
	// Keys follow Confluent's layout and carry the first offset of each file.
	if _, ok := h.store.snapshot()["topics/actions/kind=click/actions+0+0000000000.parquet"]; !ok {
		t.Errorf("no object for the first click file; have %v", keys(h.store.snapshot()))
	}
}

// TestCrashAfterPlanBeforeUploads re-executes a plan whose files were never
// uploaded: the restarted task resumes at the plan's start even though Kafka
// committed nothing, and renders exactly the planned files.
func TestCrashAfterPlanBeforeUploads(t *testing.T) {
	h := &harness{t: t, store: newMemStore()}
	first := h.task(nil)
	h.open(first, -1)
	h.put(first, records(0, 30))
	// Simulate a crash after plan 20..29 was created but before its files:
	// remove those files from the store.
	for key := range h.store.snapshot() {
		if strings.Contains(key, "+00000000") && !strings.Contains(key, "_tributary") {
			if strings.HasSuffix(key, "+0000000020.parquet") || strings.HasSuffix(key, "+0000000021.parquet") ||
				strings.HasSuffix(key, "+0000000022.parquet") {
				_ = h.store.Delete(context.Background(), key)
			}
		}
	}
	// Kafka's committed offset lags: it says 10.
	second := h.task(nil)
	if got := h.open(second, 10); got != 20 {
		t.Fatalf("resume at %d, want 20 (the newest plan's start)", got)
	}
	h.put(second, records(20, 10))
	if got := h.durable(second); got != 30 {
		t.Fatalf("durable %d after re-executing the plan, want 30", got)
	}
	h.exactlyOnce(30)
}

// TestReplayRendersIdenticalObjects re-executes a complete plan: every
// object exists already and none changes.
func TestReplayRendersIdenticalObjects(t *testing.T) {
	h := &harness{t: t, store: newMemStore()}
	first := h.task(nil)
	h.open(first, -1)
	h.put(first, records(0, 20))
	before := h.store.snapshot()

	second := h.task(nil)
	resume := h.open(second, 0)
	h.put(second, records(int(resume), 20-int(resume)))
	if got := h.durable(second); got != 20 {
		t.Fatalf("durable %d, want 20", got)
	}
	after := h.store.snapshot()
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatal("replaying a committed plan changed the store")
	}
	h.exactlyOnce(20)
}

// TestZombieAdoptsTheWinnersPlan: a stalled task buffers 0..6 under
// wall-clock rotation while a new owner commits 0..9; when the stalled task
// commits, it finds the new owner's plan, adopts it, rewinds, and writes no
// object of its own.
func TestZombieAdoptsTheWinnersPlan(t *testing.T) {
	h := &harness{t: t, store: newMemStore(), clock: time.Unix(1_000_000, 0)}
	extra := map[string]string{"rotate.schedule.interval.ms": "60000", "timezone": "UTC", "flush.size": "10"}
	zombie := h.task(extra)
	h.open(zombie, -1)
	h.put(zombie, records(0, 7))

	owner := h.task(extra)
	h.open(owner, -1)
	h.put(owner, records(0, 10))
	owned := h.store.snapshot()

	h.clock = h.clock.Add(2 * time.Minute) // the zombie's wall-clock rotation is due
	if _, err := zombie.PreCommit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.rewinds) != 1 || h.rewinds[0] != 0 {
		t.Fatalf("rewinds %v, want one to offset 0", h.rewinds)
	}
	if got := h.store.snapshot(); fmt.Sprint(got) != fmt.Sprint(owned) {
		t.Fatalf("the zombie changed the store: %v", keys(got))
	}
	// After the rewind it re-executes the owner's plan and adds nothing.
	h.put(zombie, records(0, 10))
	if got := h.durable(zombie); got != 10 {
		t.Fatalf("zombie durable %d after adopting, want 10", got)
	}
	if got := h.store.snapshot(); fmt.Sprint(got) != fmt.Sprint(owned) {
		t.Fatal("re-executing the adopted plan changed the store")
	}
	h.exactlyOnce(10)
}

// TestWallClockRotation cuts a segment when the injected clock passes the
// next multiple of the interval, and only then.
func TestWallClockRotation(t *testing.T) {
	h := &harness{t: t, store: newMemStore(), clock: time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)}
	task := h.task(map[string]string{"rotate.schedule.interval.ms": "60000", "timezone": "UTC",
		"flush.size": "1000"})
	h.open(task, -1)
	h.put(task, records(0, 5))
	if got := h.durable(task); got != -1 {
		t.Fatalf("durable %d before the minute ends, want -1", got)
	}
	h.clock = time.Date(2026, 1, 1, 10, 1, 0, 0, time.UTC)
	if got := h.durable(task); got != 5 {
		t.Fatalf("durable %d at the minute, want 5", got)
	}
	h.exactlyOnce(5)
}

// TestRecordTimeRotation cuts when a record is rotate.interval.ms past the
// segment's first record, by record time.
func TestRecordTimeRotation(t *testing.T) {
	h := &harness{t: t, store: newMemStore()}
	task := h.task(map[string]string{"rotate.interval.ms": "4000", "flush.size": "1000"})
	h.open(task, -1)
	h.put(task, records(0, 9)) // timestamps one second apart
	if got := h.durable(task); got != 8 {
		t.Fatalf("durable %d, want 8 (segments 0-3 and 4-7)", got)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
