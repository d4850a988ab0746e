//go:build integration

package pipeline

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
)

// rotationModes are the three ways a segment ends; each crash test runs one
// as the primary cut.
var rotationModes = []struct {
	name       string
	partitions int32
	config     map[string]string
}{
	// 119,390 = 10 x 11,939: with one partition every segment fills up, so
	// nothing waits on another rotation.
	{"flush.size", 1, map[string]string{
		"tasks.max": "1", "flush.size": "11939", "max.open.files.per.partition": "1000",
	}},
	// Record time: a segment spans at most 30 days of arrival dates; the
	// wall clock only flushes the tail.
	{"rotate.interval.ms", 2, map[string]string{
		"flush.size": "1000000", "rotate.interval.ms": "2592000000",
		"rotate.schedule.interval.ms": "15000", "max.open.files.per.partition": "1000",
	}},
	// Wall clock only: what Confluent's sink cannot make exactly once.
	{"rotate.schedule.interval.ms", 2, map[string]string{
		"flush.size": "1000000", "rotate.schedule.interval.ms": "1500",
		"max.open.files.per.partition": "1000",
	}},
}

// TestCrashRecovery kills the worker with SIGKILL five times while the
// bookings load, at random moments or right after a segment is committed,
// restarts it each time, and checks with the sink oracle that every offset
// landed exactly once.
func TestCrashRecovery(t *testing.T) {
	env = services.Require(t)
	for _, mode := range rotationModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			topic, bucket := newTopic(t, mode.partitions), newBucket(t)
			regURL := registrytest.Start(t, env)
			// A segment's upload runs inside the task's poll loop, so a
			// commit to Kafka that fell due meanwhile follows the segment
			// at once. The first segment after a restart takes about 4 s
			// here; with a 5 s interval, on a slower machine, the kills
			// right after a segment came after its commit and none
			// recovered from the bucket. A worker lives 5 to 20 s between
			// two kills: with a 30 s interval the bucket is still ahead of
			// Kafka when it dies, and the next start recovers from it.
			w := startWorkerProcCommitting(t, "worker", regURL,
				sinkConfig(topic, bucket, mode.config), 30*time.Second)

			// The load runs in five chunks, one ahead of each kill, so that
			// every kill finds records still on their way to the bucket.
			const chunks = 5
			chunk := (119390 + chunks - 1) / chunks
			seed := time.Now().UnixNano()
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			t.Logf("kill schedule seed %d", seed)
			produced := 0
			for i := range chunks {
				n := min(chunk, 119390-produced)
				produced += int(loadBookingRows(t, ctx, topic, regURL, produced, n).Produced)
				if i%2 == 1 {
					// Right after a segment's objects are complete, before
					// its offset reaches Kafka.
					n := strings.Count(w.logText(), "segment committed")
					eventually(t, time.Minute, "a segment to be committed", func() bool {
						return strings.Count(w.logText(), "segment committed") > n
					})
					w.kill()
					t.Logf("kill %d right after a segment was committed", i+1)
				} else {
					wait := time.Duration(500+rng.IntN(3500)) * time.Millisecond
					time.Sleep(wait)
					w.kill()
					t.Logf("kill %d after %v (open file: %v)", i+1, wait, w.hasOpenFile())
				}
				w.start()
			}
			if produced != 119390 {
				t.Fatalf("produced %d bookings, want 119390", produced)
			}
			waitCommitted(t, w.group, topic, 10*time.Minute)
			w.stop()
			verifyBucket(t, topic, bucket)
			// The kills after a committed segment must have sent at least
			// one restart through recovery from the bucket.
			n := strings.Count(w.logText(), "partition recovered from plan")
			t.Logf("%d partition recoveries resumed from a plan in the bucket", n)
			if n == 0 {
				t.Errorf("no restart recovered its position from the bucket")
			}
		})
	}
}

// TestZombieWorker stops a worker with SIGSTOP past its group session while
// it holds an open file, lets a second worker take over and finish, then
// resumes the first: the second worker's objects stay byte for byte the
// same and nothing is duplicated.
func TestZombieWorker(t *testing.T) {
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	topic, bucket := newTopic(t, 1), newBucket(t)
	regURL := registrytest.Start(t, env)
	cfg := sinkConfig(topic, bucket, map[string]string{
		"tasks.max": "1", "flush.size": "5000", "rotate.schedule.interval.ms": "3000",
		"max.open.files.per.partition": "1000",
	})

	// Not a multiple of flush.size: the last segment stays open until the
	// next scheduled rotation, up to three seconds, so the first worker is
	// seen holding an open file even when it writes the full segments
	// faster than the poll below looks.
	const first = 47500
	loadBookings(t, ctx, topic, regURL, first)
	a := startWorkerProc(t, "zombie", regURL, cfg)
	eventually(t, 2*time.Minute, "the first worker to write a segment and hold an open file",
		func() bool {
			return strings.Contains(a.logText(), "segment committed") && a.hasOpenFile()
		})
	a.signal(syscall.SIGSTOP)
	t.Log("first worker stopped with an open file")

	b := startWorkerProc(t, "successor", regURL, cfg)
	loadBookingsFrom(t, ctx, topic, regURL, first)
	waitCommitted(t, b.group, topic, 10*time.Minute)
	before := snapshot(t, bucket)
	t.Logf("successor done: %d objects", len(before))

	a.signal(syscall.SIGCONT)
	t.Log("first worker resumed")
	eventually(t, 2*time.Minute, "the resumed worker to notice it lost its partition", func() bool {
		log := a.logText()
		return strings.Contains(log, "membership lost") || strings.Contains(log, "adopting its plan") ||
			strings.Contains(log, "partitions released")
	})
	time.Sleep(5 * time.Second) // give a misbehaving zombie time to write
	for _, line := range strings.Split(a.logText(), "\n") {
		for _, what := range []string{"adopting", "membership lost", "commit failed", "released"} {
			if strings.Contains(line, what) {
				t.Logf("zombie: %s", line)
				break
			}
		}
	}
	after := snapshot(t, bucket)
	for key, sum := range before {
		if after[key] != sum {
			t.Errorf("object %s changed after the zombie resumed", key)
		}
	}
	for key := range after {
		if _, ok := before[key]; !ok {
			t.Errorf("the zombie added object %s", key)
		}
	}
	a.kill()
	b.stop()
	verifyBucket(t, topic, bucket)
}

// snapshot hashes every object of the bucket.
func snapshot(t *testing.T, bucket string) map[string]string {
	t.Helper()
	mc := minioClient(t)
	out := make(map[string]string)
	for obj := range mc.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		r, err := mc.GetObject(context.Background(), bucket, obj.Key, minio.GetObjectOptions{})
		must(t, err)
		h := sha256.New()
		_, err = io.Copy(h, r)
		r.Close()
		must(t, err)
		out[obj.Key] = fmt.Sprintf("%x", h.Sum(nil))
	}
	return out
}
