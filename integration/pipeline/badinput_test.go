//go:build integration

package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/actions"
	"github.com/tributary-io/tributary/schemas/registry"
)

// TestPoisonPills sends one good record and then a bad one; under the
// default errors.tolerance=none the task fails with an error that names the
// bad record's topic, partition and offset.
func TestPoisonPills(t *testing.T) {
	env = services.Require(t)
	regURL := registrytest.Start(t, env)
	client, err := registry.NewClient([]string{regURL})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	cases := []struct {
		name, want string
		bad        func(good []byte) []byte
	}{
		{"wrong magic byte", "magic", func(good []byte) []byte {
			b := append([]byte(nil), good...)
			b[0] = 7
			return b
		}},
		{"unknown schema id", "unknown schema", func(good []byte) []byte {
			b := append([]byte(nil), good...)
			b[1], b[2], b[3], b[4] = 0, 0x7f, 0xff, 0xff
			return b
		}},
		{"truncated body", "truncated", func(good []byte) []byte {
			return append([]byte(nil), good[:len(good)/2]...)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := newTopic(t, 1)
			s, err := client.Register(ctx, topic+"-value", actions.Click)
			must(t, err)
			good, err := schemas.NewConverter(client).Encode(s, clickValue())
			must(t, err)
			produce(t, ctx, topic, good, tc.bad(good), good)

			w := newWorker(t, regURL)
			name := connectorName("poison", topic)
			must(t, w.Start(ctx, name, sinkConfig(topic, newBucket(t), byKafkaPartition)))
			var st worker.ConnectorStatus
			eventually(t, time.Minute, "the task to fail", func() bool {
				st, err = w.Status(name)
				return err == nil && len(st.Tasks) > 0 && st.Tasks[0].State == worker.StateFailed
			})
			trace := st.Tasks[0].Trace
			t.Logf("task trace: %s", trace)
			for _, want := range []string{topic + "/0@1", tc.want} {
				if !strings.Contains(strings.ToLower(trace), strings.ToLower(want)) {
					t.Errorf("trace %q does not name %q", trace, want)
				}
			}
		})
	}
}

// TestBadConnectorConfig checks that every problem of a bad config is
// reported at once and that nothing starts.
func TestBadConnectorConfig(t *testing.T) {
	env = services.Require(t)
	w := newWorker(t, registrytest.Start(t, env))
	cfg := sinkConfig("bookings", "", map[string]string{
		"tasks.max":           "0",
		"flush.size":          "-5",
		"timezone":            "Mars/Olympus",
		"format.class":        "xml",
		"timestamp.extractor": "Wallclock",
	})
	err := w.Start(context.Background(), "bad", cfg)
	var ce *connectors.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Start returned %v, want a *connectors.ConfigError", err)
	}
	t.Logf("%v", err)
	for _, key := range []string{"tasks.max", "flush.size", "timezone", "format.class",
		"timestamp.extractor", "s3.bucket.name"} {
		found := false
		for _, fe := range ce.Errors {
			found = found || fe.Key == key
		}
		if !found {
			t.Errorf("no error reported for %s", key)
		}
	}
	if names := w.Connectors(); len(names) != 0 {
		t.Errorf("connectors running after a rejected config: %v", names)
	}
}

func produce(t *testing.T, ctx context.Context, topic string, values ...[]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...), kgo.DefaultProduceTopic(topic))
	must(t, err)
	defer cl.Close()
	for _, v := range values {
		must(t, cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr())
	}
}

// byKafkaPartition switches the main job's config to Confluent's default
// partitioner, for records that are not bookings.
var byKafkaPartition = map[string]string{
	"partitioner.class":     "io.confluent.connect.storage.partitioner.DefaultPartitioner",
	"path.format":           "",
	"partition.duration.ms": "",
	"timestamp.extractor":   "",
	"timestamp.field":       "",
	"timezone":              "",
	"locale":                "",
}

func clickValue() map[string]any {
	return map[string]any{
		"action_id":  "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"event_time": time.UnixMilli(1700000000000).UTC(),
		"session_id": "s-1",
		"user_id":    nil,
		"page":       "/hotels/lisbon",
		"element":    "book-button",
		"referrer":   nil,
		"user_agent": nil,
		"country":    "PT",
		"device":     "MOBILE",
	}
}
