package worker

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
)

// startErrorHandling sets up what the connector's errors.* keys ask for:
// the retry budget of transient faults and, under errors.tolerance=all
// with a topic named, the dead letter queue.
func (t *task) startErrorHandling(ctx context.Context) error {
	eh := t.c.common.Errors
	if eh.DeadLetterTopic == "" || t.c.common.ErrorsTolerance != config.ToleranceAll {
		return nil
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(t.w.opts.Brokers...), t.m.KafkaHooks()},
		t.w.opts.KafkaOpts...)
	dlq, err := newDeadLetters(ctx, opts, eh, t.c.name, t.id, t.w.opts.DeadLetterTimeout)
	if err != nil {
		return err
	}
	dlq.failures = t.m.DeadLetterFailures
	dlq.secrets = t.w.opts.Secrets
	t.dlq = dlq
	return nil
}

// newRetryBudget returns the retry budget of a task of a connector with
// common keys cm.
func newRetryBudget(o Options, cm Common) *retryBudget {
	eh := cm.Errors
	if eh == (config.ErrorHandling{}) {
		eh = config.DefaultErrorHandling()
	}
	return &retryBudget{
		timeout:  eh.RetryTimeout,
		maxDelay: eh.RetryDelayMax,
		stretch:  max(o.SessionTimeout/3, 100*time.Millisecond),
	}
}

// report handles a record skipped under errors.tolerance=all: it logs it
// when errors.log.enable is set and sends it to the dead letter queue when
// there is one. Under errors.tolerance=none it returns re, which fails the
// task.
func (t *task) report(ctx context.Context, re *recordError) error {
	if t.c.common.ErrorsTolerance != config.ToleranceAll {
		return re
	}
	kr := re.record
	if eh := t.c.common.Errors; eh.LogEnable {
		args := []any{"topic", kr.Topic, "partition", kr.Partition, "offset", kr.Offset,
			"stage", re.stage, "err", re.err, "why", "errors.tolerance=all"}
		if eh.LogMessages {
			args = append(args, "key", strconv.Quote(string(kr.Key)),
				"value", strconv.Quote(string(kr.Value)))
		}
		t.log.Warn("record skipped", args...)
	}
	if t.dlq != nil {
		t.dlq.send(ctx, re)
		t.m.DeadLetters.Inc()
	}
	return nil
}

// skip returns the error that stands for kr's permanent failure at stage.
func skip(kr *kgo.Record, stage, class string, err error) *recordError {
	return &recordError{stage: stage, class: class, record: kr, err: err}
}

// retryFrom hands back the records of a batch from the one a transient
// fault stopped at: the records before it are done, and the consumer
// fetches the others again on the next poll.
func (t *task) retryFrom(krs []*kgo.Record, rl *retryLater) {
	i := 0
	for i < len(krs) && krs[i] != rl.record {
		i++
	}
	t.prog.consumed(krs[:i])
	set := make(map[string]map[int32]kgo.EpochOffset)
	for _, kr := range krs[i:] {
		if set[kr.Topic] == nil {
			set[kr.Topic] = make(map[int32]kgo.EpochOffset)
		}
		if _, ok := set[kr.Topic][kr.Partition]; !ok {
			set[kr.Topic][kr.Partition] = kgo.EpochOffset{Epoch: -1, Offset: kr.Offset}
		}
	}
	t.cl.SetOffsets(set)
	t.log.Warn("transient failure outlasted a poll; fetching the records again",
		"err", rl.err, "partitions", len(set), "hint", "the task keeps retrying within "+
			"errors.retry.timeout")
}

// held caps off, an offset to commit for tp, at the first record of tp
// whose dead letter is not acknowledged yet.
func (t *task) held(tp connectors.TopicPartition, off int64) int64 {
	if t.dlq == nil {
		return off
	}
	return t.dlq.hold(tp, off)
}

// converterClass names the value converter for __connect.errors.class.name:
// the connector's value.converter, else the worker's, else the
// AvroConverter.
func (t *task) converterClass() string {
	for _, cfg := range []map[string]string{t.config, t.w.opts.ConverterDefaults} {
		if c := cfg[config.KeyValueConverter]; c != "" {
			if c == config.ConverterAvro {
				return classAvroConverter
			}
			return c
		}
	}
	return classAvroConverter
}

// closeDeadLetters stops the dead letter queue's producer, if any.
func (t *task) closeDeadLetters() {
	if t.dlq != nil {
		t.dlq.close()
	}
}
