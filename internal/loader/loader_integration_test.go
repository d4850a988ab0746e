//go:build integration

package loader

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/bookings"
)

// TestLoadAllIntoKafka loads the whole dataset into the broker named by
// TRIBUTARY_KAFKA_BROKERS and checks that the topic's end offsets add up to
// the dataset's row count.
func TestLoadAllIntoKafka(t *testing.T) {
	env := os.Getenv("TRIBUTARY_KAFKA_BROKERS")
	if env == "" {
		t.Fatal("TRIBUTARY_KAFKA_BROKERS is not set")
	}
	brokers := strings.Split(env, ",")
	topic := "bookings-load-" + strconv.FormatInt(time.Now().UnixNano(), 36)

	rc, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	res, err := Load(ctx, Config{
		Brokers: brokers, Topic: topic, Partitions: 2, Registry: &fakeRegistry{},
		Progress: &progress,
	}, rc)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	want := int64(bookings.Reference().Rows)
	if res.Produced != want || res.Rejected != 0 {
		t.Errorf("result %+v, want %d produced and none rejected", res, want)
	}
	if sum, _ := endOffsets(t, brokers, topic); sum != want {
		t.Errorf("end offsets of %s sum to %d, want %d", topic, sum, want)
	}
	t.Logf("%s", strings.TrimSpace(progress.String()))

	// The records carry timestamps from 2014-2017: only a topic that keeps
	// records forever keeps them.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rcfg, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rcfg.Configs {
		if c.Key == "retention.ms" && (c.Value == nil || *c.Value != "-1") {
			t.Errorf("topic %s has retention.ms %v, want -1", topic, c.Value)
		}
	}
}
