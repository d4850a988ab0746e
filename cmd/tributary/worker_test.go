package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	got := unknownKeyWarnings(wc, w.PluginConfigDef)
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

// TestCheckConfigReportsEverything gives --check-config a worker config
// with two mistakes and a directory of connector files with every kind of
// mistake, and expects all of them from one run: a file that does not
// parse is not checked further, but every other file is.
func TestCheckConfigReportsEverything(t *testing.T) {
	dir := t.TempDir()
	conns := filepath.Join(dir, "connectors")
	if err := os.Mkdir(conns, 0o700); err != nil {
		t.Fatal(err)
	}
	const good = "  connector.class: file\n  topics: orders\n  file.dir: /tmp/x\n"
	files := map[string]string{
		"malformed.yaml": "name: m\nconfig:\n  topics: \"orders\n",
		"types.yaml": "name: types\nconfig:\n" + good +
			"  tasks.max: two\n  flush.size: 1.5\n",
		"missing.yaml":   "name: missing\nconfig:\n  connector.class: file\n",
		"transform.yaml": "name: tr\nconfig:\n" + good + "  transforms: x\n  transforms.x.type: Nope\n",
		"noname.yaml":    "config:\n" + good,
		"bad.json":       `{"name": "j", "config": {`,
		"dupkey.yaml":    "name: dk\nconfig:\n" + good + "  topics: again\n",
		"same1.yaml":     "name: same\nconfig:\n" + good,
		"same2.yaml":     "name: same\nconfig:\n" + good,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(conns, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wf := filepath.Join(dir, "worker.yaml")
	if err := os.WriteFile(wf, []byte("connectors.dir: "+conns+"\n"+
		"offset.flush.interval.ms: soon\nconsumer.max.poll.records: many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newWorkerCmd()
	cmd.SetArgs([]string{"--config", wf, "--check-config"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	if err == nil {
		t.Fatal("check-config passed")
	}
	at := func(file string, line int) string {
		return filepath.Join(conns, file) + ":" + strconv.Itoa(line) + ":"
	}
	for _, want := range []string{
		wf + ":2: offset.flush.interval.ms", wf + ":3: consumer.max.poll.records",
		at("malformed.yaml", 3), at("types.yaml", 6), at("types.yaml", 7),
		filepath.Join(conns, "missing.yaml"), at("transform.yaml", 7),
		filepath.Join(conns, "noname.yaml"), filepath.Join(conns, "bad.json"),
		at("dupkey.yaml", 6) + " config.topics: duplicate key",
		at("same2.yaml", 1) + " name: connector \"same\" is also defined",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check-config lacks %q in:\n%v", want, err)
		}
	}
}

// TestCheckConfigCallsValidOnlyWhatIs checks that --check-config says a
// config is valid only when nothing is wrong with it, the worker config's
// own keys included.
func TestCheckConfigCallsValidOnlyWhatIs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		valid      bool
	}{
		{"good", "schema.registry.url: http://127.0.0.1:1\n", true},
		{"bad", "schema.registry.url: http://127.0.0.1:1\noffset.flush.interval.ms: soon\n", false},
		// A secret the worker resolves only at start is resolved here too.
		{"unset-key", "schema.registry.url: http://127.0.0.1:1\ngroup.id: g\n" +
			"config.storage.topic: c\noffset.storage.topic: o\nstatus.storage.topic: s\n" +
			"inter.worker.key: ${env:TRIBUTARY_TEST_NO_SUCH_KEY}\n", false},
	} {
		wf := filepath.Join(dir, tc.name+".yaml")
		if err := os.WriteFile(wf, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		cmd := newWorkerCmd()
		cmd.SetArgs([]string{"--config", wf, "--check-config"})
		cmd.SetOut(&out)
		cmd.SetErr(io.Discard)
		err := cmd.ExecuteContext(context.Background())
		said := strings.Contains(out.String(), "are valid")
		if (err == nil) != tc.valid || said != tc.valid {
			t.Errorf("%s config: error %v, printed %q; want valid=%v", tc.name, err, out.String(),
				tc.valid)
		}
	}
}
