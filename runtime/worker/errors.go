package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Stages of the sink data path where a record can fail, spelt as Kafka
// Connect writes them in the __connect.errors.stage header.
const (
	stageKeyConverter    = "KEY_CONVERTER"
	stageValueConverter  = "VALUE_CONVERTER"
	stageHeaderConverter = "HEADER_CONVERTER"
	stageTransformation  = "TRANSFORMATION"
)

// classAvroConverter is what __connect.errors.class.name names for the
// value converter stage: the class a Kafka Connect user configured.
const classAvroConverter = "io.confluent.connect.avro.AvroConverter"

// recordError is a permanent failure of one record at one stage: retrying
// the same bytes gives the same answer. What it does is decided by
// errors.tolerance, in task.report.
type recordError struct {
	stage string
	// class names the component that failed: the converter or the
	// transform's class.
	class  string
	record *kgo.Record
	err    error
}

func (e *recordError) Error() string { return e.err.Error() }
func (e *recordError) Unwrap() error { return e.err }

// retryLater stops a delivery at record: a transient fault outlasted what
// one poll may block, and the consumer goes back to record to try again
// after the group had its chance to rebalance.
type retryLater struct {
	record *kgo.Record
	err    error
}

func (e *retryLater) Error() string { return "retry later: " + e.err.Error() }
func (e *retryLater) Unwrap() error { return e.err }

// isTransient reports whether err may go away on its own: a registry that
// is unreachable or answers 5xx, a broker that is unavailable, a timeout.
// Transient faults are retried within errors.retry.timeout and are never
// skipped or dead-lettered; everything else about a record is permanent.
func isTransient(err error) bool {
	if schemas.IsTransient(err) || connectors.IsRetriable(err) || kerr.IsRetriable(err) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// errorNames gives the sentinels a user may meet in a dead letter queue a
// stable name for __connect.errors.exception.class.name.
var errorNames = []struct {
	err  error
	name string
}{
	{schemas.ErrBadMagic, "schemas.ErrBadMagic"},
	{schemas.ErrUnknownSchema, "schemas.ErrUnknownSchema"},
	{schemas.ErrTruncated, "schemas.ErrTruncated"},
	{schemas.ErrTrailingBytes, "schemas.ErrTrailingBytes"},
	{schemas.ErrMalformed, "schemas.ErrMalformed"},
	{schemas.ErrTooLarge, "schemas.ErrTooLarge"},
}

// exceptionClass names the kind of err: the sentinel it wraps when known,
// otherwise the Go type of its innermost cause.
func exceptionClass(err error) string {
	for _, n := range errorNames {
		if errors.Is(err, n.err) {
			return n.name
		}
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

// errorTrace stands in for a Java stack trace: the chain of wrapped errors,
// one per line, outermost first.
func errorTrace(err error) string {
	var b strings.Builder
	for e := err; e != nil; e = errors.Unwrap(e) {
		fmt.Fprintf(&b, "%T: %s\n", e, e.Error())
	}
	return b.String()
}

// retryBudget bounds the retries of transient faults by errors.retry.timeout
// and errors.retry.delay.max.ms. The budget runs from the first failure
// until a delivery completes, across polls. It is safe for concurrent use
// by the decoders.
type retryBudget struct {
	timeout  time.Duration // negative: forever
	maxDelay time.Duration
	// stretch is how long one delivery may block on retries before it
	// hands its records back to the consumer: a poll loop that blocks
	// holds up rebalances, and a member that holds one up too long is
	// dropped from the group.
	stretch time.Duration
	since   atomic.Int64 // unix nanoseconds of the first failure; 0: none
}

// wait backs off before the next attempt at an operation on kr that failed
// with the transient err. attempt counts from 1 within the current call,
// which began retrying at began. It returns an error that fails the task
// once errors.retry.timeout is spent, a *retryLater once the stretch is
// spent, and ctx's error when ctx is done.
func (b *retryBudget) wait(ctx context.Context, kr *kgo.Record, attempt int, began time.Time,
	err error,
) error {
	now := time.Now()
	b.since.CompareAndSwap(0, now.UnixNano())
	spent := now.Sub(time.Unix(0, b.since.Load()))
	if b.timeout >= 0 && spent >= b.timeout {
		return fmt.Errorf("gave up after retrying for %s (errors.retry.timeout=%d): %w",
			spent.Round(time.Millisecond), b.timeout.Milliseconds(), err)
	}
	left := b.stretch - now.Sub(began)
	if left <= 0 {
		return &retryLater{record: kr, err: err}
	}
	d := min(100*time.Millisecond<<min(attempt-1, 20), b.maxDelay)
	d = d/2 + rand.N(d/2+1)
	if b.timeout >= 0 {
		d = min(d, b.timeout-spent)
	}
	d = min(d, left)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// reset ends the current run of failures.
func (b *retryBudget) reset() { b.since.Store(0) }
