//go:build integration

package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/runtime/metrics/metricstest"
)

// TestWorkerMetricsOnMinIO runs a worker process that sinks bookings and a
// few undecodable records into MinIO, then checks its /metrics against the
// topic and the bucket.
func TestWorkerMetricsOnMinIO(t *testing.T) {
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	topic, bucket := newTopic(t, 2), newBucket(t)
	regURL := registrytest.Start(t, env)
	res := loadBookings(t, ctx, topic, regURL, 5000)
	const bad = 2
	produce(t, ctx, topic, []byte("not avro"), []byte{0, 0, 0, 0})

	// One task, so that no rebalance makes it read a record twice.
	p := startWorkerProc(t, "metered", regURL, sinkConfig(topic, bucket, map[string]string{
		"tasks.max": "1", "flush.size": "1000", "rotate.schedule.interval.ms": "2000",
		"errors.tolerance":                                "all",
		"errors.deadletterqueue.topic.name":               topic + "-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1",
	}))
	waitCommitted(t, p.group, topic, 3*time.Minute)
	got := metricstest.Scrape(t, "http://"+p.metricsAddr()+"/metrics")
	p.stop()

	produced := float64(res.Produced)
	for _, c := range []struct {
		name string
		want float64
	}{
		{"tributary_sink_records_read_total", produced + bad},
		{"tributary_sink_records_written_total", produced},
		{"tributary_task_records_skipped_total", bad},
		{"tributary_task_record_errors_total", bad},
		{"tributary_task_deadletterqueue_produce_requests_total", bad},
		{"tributary_task_deadletterqueue_produce_failures_total", 0},
		{"tributary_storage_open_segments", 0},
		{"tributary_connectors", 1},
	} {
		if v := got.Sum(t, c.name); v != c.want {
			t.Errorf("%s = %v, want %v", c.name, v, c.want)
		}
	}
	if v := got.Sum(t, "tributary_task_state", "task", "0", "state", "RUNNING"); v != 1 {
		t.Errorf("task 0 RUNNING = %v, want 1", v)
	}
	connector := strings.TrimPrefix(p.group, "connect-")
	if v := got.Sum(t, "tributary_kafka_fetch_records_total", "connector", connector); v <
		produced+bad {
		t.Errorf("kafka fetch records %v, want at least %v", v, produced+bad)
	}

	// The storage metrics match the bucket.
	files, size, plans := 0, int64(0), 0
	for obj := range minioClient(t).ListObjects(ctx, bucket,
		minio.ListObjectsOptions{Prefix: "topics/", Recursive: true}) {
		must(t, obj.Err)
		switch {
		case strings.Contains(obj.Key, "/_tributary/plans/"):
			plans++
		case strings.HasSuffix(obj.Key, ".parquet"):
			files++
			size += obj.Size
		}
	}
	if v := got.Sum(t, "tributary_storage_objects_committed_total"); files == 0 ||
		v != float64(files) {
		t.Errorf("objects committed %v, parquet objects in the bucket %d", v, files)
	}
	if v := got.Sum(t, "tributary_storage_bytes_uploaded_total"); v != float64(size) {
		t.Errorf("bytes uploaded %v, the objects hold %d", v, size)
	}
	if v := got.Count(t, "tributary_storage_commit_duration_seconds"); v != plans {
		t.Errorf("commits observed %d, plans in the bucket %d", v, plans)
	}
	t.Logf("%d records, %d parquet objects of %d bytes in %d commits", res.Produced, files,
		size, plans)
}
