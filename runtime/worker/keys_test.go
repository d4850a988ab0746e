package worker_test

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
)

// TestUnknownKeysWarn creates and then restores a connector whose config
// holds a misspelt key, another plugin's key and keys the runtime owns:
// each time, the connector runs and the worker warns once per unknown key,
// naming the connector, the key and the key it was likely meant to be.
func TestUnknownKeysWarn(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	var logs bytes.Buffer
	newWorker := func() *worker.Worker {
		w := worker.New(worker.Options{
			Brokers: []string{"127.0.0.1:1"},
			Plugins: map[string]connectors.SinkConnector{"fake": workertest.DeclaredSink{}},
			NewDecoder: func(map[string]string) (worker.Decoder, error) {
				return workertest.Raw{}, nil
			},
			Store:  st,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		t.Cleanup(func() { _ = w.Close(ctx) })
		return w
	}
	cfg := map[string]string{"connector.class": "fake", "topics": "orders",
		"fake.required": "x", "flush.sise": "10", "hdfs.url": "hdfs://nn",
		"transforms": "m", "transforms.m.type": "org.apache.kafka.connect.transforms.MaskField$Value",
		"transforms.m.fields": "f", "value.converter.enhanced.avro.schema.support": "true"}
	want := []string{
		`level=WARN msg="connector config key is unknown and ignored" connector=c ` +
			`key=flush.sise hint="did you mean flush.size?"`,
		`level=WARN msg="connector config key is unknown and ignored" connector=c key=hdfs.url`,
	}
	check := func(what string) {
		t.Helper()
		var got []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if i := strings.Index(l, "level=WARN"); i >= 0 {
				got = append(got, l[i:])
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: warnings:\n%s\nwant:\n%s", what, strings.Join(got, "\n"),
				strings.Join(want, "\n"))
		}
		logs.Reset()
	}

	w := newWorker()
	if err := w.Create(ctx, "c", cfg, store.TargetStopped, ""); err != nil {
		t.Fatal(err)
	}
	check("create")
	changed := maps.Clone(cfg)
	changed["fake.required"] = "y"
	if _, err := w.PutConfig(ctx, "c", changed, ""); err != nil {
		t.Fatal(err)
	}
	check("reconfigure")
	// The same config again changes nothing: no warning, no restart.
	if _, err := w.PutConfig(ctx, "c", changed, ""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "connector reconfigured") {
		t.Errorf("the same config reconfigured the connector:\n%s", logs.String())
	}
	warned := want
	want = nil
	check("the same config")
	want = warned
	must(t, w.Close(ctx))

	w2 := newWorker()
	must(t, w2.Restore(ctx))
	if st, err := w2.Status("c"); err != nil || st.State != worker.StateStopped {
		t.Fatalf("restored connector: %+v %v", st, err)
	}
	check("restore")
}
