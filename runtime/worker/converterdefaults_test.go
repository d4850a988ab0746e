package worker_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
	"github.com/tributary-io/tributary/schemas"
)

// TestConverterDefaults runs two connectors on a worker with converter
// defaults: the one that names no converter gets the worker's, settings
// included; the one that names its value converter keeps it, without the
// worker's settings for it. Neither connector's config shows them.
func TestConverterDefaults(t *testing.T) {
	ctx := context.Background()
	kc, _ := ordersCluster(t)
	var mu sync.Mutex
	var seen []map[string]string // configs the decoders were made from
	w := worker.New(worker.Options{
		Brokers: kc.ListenAddrs(),
		Plugins: map[string]connectors.SinkConnector{"fake": workertest.Sink{}},
		NewDecoder: func(cfg map[string]string) (worker.Decoder, error) {
			mu.Lock()
			seen = append(seen, maps.Clone(cfg))
			mu.Unlock()
			return workertest.Raw{}, nil
		},
		Store: store.NewMemory(),
		ConverterDefaults: map[string]string{
			"key.converter":                  schemas.ClassStringConverter,
			"value.converter":                schemas.ClassJSONConverter,
			"value.converter.schemas.enable": "false",
		},
	})
	t.Cleanup(func() { _ = w.Close(ctx) })

	decoders := func(connector string) []map[string]string {
		mu.Lock()
		defer mu.Unlock()
		var out []map[string]string
		for _, cfg := range seen {
			if cfg["topics"] == connector {
				out = append(out, cfg)
			}
		}
		return out
	}
	for _, c := range []struct {
		name       string
		own        map[string]string
		value      string // value converter the value decoder is made for
		schemas    string // its value.converter.schemas.enable
		keyClasses string // value converter the key decoder is made for
	}{
		{"plain", nil, schemas.ClassJSONConverter, "false", schemas.ClassStringConverter},
		{"own", map[string]string{"value.converter": schemas.ClassByteArrayConverter},
			schemas.ClassByteArrayConverter, "", schemas.ClassStringConverter},
	} {
		// Each connector reads a topic named after it, so that its
		// decoders can be told apart.
		cfg := map[string]string{"connector.class": "fake", "topics": c.name, "fake.required": "x"}
		maps.Copy(cfg, c.own)
		if errs := w.ValidateFields(c.name, cfg); len(errs) > 0 {
			t.Fatalf("%s: %v", c.name, errs)
		}
		must(t, w.Create(ctx, c.name, cfg, store.TargetStarted, ""))
		waitFor(t, c.name+"'s value and key decoders", func() bool { return len(decoders(c.name)) >= 2 })
		got := decoders(c.name)
		value, key := got[0], got[1]
		if value["value.converter"] != c.value || value["value.converter.schemas.enable"] != c.schemas {
			t.Errorf("%s: value decoder made from %v", c.name, value)
		}
		// The key decoder is made from the key.converter keys renamed.
		if key["value.converter"] != c.keyClasses || key["value.converter.schemas.enable"] != "" {
			t.Errorf("%s: key decoder made from %v", c.name, key)
		}
		info, err := w.Info(c.name)
		if err != nil || !maps.Equal(info.Config, cfg) {
			t.Errorf("%s: config shown %v, %v; want %v", c.name, info.Config, err, cfg)
		}
	}

	// A connector's own converter settings are still checked.
	errs := w.ValidateFields("bad", map[string]string{"connector.class": "fake",
		"topics": "t", "fake.required": "x", "key.converter.schemas.enable": "maybe"})
	if len(errs) != 1 || errs[0].Key != "key.converter.schemas.enable" {
		t.Errorf("validate: %v, want one error on key.converter.schemas.enable", errs)
	}
}

// TestValidateFieldsReportsEverything checks that a reference that cannot
// be resolved does not hide the connector's other errors, nor earn its key
// a second one, and that the worker's own converter settings are not
// blamed on the connector.
func TestValidateFieldsReportsEverything(t *testing.T) {
	w := worker.New(worker.Options{
		Plugins: map[string]connectors.SinkConnector{"fake": workertest.Sink{}},
		NewDecoder: func(map[string]string) (worker.Decoder, error) {
			return workertest.Raw{}, nil
		},
		// A mistake of the worker file's, reported when it loads.
		ConverterDefaults: map[string]string{"key.converter": "NoSuchConverter"},
	})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	const unset = "${env:TRIBUTARY_TEST_NEVER_SET}"
	for _, c := range []struct {
		cfg  map[string]string
		want []string // keys with errors, in order
	}{
		{map[string]string{"connector.class": "fake", "topics": "t",
			"value.converter.basic.auth.user.info": unset},
			[]string{"value.converter.basic.auth.user.info", "fake.required"}},
		{map[string]string{"connector.class": "fake", "topics": "t", "fake.required": unset},
			[]string{"fake.required"}},
		{map[string]string{"connector.class": "fake", "topics": "t", "fake.required": "x"}, nil},
	} {
		var got []string
		for _, fe := range w.ValidateFields("c", c.cfg) {
			got = append(got, fe.Key)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%v: errors on %v, want %v", c.cfg, got, c.want)
		}
	}
}

// TestTaskConfigsKeepTheSpoolLocal checks that the spool directory, a
// setting of the worker that runs the task, stays out of the task configs
// the REST API shows from any worker.
func TestTaskConfigsKeepTheSpoolLocal(t *testing.T) {
	kc, _ := ordersCluster(t)
	w := worker.New(worker.Options{
		Brokers: kc.ListenAddrs(),
		Plugins: map[string]connectors.SinkConnector{"fake": workertest.Sink{}},
		NewDecoder: func(map[string]string) (worker.Decoder, error) {
			return workertest.Raw{}, nil
		},
		SpoolDir: t.TempDir(),
	})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	must(t, w.Create(context.Background(), "c", map[string]string{"connector.class": "fake",
		"topics": "orders", "fake.required": "x", "tasks.max": "2"}, store.TargetStarted, ""))
	tcs, err := w.TaskConfigs("c")
	if err != nil || len(tcs) != 2 {
		t.Fatalf("task configs %v, %v", tcs, err)
	}
	for i, tc := range tcs {
		if dir, ok := tc["spool.dir"]; ok {
			t.Errorf("task %d config shows spool.dir %s", i, dir)
		}
	}
}
