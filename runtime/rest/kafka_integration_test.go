//go:build integration

package rest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/integration/services"
)

// TestRoutesOnKafka runs the route test, every exchange validated against
// openapi.yaml, with the worker on the Kafka broker the services script
// runs: its consumer groups, committed offsets and offset edits are the
// broker's own.
func TestRoutesOnKafka(t *testing.T) {
	env := services.Require(t)
	topic := services.NewTopic(t, env, 2)
	produce(t, env.KafkaBrokers, topic, 10)

	// The route test names its connectors a, b, p, s and owned; groups a
	// run before left behind would add their offsets to the new ones.
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	groups := []string{"connect-a", "connect-b", "connect-p", "connect-s", "connect-owned"}
	for {
		// On a fresh broker the group coordinator may not be there yet.
		resp, err := kadm.NewClient(cl).DeleteGroups(ctx, groups...)
		if err == nil {
			for _, r := range resp {
				if r.Err != nil && !errors.Is(r.Err, kerr.GroupIDNotFound) {
					t.Fatalf("delete group %s of an earlier run: %v", r.Group, r.Err)
				}
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("delete the groups of an earlier run: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}

	testRoutesAgainstDocument(t, newFixtureOn(t, env.KafkaBrokers, topic, Options{}))
}
