package storage

import (
	"context"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

func TestAlterOffsets(t *testing.T) {
	h := &harness{t: t, store: newMemStore()}
	task := h.task(nil)
	h.open(task, -1)
	h.put(task, records(0, 20))
	if got := h.durable(task); got != 20 {
		t.Fatalf("durable %d, want 20", got)
	}
	c := &Connector{NewStore: func(context.Context, map[string]string) (Store, error) {
		return h.store, nil
	}}
	cfg := map[string]string{"flush.size": "10", "format.class": "parquet",
		"partitioner.class": "field", "partition.field.name": "kind"}
	at := func(n int64) *int64 { return &n }
	empty := connectors.TopicPartition{Topic: "actions", Partition: 7}
	cases := []struct {
		name    string
		offsets map[connectors.TopicPartition]*int64
		want    string // "" when accepted
	}{
		{"skip ahead", map[connectors.TopicPartition]*int64{tp0: at(25)}, ""},
		{"where the bucket is", map[connectors.TopicPartition]*int64{tp0: at(20)}, ""},
		{"partition with nothing written", map[connectors.TopicPartition]*int64{empty: nil}, ""},
		{"reset", map[connectors.TopicPartition]*int64{tp0: nil},
			"holds records up to offset 19 (plan actions/0 [10, 19]); after a reset"},
		{"into a written segment", map[connectors.TopicPartition]*int64{tp0: at(15)},
			"offset 15 is behind mem://, which holds records up to offset 19"},
		{"back to the start", map[connectors.TopicPartition]*int64{tp0: at(0)},
			"use an offset of at least 20"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			handled, err := c.AlterOffsets(context.Background(), cfg, tc.offsets)
			switch {
			case tc.want == "" && (err != nil || !handled):
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
