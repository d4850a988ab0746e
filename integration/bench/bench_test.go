//go:build integration

package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/internal/loader"
	"github.com/tributary-io/tributary/internal/verify"
	"github.com/tributary-io/tributary/schemas/registry"
)

var (
	records    = flag.Int("records", 5_000_000, "records to load and sink")
	partitions = flag.Int("partitions", 4, "partitions of the topic (the loader keys by action_id)")
	tasks      = flag.Int("tasks", 2, "tasks.max")
	flushSize  = flag.Int("flush-size", 200000, "flush.size")
)

// BenchmarkPipeline loads the bookings replicated to -records records, then
// times a worker process from start until it has committed every offset.
func BenchmarkPipeline(b *testing.B) {
	env := services.Require(b)
	ctx := context.Background()
	for range b.N {
		topic, bucket := services.NewTopic(b, env, int32(*partitions)), services.NewBucket(b, env)
		reg, err := registry.Start(ctx, registry.ServerConfig{
			Brokers: env.KafkaBrokers, Addr: "127.0.0.1:0",
			Topic: fmt.Sprintf("_schemas-bench-%d", time.Now().UnixNano()),
		})
		if err != nil {
			b.Fatal(err)
		}
		defer reg.Close()

		client, err := registry.NewClient([]string{reg.URL()})
		if err != nil {
			b.Fatal(err)
		}
		src, err := bookings.Open()
		if err != nil {
			b.Fatal(err)
		}
		repeat := (*records + 119389) / 119390
		res, err := loader.Load(ctx, loader.Config{
			Brokers: env.KafkaBrokers, Topic: topic, Registry: client,
			Key: loader.KeyActionID, Repeat: repeat, Limit: *records,
		}, src)
		src.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d records in %v (%.0f records/s)", res.Produced, res.Elapsed,
			float64(res.Produced)/res.Elapsed.Seconds())

		// A store and a REST port of its own: the default store of port 8083
		// may hold connectors of an earlier run, which would share the CPU.
		dir := b.TempDir()
		worker := fmt.Sprintf(`bootstrap.servers: %s
schema.registry.url: %s
registry.listener: ""
listeners: http://127.0.0.1:0
config.storage.file.filename: %s
offset.flush.interval.ms: 1000
spool.dir: %s
log.level: warn
`, strings.Join(env.KafkaBrokers, ","), reg.URL(), filepath.Join(dir, "connectors.json"),
			filepath.Join(dir, "spool"))
		connector := fmt.Sprintf(`name: bench
config:
  connector.class: io.confluent.connect.s3.S3SinkConnector
  tasks.max: %d
  topics: %s
  s3.bucket.name: %s
  store.url: http://%s
  aws.access.key.id: %s
  aws.secret.access.key: %s
  format.class: parquet
  flush.size: %d
  rotate.schedule.interval.ms: 5000
  timezone: UTC
  partitioner.class: io.confluent.connect.storage.partitioner.DefaultPartitioner
`, *tasks, topic, bucket, env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, *flushSize)
		must(b, os.WriteFile(filepath.Join(dir, "worker.yaml"), []byte(worker), 0o600))
		must(b, os.WriteFile(filepath.Join(dir, "bench.yaml"), []byte(connector), 0o600))

		bin := filepath.Join(dir, "tributary")
		if out, err := exec.Command("go", "build", "-o", bin,
			"github.com/tributary-io/tributary/cmd/tributary").CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
		cmd := exec.Command(bin, "worker", "--config", filepath.Join(dir, "worker.yaml"),
			filepath.Join(dir, "bench.yaml"))
		cmd.Stderr = os.Stderr
		b.ResetTimer()
		start := time.Now()
		must(b, cmd.Start())
		waitCommitted(b, env, "connect-bench", topic, 30*time.Minute)
		elapsed := time.Since(start)
		b.StopTimer()
		must(b, cmd.Process.Signal(syscall.SIGTERM))
		_ = cmd.Wait()

		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		n := float64(res.Produced)
		b.ReportMetric(n/elapsed.Seconds(), "records/s")
		b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-us/record")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-MiB")
		b.Logf("worker: %d records in %v, %.0f records/s, %.2f CPU-us/record, peak RSS %.0f MiB",
			res.Produced, elapsed.Round(time.Millisecond), n/elapsed.Seconds(),
			float64(cpu.Microseconds())/n, float64(ru.Maxrss)/1024)
	}
}

func waitCommitted(b *testing.B, env services.Env, group, topic string, timeout time.Duration) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...))
	must(b, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		done, _, err := verify.CaughtUp(ctx, adm, group, topic)
		cancel()
		if err == nil && done {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Fatalf("worker did not catch up within %v", timeout)
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
