package registry

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/compacted"
)

// openStore connects to Kafka, creates the topic if it is missing, and
// returns once the view holds everything the topic held at the time. The
// returned follower applies every record of the topic to v.
func openStore(ctx context.Context, cfg ServerConfig, v *view) (*compacted.Follower, error) {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	}, cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client: %w", err)
	}
	// One partition: with more, records would lose their order and the
	// views their agreement.
	t := compacted.Topic{Name: cfg.Topic, Partitions: 1,
		ReplicationFactor: int16(cfg.ReplicationFactor)}
	st, err := compacted.Follow(ctx, cl, t, "schema", cfg.Logger, func(r *kgo.Record) {
		v.apply(r.Key, r.Value, r.Offset)
	})
	if err != nil {
		return nil, err
	}
	if err := readBack(ctx, st); err != nil {
		st.Close()
		return nil, fmt.Errorf("read %s to its end: %w", cfg.Topic, err)
	}
	return st, nil
}

// readBack returns once the view holds every record the topic held when it
// was called. Reading up to the log end offset is not enough on a compacted
// topic whose tail may be a transaction marker; reading back a record of our
// own is, as Confluent's registry does.
func readBack(ctx context.Context, st *compacted.Follower) error {
	return st.WriteAndWait(ctx, &kgo.Record{Partition: 0, Key: noopKey})
}
