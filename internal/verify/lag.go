package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// CaughtUp reports whether group has committed the end offset of every
// non-empty partition of topic, and describes each partition as
// p<partition>=<committed>/<end> for progress messages. The end is the
// high watermark, so a topic whose last records are transaction markers
// never counts as caught up: poll Run for those.
func CaughtUp(ctx context.Context, adm *kadm.Client, group, topic string) (bool, string, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return false, "", fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return false, "", fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	done := true
	var b strings.Builder
	ends.Each(func(o kadm.ListedOffset) {
		c, _ := committed.Lookup(topic, o.Partition)
		fmt.Fprintf(&b, " p%d=%d/%d", o.Partition, c.At, o.Offset)
		if o.Offset > 0 && c.At < o.Offset {
			done = false
		}
	})
	return done, strings.TrimSpace(b.String()), nil
}
