//go:build integration

package registry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestIntegrationRestart registers schemas against a real Kafka, restarts
// the server on the same topic and checks that every id survived.
func TestIntegrationRestart(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := fmt.Sprintf("_schemas_it_%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(t, brokers, topic) })

	s1, ts1 := startServer(t, brokers, topic)
	ids := map[string]int{
		"orders-value":  register(t, ts1, "orders-value", orderV1),
		"archive-value": register(t, ts1, "archive-value", orderV1),
		"clicks-value":  register(t, ts1, "clicks-value", clickV1),
	}
	if ids["orders-value"] != 1 || ids["archive-value"] != 1 || ids["clicks-value"] != 2 {
		t.Fatalf("ids = %v, want orders and archive 1, clicks 2", ids)
	}
	ts1.Close()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	_, ts2 := startServer(t, brokers, topic)
	texts := map[string]string{"orders-value": orderV1, "archive-value": orderV1, "clicks-value": clickV1}
	for subject, text := range texts {
		status, v := call(t, ts2, "POST", "/subjects/"+subject, schemaBody(text))
		got, _ := v.(map[string]any)["id"].(float64)
		if status != http.StatusOK || int(got) != ids[subject] {
			t.Errorf("after restart, lookup %s = %d %v, want id %d", subject, status, v, ids[subject])
		}
	}
	if id := register(t, ts2, "orders-value", orderV2); id != 3 {
		t.Errorf("after restart, new schema got id %d, want 3", id)
	}
}

// TestIntegrationTwoInstances runs two registries over one topic of a real
// Kafka: concurrent registrations through both agree, and closing the
// leader loses nothing while the other instance takes over the writes.
func TestIntegrationTwoInstances(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := fmt.Sprintf("_schemas_it_leader_%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(t, brokers, topic) })
	playTwoInstances(t, brokers, topic)
}

// integrationBrokers returns the brokers of the Kafka the integration
// suite runs against.
func integrationBrokers(t *testing.T) []string {
	t.Helper()
	brokersEnv := os.Getenv("TRIBUTARY_KAFKA_BROKERS")
	if brokersEnv == "" {
		t.Fatal("TRIBUTARY_KAFKA_BROKERS is not set; run integration/services.sh env")
	}
	return strings.Split(brokersEnv, ",")
}

func deleteTopic(t *testing.T, brokers []string, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Logf("delete topic %s: %v", topic, err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(cl).DeleteTopic(ctx, topic); err != nil {
		t.Logf("delete topic %s: %v", topic, err)
	}
}
