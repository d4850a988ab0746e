package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/tributary-io/tributary/connectors"
)

// AlterOffsets checks a change of the committed offsets against the
// bucket, as Kafka Connect's SinkConnector.alterOffsets lets a connector
// do; the runtime calls it with the connector stopped, before it changes
// the consumer group.
//
// The bucket, not the group, decides where a task resumes (see Recovery in
// the package documentation): a task resumes from the newest plan at or
// after the committed offset, and the plans are never undone. So only one
// kind of change means what it says: moving a partition forward to or past
// the end of what the bucket holds, which skips the records in between.
// The others are refused, with the reason:
//
//   - a reset (nil offset) or a move to a point at or before the start of
//     the newest plan would be overridden by the plans: nothing would be
//     written again;
//   - a move into a written segment would write the rest of that segment a
//     second time, under other object names.
//
// To replay records into the bucket, delete the partition's objects and
// its plans under topics.dir first, then reset the offsets.
func (c *Connector) AlterOffsets(ctx context.Context, config map[string]string,
	offsets map[connectors.TopicPartition]*int64,
) (bool, error) {
	cfg, errs := ParseConfig(config)
	if len(errs) > 0 {
		return false, &connectors.ConfigError{Source: "alter offsets", Errors: errs}
	}
	store, err := c.NewStore(ctx, config)
	if err != nil {
		return false, fmt.Errorf("open store: %w", err)
	}
	t := &Task{store: store, cfg: cfg, log: slog.New(slog.DiscardHandler)}

	tps := make([]connectors.TopicPartition, 0, len(offsets))
	for tp := range offsets {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool { return tps[i].String() < tps[j].String() })
	var problems []error
	for _, tp := range tps {
		p, err := t.latestPlan(ctx, tp, 0)
		if err != nil {
			return false, fmt.Errorf("read plans of %s: %w", tp, err)
		}
		if p == nil {
			continue // nothing written: the group's offset is the position
		}
		end, off := p.Last+1, offsets[tp]
		switch {
		case off == nil:
			problems = append(problems, fmt.Errorf("%s: %s holds records up to offset %d "+
				"(plan %s); after a reset the sink would resume after them and write "+
				"nothing again; to write them again, delete %s and the objects it names first",
				tp, store, p.Last, p, planPrefix(cfg.TopicsDir, tp)))
		case *off < end:
			problems = append(problems, fmt.Errorf("%s: offset %d is behind %s, which "+
				"holds records up to offset %d (plan %s); the sink would not write them "+
				"again, or would write part of a segment twice; use an offset of at "+
				"least %d", tp, *off, store, p.Last, p, end))
		}
	}
	if len(problems) > 0 {
		return false, errors.Join(problems...)
	}
	return true, nil
}
