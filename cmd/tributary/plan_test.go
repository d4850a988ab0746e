package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/store"
)

// writePlanFiles writes a pipelines directory of two connectors, a and b,
// under dir and returns the directory and a's config as loaded.
func writePlanFiles(t *testing.T, dir string) (string, map[string]string) {
	t.Helper()
	pipes := filepath.Join(dir, "pipelines")
	if err := os.Mkdir(pipes, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		writeFile(t, filepath.Join(pipes, name+".yaml"), "name: "+name+
			"\nconfig:\n  connector.class: file\n  topics: orders\n  file.dir: /tmp/x\n"+
			"  flush.size: 10\n")
	}
	a, err := config.LoadConnector(filepath.Join(pipes, "a.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return pipes, a.Config
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runPlan runs tributary plan with args and returns what it printed.
func runPlan(t *testing.T, args ...string) string {
	t.Helper()
	out, err := planOutput(t, args...)
	if err != nil {
		t.Fatalf("plan %v: %v\n%s", args, err, out)
	}
	return out
}

// planOutput runs tributary plan with args, in an environment that sets
// no worker key, and returns what it printed and its error.
func planOutput(t *testing.T, args ...string) (string, error) {
	t.Helper()
	for _, key := range []string{"config", "config.storage.file.filename",
		"config.storage.topic", "connectors.dir", "bootstrap.servers"} {
		t.Setenv(config.EnvName(key), "")
		os.Unsetenv(config.EnvName(key))
	}
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"plan"}, args...))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestPlanUsesTheWorkersFileStore plans against the store file the worker
// config names, as tributary worker --config would use it.
func TestPlanUsesTheWorkersFileStore(t *testing.T) {
	dir := t.TempDir()
	pipes, aConfig := writePlanFiles(t, dir)
	st, err := store.OpenFile(filepath.Join(dir, "state", "connectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Put(context.Background(), store.Connector{Name: "a", Config: aConfig,
		Target: store.TargetStarted, Owner: filepath.Join(pipes, "a.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	wf := filepath.Join(dir, "worker.yaml")
	writeFile(t, wf, "connectors.dir: pipelines\n"+
		"config.storage.file.filename: state/connectors.json\n")

	want := "+ create b (" + filepath.Join(pipes, "b.yaml") + ")\n1 change(s)\n"
	for _, args := range [][]string{{"--config", wf}, {"--config", wf, pipes}} {
		if got := runPlan(t, args...); got != want {
			t.Errorf("plan %v:\n%s\nwant:\n%s", args, got, want)
		}
	}

	// A store that does not exist yet is empty, and plan leaves it so: it
	// creates neither the file nor its directory.
	missing := filepath.Join(dir, "none", "connectors.json")
	want = "+ create a (" + filepath.Join(pipes, "a.yaml") + ")\n+ create b (" +
		filepath.Join(pipes, "b.yaml") + ")\n2 change(s)\n"
	if got := runPlan(t, "--config-storage-file-filename", missing, pipes); got != want {
		t.Errorf("plan against a missing store:\n%s\nwant:\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("plan created %s: %v", filepath.Dir(missing), err)
	}
}

// TestPlanChecksLikeTheWorker refuses files the worker would refuse, naming
// the file and line, whether the YAML or the connector's own keys are wrong.
func TestPlanChecksLikeTheWorker(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"syntax": "name: a\nconfig:\n  connector.class: file\n  topics: 'orders\n",
		"keys": "name: b\nconfig:\n  connector.class: file\n  topics: orders\n" +
			"  file.dir: /tmp/x\n  flush.size: 0\n",
	} {
		must(t, os.Mkdir(filepath.Join(dir, name), 0o700))
		writeFile(t, filepath.Join(dir, name, "c.yaml"), body)
	}
	for name, want := range map[string]string{
		"syntax": "syntax/c.yaml:4: scanning a quoted scalar that starts here (column 11)",
		"keys":   "keys/c.yaml:6: config.flush.size: ",
	} {
		_, err := planOutput(t, "--config-storage-file-filename",
			filepath.Join(dir, "state.json"), filepath.Join(dir, name))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("plan %s: error %v, want one naming %q", name, err, want)
		}
	}
}

// TestPlanUsesTheWorkersConfigTopic plans against the config topic of a
// distributed worker config, and creates no topic when it is missing.
func TestPlanUsesTheWorkersConfigTopic(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	dir := t.TempDir()
	pipes, aConfig := writePlanFiles(t, dir)
	worker := func(topic string) string {
		wf := filepath.Join(dir, topic+".yaml")
		writeFile(t, wf, "bootstrap.servers: ["+strings.Join(brokers, ",")+"]\n"+
			"config.storage.topic: "+topic+"\noffset.storage.topic: offsets\n"+
			"status.storage.topic: statuses\ninter.worker.key: k\n")
		return wf
	}
	a, b := filepath.Join(pipes, "a.yaml"), filepath.Join(pipes, "b.yaml")

	// A missing topic holds nothing, and planning does not create it.
	got := runPlan(t, "--config", worker("absent"), pipes)
	if want := "+ create a (" + a + ")\n+ create b (" + b + ")\n2 change(s)\n"; got != want {
		t.Errorf("plan over a missing topic:\n%s\nwant:\n%s", got, want)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if details, err := kadm.NewClient(cl).ListTopics(ctx, "absent"); err != nil ||
		details.Has("absent") {
		t.Errorf("plan created its config topic: %v", err)
	}

	// a, created through the REST API as its file says, is unchanged.
	st, err := store.OpenKafka(ctx, "configs", 1, slog.New(slog.DiscardHandler),
		kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Put(ctx, store.Connector{Name: "a", Config: aConfig,
		Target: store.TargetStarted}); err != nil {
		t.Fatal(err)
	}
	got = runPlan(t, "--config", worker("configs"), pipes)
	if want := "+ create b (" + b + ")\n1 change(s)\n"; got != want {
		t.Errorf("plan over the config topic:\n%s\nwant:\n%s", got, want)
	}
}
