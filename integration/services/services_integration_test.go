//go:build integration

package services

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testTimeout bounds each test; the services answer in milliseconds.
const testTimeout = 60 * time.Second

func TestKafkaRoundTrip(t *testing.T) {
	e := Require(t)
	topic := NewTopic(t, e, 3)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	producer, err := kgo.NewClient(kgo.SeedBrokers(e.KafkaBrokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	rec := &kgo.Record{Topic: topic, Key: []byte("booking-1"), Value: []byte("confirmed")}
	if err := producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}

	got := consumeOne(ctx, t, e, topic)
	if string(got.Key) != "booking-1" || string(got.Value) != "confirmed" {
		t.Errorf("consumed %s=%s, want booking-1=confirmed", got.Key, got.Value)
	}
	if got.Partition != rec.Partition || got.Offset != 0 {
		t.Errorf("consumed %s/%d@%d, want %s/%d@0",
			topic, got.Partition, got.Offset, topic, rec.Partition)
	}
}

// consumeOne reads the first record of topic from the start.
func consumeOne(ctx context.Context, t *testing.T, e Env, topic string) *kgo.Record {
	t.Helper()
	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(e.KafkaBrokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	for {
		fetches := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		for _, fe := range fetches.Errors() {
			t.Fatalf("consume %s/%d: %v", fe.Topic, fe.Partition, fe.Err)
		}
		if recs := fetches.Records(); len(recs) > 0 {
			return recs[0]
		}
	}
}

func TestMinIOConditionalPut(t *testing.T) {
	e := Require(t)
	bucket := NewBucket(t, e)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	s3, err := minio.New(e.S3Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(e.S3AccessKey, e.S3SecretKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	put := func(key, body string, opts minio.PutObjectOptions) error {
		_, err := s3.PutObject(ctx, bucket, key, strings.NewReader(body), int64(len(body)), opts)
		return err
	}
	ifAbsent := func() minio.PutObjectOptions {
		var opts minio.PutObjectOptions
		opts.SetMatchETagExcept("*")
		return opts
	}

	// The object-store sinks commit a file with If-None-Match: * so that a
	// zombie task cannot overwrite it; MinIO must honour the header.
	const key = "topics/bookings/partition=0/bookings+0+0000000000.parquet"
	if err := put(key, "first", ifAbsent()); err != nil {
		t.Fatalf("conditional put of new %s: %v", key, err)
	}
	err = put(key, "second", ifAbsent())
	resp := minio.ToErrorResponse(err)
	if resp.StatusCode != http.StatusPreconditionFailed || resp.Code != "PreconditionFailed" {
		t.Fatalf("conditional put over %s: err %v (status %d, code %q), want 412 PreconditionFailed",
			key, err, resp.StatusCode, resp.Code)
	}

	obj, err := s3.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	body, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	if string(body) != "first" {
		t.Errorf("%s/%s holds %q, want %q", bucket, key, body, "first")
	}
}

func TestKcatRoundTrip(t *testing.T) {
	e := Require(t)
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat not installed; run integration/services.sh install: %v", err)
	}
	topic := NewTopic(t, e, 1)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	brokers := strings.Join(e.KafkaBrokers, ",")

	produce := exec.CommandContext(ctx, kcat, "-b", brokers, "-t", topic, "-P", "-K:")
	produce.Stdin = strings.NewReader("click-7:viewed\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat produce: %v\n%s", err, out)
	}
	consume := exec.CommandContext(ctx, kcat, "-b", brokers, "-t", topic, "-C",
		"-o", "beginning", "-c", "1", "-e", "-q", "-f", "%k=%s\n")
	out, err := consume.Output()
	if err != nil {
		t.Fatalf("kcat consume: %v", err)
	}
	if got := string(bytes.TrimSpace(out)); got != "click-7=viewed" {
		t.Errorf("kcat consumed %q, want %q", got, "click-7=viewed")
	}
}

// pythonCheck imports the witnesses, makes each do real work and prints one
// line per check.
const pythonCheck = `
import sys
import duckdb, pyarrow, confluent_kafka
from confluent_kafka.admin import AdminClient
print("duckdb", duckdb.connect().execute("select 40 + 2").fetchone()[0])
print("pyarrow", pyarrow.table({"n": [1, 2, 3]}).num_rows)
md = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=20)
print("kafka", sys.argv[2] in md.topics)
`

func TestPythonWitnesses(t *testing.T) {
	e := Require(t)
	if !filepath.IsAbs(e.Python) {
		t.Fatalf("TRIBUTARY_PYTHON = %q, want an absolute path", e.Python)
	}
	topic := NewTopic(t, e, 1)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, e.Python, "-c", pythonCheck,
		strings.Join(e.KafkaBrokers, ","), topic)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", e.Python, err, out)
	}
	want := "duckdb 42\npyarrow 3\nkafka True\n"
	if string(out) != want {
		t.Errorf("python printed %q, want %q", out, want)
	}
}

func TestKafkaHomeHasBroker(t *testing.T) {
	e := Require(t)
	jars, err := filepath.Glob(filepath.Join(e.KafkaHome, "libs", "kafka-clients-*.jar"))
	if err != nil || len(jars) != 1 {
		t.Fatalf("kafka-clients jar in %s/libs: found %v (%v), want one", e.KafkaHome, jars, err)
	}
}
