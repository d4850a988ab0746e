package worker

import (
	"errors"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
)

// newChain builds the connector's transform chain from its config with
// references resolved, as Kafka Connect configures transforms.
func (t *task) newChain() (*transform.Chain, error) {
	resolved, err := t.w.opts.Providers.Resolve(t.c.config)
	if err != nil {
		return nil, fmt.Errorf("resolve config: %w", err)
	}
	chain, errs := transform.Parse(resolved)
	if len(errs) > 0 {
		return nil, &connectors.ConfigError{Source: "connector " + t.c.name, Errors: errs}
	}
	return chain, nil
}

// transform runs the chain on r, converted from kr. A nil record means the
// chain dropped it. A transform that fails is permanent for the record.
func (t *task) transform(kr *kgo.Record, r *connectors.Record) (*connectors.Record, error) {
	out, err := t.chain.Apply(r)
	if err == nil {
		return out, nil
	}
	class := "transform"
	var te *transform.Error
	if errors.As(err, &te) {
		class = te.Class
	}
	// kr, not r: the chain may have renamed r's topic before it failed.
	pos := connectors.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset}
	return nil, skip(kr, stageTransformation, class,
		fmt.Errorf("transform record %s: %w", pos.Position(), err))
}

// progress follows, per partition, how far the task has consumed and what
// it last handed the sink, so that records that never reach the sink
// (dropped by a transform, skipped under errors.tolerance=all) do not hold
// the committed offset back: once the sink reports every record it was
// handed as durable, everything consumed up to the next record is done
// too. Without it, a partition whose tail is filtered would never commit
// its end, and one whose records are all filtered would never commit.
//
// It is used under task.mu only.
type progress struct {
	// next is one past the last record of the partition the task is done
	// with: handed to the sink, dropped or skipped.
	next map[connectors.TopicPartition]int64
	// handed is the offset of the last record handed to the sink; -1 when
	// none was since the partition was assigned, and noSkip when the sink
	// moved the start position and owes work there (a plan to re-execute).
	handed map[connectors.TopicPartition]int64
	// routed is set once the sink took a record of a topic the task does
	// not consume; the sink's offsets are then committed as they are.
	routed bool
}

// noSkip marks a partition whose durable offset must come from the sink
// alone until the sink has taken a record.
const noSkip = math.MaxInt64

// assign starts following newly assigned partitions. moved holds those
// whose start position the sink moved.
func (p *progress) assign(committed, moved map[connectors.TopicPartition]int64) {
	if p.next == nil {
		p.next = make(map[connectors.TopicPartition]int64)
		p.handed = make(map[connectors.TopicPartition]int64)
	}
	for tp := range committed {
		delete(p.next, tp)
		p.handed[tp] = -1
		if _, ok := moved[tp]; ok {
			p.handed[tp] = noSkip
		}
	}
}

// consumed notes a polled batch the task is done with: each of its records
// was handed to the sink, dropped or skipped.
func (p *progress) consumed(krs []*kgo.Record) {
	if p.next == nil {
		return
	}
	for _, kr := range krs {
		tp := connectors.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}
		if _, ok := p.handed[tp]; ok {
			p.next[tp] = kr.Offset + 1
		}
	}
}

// put notes records the sink took.
func (p *progress) put(batch []*connectors.Record) {
	if p.next == nil {
		return
	}
	for _, r := range batch {
		tp := r.TopicPartition()
		if _, ok := p.handed[tp]; !ok {
			// A transform renamed the topic: which partition the record
			// came from is unknown, so no offset is skipped any more.
			p.routed = true
			continue
		}
		p.handed[tp] = r.Offset
	}
}

// release stops following a partition.
func (p *progress) release(tp connectors.TopicPartition) {
	delete(p.next, tp)
	delete(p.handed, tp)
}

// rewound notes that the consumer goes back to offset: the sink sees every
// record from there again.
func (p *progress) rewound(tp connectors.TopicPartition, offset int64) {
	if p.next == nil {
		return
	}
	p.next[tp] = offset
	p.handed[tp] = offset - 1
}

// durable returns the offsets to commit given what the sink reports as
// durable: the sink's offset, or the next record to consume when the sink
// has made everything it was handed durable and the records after that
// never reached it.
func (p *progress) durable(sink map[connectors.TopicPartition]int64) map[connectors.TopicPartition]int64 {
	if p.routed {
		return sink
	}
	out := make(map[connectors.TopicPartition]int64, len(sink))
	for tp, off := range sink {
		out[tp] = off
		if next, ok := p.next[tp]; ok && next > off && off > p.handed[tp] {
			out[tp] = next
		}
	}
	// A sink reports nothing for a partition it never wrote to and that
	// has no committed offset; when it was handed nothing either, every
	// record consumed there was dropped or skipped.
	for tp, next := range p.next {
		if _, ok := sink[tp]; !ok && p.handed[tp] == -1 {
			out[tp] = next
		}
	}
	return out
}
