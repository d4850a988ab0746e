//go:build integration

package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/actions"
	"github.com/tributary-io/tributary/schemas/registry"
)

// TestDeadLetterQueue runs a topic of good records, poison pills and a
// schema registry outage through an S3 sink with errors.tolerance=all: every
// good record lands once, every poison pill lands in the dead letter queue
// with its context headers, the outage dead-letters nothing. Once the
// missing schema is registered, tributary dlq replay lands the fixed record
// once, and a second replay sends no dead letter twice.
func TestDeadLetterQueue(t *testing.T) {
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	reg := newStoppableRegistry(t)
	client, err := registry.NewClient([]string{reg.url})
	must(t, err)

	topic := newTopic(t, 1)
	dlq := topic + "-dlq"
	s, err := client.Register(ctx, topic+"-value", actions.Click)
	must(t, err)
	good, err := schemas.NewConverter(client).Encode(s, clickValue())
	must(t, err)
	badMagic := append([]byte{7}, good[1:]...)
	truncated := append([]byte(nil), good[:len(good)/2]...)
	// The next schema the registry registers gets this id.
	unknown := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(unknown[1:5], uint32(s.ID+1))

	// Offsets 0-5 with the registry up: bad magic at 2, truncated at 4.
	produce(t, ctx, topic, good, good, badMagic, good, truncated, good)
	bucket := newBucket(t)
	cfg := sinkConfig(topic, bucket, byKafkaPartition)
	for k, v := range map[string]string{
		"tasks.max": "1", "flush.size": "1",
		"errors.tolerance": "all", "errors.retry.timeout": "-1",
		"errors.retry.delay.max.ms": "500", "errors.log.enable": "true",
		"errors.deadletterqueue.topic.name":             dlq,
		"errors.deadletterqueue.context.headers.enable": "true",
	} {
		cfg[k] = v
	}
	w := newWorker(t, reg.url)
	name := connectorName("dlq", topic)
	must(t, w.Start(ctx, name, cfg))
	waitCommitted(t, "connect-"+name, topic, 2*time.Minute)

	// Offsets 6-9 with the registry down: the unknown id at 7 cannot be
	// told from an outage, so the task retries and holds its offset.
	reg.stop()
	produce(t, ctx, topic, good, unknown, good, good)
	eventually(t, time.Minute, "the commit to reach the record behind the outage", func() bool {
		return committedOffset(t, ctx, "connect-"+name, topic) == 7
	})
	if n := len(readDeadLetters(t, ctx, dlq)); n != 2 {
		t.Fatalf("%d dead letters during the outage, want the 2 poison pills", n)
	}
	if st, err := w.Status(name); err != nil || st.Tasks[0].State != worker.StateRunning {
		t.Fatalf("task during the outage: %+v %v", st, err)
	}

	// The registry comes back: the unknown id is now permanent.
	reg.start()
	waitCommitted(t, "connect-"+name, topic, 2*time.Minute)
	letters := readDeadLetters(t, ctx, dlq)
	want := []struct {
		offset, class string
		value         []byte
	}{
		{"2", "schemas.ErrBadMagic", badMagic},
		{"4", "schemas.ErrTruncated", truncated},
		{"7", "schemas.ErrUnknownSchema", unknown},
	}
	if len(letters) != len(want) {
		t.Fatalf("%d dead letters, want %d", len(letters), len(want))
	}
	for i, wl := range want {
		h := headers(letters[i])
		if string(letters[i].Value) != string(wl.value) ||
			h["__connect.errors.topic"] != topic || h["__connect.errors.partition"] != "0" ||
			h["__connect.errors.offset"] != wl.offset ||
			h["__connect.errors.connector.name"] != name || h["__connect.errors.task.id"] != "0" ||
			h["__connect.errors.stage"] != "VALUE_CONVERTER" ||
			h["__connect.errors.exception.class.name"] != wl.class ||
			!strings.Contains(h["__connect.errors.exception.message"], topic+"/0@"+wl.offset) {
			t.Errorf("dead letter %d: value %x headers %v", i, letters[i].Value, h)
		}
	}
	verifyFiltered(t, topic, bucket, map[int32][]int64{0: {2, 4, 7}})

	// Fix the cause: the schema the record names is registered under
	// another subject, then the queue is replayed, twice.
	fixed := strings.Replace(actions.Click, `"io.tributary.actions"`, `"io.tributary.fixed"`, 1)
	s2, err := client.Register(ctx, topic+"-fixed", fixed)
	must(t, err)
	if s2.ID != s.ID+1 {
		t.Fatalf("fixed schema got id %d, want %d", s2.ID, s.ID+1)
	}
	file := filepath.Join(t.TempDir(), "dlq.json")
	must(t, os.WriteFile(file, []byte(mustJSON(map[string]any{"name": name, "config": cfg})),
		0o600))
	replay := func() string {
		out, err := exec.CommandContext(ctx, services.Binary(t), "dlq", "replay",
			"--bootstrap-servers", strings.Join(env.KafkaBrokers, ","), "--connector", file,
			dlq).CombinedOutput()
		if err != nil {
			t.Fatalf("dlq replay: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := replay(); !strings.Contains(out, "replayed 3 records") {
		t.Fatalf("first replay: %s", out)
	}
	// Offsets 10-12 are the replays, 13 the transaction's commit marker;
	// the bad magic and truncated ones fail again and are dead-lettered
	// again.
	waitOffset(t, ctx, name, topic, 13)
	eventually(t, time.Minute, "the replayed pills back in the queue", func() bool {
		return len(readDeadLetters(t, ctx, dlq)) == 5
	})
	if out := replay(); !strings.Contains(out, "replayed 2 records") {
		t.Fatalf("second replay: %s", out)
	}
	waitOffset(t, ctx, name, topic, 16)
	eventually(t, time.Minute, "the twice replayed pills back in the queue", func() bool {
		return len(readDeadLetters(t, ctx, dlq)) == 7
	})
	// 10-12 from the first replay, in the queue's order, 14-15 from the
	// second: only offset 12, the fixed record, reaches the sink, once.
	verifyFiltered(t, topic, bucket, map[int32][]int64{0: {2, 4, 7, 10, 11, 14, 15}})

	// tributary verify --dlq counts those as dead-lettered, not missing.
	out, err := exec.CommandContext(ctx, services.Binary(t), "verify",
		"--bootstrap-servers", strings.Join(env.KafkaBrokers, ","), "--dlq", dlq, file).
		CombinedOutput()
	if err != nil || !strings.Contains(string(out),
		"OK: 15 records, 8 rows, 0 missing, 0 duplicated, 7 dead-lettered") {
		t.Errorf("verify --dlq: %v\n%s", err, out)
	}
	// Another topic than the connector's queue is refused.
	out, err = exec.CommandContext(ctx, services.Binary(t), "verify",
		"--bootstrap-servers", strings.Join(env.KafkaBrokers, ","), "--dlq", dlq+"-typo", file).
		CombinedOutput()
	if err == nil || !strings.Contains(string(out), fmt.Sprintf(
		"its dead letter queue is %q, not %q", dlq, dlq+"-typo")) {
		t.Errorf("verify --dlq with another topic: %v\n%s", err, out)
	}
}

// stoppableRegistry is the built-in registry on a fixed address, over one
// schemas topic, so that it can stop and come back with its schemas.
type stoppableRegistry struct {
	t           *testing.T
	url, topic  string
	addr        string
	srv         *registry.Server
	cancelServe context.CancelFunc
}

func newStoppableRegistry(t *testing.T) *stoppableRegistry {
	r := &stoppableRegistry{t: t, topic: fmt.Sprintf("_schemas-%d", time.Now().UnixNano()),
		addr: "127.0.0.1:0"}
	r.start()
	r.addr = strings.TrimPrefix(r.srv.URL(), "http://")
	r.url = r.srv.URL()
	t.Cleanup(r.stop)
	return r
}

func (r *stoppableRegistry) start() {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := registry.Start(ctx, registry.ServerConfig{
		Brokers: env.KafkaBrokers, Topic: r.topic, Addr: r.addr,
	})
	if err != nil {
		cancel()
		r.t.Fatal(err)
	}
	r.srv, r.cancelServe = srv, cancel
}

func (r *stoppableRegistry) stop() {
	if r.srv == nil {
		return
	}
	r.cancelServe()
	_ = r.srv.Close()
	r.srv = nil
}

// waitOffset waits until the connector's group has committed offset of
// partition 0 of topic: waitCommitted waits for the end offset, which a
// transaction's commit marker keeps one past the last record.
func waitOffset(t *testing.T, ctx context.Context, name, topic string, offset int64) {
	t.Helper()
	eventually(t, 2*time.Minute, fmt.Sprintf("offset %d committed", offset), func() bool {
		return committedOffset(t, ctx, "connect-"+name, topic) >= offset
	})
}

// committedOffset returns group's committed offset of partition 0 of topic.
func committedOffset(t *testing.T, ctx context.Context, group, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...))
	must(t, err)
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok {
		return -1
	}
	return o.At
}

// readDeadLetters returns every record of the dead letter queue.
func readDeadLetters(t *testing.T, ctx context.Context, dlq string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...))
	must(t, err)
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, dlq)
	if err != nil || ends.Error() != nil {
		return nil // not created yet
	}
	end, _ := ends.Lookup(dlq, 0)
	if end.Offset == 0 {
		return nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{
		dlq: {0: kgo.NewOffset().AtStart()},
	})
	var out []*kgo.Record
	for int64(len(out)) < end.Offset {
		fs := cl.PollFetches(ctx)
		must(t, ctx.Err())
		out = append(out, fs.Records()...)
	}
	return out
}

func headers(r *kgo.Record) map[string]string {
	h := map[string]string{}
	for _, kh := range r.Headers {
		h[kh.Key] = string(kh.Value)
	}
	return h
}

// TestDeadLetterOldRecord dead-letters a record whose timestamp is a year
// old, far older than the dead letter queue's 30 s delivery timeout: the
// dead letter is written, stamped when it was dead-lettered and carrying
// the record's timestamp in a header, and the task commits past it and
// keeps running.
func TestDeadLetterOldRecord(t *testing.T) {
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reg := newStoppableRegistry(t)
	topic := newTopic(t, 1)
	dlq := topic + "-dlq"
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...), kgo.DefaultProduceTopic(topic))
	must(t, err)
	defer cl.Close()
	old := time.Now().AddDate(-1, 0, 0).Truncate(time.Millisecond)
	must(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte{7, 0, 0, 0, 1}, Timestamp: old}).
		FirstErr())

	cfg := sinkConfig(topic, newBucket(t), byKafkaPartition)
	for k, v := range map[string]string{
		"tasks.max": "1", "errors.tolerance": "all",
		"errors.deadletterqueue.topic.name":             dlq,
		"errors.deadletterqueue.context.headers.enable": "true",
	} {
		cfg[k] = v
	}
	began := time.Now().Truncate(time.Millisecond)
	w := newWorker(t, reg.url)
	must(t, w.Start(ctx, topic, cfg))
	waitCommitted(t, "connect-"+topic, topic, 2*time.Minute)

	letters := readDeadLetters(t, ctx, dlq)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters, want 1", len(letters))
	}
	h := headers(letters[0])
	if want := fmt.Sprint(old.UnixMilli()); h[worker.HeaderOriginalTimestamp] != want ||
		letters[0].Timestamp.Before(began) || h["__connect.errors.offset"] != "0" {
		t.Errorf("dead letter stamped %v, headers %v; want stamped after %v, original %s",
			letters[0].Timestamp, h, began, want)
	}
	if st, err := w.Status(topic); err != nil || st.Tasks[0].State != worker.StateRunning {
		t.Fatalf("task: %+v %v", st, err)
	}
}
