package worker

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/store"
)

// OffsetAlterer is implemented by sink connectors whose sink, and not only
// the consumer group, decides where their tasks resume, as Kafka Connect's
// SinkConnector.alterOffsets.
//
// The worker calls AlterOffsets with the connector STOPPED, before it
// changes the group's offsets, with config resolved. offsets maps each
// partition to its new offset, nil for a reset. An error refuses the whole
// change, and its message tells the user why; handled reports that the
// connector has checked or applied the change against its sink, so that the
// change means what it says.
type OffsetAlterer interface {
	AlterOffsets(ctx context.Context, config map[string]string,
		offsets map[connectors.TopicPartition]*int64) (handled bool, err error)
}

// SinkOffset is a sink connector's committed position in one partition:
// the next offset to consume.
type SinkOffset struct {
	Topic     string
	Partition int32
	Offset    int64
}

// group is the consumer group of a sink connector, as in Kafka Connect.
func group(name string) string { return "connect-" + name }

func (w *Worker) admin() (*kadm.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(w.opts.Brokers...)},
		w.opts.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("create admin client: %w", err)
	}
	return kadm.NewClient(cl), nil
}

// Offsets returns the connector's committed offsets, sorted, in any state.
func (w *Worker) Offsets(ctx context.Context, name string) ([]SinkOffset, error) {
	w.mu.Lock()
	_, ok := w.connectors[name]
	w.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	adm, err := w.admin()
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	return committed(ctx, adm, name)
}

func committed(ctx context.Context, adm *kadm.Client, name string) ([]SinkOffset, error) {
	resp, err := adm.FetchOffsets(ctx, group(name))
	if errors.Is(err, kerr.GroupIDNotFound) {
		return []SinkOffset{}, nil
	}
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group(name), err)
	}
	out := []SinkOffset{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.At >= 0 {
			out = append(out, SinkOffset{Topic: o.Topic, Partition: o.Partition, Offset: o.At})
		}
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}

// AlterOffsets sets the committed offsets of the given partitions; a nil
// offset removes the partition's commit, so that it restarts from the
// earliest record. The connector must be STOPPED (ErrNotStopped otherwise).
// A connector implementing OffsetAlterer may refuse with an *OffsetsError.
func (w *Worker) AlterOffsets(ctx context.Context, name string,
	offsets map[connectors.TopicPartition]*int64,
) (handled bool, err error) {
	return w.changeOffsets(ctx, name, offsets, false)
}

// ResetOffsets removes every committed offset of the connector: Kafka
// Connect's DELETE /connectors/{c}/offsets. The connector must be STOPPED.
func (w *Worker) ResetOffsets(ctx context.Context, name string) (handled bool, err error) {
	return w.changeOffsets(ctx, name, nil, true)
}

func (w *Worker) changeOffsets(ctx context.Context, name string,
	offsets map[connectors.TopicPartition]*int64, reset bool,
) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.connectors[name]
	if !ok {
		return false, fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	if c.target != store.TargetStopped || len(c.tasks) > 0 {
		return false, fmt.Errorf("connector %s: %w", name, ErrNotStopped)
	}
	adm, err := w.admin()
	if err != nil {
		return false, err
	}
	defer adm.Close()
	if reset {
		cur, err := committed(ctx, adm, name)
		if err != nil {
			return false, err
		}
		offsets = make(map[connectors.TopicPartition]*int64, len(cur))
		for _, o := range cur {
			offsets[connectors.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = nil
		}
	}

	handled := false
	if oa, ok := c.plugin.(OffsetAlterer); ok {
		resolved, err := w.opts.Providers.Resolve(c.config)
		if err != nil {
			return false, &OffsetsError{Name: name, Err: err}
		}
		if handled, err = oa.AlterOffsets(ctx, resolved, offsets); err != nil {
			return false, &OffsetsError{Name: name, Err: err}
		}
	}

	if reset {
		return handled, w.deleteGroup(ctx, adm, name)
	}
	var set kadm.Offsets
	var drop kadm.TopicsSet
	for tp, off := range offsets {
		if off == nil {
			drop.Add(tp.Topic, tp.Partition)
			continue
		}
		set.AddOffset(tp.Topic, tp.Partition, *off, -1)
	}
	if len(set) > 0 {
		resp, err := adm.CommitOffsets(ctx, group(name), set)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return false, fmt.Errorf("commit offsets of group %s: %w", group(name), err)
		}
	}
	if len(drop) > 0 {
		resp, err := adm.DeleteOffsets(ctx, group(name), drop)
		if err == nil {
			err = resp.Error()
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return false, fmt.Errorf("delete offsets of group %s: %w", group(name), err)
		}
	}
	w.log.Info("connector offsets altered", "connector", name, "partitions", len(offsets))
	return handled, nil
}

// deleteGroup removes the connector's consumer group and with it every
// committed offset, as Kafka Connect resets a sink connector.
func (w *Worker) deleteGroup(ctx context.Context, adm *kadm.Client, name string) error {
	resp, err := adm.DeleteGroup(ctx, group(name))
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return fmt.Errorf("delete group %s: %w", group(name), err)
	}
	w.log.Info("connector offsets reset", "connector", name)
	return nil
}
