package worker

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
	"github.com/tributary-io/tributary/runtime/config"
)

// chainTask is a delivering task whose connector has the chain cfg.
func chainTask(t *testing.T, sink connectors.SinkTask, tolerance string, cfg map[string]string) *task {
	t.Helper()
	tk := newDeliverTask(sink)
	tk.c.common.ErrorsTolerance = tolerance
	chain, errs := transform.Parse(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tk.chain = chain
	return tk
}

// dropOdd drops records with a header "odd", which kafkaRecords sets on
// odd offsets below.
var dropOdd = map[string]string{
	"transforms": "drop", "transforms.drop.type": "org.apache.kafka.connect.transforms.Filter",
	"transforms.drop.predicate": "odd",
	"predicates":                "odd", "predicates.odd.type": "HasHeaderKey", "predicates.odd.name": "odd",
}

func withOddHeaders(krs []*kgo.Record) []*kgo.Record {
	for _, kr := range krs {
		if kr.Offset%2 == 1 {
			kr.Headers = []kgo.RecordHeader{{Key: "odd"}}
		}
	}
	return krs
}

func TestDeliverFiltersRecords(t *testing.T) {
	sink := &recordingSink{}
	tk := chainTask(t, sink, config.ToleranceNone, dropOdd)
	if err := tk.deliver(context.Background(), withOddHeaders(kafkaRecords(10))); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range sink.got {
		got = append(got, r.Offset)
	}
	if len(got) != 5 || got[0] != 0 || got[4] != 8 {
		t.Errorf("sink got offsets %v, want the even ones", got)
	}
}

func TestDeliverTransformFailure(t *testing.T) {
	// MaskField needs a struct; offsetDecoder yields numbers.
	mask := map[string]string{"transforms": "m", "transforms.m.type": "MaskField$Value",
		"transforms.m.fields": "x"}

	sink := &recordingSink{}
	err := chainTask(t, sink, config.ToleranceNone, mask).deliver(context.Background(), kafkaRecords(3))
	if err == nil || !strings.Contains(err.Error(), "transform record actions/3@0: transform m "+
		"(org.apache.kafka.connect.transforms.MaskField$Value)") {
		t.Fatalf("err = %v", err)
	}
	if len(sink.got) != 0 {
		t.Errorf("sink got %d records", len(sink.got))
	}

	sink = &recordingSink{}
	if err := chainTask(t, sink, config.ToleranceAll, mask).deliver(context.Background(),
		kafkaRecords(3)); err != nil || len(sink.got) != 0 {
		t.Fatalf("tolerance all: err %v, %d records", err, len(sink.got))
	}
}

func TestProgressCommitsPastDroppedRecords(t *testing.T) {
	tp := connectors.TopicPartition{Topic: "actions", Partition: 3}
	handed := func(offs ...int64) []*connectors.Record {
		var rs []*connectors.Record
		for _, o := range offs {
			rs = append(rs, &connectors.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: o})
		}
		return rs
	}
	consumed := func(n int) []*kgo.Record { return kafkaRecords(n) }

	for _, tc := range []struct {
		name   string
		moved  bool
		put    []int64
		eaten  int // records 0..eaten-1 consumed
		sink   map[connectors.TopicPartition]int64
		rewind int64 // >= 0: rewound there after the batch
		want   int64 // -1: nothing to commit
	}{
		{name: "tail dropped, sink durable", put: []int64{0, 1, 2}, eaten: 10,
			sink: map[connectors.TopicPartition]int64{tp: 3}, rewind: -1, want: 10},
		{name: "sink not durable yet", put: []int64{0, 1, 2}, eaten: 10,
			sink: map[connectors.TopicPartition]int64{tp: 2}, rewind: -1, want: 2},
		{name: "nothing handed, nothing reported", eaten: 10,
			sink: map[connectors.TopicPartition]int64{}, rewind: -1, want: 10},
		{name: "sink moved the start: wait for it", moved: true, eaten: 10,
			sink: map[connectors.TopicPartition]int64{tp: 4}, rewind: -1, want: 4},
		{name: "rewound by the sink", put: []int64{0, 5}, eaten: 10,
			sink: map[connectors.TopicPartition]int64{tp: 4}, rewind: 4, want: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p progress
			moved := map[connectors.TopicPartition]int64{}
			if tc.moved {
				moved[tp] = 0
			}
			p.assign(map[connectors.TopicPartition]int64{tp: -1}, moved)
			p.put(handed(tc.put...))
			p.consumed(consumed(tc.eaten))
			if tc.rewind >= 0 {
				p.rewound(tp, tc.rewind)
			}
			got, ok := p.durable(tc.sink)[tp]
			if !ok {
				got = -1
			}
			if got != tc.want {
				t.Errorf("commit %d, want %d", got, tc.want)
			}
		})
	}

	// A record whose topic a transform renamed stops all skipping.
	var p progress
	p.assign(map[connectors.TopicPartition]int64{tp: -1}, nil)
	p.put([]*connectors.Record{{Topic: "renamed", Offset: 0}})
	p.consumed(consumed(5))
	if got := p.durable(map[connectors.TopicPartition]int64{tp: 0})[tp]; got != 0 {
		t.Errorf("routed: commit %d, want the sink's 0", got)
	}
}
