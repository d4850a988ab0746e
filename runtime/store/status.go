package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/compacted"
)

// Key prefixes of the status topic's records, as in Kafka Connect's
// status.storage.topic.
const (
	connectorStatusPrefix = "status-connector-"
	taskStatusPrefix      = "status-task-"
)

// ConnectorUnit is the Task of a StatusKey that names the connector itself.
const ConnectorUnit = -1

// ErrStaleStatus reports a status write refused because the topic holds
// the state another worker wrote in a later group generation.
var ErrStaleStatus = errors.New("status from an older generation")

// StatusKey names a connector (Task is ConnectorUnit) or one of its tasks.
type StatusKey struct {
	Connector string
	Task      int
}

// String returns the record key of k.
func (k StatusKey) String() string {
	if k.Task == ConnectorUnit {
		return connectorStatusPrefix + k.Connector
	}
	return taskStatusPrefix + k.Connector + "-" + strconv.Itoa(k.Task)
}

// parseStatusKey reverses StatusKey.String. A connector name may hold '-',
// so a task id is what follows the last one.
func parseStatusKey(key string) (StatusKey, bool) {
	if name, ok := strings.CutPrefix(key, connectorStatusPrefix); ok {
		return StatusKey{Connector: name, Task: ConnectorUnit}, true
	}
	rest, ok := strings.CutPrefix(key, taskStatusPrefix)
	i := strings.LastIndexByte(rest, '-')
	if !ok || i < 0 {
		return StatusKey{}, false
	}
	id, err := strconv.Atoi(rest[i+1:])
	if err != nil || id < 0 {
		return StatusKey{}, false
	}
	return StatusKey{Connector: rest[:i], Task: id}, true
}

// Status is the state a worker reported for a connector or a task.
type Status struct {
	State string `json:"state"`
	// Trace explains a FAILED state.
	Trace    string `json:"trace,omitempty"`
	WorkerID string `json:"worker_id"`
	// Generation is the group generation the worker reported in.
	Generation int32 `json:"generation"`
}

// supersedes reports whether s may replace held: a worker may always
// replace its own report, another only from the same or a later
// generation, so that a worker that gave a unit up, or lost it without
// noticing, cannot hide the state its new owner reports.
func (s Status) supersedes(held Status) bool {
	return s.WorkerID == held.WorkerID || s.Generation >= held.Generation
}

// KafkaStatus keeps the states of every connector and task of a cluster in
// a compacted topic, Kafka Connect's status.storage.topic: each worker
// writes the states of what it runs, and every worker reads the whole
// topic, so any of them can answer for the cluster. Records with the same
// key go to the same partition, which keeps their order.
type KafkaStatus struct {
	f     *compacted.Follower
	topic string
	log   *slog.Logger
	m     map[StatusKey]Status // guarded by f's lock
}

// OpenKafkaStatus creates t when missing, reads it to its end and follows
// it until Close. opts configure the client, starting with the brokers.
func OpenKafkaStatus(ctx context.Context, t Topic, log *slog.Logger, opts ...kgo.Opt,
) (*KafkaStatus, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("open status store %s: %w", t.Name, err)
	}
	s := &KafkaStatus{topic: t.Name, log: log, m: map[StatusKey]Status{}}
	if s.f, err = follow(ctx, cl, t, "status", log, s.apply); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops following the topic; calls after it fail.
func (s *KafkaStatus) Close() { s.f.Close() }

// ReadToEnd waits until the view holds every record the topic held when it
// was called.
func (s *KafkaStatus) ReadToEnd(ctx context.Context) error { return s.f.ReadToEnd(ctx) }

// Get returns the latest state of k.
func (s *KafkaStatus) Get(k StatusKey) (Status, bool) {
	s.f.Lock()
	defer s.f.Unlock()
	st, ok := s.m[k]
	return st, ok
}

// Tasks returns the latest states of the tasks of a connector by id.
func (s *KafkaStatus) Tasks(connector string) map[int]Status {
	s.f.Lock()
	defer s.f.Unlock()
	out := map[int]Status{}
	for k, st := range s.m {
		if k.Connector == connector && k.Task != ConnectorUnit {
			out[k.Task] = st
		}
	}
	return out
}

// Put writes the state of k and returns once this view applied it. It
// returns ErrStaleStatus, writing nothing, when the view holds a state
// another worker reported in a later generation; readers skip such a
// write too, should it race with that state.
func (s *KafkaStatus) Put(ctx context.Context, k StatusKey, st Status) error {
	if held, ok := s.Get(k); ok && !st.supersedes(held) {
		return fmt.Errorf("write status of %s: %w", k, ErrStaleStatus)
	}
	value, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode status of %s: %w", k, err)
	}
	return s.f.WriteAndWait(ctx, &kgo.Record{Key: []byte(k.String()), Value: value})
}

// Delete writes a tombstone for the connector and for each of its tasks
// the view holds, as a deleted connector has no state left.
func (s *KafkaStatus) Delete(ctx context.Context, connector string) error {
	keys := []StatusKey{{Connector: connector, Task: ConnectorUnit}}
	for id := range s.Tasks(connector) {
		keys = append(keys, StatusKey{Connector: connector, Task: id})
	}
	for _, k := range keys {
		if err := s.f.WriteAndWait(ctx, &kgo.Record{Key: []byte(k.String())}); err != nil {
			return fmt.Errorf("delete statuses of connector %s: %w", connector, err)
		}
	}
	return nil
}

// apply changes the view by one record. Call with f locked.
func (s *KafkaStatus) apply(r *kgo.Record) {
	k, ok := parseStatusKey(string(r.Key))
	if !ok {
		return // topic states and later record kinds are not kept
	}
	if r.Value == nil {
		delete(s.m, k)
		return
	}
	var st Status
	if err := json.Unmarshal(r.Value, &st); err != nil {
		s.log.Error("skip bad status record", "topic", s.topic, "partition", r.Partition,
			"offset", r.Offset, "key", string(r.Key), "err", err)
		return
	}
	if held, ok := s.m[k]; ok && !st.supersedes(held) {
		return
	}
	s.m[k] = st
}
