package services

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tributary-io/tributary/schemas/registry"
)

// StartRegistry runs the built-in Schema Registry over e's Kafka, on a
// fresh topic and a free loopback port, until the test ends, and returns
// its URL.
func StartRegistry(t *testing.T, e Env) string {
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
