package compacted

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrClosed reports a write or wait cut short by Close.
var ErrClosed = errors.New("compacted topic follower closed")

// Follower reads a compacted topic from its start and follows it until
// closed, applying each record to its owner's view. The owner guards its
// view with the Follower's lock: apply runs with it held, one record at a
// time, in each partition's order.
type Follower struct {
	cl     *kgo.Client
	topic  string
	what   string // what the topic holds, for messages: config, schema
	log    *slog.Logger
	apply  func(r *kgo.Record)
	cancel context.CancelFunc
	done   chan struct{} // closed when the reader has stopped

	mu       sync.Mutex
	applied  map[int32]int64 // offset of the last record applied per partition
	progress chan struct{}   // closed and replaced whenever applied moves
}

// Follow creates t when missing (see EnsureTopic) and starts following all
// its partitions from their start with cl, which the Follower owns from now
// on: on error cl is closed, otherwise Close closes it. what names what the
// topic holds, for messages. Follow does not wait for the view to catch
// up: call ReadToEnd, or Write and WaitFor, for that.
func Follow(ctx context.Context, cl *kgo.Client, t Topic, what string, log *slog.Logger,
	apply func(r *kgo.Record),
) (*Follower, error) {
	if err := EnsureTopic(ctx, kadm.NewClient(cl), t); err != nil {
		cl.Close()
		return nil, err
	}
	parts := map[int32]kgo.Offset{}
	for p := range t.Partitions {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{t.Name: parts})

	readCtx, cancel := context.WithCancel(context.Background())
	f := &Follower{
		cl: cl, topic: t.Name, what: what, log: log, apply: apply,
		cancel: cancel, done: make(chan struct{}),
		applied: map[int32]int64{}, progress: make(chan struct{}),
	}
	go f.read(readCtx)
	return f, nil
}

// Close stops the reader, then the client: in that order, so that the
// reader never polls a closed client. Waits cut short return ErrClosed.
func (f *Follower) Close() {
	f.cancel()
	<-f.done
	f.cl.Close()
}

// Client returns the client the Follower reads and writes with.
func (f *Follower) Client() *kgo.Client { return f.cl }

// Lock locks the view: apply does not run until Unlock.
func (f *Follower) Lock() { f.mu.Lock() }

// Unlock unlocks the view.
func (f *Follower) Unlock() { f.mu.Unlock() }

// Applied returns the offset of the last record applied in partition p, -1
// before any. Call it with the view locked.
func (f *Follower) Applied(p int32) int64 {
	if off, ok := f.applied[p]; ok {
		return off
	}
	return -1
}

// Offset is Applied for a caller that does not hold the lock.
func (f *Follower) Offset(p int32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Applied(p)
}

// Progress returns a channel closed the next time a record is applied,
// whoever wrote it.
func (f *Follower) Progress() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.progress
}

// ReadToEnd waits until the view holds every record the topic held when it
// was called. It reads up to the partitions' end offsets, so it suits only
// topics never written in transactions: it relies on the record before
// each end offset existing, which compaction keeps true since it never
// touches the active segment, but a transaction marker would break.
func (f *Follower) ReadToEnd(ctx context.Context) error {
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
		if !kerr.IsRetriable(err) {
			return fmt.Errorf("read end of %s topic %s: %w", f.what, f.topic, err)
		}
		if perr := pause(ctx); perr != nil {
			return fmt.Errorf("read end of %s topic %s: %w", f.what, f.topic,
				errors.Join(perr, err))
		}
	}
	var err error
	ends.Each(func(o kadm.ListedOffset) {
		if err == nil {
			err = f.WaitFor(ctx, o.Partition, o.Offset-1)
		}
	})
	return err
}

// Write appends r to the topic and returns once Kafka has it as the
// client's acks require; r.Partition and r.Offset then say where it is.
// It returns ctx's error when ctx ends first: the client checks a record's
// context only between attempts and keeps retrying a broker that has gone,
// so the answer is not waited for past ctx. The record may still be
// written later: a write that timed out is ambiguous, as Kafka's are.
func (f *Follower) Write(ctx context.Context, r *kgo.Record) error {
	r.Topic = f.topic
	done := make(chan error, 1) // buffered: the callback never blocks
	f.cl.Produce(ctx, r, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("write %s to %s topic %s: %w", r.Key, f.what, f.topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("write %s to %s topic %s: %w", r.Key, f.what, f.topic, ctx.Err())
	}
}

// WriteAndWait writes r and waits until the view applied it.
func (f *Follower) WriteAndWait(ctx context.Context, r *kgo.Record) error {
	if err := f.Write(ctx, r); err != nil {
		return err
	}
	return f.WaitFor(ctx, r.Partition, r.Offset)
}

// WaitFor returns once the record at offset of partition p is applied. It
// returns ErrClosed once the Follower is closed and ctx's error when ctx
// ends first.
func (f *Follower) WaitFor(ctx context.Context, p int32, offset int64) error {
	for {
		// Read both under one lock: a record applied between two reads
		// would replace the channel this loop then waits on in vain.
		f.mu.Lock()
		applied, progress := f.Applied(p), f.progress
		f.mu.Unlock()
		if applied >= offset {
			return nil
		}
		select {
		case <-progress:
		case <-f.done:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("read %s topic %s to %d: %w", f.what, f.topic, offset,
				ctx.Err())
		}
	}
}

// read applies the topic's records until ctx ends.
func (f *Follower) read(ctx context.Context) {
	defer close(f.done)
	for {
		fetches := f.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			f.log.Warn("read "+f.what+" topic", "topic", topic, "partition", p, "err", err)
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
