package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/runtime/worker"
)

// deadLetter is a record as the worker dead-letters it.
func deadLetter(value, partition, offset string) *kgo.Record {
	h := func(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }
	return &kgo.Record{Topic: "orders-dlq", Key: []byte("k" + offset), Value: []byte(value),
		Headers: []kgo.RecordHeader{
			h("trace", "t"+offset),
			h("__connect.errors.topic", "orders"),
			h("__connect.errors.partition", partition),
			h("__connect.errors.offset", offset),
			h("__connect.errors.stage", "VALUE_CONVERTER"),
			h("__connect.errors.exception.message", "decode record orders/"+partition+"@"+
				offset+": unknown schema id"),
		}}
}

// dlqCluster starts a kfake cluster with topics orders (two partitions)
// and orders-dlq, and a client of it.
func dlqCluster(t *testing.T) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"),
		kfake.SeedTopics(1, "orders-dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kc, cl
}

// replayConnectorFile writes connector orders-sink, which reads orders and
// dead-letters to orders-dlq, and returns its path.
func replayConnectorFile(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "orders.yaml")
	must(t, os.WriteFile(file, []byte(`name: orders-sink
config:
  connector.class: file
  topics: orders
  errors.tolerance: all
  errors.deadletterqueue.topic.name: orders-dlq
`), 0o600))
	return file
}

func runDLQ(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dlqOutput(args...)
	if err != nil {
		t.Fatalf("dlq %v: %v\n%s", args, err, out)
	}
	return out
}

// dlqOutput runs tributary dlq with args and returns what it printed.
func dlqOutput(args ...string) (string, error) {
	cmd := newDLQCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// TestDLQListAndReplay lists a dead letter queue, replays it to the source
// partitions, and replays it again without sending anything twice.
func TestDLQListAndReplay(t *testing.T) {
	kc, cl := dlqCluster(t)
	brokers := strings.Join(kc.ListenAddrs(), ",")
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, deadLetter("a", "1", "4"), deadLetter("b", "0", "9"),
		deadLetter("c", "1", "12")).FirstErr(); err != nil {
		t.Fatal(err)
	}

	list := runDLQ(t, "list", "--bootstrap-servers", brokers, "orders-dlq")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "0@0") ||
		!strings.Contains(lines[1], "orders/1@4") || !strings.Contains(lines[1], "VALUE_CONVERTER") ||
		!strings.Contains(lines[1], "decode record orders/1@4: unknown schema id") ||
		!strings.Contains(lines[3], "orders/1@12") {
		t.Errorf("list:\n%s", list)
	}

	// A queue no connector created yet is named as such, with no table.
	if out, err := dlqOutput("list", "--bootstrap-servers", brokers, "no-such-dlq"); err == nil ||
		!strings.Contains(err.Error(), "topic no-such-dlq does not exist") ||
		strings.Contains(out, "DLQ") {
		t.Errorf("list of a missing queue: %v\n%s", err, out)
	}

	file := replayConnectorFile(t)
	out := runDLQ(t, "replay", "--bootstrap-servers", brokers, "--connector", file, "orders-dlq")
	if !strings.Contains(out, "replayed 3 records from orders-dlq") {
		t.Errorf("replay: %s", out)
	}
	// Again, with the connector looked up by name through the REST API.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/connectors/orders-sink" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"name":"orders-sink","config":{"connector.class":"file",`+
			`"topics":"orders","errors.tolerance":"all",`+
			`"errors.deadletterqueue.topic.name":"orders-dlq"},"tasks":[],"type":"sink"}`)
	}))
	defer api.Close()
	out = runDLQ(t, "replay", "--bootstrap-servers", brokers, "--connector", "orders-sink",
		"--url", api.URL, "orders-dlq")
	if !strings.Contains(out, "replayed 0 records") {
		t.Errorf("second replay: %s", out)
	}

	// The source topic holds each record once, in its partition, without
	// the context headers.
	got := replayedRecords(t, kc, 3)
	want := map[string]int32{"a": 1, "b": 0, "c": 1}
	if len(got) != len(want) {
		t.Fatalf("orders holds %d records, want %d", len(got), len(want))
	}
	for v, p := range want {
		r := got[v]
		if r == nil || r.Partition != p {
			t.Errorf("record %q: %+v, want partition %d", v, r, p)
			continue
		}
		if len(r.Headers) != 2 || r.Headers[0].Key != "trace" ||
			r.Headers[1].Key != HeaderReplayed || !strings.HasPrefix(string(r.Headers[1].Value),
			"orders-dlq/0@") {
			t.Errorf("record %q headers %v", v, r.Headers)
		}
	}
}

// replayedRecords reads the committed records of topic orders until it
// holds n, and returns them by value; a value seen twice fails the test.
func replayedRecords(t *testing.T, kc *kfake.Cluster, n int) map[string]*kgo.Record {
	t.Helper()
	got := map[string]*kgo.Record{}
	rd, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("orders"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	// Wait for every record however slow the machine, then a moment longer
	// for a copy, which would follow the records it copies.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for len(got) < n {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("orders holds %d records, want %d", len(got), n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if got[string(r.Value)] != nil {
				t.Errorf("record %q replayed twice", r.Value)
			}
			got[string(r.Value)] = r
		})
	}
	more, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rd.PollFetches(more).EachRecord(func(r *kgo.Record) {
		t.Errorf("record %q replayed again", r.Value)
	})
	return got
}

// stamped is dl as Tributary writes it: stamped at dead-lettered, with the
// source record's timestamp orig in a header.
func stamped(dl *kgo.Record, deadLettered, orig time.Time) *kgo.Record {
	dl.Timestamp = deadLettered
	dl.Headers = append(dl.Headers, kgo.RecordHeader{Key: worker.HeaderOriginalTimestamp,
		Value: []byte(strconv.FormatInt(orig.UnixMilli(), 10))})
	return dl
}

// TestDLQReplayOnce replays a queue holding copies of one dead letter, as a
// task that restarted before committing writes them: the record is sent
// once, by the first replay, and a copy written after it is not sent by
// the next. Each record goes back with its original timestamp, and list
// shows both times.
func TestDLQReplayOnce(t *testing.T) {
	kc, cl := dlqCluster(t)
	brokers := strings.Join(kc.ListenAddrs(), ",")
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	origA := time.Date(2015, 3, 1, 12, 0, 0, 0, time.UTC)
	origB := time.Date(2015, 4, 2, 8, 30, 0, 0, time.UTC)
	must(t, cl.ProduceSync(ctx,
		stamped(deadLetter("a", "1", "4"), now, origA),
		stamped(deadLetter("a", "1", "4"), now, origA),
		stamped(deadLetter("b", "0", "9"), now, origB),
	).FirstErr())

	list := runDLQ(t, "list", "--bootstrap-servers", brokers, "orders-dlq")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "DEAD-LETTERED") ||
		!strings.Contains(lines[1], now.UTC().Format(millisUTC)+"  2015-03-01T12:00:00.000Z") {
		t.Errorf("list:\n%s", list)
	}

	file := replayConnectorFile(t)
	out := runDLQ(t, "replay", "--bootstrap-servers", brokers, "--connector", file, "orders-dlq")
	if !strings.Contains(out, "replayed 2 records from orders-dlq") ||
		!strings.Contains(out, "skipped 1 copies") {
		t.Errorf("replay: %s", out)
	}

	// A copy written after the first replay, and a new dead letter.
	must(t, cl.ProduceSync(ctx,
		stamped(deadLetter("a", "1", "4"), now, origA),
		stamped(deadLetter("c", "1", "12"), now, origB),
	).FirstErr())
	out = runDLQ(t, "replay", "--bootstrap-servers", brokers, "--connector", file, "orders-dlq")
	if !strings.Contains(out, "replayed 1 records from orders-dlq") ||
		!strings.Contains(out, "skipped 1 copies") {
		t.Errorf("second replay: %s", out)
	}

	// A replay that finds only a copy sends nothing, yet moves past it.
	must(t, cl.ProduceSync(ctx, stamped(deadLetter("b", "0", "9"), now, origB)).FirstErr())
	out = runDLQ(t, "replay", "--bootstrap-servers", brokers, "--connector", file, "orders-dlq")
	if !strings.Contains(out, "replayed 0 records from orders-dlq") ||
		!strings.Contains(out, "skipped 1 copies") {
		t.Errorf("third replay: %s", out)
	}
	out = runDLQ(t, "replay", "--bootstrap-servers", brokers, "--connector", file, "orders-dlq")
	if !strings.Contains(out, "replayed 0 records from orders-dlq") ||
		strings.Contains(out, "skipped") {
		t.Errorf("fourth replay: %s", out)
	}

	got := replayedRecords(t, kc, 3)
	for v, ts := range map[string]time.Time{"a": origA, "b": origB, "c": origB} {
		r := got[v]
		if r == nil || !r.Timestamp.Equal(ts) {
			t.Errorf("record %q: %+v, want timestamp %v", v, r, ts)
			continue
		}
		for _, h := range r.Headers {
			if h.Key == worker.HeaderOriginalTimestamp {
				t.Errorf("record %q replayed with header %s", v, h.Key)
			}
		}
	}
}
