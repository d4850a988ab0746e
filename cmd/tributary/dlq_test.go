package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
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

func runDLQ(t *testing.T, args ...string) string {
	t.Helper()
	cmd := newDLQCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("dlq %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// TestDLQListAndReplay lists a dead letter queue, replays it to the source
// partitions, and replays it again without sending anything twice.
func TestDLQListAndReplay(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"),
		kfake.SeedTopics(1, "orders-dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := strings.Join(kc.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
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

	file := filepath.Join(t.TempDir(), "orders.yaml")
	must(t, os.WriteFile(file, []byte(`name: orders-sink
config:
  connector.class: file
  topics: orders
  errors.tolerance: all
  errors.deadletterqueue.topic.name: orders-dlq
`), 0o600))
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
	got := map[string]*kgo.Record{}
	rd, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("orders"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	want := map[string]int32{"a": 1, "b": 0, "c": 1}
	// Read until every record arrived, however slow the machine, then a
	// moment longer for a copy that should not be there.
	read := func(ctx context.Context) {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if got[string(r.Value)] != nil {
				t.Errorf("record %q replayed twice", r.Value)
			}
			got[string(r.Value)] = r
		})
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for len(got) < len(want) && pctx.Err() == nil {
		read(pctx)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for dctx.Err() == nil {
		read(dctx)
	}
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
