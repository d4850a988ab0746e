package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/rest"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas"
)

func TestDecodersPickValueConverter(t *testing.T) {
	newDecoder := decoders(registryAccess{urls: []string{"http://127.0.0.1:1"}})
	tests := []struct {
		class string
		extra map[string]string
		in    string
		want  any
	}{
		{"org.apache.kafka.connect.storage.StringConverter", nil, "abc", "abc"},
		{"org.apache.kafka.connect.converters.ByteArrayConverter", nil, "ab", "ab"},
		{"org.apache.kafka.connect.json.JsonConverter",
			map[string]string{"value.converter.schemas.enable": "false"}, `{"n":1}`, int64(1)},
		{"org.apache.kafka.connect.json.JsonConverter", nil,
			`{"schema":{"type":"struct","fields":[{"field":"n","type":"int64"}]},` +
				`"payload":{"n":1}}`, int64(1)},
	}
	for _, tt := range tests {
		cfg := map[string]string{"value.converter": tt.class}
		for k, v := range tt.extra {
			cfg[k] = v
		}
		dec, err := newDecoder(cfg)
		if err != nil {
			t.Fatalf("%s: %v", tt.class, err)
		}
		_, v, err := dec.Decode(context.Background(), []byte(tt.in))
		if err != nil {
			t.Fatalf("%s: decode: %v", tt.class, err)
		}
		if m, ok := v.(map[string]any); ok {
			v = m["n"]
		}
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		if v != tt.want {
			t.Errorf("%s: decoded %#v, want %#v", tt.class, v, tt.want)
		}
	}
	if dec, err := newDecoder(map[string]string{}); err != nil {
		t.Errorf("default converter: %v", err)
	} else if _, ok := dec.(*schemas.Converter); !ok {
		t.Errorf("default converter is %T, want the Avro converter", dec)
	}
	if _, err := newDecoder(map[string]string{"value.converter": "x.Y"}); err == nil {
		t.Error("an unknown value.converter was accepted")
	}
}

// TestExamplesHaveNoUnknownKeys keeps the shipped connector examples free of
// keys that would earn an unknown key warning, and checks that every
// plugin declares its keys.
func TestExamplesHaveNoUnknownKeys(t *testing.T) {
	w := worker.New(worker.Options{Plugins: sinkPlugins()})
	for _, class := range w.Plugins() {
		if _, ok := w.PluginConfigDef(class); !ok {
			t.Errorf("plugin %s declares no config keys", class)
		}
	}
	wc := &config.Worker{ConnectorsDir: "../../configs/connectors"}
	if conns, err := wc.LoadConnectors(); err != nil || len(conns) == 0 {
		t.Fatalf("examples: %d connectors, %v", len(conns), err)
	}
	if got := unknownKeyWarnings(wc, w.PluginConfigDef); len(got) > 0 {
		t.Errorf("examples:\n%s", strings.Join(got, "\n"))
	}
}

// TestPluginConfigKeys checks, through the REST API, that the shipped
// plugins describe their own keys, each documented, before the framework's,
// and that validation reports their errors on those keys, whether the
// plugin is named by its class name or its alias.
func TestPluginConfigKeys(t *testing.T) {
	w := worker.New(worker.Options{Plugins: sinkPlugins()})
	srv := httptest.NewServer(rest.New(rest.Options{Herder: w, Version: "1"}).Handler())
	t.Cleanup(srv.Close)
	call := func(method, path string, body, v any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}

	var plugins []struct{ Class, Type string }
	call("GET", "/connector-plugins", nil, &plugins)
	if len(plugins) != 2 || plugins[0].Class != "file" ||
		plugins[1].Class != "io.confluent.connect.s3.S3SinkConnector" {
		t.Errorf("plugins: %+v", plugins)
	}

	type key struct {
		Name, Type, Importance, Documentation, Group string
		Required                                     bool
		Default                                      *string `json:"default_value"`
	}
	for _, c := range []struct {
		plugin string
		first  string   // the first key listed
		want   []string // keys that must be listed, with a default when not required
	}{
		{"s3", "s3.bucket.name", []string{"s3.bucket.name", "flush.size", "format.class",
			"rotate.interval.ms", "rotate.schedule.interval.ms", "partitioner.class",
			"path.format", "partition.duration.ms", "timezone", "store.url",
			"aws.secret.access.key", "errors.deadletterqueue.topic.name",
			"errors.retry.timeout", "errors.log.enable", "transforms", "predicates"}},
		{"io.confluent.connect.s3.S3SinkConnector", "s3.bucket.name",
			[]string{"s3.bucket.name", "topics.dir"}},
		{"file", "file.dir", []string{"file.dir", "flush.size", "partitioner.class",
			"errors.tolerance"}},
	} {
		var keys []key
		call("GET", "/connector-plugins/"+c.plugin+"/config", nil, &keys)
		byName := map[string]key{}
		for i, k := range keys {
			if _, dup := byName[k.Name]; dup {
				t.Errorf("%s: %s listed twice", c.plugin, k.Name)
			}
			byName[k.Name] = k
			if k.Type == "" || k.Importance == "" || k.Group == "" ||
				len(k.Documentation) < 10 || (k.Required && k.Default != nil) {
				t.Errorf("%s: key %d incompletely described: %+v", c.plugin, i, k)
			}
		}
		if len(keys) == 0 || keys[0].Name != c.first {
			t.Errorf("%s: keys start with %+v, want %s", c.plugin, keys[0], c.first)
		}
		for _, name := range c.want {
			if _, ok := byName[name]; !ok {
				t.Errorf("%s: %s not listed", c.plugin, name)
			}
		}
		// Responses and logs mask values by key name: every key typed as a
		// password must be one they mask, and every key they mask a password.
		for _, k := range keys {
			if (k.Type == "PASSWORD") != config.IsSecretKey(k.Name) {
				t.Errorf("%s: %s is typed %s, but IsSecretKey says %v", c.plugin, k.Name,
					k.Type, config.IsSecretKey(k.Name))
			}
		}
		if k := byName["aws.secret.access.key"]; k.Name != "" && k.Type != "PASSWORD" {
			t.Errorf("%s: aws.secret.access.key is %s, want PASSWORD", c.plugin, k.Type)
		}
	}

	// Validation puts the plugin's errors on its own keys.
	for _, class := range []string{"s3", "io.confluent.connect.s3.S3SinkConnector", "S3Sink"} {
		var vr struct {
			ErrorCount int `json:"error_count"`
			Configs    []struct {
				Definition *key
				Value      struct {
					Name   string
					Errors []string
				}
			}
		}
		call("PUT", "/connector-plugins/"+class+"/config/validate", map[string]any{
			"connector.class": class, "name": "v", "topics": "t", "flush.size": "x",
		}, &vr)
		withErrors := map[string]bool{}
		for _, c := range vr.Configs {
			if len(c.Value.Errors) > 0 {
				withErrors[c.Value.Name] = c.Definition != nil
			}
		}
		want := map[string]bool{"s3.bucket.name": true, "flush.size": true}
		if vr.ErrorCount != 2 || !maps.Equal(withErrors, want) {
			t.Errorf("validate %s: %d errors on %v, want %v", class, vr.ErrorCount,
				withErrors, want)
		}
	}
}
