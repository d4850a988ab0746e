package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/runtime/config"
)

// TestWorkerRefusesUnreachableKafka stops a worker whose bootstrap.servers
// answer nothing before it starts a registry, a REST API or a task.
func TestWorkerRefusesUnreachableKafka(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	wc := config.DefaultWorker()
	wc.BootstrapServers = []string{addr}
	err = runWorker(context.Background(), wc, false)
	if err == nil {
		t.Fatal("the worker started without Kafka")
	}
	for _, want := range []string{"reach Kafka at " + addr, "bootstrap.servers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
