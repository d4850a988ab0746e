package verify

import (
	"slices"
	"strings"
	"testing"
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
