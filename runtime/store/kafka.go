package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// connectorKeyPrefix starts the key of a connector's record in the config
// topic, as in Kafka Connect's config topic.
const connectorKeyPrefix = "connector-"

// errKafkaClosed reports a call on a closed Kafka store.
var errKafkaClosed = errors.New("config store closed")

// Topic describes a compacted storage topic.
type Topic struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
}

// EnsureTopic creates t with cleanup.policy=compact when it is missing, and
// checks that an existing one has t.Partitions partitions: a config topic
// with more than one would lose the order of its records.
func EnsureTopic(ctx context.Context, adm *kadm.Client, t Topic) error {
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, t.Partitions, t.ReplicationFactor,
		map[string]*string{"cleanup.policy": &compact}, t.Name)
	if err == nil {
		err = resp.Err
	}
	if err == nil {
		return nil
	}
	if !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", t.Name, err)
	}
	// Another worker may have created it a moment ago: its metadata may lag.
	var details kadm.TopicDetails
	for {
		details, err = adm.ListTopics(ctx, t.Name)
		if err == nil {
			err = details.Error()
		}
		if err == nil || !kerr.IsRetriable(err) || !pause(ctx) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("describe topic %s: %w", t.Name, err)
	}
	if n := len(details[t.Name].Partitions); int32(n) != t.Partitions {
		return fmt.Errorf("topic %s has %d partitions, want %d", t.Name, n, t.Partitions)
	}
	return nil
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
	cl     *kgo.Client
	topic  string
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	m        map[string]Connector
	applied  int64         // offset of the last record applied, -1 before any
	progress chan struct{} // closed and replaced whenever applied moves
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
	if err := EnsureTopic(ctx, kadm.NewClient(cl), Topic{topic, 1, rf}); err != nil {
		cl.Close()
		return nil, fmt.Errorf("open config store: %w", err)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {0: kgo.NewOffset().AtStart()},
	})
	readCtx, cancel := context.WithCancel(context.Background())
	s := &Kafka{
		cl: cl, topic: topic, log: log, cancel: cancel, done: make(chan struct{}),
		m: map[string]Connector{}, applied: -1, progress: make(chan struct{}),
	}
	go s.read(readCtx)
	if _, err := s.ReadToEnd(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops following the topic; calls after it fail.
func (s *Kafka) Close() {
	s.cancel()
	<-s.done
	s.cl.Close()
}

// Offset returns the offset of the last record applied, -1 before any.
func (s *Kafka) Offset() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

// Progress returns a channel closed the next time a record is applied,
// written by this worker or another one.
func (s *Kafka) Progress() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
}

// ReadToEnd waits until the view holds every record the topic held when it
// was called and returns the offset applied.
func (s *Kafka) ReadToEnd(ctx context.Context) (int64, error) {
	var end kadm.ListedOffset
	for {
		ends, err := kadm.NewClient(s.cl).ListEndOffsets(ctx, s.topic)
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			end, _ = ends.Lookup(s.topic, 0)
			break
		}
		// A topic just created may not have a leader yet.
		if !kerr.IsRetriable(err) || !pause(ctx) {
			return 0, fmt.Errorf("read end of config topic %s: %w", s.topic, err)
		}
	}
	// The topic is never written in transactions and compaction keeps the
	// active segment, so the record before the end offset exists.
	return end.Offset - 1, s.WaitFor(ctx, end.Offset-1)
}

// WaitFor returns once the record at offset is applied.
func (s *Kafka) WaitFor(ctx context.Context, offset int64) error {
	for {
		s.mu.Lock()
		applied, progress := s.applied, s.progress
		s.mu.Unlock()
		if applied >= offset {
			return nil
		}
		select {
		case <-progress:
		case <-s.done:
			return errKafkaClosed
		case <-ctx.Done():
			return fmt.Errorf("read config topic %s to %d: %w", s.topic, offset, ctx.Err())
		}
	}
}

// read applies the topic's records until ctx ends.
func (s *Kafka) read(ctx context.Context) {
	defer close(s.done)
	for {
		fetches := s.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			s.log.Warn("read config topic", "topic", topic, "partition", p, "err", err)
		})
		s.mu.Lock()
		moved := false
		fetches.EachRecord(func(r *kgo.Record) {
			s.apply(r)
			s.applied, moved = r.Offset, true
		})
		if moved {
			close(s.progress)
			s.progress = make(chan struct{})
		}
		s.mu.Unlock()
	}
}

// apply changes the view by one record. Call with mu held.
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
	r := &kgo.Record{Topic: s.topic, Partition: 0, Key: []byte(connectorKeyPrefix + name),
		Value: value}
	if err := s.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("write connector %s to %s: %w", name, s.topic, err)
	}
	return s.WaitFor(ctx, r.Offset)
}

// Connectors implements ConfigStore.
func (s *Kafka) Connectors(ctx context.Context) ([]Connector, error) {
	if _, err := s.ReadToEnd(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return sorted(s.m), nil
}

// Snapshot returns the connectors applied so far without reading further.
func (s *Kafka) Snapshot() ([]Connector, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sorted(s.m), s.applied
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

// pause waits a moment before a retry and reports whether ctx allows one.
func pause(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(100 * time.Millisecond):
		return true
	}
}
