package compacted

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Topic describes a compacted topic.
type Topic struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
}

// EnsureTopic creates t with cleanup.policy=compact when it is missing, and
// checks that an existing one has t.Partitions partitions: its owner relies
// on the order records keep within a partition and on where keys land.
//
// An existing topic that another client created a moment ago may not show
// in the metadata yet: describing it is retried while the error is
// retriable, until ctx ends.
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

	var d kadm.TopicDetail
	for {
		details, err := adm.ListTopics(ctx, t.Name)
		if err == nil {
			d = details[t.Name]
			err = d.Err
		}
		if err == nil {
			break
		}
		if !kerr.IsRetriable(err) {
			return fmt.Errorf("describe topic %s: %w", t.Name, err)
		}
		if perr := pause(ctx); perr != nil {
			return fmt.Errorf("describe topic %s: %w", t.Name, errors.Join(perr, err))
		}
	}
	if n := len(d.Partitions); int32(n) != t.Partitions {
		return fmt.Errorf("topic %s has %d partitions, want %d",
			t.Name, n, t.Partitions)
	}
	return nil
}

// pause waits a moment before a retry, or returns ctx's error when it ends
// first.
func pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(100 * time.Millisecond):
		return nil
	}
}
