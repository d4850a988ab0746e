package main

import (
	"context"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/internal/loader"
	"github.com/tributary-io/tributary/internal/verify"
	"github.com/tributary-io/tributary/runtime/metrics"
	"github.com/tributary-io/tributary/runtime/metrics/metricstest"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas/registry"
)

// TestMetricsFollowASink runs a local-directory sink with two tasks over
// bookings and a few records no converter can read, then scrapes /metrics
// and checks each metric against the topic and the files written.
func TestMetricsFollowASink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "bookings"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	reg, err := registry.Start(ctx, registry.ServerConfig{
		Brokers: brokers, Topic: "_schemas", Addr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	// The worker, its metrics served as the worker command serves them.
	m := metrics.New()
	w := worker.New(worker.Options{
		Brokers: brokers, Plugins: sinkPlugins(), Metrics: m,
		NewDecoder:     decoders(registryAccess{urls: []string{reg.URL()}}),
		CommitInterval: 200 * time.Millisecond,
	})
	defer w.Close(context.Background())
	addr, stop, err := serveMetrics(slog.New(slog.DiscardHandler), "127.0.0.1:0", m.Handler())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	dir := t.TempDir()
	must(t, w.Start(ctx, "metered", map[string]string{
		"connector.class": "file", "file.dir": dir, "topics": "bookings", "tasks.max": "2",
		"format.class": "parquet", "flush.size": "400", "rotate.schedule.interval.ms": "1000",
		"timezone":                          "UTC",
		"errors.tolerance":                  "all",
		"errors.deadletterqueue.topic.name": "bookings-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1",
	}))
	// Records arrive once each task owns its partition, so that no
	// rebalance makes a task read a record twice.
	poll(t, "each task owns a partition", func() bool {
		groups, err := adm.DescribeGroups(ctx, "connect-metered")
		if err != nil {
			return false
		}
		g := groups["connect-metered"]
		owned := 0
		for _, mem := range g.Members {
			if ca, ok := mem.Assigned.AsConsumer(); ok && len(ca.Topics) == 1 {
				owned += len(ca.Topics[0].Partitions)
			}
		}
		return g.State == "Stable" && len(g.Members) == 2 && owned == 2
	})

	src, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	client, err := registry.NewClient([]string{reg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := loader.Load(ctx, loader.Config{
		Brokers: brokers, Topic: "bookings", Partitions: 2, Registry: client, Limit: 3000,
	}, src)
	if err != nil {
		t.Fatal(err)
	}
	// The bookings share one partition (both hotels hash alike); the bad
	// records go to both, so that each task has records to read.
	const bad = 3
	for i := range bad {
		r := &kgo.Record{Topic: "bookings", Partition: int32(i % 2), Value: []byte("not avro")}
		must(t, cl.ProduceSync(ctx, r).FirstErr())
	}
	poll(t, "the sink commits every offset", func() bool {
		done, _, err := verify.CaughtUp(ctx, adm, "connect-metered", "bookings")
		return err == nil && done
	})

	got := metricstest.Scrape(t, "http://"+addr+"/metrics")
	sum := func(name string) float64 { return got.Sum(t, name, "connector", "metered") }
	produced := float64(loaded.Produced)
	for _, c := range []struct {
		name string
		want float64
	}{
		{"tributary_sink_records_read_total", produced + bad},
		{"tributary_sink_records_written_total", produced},
		{"tributary_task_record_errors_total", bad},
		{"tributary_task_records_skipped_total", bad},
		{"tributary_task_deadletterqueue_produce_requests_total", bad},
		{"tributary_task_deadletterqueue_produce_failures_total", 0},
		{"tributary_storage_open_segments", 0},
	} {
		if v := sum(c.name); v != c.want {
			t.Errorf("%s = %v, want %v", c.name, v, c.want)
		}
	}

	if v := got.Sum(t, "tributary_connectors"); v != 1 {
		t.Errorf("tributary_connectors = %v, want 1", v)
	}

	// The storage metrics match the files on disk.
	files, size, plans := outputFiles(t, dir)
	if files == 0 || sum("tributary_storage_objects_committed_total") != float64(files) {
		t.Errorf("objects committed %v, files written %d",
			sum("tributary_storage_objects_committed_total"), files)
	}
	if v := sum("tributary_storage_bytes_uploaded_total"); v != float64(size) {
		t.Errorf("bytes uploaded %v, the files hold %d", v, size)
	}
	if v := got.Count(t, "tributary_storage_commit_duration_seconds"); v != plans {
		t.Errorf("commits observed %d, plans written %d", v, plans)
	}

	// Each task reports one state, RUNNING, and its own Kafka client.
	for _, task := range []string{"0", "1"} {
		if v := got.Sum(t, "tributary_task_state", "task", task); v != 1 {
			t.Errorf("task %s: states sum to %v, want 1", task, v)
		}
		if v := got.Sum(t, "tributary_task_state", "task", task, "state", "RUNNING"); v != 1 {
			t.Errorf("task %s: RUNNING = %v, want 1", task, v)
		}
		if v := got.Sum(t, "tributary_kafka_fetch_records_total", "task", task); v <= 0 {
			t.Errorf("task %s: kafka fetch records %v, want some", task, v)
		}
	}
	if v := sum("tributary_kafka_fetch_records_total"); v < produced+bad {
		t.Errorf("kafka fetch records %v, want at least %v", v, produced+bad)
	}
	// The dead letter queue's producer reports too, under its client_id.
	if v := got.Sum(t, "tributary_kafka_produce_records_total", "connector", "metered",
		"topic", "bookings-dlq"); v != bad {
		t.Errorf("kafka produce records to the dead letter queue %v, want %d", v, bad)
	}
	for name, prefix := range map[string]string{
		"tributary_kafka_fetch_records_total":   "connector-consumer-metered-",
		"tributary_kafka_produce_records_total": "connector-dlq-producer-metered-",
	} {
		for _, mt := range got.Family(t, name).GetMetric() {
			id := ""
			for _, l := range mt.GetLabel() {
				if l.GetName() == "client_id" {
					id = l.GetValue()
				}
			}
			if !strings.HasPrefix(id, prefix) {
				t.Errorf("%s: client_id %q, want %s<task>", name, id, prefix)
			}
		}
	}
	for _, name := range []string{"tributary_kafka_fetch_records_total",
		"tributary_kafka_read_bytes_total"} {
		for _, mt := range got.Family(t, name).GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "partition" {
					t.Errorf("%s has a partition label", name)
				}
			}
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no go_goroutines: the Go runtime's metrics are missing")
	}

	// A deleted connector leaves no series behind.
	must(t, w.Delete(ctx, "metered", ""))
	got = metricstest.Scrape(t, "http://"+addr+"/metrics")
	for name, mf := range got {
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "connector" && l.GetValue() == "metered" {
					t.Errorf("%s of the deleted connector still exported", name)
				}
			}
		}
	}
	if v := got.Sum(t, "tributary_connectors"); v != 0 {
		t.Errorf("tributary_connectors = %v after delete, want 0", v)
	}
}

// poll waits up to a minute for cond.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outputFiles counts the data files under dir and their bytes, and the
// plans.
func outputFiles(t *testing.T, dir string) (files int, size int64, plans int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.Contains(p, "/_tributary/plans/"):
			plans++
		case strings.HasSuffix(p, ".parquet"):
			info, err := d.Info()
			if err != nil {
				return err
			}
			files++
			size += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, size, plans
}
