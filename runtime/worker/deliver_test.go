package worker

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// offsetDecoder decodes a value as the big-endian offset it carries, and
// fails with ErrBadMagic on a value of one byte.
type offsetDecoder struct{}

func (offsetDecoder) Decode(_ context.Context, v []byte) (*schemas.Schema, any, error) {
	if len(v) != 8 {
		return nil, nil, schemas.ErrBadMagic
	}
	return nil, int64(binary.BigEndian.Uint64(v)), nil
}

// recordingSink keeps every record Put gives it, and the size of each Put.
type recordingSink struct {
	connectors.SinkTask
	got  []*connectors.Record
	puts []int
}

func (s *recordingSink) Put(_ context.Context, rs []*connectors.Record) error {
	s.got = append(s.got, rs...)
	s.puts = append(s.puts, len(rs))
	return nil
}

func newDeliverTask(sink connectors.SinkTask) *task {
	w := New(Options{})
	return newTask(w, &connector{name: "t"}, 0, sink, nil, offsetDecoder{})
}

func kafkaRecords(n int, bad ...int) []*kgo.Record {
	krs := make([]*kgo.Record, n)
	for i := range krs {
		v := binary.BigEndian.AppendUint64(nil, uint64(i))
		krs[i] = &kgo.Record{Topic: "actions", Partition: 3, Offset: int64(i), Value: v}
	}
	for _, i := range bad {
		krs[i].Value = []byte{1}
	}
	return krs
}

func TestDeliverKeepsOrderAcrossChunks(t *testing.T) {
	for _, n := range []int{0, 1, chunkSize - 1, chunkSize, 5*chunkSize + 17} {
		sink := &recordingSink{}
		if err := newDeliverTask(sink).deliver(context.Background(), kafkaRecords(n)); err != nil {
			t.Fatalf("%d records: %v", n, err)
		}
		if len(sink.got) != n {
			t.Fatalf("%d records: sink got %d", n, len(sink.got))
		}
		for i, r := range sink.got {
			if r.Offset != int64(i) || r.Value.(int64) != int64(i) {
				t.Fatalf("%d records: record %d is offset %d, value %v", n, i, r.Offset, r.Value)
			}
		}
		for i, p := range sink.puts {
			if p > chunkSize || (i < len(sink.puts)-1 && p != chunkSize) {
				t.Fatalf("%d records: puts of %v, want chunks of %d", n, sink.puts, chunkSize)
			}
		}
	}
}

func TestDeliverStopsAtFirstBadRecord(t *testing.T) {
	// Two bad records in different chunks: the first one by position wins,
	// everything before it reaches the sink and nothing after it does.
	first := 2*chunkSize + 5
	sink := &recordingSink{}
	err := newDeliverTask(sink).deliver(context.Background(),
		kafkaRecords(4*chunkSize, 3*chunkSize+1, first))
	if !errors.Is(err, schemas.ErrBadMagic) {
		t.Fatalf("err = %v, want ErrBadMagic", err)
	}
	want := "decode record actions/3@2053: bad magic byte"
	if err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
	if len(sink.got) != first {
		t.Fatalf("sink got %d records, want the %d before the bad one", len(sink.got), first)
	}
	if last := sink.got[len(sink.got)-1].Offset; last != int64(first-1) {
		t.Fatalf("last record put is offset %d, want %d", last, first-1)
	}
}

func TestDeliverStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := &recordingSink{}
	err := newDeliverTask(sink).deliver(ctx, kafkaRecords(3*chunkSize))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
