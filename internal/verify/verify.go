// Package verify checks a storage sink's output against its source topic:
// every (partition, offset) of a record in the topic must appear in exactly
// one row of exactly one object. It reads the real offsets of the topic
// rather than assuming a contiguous range, so it stays exact when the topic
// has gaps (transaction markers, compaction).
package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors/storage"
)

// Source describes the topic to read.
type Source struct {
	Brokers []string
	Topic   string
	// Idle ends the read once no record arrived for this long and every
	// partition reached its last stable offset (default 3s).
	Idle time.Duration
	// DeadLetters, when set, is the connector's dead letter queue: a record
	// of Topic the queue holds, as its __connect.errors.topic, .partition
	// and .offset headers name it, is dead-lettered rather than missing.
	DeadLetters string
}

// Sink describes where the connector wrote.
type Sink struct {
	Store     storage.Store
	TopicsDir string
	Format    storage.Format
}

// Partition is the result for one partition.
type Partition struct {
	Partition  int32
	Records    int     // records in the topic
	Rows       int     // rows found in the sink
	Missing    []int64 // offsets in the topic found in no row nor dead letter
	Duplicated []int64 // offsets found in more than one row, or in a row and a dead letter
	Unexpected []int64 // offsets found in the sink but not in the topic
	// DeadLettered are the offsets in the dead letter queue and in no row.
	DeadLettered []int64
}

// Report is the whole comparison.
type Report struct {
	Topic      string
	Objects    int
	Partitions []Partition
}

// OK reports whether nothing is missing, duplicated or unexpected.
func (r *Report) OK() bool {
	for _, p := range r.Partitions {
		if len(p.Missing)+len(p.Duplicated)+len(p.Unexpected) > 0 {
			return false
		}
	}
	return true
}

// Totals sums the per-partition counts.
func (r *Report) Totals() (records, rows, missing, duplicated int) {
	for _, p := range r.Partitions {
		records += p.Records
		rows += p.Rows
		missing += len(p.Missing)
		duplicated += len(p.Duplicated)
	}
	return
}

// Run reads the topic and the sink and compares them.
func Run(ctx context.Context, src Source, sink Sink) (*Report, error) {
	present, err := readTopic(ctx, src)
	if err != nil {
		return nil, err
	}
	seen, objects, err := readSink(ctx, src.Topic, sink)
	if err != nil {
		return nil, err
	}
	dead := map[int32]map[int64]bool{}
	if src.DeadLetters != "" {
		if dead, err = readDeadLetters(ctx, src); err != nil {
			return nil, err
		}
	}

	rep := &Report{Topic: src.Topic, Objects: objects}
	parts := make(map[int32]bool)
	for p := range present {
		parts[p] = true
	}
	for p := range seen {
		parts[p] = true
	}
	for p := range parts {
		rep.Partitions = append(rep.Partitions, compare(p, present[p], seen[p], dead[p]))
	}
	sort.Slice(rep.Partitions, func(i, j int) bool {
		return rep.Partitions[i].Partition < rep.Partitions[j].Partition
	})
	return rep, nil
}

func compare(p int32, inTopic []int64, inSink map[int64]int, dead map[int64]bool) Partition {
	res := Partition{Partition: p, Records: len(inTopic)}
	topicSet := make(map[int64]struct{}, len(inTopic))
	for _, off := range inTopic {
		topicSet[off] = struct{}{}
		switch n := inSink[off]; {
		case n == 0 && dead[off]:
			res.DeadLettered = append(res.DeadLettered, off)
		case n == 0:
			res.Missing = append(res.Missing, off)
		case n > 1 || dead[off]:
			res.Duplicated = append(res.Duplicated, off)
		}
	}
	for off, n := range inSink {
		res.Rows += n
		if _, ok := topicSet[off]; !ok {
			res.Unexpected = append(res.Unexpected, off)
		}
	}
	sort.Slice(res.Unexpected, func(i, j int) bool { return res.Unexpected[i] < res.Unexpected[j] })
	return res
}

// readTopic returns the offsets of every record of the topic, per partition,
// read with read_committed isolation up to the last stable offsets.
func readTopic(ctx context.Context, src Source) (map[int32][]int64, error) {
	out := make(map[int32][]int64)
	err := readAll(ctx, src.Brokers, src.Topic, src.Idle, func(r *kgo.Record) {
		out[r.Partition] = append(out[r.Partition], r.Offset)
	})
	return out, err
}

// readDeadLetters returns, per partition of src.Topic, the offsets of the
// records its dead letter queue holds. A dead letter of another topic is
// left out; one without the context headers is an error, since it cannot
// be placed.
func readDeadLetters(ctx context.Context, src Source) (map[int32]map[int64]bool, error) {
	out := make(map[int32]map[int64]bool)
	var bad error
	err := readAll(ctx, src.Brokers, src.DeadLetters, src.Idle, func(r *kgo.Record) {
		h := map[string]string{}
		for _, kv := range r.Headers {
			h[kv.Key] = string(kv.Value)
		}
		topic, ok := h["__connect.errors.topic"]
		p, perr := strconv.ParseInt(h["__connect.errors.partition"], 10, 32)
		off, oerr := strconv.ParseInt(h["__connect.errors.offset"], 10, 64)
		if !ok || perr != nil || oerr != nil {
			if bad == nil {
				bad = fmt.Errorf("dead letter %s/%d@%d has no __connect.errors.topic, "+
					".partition and .offset headers to place it; set "+
					"errors.deadletterqueue.context.headers.enable=true", r.Topic, r.Partition,
					r.Offset)
			}
			return
		}
		if topic != src.Topic {
			return
		}
		if out[int32(p)] == nil {
			out[int32(p)] = map[int64]bool{}
		}
		out[int32(p)][off] = true
	})
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		// No record ever failed: the queue is created with the first.
		return out, nil
	}
	if err == nil {
		err = bad
	}
	return out, err
}

// readAll calls fn with every record of topic, read with read_committed
// isolation up to the last stable offsets, and stops once no record came
// for idle (default 3s) with every partition read to its end, or earlier
// when what is left is control records.
func readAll(ctx context.Context, brokers []string, topic string, idle time.Duration,
	fn func(*kgo.Record),
) error {
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	ends, err := kadm.NewClient(adm).ListCommittedOffsets(ctx, topic)
	adm.Close()
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("list end offsets of %s: %w", topic, err)
	}

	want := make(map[int32]int64)
	consume := make(map[int32]kgo.Offset)
	ends.Each(func(o kadm.ListedOffset) {
		want[o.Partition] = o.Offset
		if o.Offset > 0 {
			consume[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(consume) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: consume}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		return err
	}
	defer cl.Close()

	if idle <= 0 {
		idle = 3 * time.Second
	}
	last := make(map[int32]int64)
	caughtUp := func() bool {
		for p, end := range want {
			if end > 0 && last[p]+1 < end {
				return false
			}
		}
		return true
	}
	lastRecord := time.Now()
	for !caughtUp() {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := 0
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset < want[r.Partition] {
				fn(r)
				last[r.Partition] = max(last[r.Partition], r.Offset)
				n++
			}
		})
		if n > 0 {
			lastRecord = time.Now()
		} else if time.Since(lastRecord) > idle {
			// The rest of each partition is control records (commit markers)
			// or was compacted away.
			break
		}
	}
	return nil
}

// readSink counts, per partition and offset, the rows of the topic's objects.
func readSink(ctx context.Context, topic string, sink Sink) (map[int32]map[int64]int, int, error) {
	prefix := strings.Trim(sink.TopicsDir, "/") + "/" + topic + "/"
	keys, err := sink.Store.List(ctx, prefix, "")
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", prefix, err)
	}
	seen := make(map[int32]map[int64]int)
	objects := 0
	for _, key := range keys {
		if !strings.HasSuffix(key, sink.Format.Extension()) {
			continue
		}
		body, err := sink.Store.Get(ctx, key)
		if err != nil {
			return nil, 0, err
		}
		positions, err := sink.Format.ReadPositions(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", key, err)
		}
		objects++
		for _, pos := range positions {
			if pos.Topic != topic {
				continue
			}
			if seen[pos.Partition] == nil {
				seen[pos.Partition] = make(map[int64]int)
			}
			seen[pos.Partition][pos.Offset]++
		}
	}
	return seen, objects, nil
}

// Print writes the report as a table, with up to five example offsets per
// problem, and a closing line.
func Print(w io.Writer, r *Report) {
	fmt.Fprintf(w, "topic %s: %d objects\n", r.Topic, r.Objects)
	fmt.Fprintf(w, "%-10s %10s %10s %8s %11s %11s %13s\n",
		"partition", "records", "rows", "missing", "duplicated", "unexpected", "dead-lettered")
	dead := 0
	for _, p := range r.Partitions {
		dead += len(p.DeadLettered)
		fmt.Fprintf(w, "%-10d %10d %10d %8d %11d %11d %13d\n", p.Partition, p.Records, p.Rows,
			len(p.Missing), len(p.Duplicated), len(p.Unexpected), len(p.DeadLettered))
		for _, list := range []struct {
			name string
			offs []int64
		}{{"missing", p.Missing}, {"duplicated", p.Duplicated}, {"unexpected", p.Unexpected}} {
			if len(list.offs) > 0 {
				fmt.Fprintf(w, "  %s offsets: %s\n", list.name, sample(list.offs))
			}
		}
	}
	records, rows, missing, dup := r.Totals()
	verdict := "OK"
	if !r.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%s: %d records, %d rows, %d missing, %d duplicated", verdict, records,
		rows, missing, dup)
	if dead > 0 {
		fmt.Fprintf(w, ", %d dead-lettered", dead)
	}
	fmt.Fprintln(w)
}

func sample(offs []int64) string {
	var parts []string
	for i, o := range offs {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(offs)-5))
			break
		}
		parts = append(parts, fmt.Sprint(o))
	}
	return strings.Join(parts, ", ")
}
