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

// errKafkaClosed reports a call on a closed Kafka-backed store.
var errKafkaClosed = errors.New("kafka store closed")

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

// follower reads a compacted topic into a view and follows it until
// closed. Its owner keeps the view and changes it in apply, which runs
// with mu held, one record at a time, in each partition's order.
type follower struct {
	cl     *kgo.Client
	topic  string
	kind   string // what the topic holds, for messages: config, status
	log    *slog.Logger
	apply  func(r *kgo.Record)
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	applied  map[int32]int64 // offset of the last record applied per partition
	progress chan struct{}   // closed and replaced whenever applied moves
}

// start creates t when missing, then reads it to its end and follows it
// until close. On error the client is closed.
func (f *follower) start(ctx context.Context, t Topic) error {
	if err := EnsureTopic(ctx, kadm.NewClient(f.cl), t); err != nil {
		f.cl.Close()
		return fmt.Errorf("open %s store: %w", f.kind, err)
	}
	parts := map[int32]kgo.Offset{}
	for p := range t.Partitions {
		parts[p] = kgo.NewOffset().AtStart()
	}
	f.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{f.topic: parts})
	readCtx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	f.applied, f.progress = map[int32]int64{}, make(chan struct{})
	go f.read(readCtx)
	if err := f.readToEnd(ctx); err != nil {
		f.close()
		return err
	}
	return nil
}

// close stops following the topic; calls after it fail.
func (f *follower) close() {
	f.cancel()
	<-f.done
	f.cl.Close()
}

// offset returns the offset of the last record applied in partition p, -1
// before any.
func (f *follower) offset(p int32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off, ok := f.applied[p]; ok {
		return off
	}
	return -1
}

// readToEnd waits until the view holds every record the topic held when it
// was called.
func (f *follower) readToEnd(ctx context.Context) error {
	var ends kadm.ListedOffsets
	for {
		var err error
		ends, err = kadm.NewClient(f.cl).ListEndOffsets(ctx, f.topic)
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			break
		}
		// A topic just created may not have a leader yet.
		if !kerr.IsRetriable(err) || !pause(ctx) {
			return fmt.Errorf("read end of %s topic %s: %w", f.kind, f.topic, err)
		}
	}
	// The topic is never written in transactions and compaction keeps the
	// active segment, so the record before each end offset exists.
	var err error
	ends.Each(func(o kadm.ListedOffset) {
		if err == nil {
			err = f.waitFor(ctx, o.Partition, o.Offset-1)
		}
	})
	return err
}

// waitFor returns once the record at offset of partition p is applied.
func (f *follower) waitFor(ctx context.Context, p int32, offset int64) error {
	for {
		// Read both under one lock: a record applied between two reads
		// would replace the channel this loop then waits on in vain.
		f.mu.Lock()
		applied, ok := f.applied[p]
		progress := f.progress
		f.mu.Unlock()
		if !ok {
			applied = -1
		}
		if applied >= offset {
			return nil
		}
		select {
		case <-progress:
		case <-f.done:
			return errKafkaClosed
		case <-ctx.Done():
			return fmt.Errorf("read %s topic %s to %d: %w", f.kind, f.topic, offset,
				ctx.Err())
		}
	}
}

func (f *follower) progressChan() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.progress
}

// read applies the topic's records until ctx ends.
func (f *follower) read(ctx context.Context) {
	defer close(f.done)
	for {
		fetches := f.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			f.log.Warn("read "+f.kind+" topic", "topic", topic, "partition", p, "err", err)
		})
		f.mu.Lock()
		moved := false
		fetches.EachRecord(func(r *kgo.Record) {
			f.apply(r)
			f.applied[r.Partition], moved = r.Offset, true
		})
		if moved {
			close(f.progress)
			f.progress = make(chan struct{})
		}
		f.mu.Unlock()
	}
}

// produce appends r and waits until the view applied it.
func (f *follower) produce(ctx context.Context, r *kgo.Record) error {
	r.Topic = f.topic
	if err := f.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("write %s to %s topic %s: %w", r.Key, f.kind, f.topic, err)
	}
	return f.waitFor(ctx, r.Partition, r.Offset)
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
	f follower
	m map[string]Connector // guarded by f.mu
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
	s := &Kafka{m: map[string]Connector{}}
	s.f = follower{cl: cl, topic: topic, kind: "config", log: log, apply: s.apply}
	if err := s.f.start(ctx, Topic{topic, 1, rf}); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops following the topic; calls after it fail.
func (s *Kafka) Close() { s.f.close() }

// Offset returns the offset of the last record applied, -1 before any.
func (s *Kafka) Offset() int64 { return s.f.offset(0) }

// Progress returns a channel closed the next time a record is applied,
// written by this worker or another one.
func (s *Kafka) Progress() <-chan struct{} { return s.f.progressChan() }

// ReadToEnd waits until the view holds every record the topic held when it
// was called and returns the offset applied.
func (s *Kafka) ReadToEnd(ctx context.Context) (int64, error) {
	if err := s.f.readToEnd(ctx); err != nil {
		return 0, err
	}
	return s.Offset(), nil
}

// WaitFor returns once the record at offset is applied.
func (s *Kafka) WaitFor(ctx context.Context, offset int64) error {
	return s.f.waitFor(ctx, 0, offset)
}

// apply changes the view by one record. Call with f.mu held.
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
		s.f.log.Error("skip bad config record", "topic", s.f.topic, "offset", r.Offset,
			"connector", name, "err", err)
		return
	}
	s.m[name] = c
}

// write appends one record and waits until the view applied it.
func (s *Kafka) write(ctx context.Context, name string, value []byte) error {
	return s.f.produce(ctx, &kgo.Record{Partition: 0, Key: []byte(connectorKeyPrefix + name),
		Value: value})
}

// Connectors implements ConfigStore.
func (s *Kafka) Connectors(ctx context.Context) ([]Connector, error) {
	if _, err := s.ReadToEnd(ctx); err != nil {
		return nil, err
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	return sorted(s.m), nil
}

// Snapshot returns the connectors applied so far without reading further.
func (s *Kafka) Snapshot() ([]Connector, int64) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	off, ok := s.f.applied[0]
	if !ok {
		off = -1
	}
	return sorted(s.m), off
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
