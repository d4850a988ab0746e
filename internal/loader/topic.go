package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// retentionForever keeps records regardless of their timestamps. The
// bookings carry event times from 2014 to 2017, which time-based retention
// would judge long expired.
const retentionForever = "-1"

// ensureTopic creates cfg.Topic if it is missing. A topic that exists
// already is used as it is, with a warning if its retention would delete
// records as old as the bookings.
func ensureTopic(ctx context.Context, cl *kgo.Client, cfg Config, log *slog.Logger) error {
	adm := kadm.NewClient(cl)
	partitions := cfg.Partitions
	if partitions == 0 {
		partitions = -1 // the broker's num.partitions
	}
	replication := cfg.ReplicationFactor
	if replication == 0 {
		replication = 1
	}
	retention := retentionForever
	configs := map[string]*string{"retention.ms": &retention}

	_, err := adm.CreateTopic(ctx, partitions, replication, configs, cfg.Topic)
	switch {
	case err == nil:
		log.Info("topic created", "topic", cfg.Topic, "partitions", partitions,
			"replication_factor", replication)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		warnRetention(ctx, adm, cfg.Topic, log)
		return nil
	default:
		return fmt.Errorf("create topic %s: %w", cfg.Topic, err)
	}
}

// warnRetention warns when topic deletes records by age. Failing to read the
// config is not worth failing the load over, so it is only logged.
func warnRetention(ctx context.Context, adm *kadm.Client, topic string, log *slog.Logger) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err == nil {
		var rc kadm.ResourceConfig
		if rc, err = rcs.On(topic, nil); err == nil {
			err = rc.Err
		}
		if err == nil {
			for _, c := range rc.Configs {
				if c.Key == "retention.ms" && c.Value != nil && *c.Value != retentionForever {
					log.Warn("topic deletes old records: bookings carry timestamps from "+
						"2014-2017 and may be deleted soon after they arrive; "+
						"set retention.ms=-1 on the topic",
						"topic", topic, "retention_ms", *c.Value)
				}
			}
			return
		}
	}
	log.Debug("read topic config", "topic", topic, "err", err)
}
