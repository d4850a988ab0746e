// Package registrytest runs Tributary's built-in Schema Registry for the
// integration suites, over the real Kafka that integration/services finds.
package registrytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/schemas/registry"
)

// Start runs the built-in Schema Registry over e's Kafka, on a fresh topic
// and a free loopback port, until the test ends, and returns its URL.
func Start(t *testing.T, e services.Env) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := registry.Start(ctx, registry.ServerConfig{
		Brokers: e.KafkaBrokers,
		Topic:   fmt.Sprintf("_schemas-%d", time.Now().UnixNano()),
		Addr:    "127.0.0.1:0",
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	return srv.URL()
}
