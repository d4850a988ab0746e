package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/compacted"
)

// connectorKeyPrefix starts the key of a connector's record in the config
// topic, as in Kafka Connect's config topic.
const connectorKeyPrefix = "connector-"

// Topic describes a compacted storage topic.
type Topic = compacted.Topic

// EnsureTopic creates t with cleanup.policy=compact when it is missing, and
// checks that an existing one has t.Partitions partitions: a config topic
// with more than one would lose the order of its records.
func EnsureTopic(ctx context.Context, adm *kadm.Client, t Topic) error {
	return compacted.EnsureTopic(ctx, adm, t)
}

// follow creates t when missing, then reads it to its end with cl and
// follows it until closed, applying each record with apply. kind names
// what the topic holds. On error cl is closed.
func follow(ctx context.Context, cl *kgo.Client, t Topic, kind string, log *slog.Logger,
	apply func(r *kgo.Record),
) (*compacted.Follower, error) {
	f, err := compacted.Follow(ctx, cl, t, kind, log, apply)
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", kind, err)
	}
	// The storage topics are never written in transactions.
	if err := f.ReadToEnd(ctx); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s store: %w", kind, err)
	}
	return f, nil
}

// Kafka is a ConfigStore kept in a compacted topic of one partition, Kafka
// Connect's config.storage.topic: each connector is one record keyed
// connector-<name> whose value is the Connector as JSON, and a delete is a
// tombstone. Every worker of a cluster reads the whole topic into memory
// and follows it, so a connector written through any worker reaches all.
//
// Reads are linearizable with the topic: Connectors first reads up to the
// topic's end offset. Put and Delete return once the record is on every
// in-sync replica and applied to this store's view.
type Kafka struct {
	f     *compacted.Follower
	topic string
	log   *slog.Logger
	m     map[string]Connector // guarded by f's lock
}

// OpenKafka creates topic when missing (one partition, compacted, with
// replication rf), reads it to its end and follows it until Close. opts
// configure the client, starting with the brokers.
func OpenKafka(ctx context.Context, topic string, rf int16, log *slog.Logger,
	opts ...kgo.Opt,
) (*Kafka, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("open config store %s: %w", topic, err)
	}
	s := &Kafka{topic: topic, log: log, m: map[string]Connector{}}
	t := Topic{Name: topic, Partitions: 1, ReplicationFactor: rf}
	if s.f, err = follow(ctx, cl, t, "config", log, s.apply); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops following the topic; calls after it fail.
func (s *Kafka) Close() { s.f.Close() }

// Offset returns the offset of the last record applied, -1 before any.
func (s *Kafka) Offset() int64 { return s.f.Offset(0) }

// Progress returns a channel closed the next time a record is applied,
// written by this worker or another one.
func (s *Kafka) Progress() <-chan struct{} { return s.f.Progress() }

// ReadToEnd waits until the view holds every record the topic held when it
// was called and returns the offset applied.
func (s *Kafka) ReadToEnd(ctx context.Context) (int64, error) {
	if err := s.f.ReadToEnd(ctx); err != nil {
		return 0, err
	}
	return s.Offset(), nil
}

// WaitFor returns once the record at offset is applied.
func (s *Kafka) WaitFor(ctx context.Context, offset int64) error {
	return s.f.WaitFor(ctx, 0, offset)
}

// apply changes the view by one record. Call with f locked.
func (s *Kafka) apply(r *kgo.Record) {
	name, ok := strings.CutPrefix(string(r.Key), connectorKeyPrefix)
	if !ok {
		return // a record kind of a later version: keep reading
	}
	if r.Value == nil {
		delete(s.m, name)
		return
	}
	var c Connector
	if err := json.Unmarshal(r.Value, &c); err != nil || c.Name != name {
		s.log.Error("skip bad config record", "topic", s.topic, "offset", r.Offset,
			"connector", name, "err", err)
		return
	}
	s.m[name] = c
}

// write appends one record and waits until the view applied it.
func (s *Kafka) write(ctx context.Context, name string, value []byte) error {
	return s.f.WriteAndWait(ctx, &kgo.Record{Partition: 0,
		Key: []byte(connectorKeyPrefix + name), Value: value})
}

// Connectors implements ConfigStore.
func (s *Kafka) Connectors(ctx context.Context) ([]Connector, error) {
	if _, err := s.ReadToEnd(ctx); err != nil {
		return nil, err
	}
	s.f.Lock()
	defer s.f.Unlock()
	return sorted(s.m), nil
}

// Snapshot returns the connectors applied so far without reading further.
func (s *Kafka) Snapshot() ([]Connector, int64) {
	s.f.Lock()
	defer s.f.Unlock()
	return sorted(s.m), s.f.Applied(0)
}

// Put implements ConfigStore.
func (s *Kafka) Put(ctx context.Context, c Connector) error {
	value, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode connector %s: %w", c.Name, err)
	}
	return s.write(ctx, c.Name, value)
}

// Delete implements ConfigStore.
func (s *Kafka) Delete(ctx context.Context, name string) error {
	return s.write(ctx, name, nil)
}
