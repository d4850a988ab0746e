package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
)

// The context headers Kafka Connect's dead letter queue reporter adds to a
// record when errors.deadletterqueue.context.headers.enable is true.
const (
	HeaderErrorsTopic        = "__connect.errors.topic"
	HeaderErrorsPartition    = "__connect.errors.partition"
	HeaderErrorsOffset       = "__connect.errors.offset"
	HeaderErrorsConnector    = "__connect.errors.connector.name"
	HeaderErrorsTask         = "__connect.errors.task.id"
	HeaderErrorsStage        = "__connect.errors.stage"
	HeaderErrorsClass        = "__connect.errors.class.name"
	HeaderErrorsExcClass     = "__connect.errors.exception.class.name"
	HeaderErrorsExcMessage   = "__connect.errors.exception.message"
	HeaderErrorsExcTrace     = "__connect.errors.exception.stacktrace"
	headerErrorsPrefix       = "__connect.errors."
	defaultDeadLetterTimeout = 30 * time.Second
)

// HeaderOriginalTimestamp holds, in milliseconds since the Unix epoch, the
// timestamp of the record a dead letter holds. The dead letter itself is
// stamped with the time it was dead-lettered, unlike Kafka Connect's, which
// keep the source record's timestamp: time-based retention on the queue then
// counts from the failure, so a record that was old when it failed is not
// deleted from the queue before anyone could look at it. dlq replay restores
// the original timestamp from this header.
const HeaderOriginalTimestamp = "tributary.dlq.original.timestamp"

// deadLetters is a task's dead letter queue: it produces the original bytes
// of the records the task skipped to errors.deadletterqueue.topic.name, and
// remembers which are not acknowledged yet, so that the task never commits
// an offset past one of them.
//
// send is called by the task loop; acknowledgements arrive on the
// producer's goroutines.
type deadLetters struct {
	cl        *kgo.Client
	topic     string
	headers   bool
	connector string
	task      string
	// failures counts the dead letters the broker did not acknowledge.
	failures prometheus.Counter
	// secrets are redacted from the error headers, which quote errors as a
	// log line would.
	secrets *config.Secrets
	// timeout bounds each dead letter's delivery, from when it is sent.
	timeout time.Duration

	mu      sync.Mutex
	pending map[connectors.TopicPartition]map[int64]struct{}
	failed  error
}

// newDeadLetters connects the dead letter queue's producer and creates the
// topic when it is missing, with one partition and the configured
// replication factor capped by the number of brokers.
func newDeadLetters(ctx context.Context, opts []kgo.Opt, eh config.ErrorHandling,
	connector string, task int, timeout time.Duration,
) (*deadLetters, error) {
	opts = append(opts,
		kgo.ClientID(fmt.Sprintf("connector-dlq-producer-%s-%d", connector, task)),
		kgo.DefaultProduceTopic(eh.DeadLetterTopic),
		kgo.ProduceRequestTimeout(min(timeout, 10*time.Second)),
		// A dead letter is acknowledged, and its offset released, only
		// once every in-sync replica has it.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// The producer is idempotent: the broker drops what the client's
		// own retries would write twice. Still, the dead letter queue must
		// fail its task in bounded time when its broker is blackholed, so a
		// record whose request got no answer may be failed; its offset
		// stays uncommitted, and only the redelivery after the task
		// restarts may write that dead letter twice, as Kafka Connect's
		// may.
		kgo.AllowIdempotentProduceCancellation(),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create dead letter queue producer: %w", err)
	}
	if err := createTopic(ctx, kadm.NewClient(cl), eh.DeadLetterTopic,
		eh.DeadLetterReplication, timeout); err != nil {
		cl.Close()
		return nil, err
	}
	return &deadLetters{
		cl: cl, topic: eh.DeadLetterTopic, headers: eh.ContextHeaders,
		connector: connector, task: strconv.Itoa(task),
		timeout: timeout,
		pending: make(map[connectors.TopicPartition]map[int64]struct{}),
	}, nil
}

// createTopic creates topic unless it exists, with min(rf, brokers) replicas.
func createTopic(ctx context.Context, adm *kadm.Client, topic string, rf int16,
	timeout time.Duration,
) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return fmt.Errorf("create dead letter queue topic %s: list brokers: %w", topic, err)
	}
	if rf > 0 && int(rf) > len(brokers) {
		rf = int16(len(brokers))
	}
	resp, err := adm.CreateTopic(ctx, 1, rf, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create dead letter queue topic %s: %w", topic, err)
	}
	return nil
}

// send produces re's record to the dead letter queue. It does not wait for
// the acknowledgement; err reports a failed one.
func (d *deadLetters) send(ctx context.Context, re *recordError) {
	kr := re.record
	tp := connectors.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}
	// The dead letter is stamped now (see HeaderOriginalTimestamp). The
	// producer's RecordDeliveryTimeout would count from the timestamp and
	// so expire any record older than itself before it is sent; a context
	// deadline bounds the delivery from now instead.
	out := &kgo.Record{Key: kr.Key, Value: kr.Value, Timestamp: time.Now()}
	out.Headers = append(out.Headers, kr.Headers...)
	out.Headers = append(out.Headers, kgo.RecordHeader{Key: HeaderOriginalTimestamp,
		Value: []byte(strconv.FormatInt(kr.Timestamp.UnixMilli(), 10))})
	if d.headers {
		out.Headers = append(out.Headers, d.contextHeaders(re)...)
	}

	d.mu.Lock()
	if d.pending[tp] == nil {
		d.pending[tp] = make(map[int64]struct{})
	}
	d.pending[tp][kr.Offset] = struct{}{}
	d.mu.Unlock()

	// The record outlives the delivery that sent it; the deadline bounds
	// it. AllowIdempotentProduceCancellation lets the deadline fail a
	// record whose request is in flight.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
	d.cl.Produce(pctx, out, func(_ *kgo.Record, err error) {
		cancel()
		d.mu.Lock()
		defer d.mu.Unlock()
		if err != nil {
			// The offset stays pending: nothing past it is committed.
			if d.failures != nil {
				d.failures.Inc()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("not acknowledged within %v: %w", d.timeout, err)
			}
			if d.failed == nil {
				d.failed = fmt.Errorf("dead letter queue %s: produce record %s/%d@%d: %w",
					d.topic, kr.Topic, kr.Partition, kr.Offset, err)
			}
			return
		}
		delete(d.pending[tp], kr.Offset)
	})
}

func (d *deadLetters) contextHeaders(re *recordError) []kgo.RecordHeader {
	kr := re.record
	h := func(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }
	return []kgo.RecordHeader{
		h(HeaderErrorsTopic, kr.Topic),
		h(HeaderErrorsPartition, strconv.Itoa(int(kr.Partition))),
		h(HeaderErrorsOffset, strconv.FormatInt(kr.Offset, 10)),
		h(HeaderErrorsConnector, d.connector),
		h(HeaderErrorsTask, d.task),
		h(HeaderErrorsStage, re.stage),
		h(HeaderErrorsClass, re.class),
		h(HeaderErrorsExcClass, exceptionClass(re.err)),
		h(HeaderErrorsExcMessage, d.secrets.Redact(re.err.Error())),
		h(HeaderErrorsExcTrace, d.secrets.Redact(errorTrace(re.err))),
	}
}

// err returns the first failed delivery, which fails the task.
func (d *deadLetters) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed
}

// hold caps off, an offset to commit for tp, at the first record of tp
// whose dead letter is not acknowledged.
func (d *deadLetters) hold(tp connectors.TopicPartition, off int64) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	for o := range d.pending[tp] {
		off = min(off, o)
	}
	return off
}

// release forgets a partition the task no longer owns.
func (d *deadLetters) release(tp connectors.TopicPartition) {
	d.mu.Lock()
	delete(d.pending, tp)
	d.mu.Unlock()
}

// flush waits until every record sent is acknowledged or failed, or ctx
// is done. A failed record is not flush's error: err reports it.
func (d *deadLetters) flush(ctx context.Context) error {
	if err := d.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush dead letter queue %s: %w", d.topic, err)
	}
	return nil
}

// close stops the producer; records not yet acknowledged are dropped, and
// their offsets were never committed.
func (d *deadLetters) close() { d.cl.Close() }
