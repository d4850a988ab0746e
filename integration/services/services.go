// Package services connects integration tests to the real servers that
// integration/services.sh runs on 127.0.0.1: a Kafka broker, a MinIO S3
// endpoint, a Python with the witness libraries (duckdb, pyarrow,
// confluent-kafka) and kcat.
//
// Tests read the servers' addresses through [Require], which fails the test
// when they are missing rather than skipping it: an integration run that
// silently skips proves nothing. [NewTopic] and [NewBucket] give each test its
// own uniquely named topic or bucket, removed when the test ends, so tests
// never see each other's data even on a long-lived broker.
package services

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The variables integration/services.sh env prints.
const (
	envKafkaBrokers = "TRIBUTARY_KAFKA_BROKERS"
	envKafkaHome    = "TRIBUTARY_KAFKA_HOME"
	envS3Endpoint   = "TRIBUTARY_S3_ENDPOINT"
	envS3AccessKey  = "TRIBUTARY_S3_ACCESS_KEY"
	envS3SecretKey  = "TRIBUTARY_S3_SECRET_KEY"
	envPython       = "TRIBUTARY_PYTHON"
)

// setupTimeout bounds each call a helper makes to a server, so a dead server
// fails the test in seconds instead of at the go test deadline.
const setupTimeout = 30 * time.Second

// Env holds the addresses and credentials of the running services.
type Env struct {
	// KafkaBrokers are the seed brokers, host:port each.
	KafkaBrokers []string
	// S3Endpoint is the MinIO host:port, spoken to over plain HTTP.
	S3Endpoint string
	// S3AccessKey and S3SecretKey are MinIO's root credentials.
	S3AccessKey, S3SecretKey string
	// Python is a python3 that imports duckdb, pyarrow and confluent_kafka.
	Python string
	// KafkaHome holds libs/, the broker's jars, for tests that run a Java
	// client or a Kafka tool with java -cp "$KafkaHome/libs/*".
	KafkaHome string
}

// Require returns the services' Env from the environment. It fails the test,
// never skips it, when a variable is unset, naming the variables missing and
// how to start the services.
func Require(t testing.TB) Env {
	t.Helper()
	var missing []string
	get := func(name string) string {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	e := Env{
		S3Endpoint:  get(envS3Endpoint),
		S3AccessKey: get(envS3AccessKey),
		S3SecretKey: get(envS3SecretKey),
		Python:      get(envPython),
		KafkaHome:   get(envKafkaHome),
	}
	for _, b := range strings.Split(get(envKafkaBrokers), ",") {
		if b = strings.TrimSpace(b); b != "" {
			e.KafkaBrokers = append(e.KafkaBrokers, b)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("integration services not configured: %s unset; run `make test`, or "+
			"`integration/services.sh install && integration/services.sh start` and then "+
			"`eval \"$(integration/services.sh env)\"` before go test -tags integration",
			strings.Join(missing, ", "))
	}
	return e
}

// NewTopic creates a topic with the given number of partitions and a
// replication factor of 1 on e's broker, waits until every partition has a
// leader, and deletes the topic when the test ends. Records are kept
// forever (retention.ms=-1) whatever their timestamps. The name is unique and
// derived from the test's name.
func NewTopic(t testing.TB, e Env, partitions int32) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.KafkaBrokers...))
	if err != nil {
		t.Fatalf("kafka client for %v: %v", e.KafkaBrokers, err)
	}
	adm := kadm.NewClient(cl)
	topic := uniqueName(t.Name(), 200, false)

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	// The bundled bookings carry 2015-2017 timestamps: time-based retention
	// would delete them as soon as their segment rolls.
	forever := "-1"
	resp, err := adm.CreateTopic(ctx, partitions, 1,
		map[string]*string{"retention.ms": &forever}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		cl.Close()
		t.Fatalf("create topic %s: %v", topic, err)
	}

	// Registered at once so that the topic goes away even when waiting for
	// its leaders fails the test below.
	t.Cleanup(func() {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		resp, err := adm.DeleteTopic(ctx, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Errorf("delete topic %s: %v", topic, err)
		}
	})

	// CreateTopics answers before the partitions have leaders; clients other
	// than kgo (kcat, librdkafka in Python) do not all retry until they have.
	if err := waitLeaders(ctx, adm, topic, partitions); err != nil {
		t.Fatalf("wait for topic %s: %v", topic, err)
	}
	return topic
}

// waitLeaders polls the metadata of topic until all its partitions have a
// leader or ctx ends.
func waitLeaders(ctx context.Context, adm *kadm.Client, topic string, partitions int32) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		details, err := adm.ListTopics(ctx, topic)
		if err == nil {
			err = ready(details[topic], partitions)
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// ready tells whether d describes a topic whose partitions all have a leader.
func ready(d kadm.TopicDetail, partitions int32) error {
	if d.Err != nil {
		return d.Err
	}
	if got := int32(len(d.Partitions)); got != partitions {
		return fmt.Errorf("%d of %d partitions in metadata", got, partitions)
	}
	for _, p := range d.Partitions {
		if p.Err != nil {
			return fmt.Errorf("partition %d: %w", p.Partition, p.Err)
		}
		if p.Leader < 0 {
			return fmt.Errorf("partition %d has no leader", p.Partition)
		}
	}
	return nil
}

// NewBucket creates a bucket in e's S3 endpoint and, when the test ends,
// removes it with every object and unfinished upload left in it. The name is
// unique and derived from the test's name.
func NewBucket(t testing.TB, e Env) string {
	t.Helper()
	s3, err := minio.New(e.S3Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(e.S3AccessKey, e.S3SecretKey, ""),
	})
	if err != nil {
		t.Fatalf("s3 client for %s: %v", e.S3Endpoint, err)
	}
	bucket := uniqueName(t.Name(), 63, true)

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := s3.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		// The test's own context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if err := emptyBucket(ctx, s3, bucket); err != nil {
			t.Errorf("empty bucket %s: %v", bucket, err)
			return
		}
		if err := s3.RemoveBucket(ctx, bucket); err != nil {
			t.Errorf("remove bucket %s: %v", bucket, err)
		}
	})
	return bucket
}

// emptyBucket deletes every object version and aborts every unfinished
// multipart upload in bucket, which S3 requires before removing it.
func emptyBucket(ctx context.Context, s3 *minio.Client, bucket string) error {
	// A listing error arrives as an object with Err set; it must not reach
	// RemoveObjects, which would try to delete an empty key.
	listCtx, stopList := context.WithCancel(ctx)
	defer stopList()
	var listErr error
	listed := make(chan struct{})
	objects := make(chan minio.ObjectInfo)
	go func() {
		defer close(listed)
		defer close(objects)
		opts := minio.ListObjectsOptions{Recursive: true, WithVersions: true}
		for obj := range s3.ListObjects(listCtx, bucket, opts) {
			if obj.Err != nil {
				listErr = fmt.Errorf("list objects: %w", obj.Err)
				continue
			}
			select {
			case objects <- obj:
			case <-listCtx.Done():
				return
			}
		}
	}()
	var errs []error
	for res := range s3.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		errs = append(errs, fmt.Errorf("remove %s: %w", res.ObjectName, res.Err))
	}
	// RemoveObjects may stop reading early; the lister must not outlive it.
	stopList()
	<-listed
	errs = append(errs, listErr)
	for up := range s3.ListIncompleteUploads(ctx, bucket, "", true) {
		if up.Err != nil {
			errs = append(errs, fmt.Errorf("list uploads: %w", up.Err))
			break
		}
		if err := s3.RemoveIncompleteUpload(ctx, bucket, up.Key); err != nil {
			errs = append(errs, fmt.Errorf("abort upload %s: %w", up.Key, err))
		}
	}
	return errors.Join(errs...)
}

// uniqueName turns a test name into a topic or bucket name of at most max
// bytes: runs of characters neither name allows become one '-', and a random
// suffix makes it unique across tests, runs and -count=N repetitions. Bucket
// names are also lower-cased, as S3 requires.
func uniqueName(testName string, max int, lower bool) string {
	if lower {
		testName = strings.ToLower(testName)
	}
	var b strings.Builder
	dash := true // no leading '-'
	for _, r := range testName {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', !lower && r >= 'A' && r <= 'Z':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	var random [4]byte
	_, _ = rand.Read(random[:]) // never fails; see crypto/rand.Read
	suffix := "-" + hex.EncodeToString(random[:])

	base := "it-" + strings.TrimSuffix(b.String(), "-")
	if len(base)+len(suffix) > max {
		base = strings.TrimSuffix(base[:max-len(suffix)], "-")
	}
	return base + suffix
}
