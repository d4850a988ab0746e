package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
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

// TestWorkerRefusesBadConnectorFileFirst gives a worker a connector file
// with a YAML mistake and no Kafka: it names the file and the line at once,
// before it waits for Kafka or starts anything.
func TestWorkerRefusesBadConnectorFileFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bookings.yaml")
	if err := os.WriteFile(file, []byte("name: bookings\nconfig:\n  connector.class: file\n"+
		"  topics: \"bookings\n  file.dir: /tmp/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wc := config.DefaultWorker()
	wc.BootstrapServers = []string{"127.0.0.1:1"}
	wc.ConnectorsDir = dir
	err := runWorker(context.Background(), wc, false)
	want := file + ":4: scanning a quoted scalar that starts here (column 11)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one naming %q", err, want)
	}
	if strings.Contains(err.Error(), "reach Kafka") {
		t.Errorf("the worker waited for Kafka before checking its files: %v", err)
	}
}

// TestCheckConfigWarnsUnknownKeys lists, at file and line, the keys of a
// connector file that nothing reads, as worker --check-config prints them.
func TestCheckConfigWarnsUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(file, []byte("name: a\nconfig:\n  connector.class: file\n"+
		"  topics: orders\n  file.dir: /tmp/x\n  flush.size: 10\n  flush.sise: 10\n"+
		"  transforms: m\n  transforms.m.type: org.apache.kafka.connect.transforms.Flatten$Value\n"+
		"  hdfs.url: hdfs://nn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wc := config.DefaultWorker()
	wc.ConnectorsDir = dir
	w := worker.New(worker.Options{Plugins: sinkPlugins()})
	got, err := unknownKeyWarnings(wc, w.PluginConfigDef)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"warning: " + file + ":7: config.flush.sise: unknown key, ignored (did you mean flush.size?)",
		"warning: " + file + ":10: config.hdfs.url: unknown key, ignored",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCheckConfigRefusesNoRegistry checks that --check-config refuses a
// worker with neither an external nor a built-in registry, as its start
// does, instead of approving it.
func TestCheckConfigRefusesNoRegistry(t *testing.T) {
	wc := config.DefaultWorker()
	wc.RegistryListener = ""
	wc.SchemaRegistryURLs = nil
	err := runWorker(context.Background(), wc, true)
	want := "no schema registry: set schema.registry.url"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("check-config error %v, want one naming %q", err, want)
	}
}
