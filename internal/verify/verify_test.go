package verify

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestCompareWithDeadLetters places each offset of a partition: written
// once, missing, dead-lettered, written twice, written and dead-lettered,
// or written without being in the topic.
func TestCompareWithDeadLetters(t *testing.T) {
	inTopic := []int64{0, 1, 2, 3, 4, 6}
	inSink := map[int64]int{0: 1, 3: 2, 4: 1, 9: 1}
	dead := map[int64]bool{2: true, 4: true, 6: true}
	got := compare(5, inTopic, inSink, dead)
	if got.Records != 6 || got.Rows != 5 || !slices.Equal(got.Missing, []int64{1}) ||
		!slices.Equal(got.DeadLettered, []int64{2, 6}) ||
		!slices.Equal(got.Duplicated, []int64{3, 4}) || !slices.Equal(got.Unexpected, []int64{9}) {
		t.Errorf("compare = %+v", got)
	}

	// Without a dead letter queue, the dead letters are missing.
	got = compare(5, inTopic, inSink, nil)
	if !slices.Equal(got.Missing, []int64{1, 2, 6}) || len(got.DeadLettered) != 0 ||
		!slices.Equal(got.Duplicated, []int64{3}) {
		t.Errorf("compare without dead letters = %+v", got)
	}
}

func TestPrintCountsDeadLetters(t *testing.T) {
	r := &Report{Topic: "orders", Objects: 2, Partitions: []Partition{
		compare(0, []int64{0, 1, 2}, map[int64]int{0: 1, 2: 1}, map[int64]bool{1: true}),
	}}
	var b strings.Builder
	Print(&b, r)
	if !r.OK() || !strings.HasSuffix(b.String(),
		"OK: 3 records, 2 rows, 0 missing, 0 duplicated, 1 dead-lettered\n") {
		t.Errorf("report OK=%v:\n%s", r.OK(), b.String())
	}
}

// TestReadDeadLetters reads a dead letter queue on kfake: records of the
// topic are placed by their headers, those of another topic left out, and
// a queue that was never created holds nothing.
func TestReadDeadLetters(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders", "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	letter := func(topic, partition, offset string) *kgo.Record {
		return &kgo.Record{Topic: "dlq", Value: []byte("x"), Headers: []kgo.RecordHeader{
			{Key: "__connect.errors.topic", Value: []byte(topic)},
			{Key: "__connect.errors.partition", Value: []byte(partition)},
			{Key: "__connect.errors.offset", Value: []byte(offset)},
		}}
	}
	if err := cl.ProduceSync(ctx, letter("orders", "0", "4"), letter("orders", "2", "9"),
		letter("payments", "0", "1")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	src := Source{Brokers: kc.ListenAddrs(), Topic: "orders", DeadLetters: "dlq",
		Idle: 100 * time.Millisecond}
	got, err := readDeadLetters(ctx, src)
	if err != nil || len(got) != 2 || !got[0][4] || !got[2][9] {
		t.Errorf("dead letters = %v, %v", got, err)
	}

	src.DeadLetters = "never-created"
	if got, err := readDeadLetters(ctx, src); err != nil || len(got) != 0 {
		t.Errorf("a queue never created: %v, %v", got, err)
	}

	// A dead letter without the context headers cannot be placed.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "dlq", Value: []byte("y")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	src.DeadLetters = "dlq"
	if _, err := readDeadLetters(ctx, src); err == nil ||
		!strings.Contains(err.Error(), "dead letter dlq/0@3 has no __connect.errors.topic") {
		t.Errorf("a dead letter without headers: %v", err)
	}
}
