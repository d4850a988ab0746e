package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// errStoreClosed reports a write or wait cut short by Close.
var errStoreClosed = errors.New("schema store closed")

// store keeps the view in step with the compacted topic: one goroutine reads
// the topic from its start and applies every record, and writers wait until
// that reader has applied what they wrote.
type store struct {
	cl    *kgo.Client
	topic string
	view  *view
	log   *slog.Logger

	mu       sync.Mutex
	applied  int64         // offset of the last record applied; -1 before any
	progress chan struct{} // closed and replaced whenever applied moves

	cancel context.CancelFunc
	done   chan struct{} // closed when the reader has stopped
}

// openStore connects to Kafka, creates the topic if it is missing, and
// returns once the view holds everything the topic held at the time.
func openStore(ctx context.Context, cfg ServerConfig, v *view) (*store, error) {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	}, cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client: %w", err)
	}
	if err := ensureTopic(ctx, kadm.NewClient(cl), cfg.Topic, cfg.ReplicationFactor); err != nil {
		cl.Close()
		return nil, err
	}

	readCtx, cancel := context.WithCancel(context.Background())
	s := &store{
		cl:       cl,
		topic:    cfg.Topic,
		view:     v,
		log:      cfg.Logger,
		applied:  -1,
		progress: make(chan struct{}),
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{
		cfg.Topic: {0: kgo.NewOffset().AtStart()},
	})
	go s.read(readCtx)

	// Reading up to the log end offset is not enough on a compacted topic
	// whose tail may be a transaction marker; reading back a record of our
	// own is, as Confluent's registry does.
	off, err := s.write(ctx, noopKey, nil)
	if err == nil {
		err = s.waitApplied(ctx, off)
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("read %s to its end: %w", cfg.Topic, err)
	}
	return s, nil
}

// ensureTopic creates the topic with one partition and compaction, or
// checks that an existing one has a single partition: with more, records
// would lose their order and the views their agreement.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, rf int) error {
	compact := "compact"
	configs := map[string]*string{"cleanup.policy": &compact}
	resp, err := adm.CreateTopic(ctx, 1, int16(rf), configs, topic)
	switch {
	case err == nil && resp.Err == nil:
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists):
	case err != nil:
		return fmt.Errorf("create topic %s: %w", topic, err)
	default:
		return fmt.Errorf("create topic %s: %w", topic, resp.Err)
	}
	// Another instance may have created it a moment ago: the metadata may
	// not show it yet.
	var d kadm.TopicDetail
	for {
		details, err := adm.ListTopics(ctx, topic)
		if err == nil {
			d = details[topic]
			err = d.Err
		}
		if err == nil {
			break
		}
		if !kerr.IsRetriable(err) {
			return fmt.Errorf("describe topic %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("describe topic %s: %w", topic, errors.Join(ctx.Err(), err))
		case <-time.After(100 * time.Millisecond):
		}
	}
	if n := len(d.Partitions); n != 1 {
		return fmt.Errorf("topic %s has %d partitions, a schema store needs exactly 1", topic, n)
	}
	return nil
}

// read applies the topic's records to the view until ctx ends.
func (s *store) read(ctx context.Context) {
	defer close(s.done)
	for {
		fetches := s.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			s.log.Warn("read schema topic", "topic", topic, "partition", p, "err", err)
		})
		last := int64(-1)
		fetches.EachRecord(func(r *kgo.Record) {
			s.view.apply(r.Key, r.Value, r.Offset)
			last = r.Offset
		})
		if last >= 0 {
			s.mu.Lock()
			s.applied = last
			close(s.progress)
			s.progress = make(chan struct{})
			s.mu.Unlock()
		}
	}
}

// write appends one record and returns its offset once Kafka has it on all
// in-sync replicas. It returns ctx's error when ctx ends first: the client
// only checks a record's context between attempts, and keeps retrying a
// broker that has gone, so the answer is not waited for past ctx. The
// record may still be written later; a write that timed out is ambiguous,
// as Kafka's are.
func (s *store) write(ctx context.Context, key, value []byte) (int64, error) {
	r := &kgo.Record{Topic: s.topic, Partition: 0, Key: key, Value: value}
	done := make(chan error, 1) // buffered: the callback never blocks
	s.cl.Produce(ctx, r, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("write to %s: %w", s.topic, err)
		}
		return r.Offset, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("write to %s: %w", s.topic, ctx.Err())
	}
}

// waitApplied returns once the reader has applied the record at offset.
func (s *store) waitApplied(ctx context.Context, offset int64) error {
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
			return errStoreClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close stops the reader, then the client: in that order, so that the
// reader never polls a closed client.
func (s *store) close() {
	s.cancel()
	<-s.done
	s.cl.Close()
}
