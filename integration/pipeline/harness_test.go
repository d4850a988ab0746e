//go:build integration

package pipeline

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors/s3"
	"github.com/tributary-io/tributary/connectors/storage"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/internal/loader"
	"github.com/tributary-io/tributary/internal/verify"
	"github.com/tributary-io/tributary/schemas/registry"
)

// env is the running services, read once.
var env services.Env

// minioClient connects to the test MinIO.
func minioClient(t *testing.T) *minio.Client {
	t.Helper()
	c, err := minio.New(env.S3Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(env.S3AccessKey, env.S3SecretKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sinkConfig is the main job's connector config: Parquet, partitioned by
// arrival date, into bucket; extra overrides keys.
func sinkConfig(topic, bucket string, extra map[string]string) map[string]string {
	cfg := map[string]string{
		"connector.class":       "io.confluent.connect.s3.S3SinkConnector",
		"tasks.max":             "2",
		"topics":                topic,
		"s3.bucket.name":        bucket,
		"store.url":             "http://" + env.S3Endpoint,
		"aws.access.key.id":     env.S3AccessKey,
		"aws.secret.access.key": env.S3SecretKey,
		"format.class":          "io.confluent.connect.s3.format.parquet.ParquetFormat",
		"flush.size":            "10000",
		"partitioner.class":     "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
		"path.format":           "'year'=YYYY/'month'=MM/'day'=dd",
		"partition.duration.ms": "86400000",
		"timezone":              "UTC",
		"locale":                "en-US",
		"timestamp.extractor":   "RecordField",
		"timestamp.field":       "arrival_date",
		"topics.dir":            "topics",
	}
	for k, v := range extra {
		if v == "" {
			delete(cfg, k)
			continue
		}
		cfg[k] = v
	}
	return cfg
}

// loadBookings produces the first limit bookings (all when 0) to topic.
func loadBookings(t *testing.T, ctx context.Context, topic, registryURL string, limit int) loader.Result {
	t.Helper()
	return loadBookingRows(t, ctx, topic, registryURL, 0, limit)
}

// loadBookingsFrom produces the bookings after the first skip rows.
func loadBookingsFrom(t *testing.T, ctx context.Context, topic, registryURL string, skip int) loader.Result {
	t.Helper()
	return loadBookingRows(t, ctx, topic, registryURL, skip, 0)
}

// loadBookingRows produces limit bookings (all the rest when 0) after the
// first skip rows of the dataset.
func loadBookingRows(t *testing.T, ctx context.Context, topic, registryURL string,
	skip, limit int) loader.Result {
	t.Helper()
	src, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var csv io.Reader = src
	if skip > 0 {
		all, err := io.ReadAll(src)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(all, []byte("\n"))
		csv = bytes.NewReader(bytes.Join(append([][]byte{lines[0]}, lines[1+skip:]...), nil))
	}
	client, err := registry.NewClient([]string{registryURL})
	if err != nil {
		t.Fatal(err)
	}
	res, err := loader.Load(ctx, loader.Config{
		// Keyed by action_id, the records use both partitions of a topic.
		Brokers: env.KafkaBrokers, Topic: topic, Registry: client, Limit: limit,
		Key: loader.KeyActionID,
	}, csv)
	if err != nil {
		t.Fatalf("load bookings %d+%d: %v", skip, limit, err)
	}
	return res
}

// waitCommitted polls until group has committed the end offset of every
// partition of topic.
func waitCommitted(t *testing.T, group, topic string, timeout time.Duration) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		done, progress, err := verify.CaughtUp(ctx, adm, group, topic)
		cancel()
		if err == nil {
			last = progress
			if done {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("group %s did not commit the end of %s within %v: %s", group, topic, timeout, last)
}

// oracleSource is topic as the sink oracle reads it. The oracle ends its
// read of a partition that has not reached its end offset once no record
// came for Idle, taking the rest for commit markers; its default of three
// seconds is a stall of a loaded broker too, which left offsets unread and
// failed the comparison with the bucket.
func oracleSource(topic string) verify.Source {
	return verify.Source{Brokers: env.KafkaBrokers, Topic: topic, Idle: 15 * time.Second}
}

// verifyBucket runs the sink oracle and fails the test on any gap or
// duplicate.
func verifyBucket(t *testing.T, topic, bucket string) *verify.Report {
	t.Helper()
	format, err := storage.NewFormat("parquet")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := verify.Run(ctx, oracleSource(topic),
		verify.Sink{Store: s3.NewStore(minioClient(t), bucket), TopicsDir: "topics", Format: format})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	verify.Print(&b, rep)
	t.Log("\n" + b.String())
	if !rep.OK() {
		t.Fatalf("sink oracle failed:\n%s", b.String())
	}
	return rep
}

// newTopic creates a topic with n partitions.
func newTopic(t *testing.T, n int32) string {
	return services.NewTopic(t, env, n)
}

// connectorName names a test's connector after its topic, which is unique:
// the connector's consumer group, connect-<name>, then belongs to the test
// alone on the shared Kafka, free of other tests' members and offsets.
func connectorName(base, topic string) string { return base + "-" + topic }

// newBucket creates an empty bucket.
func newBucket(t *testing.T) string {
	return services.NewBucket(t, env)
}
