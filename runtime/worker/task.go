package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/metrics"
)

// task runs one SinkTask on one Kafka consumer.
type task struct {
	w      *Worker
	c      *connector
	id     int
	sink   connectors.SinkTask
	config map[string]string
	dec    Decoder
	log    *slog.Logger
	m      *metrics.Task

	// mu serialises every call into sink: the poll loop and the group
	// callbacks both make them.
	mu        sync.Mutex
	cl        *kgo.Client
	assigned  map[connectors.TopicPartition]bool
	committed map[connectors.TopicPartition]int64
	rewinds   map[connectors.TopicPartition]int64
	lastFlush time.Time
	// lastCommit is when offsets last went to Kafka: every commit
	// interval, though PreCommit runs more often for wall-clock rotation.
	lastCommit time.Time

	// chain is the connector's transforms; prog follows the records
	// that never reach the sink.
	chain *transform.Chain
	prog  progress

	// keyDec is the key.converter, nil when keys stay bytes; keyClass
	// names it in dead letters. header reads header values.
	keyDec   Decoder
	keyClass string
	header   headerConverter

	// retry bounds retries of transient faults; dlq, when the connector
	// has one, takes the records skipped under errors.tolerance=all.
	retry *retryBudget
	dlq   *deadLetters

	stateMu sync.Mutex
	state   string
	trace   string
}

func newTask(w *Worker, c *connector, id int, sink connectors.SinkTask, config map[string]string, dec Decoder) *task {
	return &task{
		w: w, c: c, id: id, sink: sink, config: config, dec: dec,
		log:       w.log.With("connector", c.name, "task", id),
		m:         w.opts.Metrics.Task(c.name, id),
		assigned:  make(map[connectors.TopicPartition]bool),
		committed: make(map[connectors.TopicPartition]int64),
		rewinds:   make(map[connectors.TopicPartition]int64),
		state:     StateUnassigned,
		retry:     newRetryBudget(w.opts, c.common),
		header:    simpleHeader,
	}
}

func (t *task) status() TaskStatus {
	t.stateMu.Lock()
	defer t.stateMu.Unlock()
	return TaskStatus{ID: t.id, State: t.state, Trace: t.trace}
}

func (t *task) setState(state string, err error) {
	t.stateMu.Lock()
	t.state = state
	if err != nil {
		t.trace = err.Error()
	}
	t.stateMu.Unlock()
}

// run is the task's whole life. It returns when ctx is done or the task
// fails; a failure is logged here, once, and shown in the status.
func (t *task) run(ctx context.Context) {
	err := t.runLoop(ctx)
	if err != nil && ctx.Err() == nil {
		t.setState(StateFailed, err)
		t.log.Error("task failed", "err", err)
		return
	}
	t.setState(StateStopped, nil)
}

func (t *task) runLoop(ctx context.Context) (err error) {
	tc := connectors.SinkTaskContext{
		Connector: t.c.name, TaskID: t.id, Logger: t.log,
		Rewind:  func(tp connectors.TopicPartition, offset int64) { t.rewinds[tp] = offset },
		Metrics: t.m,
	}
	if t.chain, err = t.newChain(); err != nil {
		return err
	}
	if err := t.newKeyConverter(); err != nil {
		return err
	}
	if err := t.startErrorHandling(ctx); err != nil {
		return err
	}
	if err := t.sink.Start(ctx, tc, t.config); err != nil {
		t.closeDeadLetters()
		return fmt.Errorf("start: %w", err)
	}
	cl, err := kgo.NewClient(t.kafkaOpts()...)
	if err != nil {
		_ = t.sink.Stop(context.Background())
		t.closeDeadLetters()
		return fmt.Errorf("create consumer: %w", err)
	}
	t.cl = cl
	t.setState(StateRunning, nil)
	t.log.Info("task started", "topics", t.c.common.Topics, "regex", t.c.common.TopicsRegex)
	defer func() {
		serr := t.shutdown()
		// A dead letter that failed while stopping fails the task too; one
		// that failed before is err already, and is not repeated.
		if err == nil && t.dlq != nil {
			err = t.dlq.err()
		}
		err = errors.Join(err, serr)
	}()

	t.lastFlush = time.Now()
	t.lastCommit = t.lastFlush
	for {
		t.syncPause(cl)
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollRecords(pollCtx, t.w.opts.MaxPollRecords)
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			t.log.Warn("fetch failed; the consumer retries", "topic", fe.Topic,
				"partition", fe.Partition, "err", fe.Err)
		}
		err := t.handle(ctx, fetches)
		cl.AllowRebalance()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

func (t *task) kafkaOpts() []kgo.Opt {
	common := t.c.common
	opts := []kgo.Opt{
		kgo.SeedBrokers(t.w.opts.Brokers...),
		kgo.ClientID(fmt.Sprintf("connector-consumer-%s-%d", t.c.name, t.id)),
		kgo.ConsumerGroup("connect-" + t.c.name),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(t.w.opts.SessionTimeout),
		kgo.HeartbeatInterval(max(t.w.opts.SessionTimeout/10, 100*time.Millisecond)),
		kgo.AdjustFetchOffsetsFn(t.onAssigned),
		kgo.OnPartitionsRevoked(t.onRevoked),
		kgo.OnPartitionsLost(t.onLost),
		t.m.KafkaHooks(),
	}
	if common.TopicsRegex != nil {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(common.TopicsRegex.String()))
	} else {
		opts = append(opts, kgo.ConsumeTopics(common.Topics...))
	}
	return append(opts, t.w.opts.KafkaOpts...)
}

// handle processes one polled batch with rebalances held off.
func (t *task) handle(ctx context.Context, fetches kgo.Fetches) error {
	t.mu.Lock()
	defer t.mu.Unlock()

	krs := fetches.Records()
	n := 0
	for _, kr := range krs {
		if t.assigned[connectors.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}] {
			krs[n] = kr // keep: not revoked while the batch was in flight
			n++
		}
	}
	krs = krs[:n]
	t.m.RecordsRead.Add(float64(len(krs)))
	err := t.deliver(ctx, krs)
	var rl *retryLater
	switch {
	case errors.As(err, &rl):
		t.retryFrom(krs, rl)
	case err != nil:
		return err
	default:
		t.retry.reset()
		t.prog.consumed(krs)
	}
	if t.dlq != nil {
		if err := t.dlq.err(); err != nil {
			return err
		}
	}
	t.applyRewinds()

	if time.Since(t.lastFlush) < t.flushTick() {
		return nil
	}
	t.lastFlush = time.Now()
	if t.lastFlush.Sub(t.lastCommit) < t.w.opts.CommitInterval {
		// A tick for the sink's wall-clock rotation only: the offsets it
		// makes durable go to Kafka at the next commit interval, as
		// offset.flush.interval.ms says.
		if _, err := t.sink.PreCommit(ctx); err != nil {
			return fmt.Errorf("pre-commit: %w", err)
		}
		t.applyRewinds()
		return nil
	}
	t.lastCommit = t.lastFlush
	return t.commit(ctx, nil)
}

// deliver decodes krs and puts them into the sink, in order. Decoding is
// independent per record and, after the sink's own work, the heaviest step
// of the loop, so the batch is cut into chunks that decode on every core
// while the sink takes the chunks before them. A decode error ends the
// delivery at the failing record: the records before it reach the sink,
// none after it, as when decoding one by one.
func (t *task) deliver(ctx context.Context, krs []*kgo.Record) error {
	chunks := make([]decoded, (len(krs)+chunkSize-1)/chunkSize)
	if len(chunks) == 0 {
		return nil
	}
	for i := range chunks {
		chunks[i].done = make(chan struct{})
	}

	// The decoders stop early once delivery has failed; the deferred
	// cancel-then-wait makes sure none outlives this call.
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	var next atomic.Int64
	for range min(runtime.GOMAXPROCS(0), len(chunks)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) {
					return
				}
				t.decodeChunk(ctx, &chunks[i], krs[i*chunkSize:min((i+1)*chunkSize, len(krs))])
			}
		})
	}

	for i := range chunks {
		c := &chunks[i]
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		t.countDelivered(c)
		for _, re := range c.skipped {
			if err := t.report(ctx, re); err != nil {
				return err
			}
		}
		if len(c.records) > 0 {
			if err := t.put(ctx, c.records); err != nil {
				return err
			}
		}
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// decoded is one chunk of a batch, converted. done is closed once records
// and err are set.
type decoded struct {
	records []*connectors.Record
	skipped []*recordError // permanent failures, when errors.tolerance=all
	err     error
	done    chan struct{}
}

// decodeChunk converts krs into c, stopping at the first error.
func (t *task) decodeChunk(ctx context.Context, c *decoded, krs []*kgo.Record) {
	defer close(c.done)
	c.records = make([]*connectors.Record, 0, len(krs))
	for _, kr := range krs {
		r, err := t.convert(ctx, kr)
		var re *recordError
		if errors.As(err, &re) && t.c.common.ErrorsTolerance == config.ToleranceAll {
			c.skipped = append(c.skipped, re)
			continue
		}
		if err != nil {
			c.err = err
			return
		}
		if r != nil {
			c.records = append(c.records, r)
		}
	}
}

// chunkSize is how many records a decoder converts at a time, and so
// how many the sink takes per Put while the next chunks decode.
const chunkSize = 1024

// flushTick is how often PreCommit runs: every commit interval, and at least
// every second when the sink rotates on the wall clock.
func (t *task) flushTick() time.Duration {
	if t.config["rotate.schedule.interval.ms"] != "" {
		return min(t.w.opts.CommitInterval, time.Second)
	}
	return t.w.opts.CommitInterval
}

// convert decodes one Kafka record: its key, its headers and its value, in
// that order as Kafka Connect's WorkerSinkTask does, then runs the
// transforms. A transient fault (the registry down) is retried within the
// retry budget; a record that cannot be decoded returns a *recordError
// naming the converter that failed.
func (t *task) convert(ctx context.Context, kr *kgo.Record) (*connectors.Record, error) {
	r := &connectors.Record{
		Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
		Timestamp: kr.Timestamp, Key: kr.Key,
	}
	// The checks here keep the common record, with no key converter and no
	// headers, free of calls.
	if t.keyDec != nil {
		if err := t.convertKey(ctx, kr, r); err != nil {
			return nil, err
		}
	}
	if len(kr.Headers) > 0 {
		if err := t.convertHeaders(kr, r); err != nil {
			return nil, err
		}
	}
	if kr.Value == nil {
		return t.transform(kr, r) // a tombstone: transforms see it too
	}
	var err error
	var permanent bool
	r.ValueSchema, r.Value, err, permanent = t.decode(ctx, kr, t.dec, kr.Value)
	switch {
	case err == nil:
		return t.transform(kr, r)
	case permanent:
		return nil, skip(kr, stageValueConverter, t.converterClass(),
			fmt.Errorf("decode record %s: %w", r.Position(), err))
	}
	return nil, err
}

// put hands a batch to the sink, backing off and retrying while the sink
// reports retriable errors.
func (t *task) put(ctx context.Context, batch []*connectors.Record) error {
	backoff := newBackoff()
	for {
		err := t.sink.Put(ctx, batch)
		if err == nil {
			t.prog.put(batch)
			t.m.RecordsWritten.Add(float64(len(batch)))
		}
		if err == nil || !connectors.IsRetriable(err) {
			return err
		}
		t.log.Warn("sink put failed; retrying the batch", "records", len(batch), "err", err)
		if werr := backoff.wait(ctx); werr != nil {
			return werr
		}
	}
}

// applyRewinds moves the consumer back where the sink asked to.
func (t *task) applyRewinds() {
	if len(t.rewinds) == 0 {
		return
	}
	set := make(map[string]map[int32]kgo.EpochOffset)
	for tp, off := range t.rewinds {
		if set[tp.Topic] == nil {
			set[tp.Topic] = make(map[int32]kgo.EpochOffset)
		}
		set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
		t.prog.rewound(tp, off)
		t.log.Info("partition rewound", "topic", tp.Topic, "partition", tp.Partition, "offset", off)
	}
	t.cl.SetOffsets(set)
	clear(t.rewinds)
}

// commit asks the sink what is durable and commits what changed. only, when
// not nil, limits the commit to those partitions. Call with mu held.
func (t *task) commit(ctx context.Context, only []connectors.TopicPartition) error {
	durable, err := t.sink.PreCommit(ctx)
	if err != nil {
		return fmt.Errorf("pre-commit: %w", err)
	}
	t.applyRewinds()
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	keep := func(tp connectors.TopicPartition) bool {
		if only == nil {
			return t.assigned[tp]
		}
		for _, o := range only {
			if o == tp {
				return true
			}
		}
		return false
	}
	for tp, off := range t.prog.durable(durable) {
		off = t.held(tp, off)
		if !keep(tp) || t.committed[tp] == off {
			continue
		}
		if offsets[tp.Topic] == nil {
			offsets[tp.Topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	if len(offsets) == 0 {
		return nil
	}
	var commitErr error
	t.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			commitErr = err
			return
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				tp := connectors.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
				if perr := kerr.ErrorForCode(rp.ErrorCode); perr != nil {
					commitErr = errors.Join(commitErr, fmt.Errorf("%s: %w", tp, perr))
					continue
				}
				t.committed[tp] = offsets[rt.Topic][rp.Partition].Offset
			}
		}
	})
	if commitErr != nil {
		// Not fatal: the sink's store is the source of truth, and a task
		// that lost its partitions learns it from the group shortly.
		t.log.Warn("offset commit failed", "err", commitErr,
			"why", "rebalance or lost membership; the next owner recovers from the sink")
	} else {
		t.log.Debug("offsets committed", "partitions", len(offsets))
	}
	return nil
}

// onAssigned runs when partitions are assigned, after their committed
// offsets are fetched: the sink opens them and may move the start forward.
func (t *task) onAssigned(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	committed := make(map[connectors.TopicPartition]int64)
	for topic, parts := range offsets {
		for p, o := range parts {
			tp := connectors.TopicPartition{Topic: topic, Partition: p}
			off := o.EpochOffset().Offset
			if off < 0 {
				off = -1
			}
			committed[tp] = off
			t.committed[tp] = off
		}
	}
	resume, err := t.sink.Open(ctx, committed)
	if err != nil {
		t.log.Error("open partitions", "err", err)
		return nil, err
	}
	for tp := range committed {
		t.assigned[tp] = true
	}
	for tp, off := range resume {
		offsets[tp.Topic][tp.Partition] = kgo.NewOffset().At(off).WithEpoch(-1)
	}
	t.prog.assign(committed, resume)
	t.log.Info("partitions assigned", "partitions", len(committed), "moved_by_sink", len(resume))
	return offsets, nil
}

func (t *task) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	t.release(ctx, revoked, true)
}

func (t *task) onLost(ctx context.Context, _ *kgo.Client, lost map[string][]int32) {
	t.release(ctx, lost, false)
}

// release closes partitions the group took away. On a clean revoke the
// durable offsets are committed first; lost partitions belong to someone
// else already, so nothing is committed for them.
func (t *task) release(ctx context.Context, parts map[string][]int32, commit bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var tps []connectors.TopicPartition
	for topic, ps := range parts {
		for _, p := range ps {
			tps = append(tps, connectors.TopicPartition{Topic: topic, Partition: p})
		}
	}
	if len(tps) == 0 {
		return
	}
	if commit {
		if err := t.commit(ctx, tps); err != nil {
			t.log.Warn("commit on revoke", "err", err)
		}
	}
	if err := t.sink.Close(ctx, tps); err != nil {
		t.log.Warn("close partitions", "err", err)
	}
	for _, tp := range tps {
		delete(t.assigned, tp)
		delete(t.committed, tp)
		delete(t.rewinds, tp)
		t.prog.release(tp)
		if t.dlq != nil {
			t.dlq.release(tp)
		}
	}
	why := "rebalance"
	if !commit {
		why = "membership lost"
	}
	t.log.Info("partitions released", "partitions", len(tps), "why", why)
}

// shutdown stops the task in the documented order, each step bounded.
func (t *task) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), t.w.opts.ShutdownTimeout)
	defer cancel()

	// 1. Wait for the dead letters, commit what is durable, then drop the
	// partitions' buffers.
	t.mu.Lock()
	var err error
	if t.dlq != nil {
		err = t.dlq.flush(ctx)
	}
	err = errors.Join(err, t.commit(ctx, nil))
	var tps []connectors.TopicPartition
	for tp := range t.assigned {
		tps = append(tps, tp)
	}
	err = errors.Join(err, t.sink.Close(ctx, tps))
	clear(t.assigned)

	// 2. Stop the sink.
	err = errors.Join(err, t.sink.Stop(ctx))
	t.mu.Unlock()

	// 3. Leave the group. Close runs the revoke callback, which finds no
	// partitions left.
	t.cl.CloseAllowingRebalance()
	t.closeDeadLetters()
	t.log.Info("task stopped")
	return err
}

// backoff is exponential with full jitter, from 100ms to 10s.
type backoff struct{ next time.Duration }

func newBackoff() *backoff { return &backoff{next: 100 * time.Millisecond} }

func (b *backoff) wait(ctx context.Context) error {
	d := b.next/2 + rand.N(b.next/2+1)
	b.next = min(b.next*2, 10*time.Second)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
