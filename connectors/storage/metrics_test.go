package storage

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connectors"
)

// sinkMetrics records what a task reports through connectors.SinkMetrics.
type sinkMetrics struct {
	mu       sync.Mutex
	uploads  int
	bytes    int64
	commits  int
	objects  int
	segments int
}

func (m *sinkMetrics) Uploaded(bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.uploads++
	m.bytes += bytes
}

func (m *sinkMetrics) Committed(objects int, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits++
	m.objects += objects
}

func (m *sinkMetrics) OpenSegments(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.segments = n
}

// TestMetricsMatchTheStore checks the counts a task reports against the
// objects it left in the store.
func TestMetricsMatchTheStore(t *testing.T) {
	m := &sinkMetrics{}
	h := &harness{t: t, store: newMemStore(), metrics: m}
	task := h.task(nil)
	h.open(task, -1)
	h.put(task, records(0, 25))
	if got := h.durable(task); got != 20 {
		t.Fatalf("durable offset %d, want 20", got)
	}

	var files int
	var size int64
	for key, body := range h.store.snapshot() {
		if strings.HasSuffix(key, ".parquet") {
			files++
			size += int64(len(body))
		}
	}
	m.mu.Lock()
	// Two segments of 10 records over three kinds: three files each.
	if files != 6 || m.objects != files || m.uploads != files || m.commits != 2 {
		t.Errorf("store has %d data files; reported %d objects in %d commits, %d uploads",
			files, m.objects, m.commits, m.uploads)
	}
	if m.bytes != size {
		t.Errorf("reported %d bytes uploaded, the files hold %d", m.bytes, size)
	}
	if m.segments != 1 {
		t.Errorf("open segments %d, want 1 (offsets 20 to 24)", m.segments)
	}
	m.mu.Unlock()

	if err := task.Close(context.Background(), []connectors.TopicPartition{tp0}); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.segments != 0 {
		t.Errorf("open segments %d after close, want 0", m.segments)
	}
}
