// Package workertest has what tests of the worker and of the REST API share:
// a sink connector that writes nowhere, a decoder that decodes nothing and
// a log destination to read back.
package workertest

import (
	"bytes"
	"context"
	"strings"
	"sync"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Sink is a sink connector whose tasks write nowhere and report every
// record they were handed as durable. Its configs require fake.required.
type Sink struct{}

// Validate implements connectors.SinkConnector.
func (Sink) Validate(cfg map[string]string) []connectors.FieldError {
	if cfg["fake.required"] == "" {
		return []connectors.FieldError{{Key: "fake.required", Message: "is required"}}
	}
	return nil
}

// DeclaredSink is a Sink that declares its keys, fake.required and
// flush.size, as a connectors.ConfigDefiner.
type DeclaredSink struct{ Sink }

// ConfigDef implements connectors.ConfigDefiner.
func (DeclaredSink) ConfigDef() connectors.ConfigDef {
	return connectors.ConfigDef{Keys: []connectors.ConfigKey{
		{Name: "fake.required", Type: connectors.TypeString, Required: true,
			Importance: connectors.ImportanceHigh, Group: "Fake",
			Documentation: "Any value but empty."},
		{Name: "flush.size", Type: connectors.TypeInt, Default: "1",
			Importance: connectors.ImportanceLow, Group: "Fake",
			Documentation: "Records per write."},
	}}
}

// TaskConfigs implements connectors.SinkConnector.
func (Sink) TaskConfigs(cfg map[string]string, n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = cfg
	}
	return out
}

// NewTask implements connectors.SinkConnector.
func (Sink) NewTask() connectors.SinkTask {
	return &task{next: map[connectors.TopicPartition]int64{}}
}

type task struct {
	mu   sync.Mutex
	next map[connectors.TopicPartition]int64
}

func (t *task) Start(context.Context, connectors.SinkTaskContext, map[string]string) error {
	return nil
}

func (t *task) Open(context.Context, map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
	return nil, nil
}

func (t *task) Put(_ context.Context, rs []*connectors.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range rs {
		t.next[r.TopicPartition()] = r.Offset + 1
	}
	return nil
}

func (t *task) PreCommit(context.Context) (map[connectors.TopicPartition]int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[connectors.TopicPartition]int64, len(t.next))
	for tp, o := range t.next {
		out[tp] = o
	}
	return out, nil
}

func (t *task) Close(context.Context, []connectors.TopicPartition) error { return nil }
func (t *task) Stop(context.Context) error                               { return nil }

// Raw is a decoder that hands values on as bytes, without a schema.
type Raw struct{}

// Decode implements worker.Decoder.
func (Raw) Decode(_ context.Context, v []byte) (*schemas.Schema, any, error) {
	return nil, v, nil
}

// Logs is a log destination that tasks and handlers may write to
// concurrently, and that tests read back.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Count returns how many times s was written.
func (l *Logs) Count(s string) int { return strings.Count(l.String(), s) }
