package rest

import (
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
)

// testPlugins checks the plugin routes against the fixture's worker, whose
// one plugin, fake, declares fake.required and flush.size.
func testPlugins(t *testing.T, f *fixture) {
	t.Helper()

	// Listing: connectors only unless connectorsOnly is false, then the
	// transformations, predicates and converters, in Kafka Connect's order.
	for _, c := range []struct {
		query string
		want  map[string]int // plugins of each type
	}{
		{"", map[string]int{"sink": 1}},
		{"?connectorsOnly=true", map[string]int{"sink": 1}},
		{"?connectorsOnly=TRUE", map[string]int{"sink": 1}},
		{"?connectorsOnly=false", map[string]int{"sink": 1, "transformation": 26,
			"predicate": 3, "converter": 4, "header_converter": 1}},
		{"?connectorsOnly=False", map[string]int{"sink": 1, "transformation": 26,
			"predicate": 3, "converter": 4, "header_converter": 1}},
	} {
		var plugins []pluginInfo
		f.expect(http.StatusOK, "GET", "/connector-plugins"+c.query, nil, &plugins)
		got := map[string]int{}
		var order []string
		for _, p := range plugins {
			if got[p.Type]++; got[p.Type] == 1 {
				order = append(order, p.Type)
			}
			if p.Version != "1.0.0" || p.Class == "" {
				t.Errorf("%s: plugin %+v", c.query, p)
			}
		}
		wantOrder := slices.DeleteFunc([]string{"sink", "transformation", "predicate",
			"converter", "header_converter"}, func(typ string) bool { return c.want[typ] == 0 })
		if !maps.Equal(got, c.want) || !slices.Equal(order, wantOrder) {
			t.Errorf("GET /connector-plugins%s: types %v in order %v, want %v", c.query, got,
				order, c.want)
		}
		if plugins[0] != (pluginInfo{Class: "fake", Type: "sink", Version: "1.0.0"}) {
			t.Errorf("GET /connector-plugins%s: first %+v", c.query, plugins[0])
		}
		if len(plugins) > 1 {
			classes := map[string]string{}
			for _, p := range plugins {
				classes[p.Class] = p.Type
			}
			for class, typ := range map[string]string{
				"org.apache.kafka.connect.transforms.Cast$Value":                  "transformation",
				"org.apache.kafka.connect.transforms.Filter":                      "transformation",
				"org.apache.kafka.connect.transforms.predicates.HasHeaderKey":     "predicate",
				"org.apache.kafka.connect.json.JsonConverter":                     "converter",
				"org.apache.kafka.connect.storage.SimpleHeaderConverter":          "header_converter",
				"org.apache.kafka.connect.transforms.predicates.TopicNameMatches": "predicate",
			} {
				if classes[class] != typ {
					t.Errorf("GET /connector-plugins%s: %s is %q, want %q", c.query, class,
						classes[class], typ)
				}
			}
		}
	}

	// Config keys: the plugin's own, then the framework's.
	var keys []configKeyInfo
	f.expect(http.StatusOK, "GET", "/connector-plugins/fake/config", nil, &keys)
	var names []string
	byName := map[string]configKeyInfo{}
	for _, k := range keys {
		names = append(names, k.Name)
		byName[k.Name] = k
	}
	if len(names) < 4 || !slices.Equal(names[:4],
		[]string{"fake.required", "flush.size", "name", "connector.class"}) {
		t.Errorf("plugin config keys: %v", names)
	}
	for _, want := range []string{"topics", "transforms", "predicates", "errors.tolerance",
		"errors.retry.timeout", "errors.log.enable", "errors.deadletterqueue.topic.name",
		"errors.deadletterqueue.context.headers.enable"} {
		if k, ok := byName[want]; !ok || k.Documentation == "" {
			t.Errorf("plugin config: %s missing or undocumented: %+v", want, k)
		}
	}
	if k := byName["fake.required"]; k.Type != "STRING" || !k.Required ||
		k.DefaultValue != nil || k.Group == nil || *k.Group != "Fake" || k.Order != 1 ||
		k.Documentation != "Any value but empty." || k.DisplayName != "fake.required" {
		t.Errorf("fake.required: %+v", k)
	}
	if k := byName["flush.size"]; k.Type != "INT" || k.Required || k.DefaultValue == nil ||
		*k.DefaultValue != "1" || k.Order != 2 {
		t.Errorf("flush.size: %+v", k)
	}
	if k := byName["tasks.max"]; k.Group == nil || *k.Group != "Common" || k.Order != 3 ||
		k.DefaultValue == nil || *k.DefaultValue != "1" || k.Importance != "HIGH" {
		t.Errorf("tasks.max: %+v", k)
	}
	if k := byName["errors.retry.timeout"]; k.Required || k.DefaultValue != nil {
		t.Errorf("errors.retry.timeout: %+v, want no default", k)
	}
	f.expectError(http.StatusNotFound, "GET", "/connector-plugins/nope/config", nil,
		"Unknown plugin nope.")

	// Transformations, predicates and converters list their own keys only,
	// found by class name or alias.
	for _, c := range []struct {
		plugin string
		want   []string
	}{
		{"org.apache.kafka.connect.transforms.MaskField$Value",
			[]string{"fields", "replacement", "replace.null.with.default"}},
		{"InsertField$Key", []string{"topic.field", "partition.field", "offset.field",
			"timestamp.field", "static.field", "static.value", "replace.null.with.default"}},
		{"org.apache.kafka.connect.transforms.Filter", nil},
		{"TimestampRouter", []string{"topic.format", "timestamp.format"}},
		{"org.apache.kafka.connect.transforms.predicates.TopicNameMatches", []string{"pattern"}},
		{"RecordIsTombstone", nil},
		{"io.confluent.connect.avro.AvroConverter", []string{"schema.registry.url",
			"basic.auth.credentials.source", "basic.auth.user.info",
			"bearer.auth.credentials.source", "bearer.auth.token",
			"schema.registry.ssl.ca.location", "key.subject.name.strategy",
			"value.subject.name.strategy"}},
		{"JsonConverter", []string{"schemas.enable"}},
		{"SimpleHeaderConverter", nil},
	} {
		var keys []configKeyInfo
		f.expect(http.StatusOK, "GET", "/connector-plugins/"+c.plugin+"/config", nil, &keys)
		var names []string
		for _, k := range keys {
			names = append(names, k.Name)
			if k.Documentation == "" {
				t.Errorf("%s: %s undocumented", c.plugin, k.Name)
			}
			if (k.Type == "PASSWORD") != config.IsSecretKey(k.Name) {
				t.Errorf("%s: %s is typed %s, but IsSecretKey says %v", c.plugin, k.Name,
					k.Type, config.IsSecretKey(k.Name))
			}
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("%s config keys: %v, want %v", c.plugin, names, c.want)
		}
	}
	var keys2 []configKeyInfo
	f.expect(http.StatusOK, "GET", "/connector-plugins/MaskField$Value/config", nil, &keys2)
	if k := keys2[0]; k.Name != "fields" || k.Type != "LIST" || !k.Required ||
		k.DefaultValue != nil || k.Importance != "HIGH" {
		t.Errorf("MaskField fields: %+v", k)
	}
	if k := keys2[1]; k.Name != "replacement" || k.Required || k.DefaultValue != nil ||
		k.Group != nil || k.Order != -1 {
		t.Errorf("MaskField replacement: %+v, want optional with no default", k)
	}
	if k := keys2[2]; k.Type != "BOOLEAN" || k.DefaultValue == nil || *k.DefaultValue != "true" {
		t.Errorf("MaskField replace.null.with.default: %+v", k)
	}
	f.expect(http.StatusOK, "GET", "/connector-plugins/AvroConverter/config", nil, &keys2)
	if k := keys2[2]; k.Name != "basic.auth.user.info" || k.Type != "PASSWORD" {
		t.Errorf("AvroConverter basic.auth.user.info: %+v", k)
	}
	for _, p := range []string{"InsertField", "Transformation", "Nope$Value"} {
		f.expectError(http.StatusNotFound, "GET", "/connector-plugins/"+p+"/config", nil,
			"Unknown plugin "+p+".")
	}

	// Validation: the framework's keys, then the plugin's, each with its
	// value and errors, then keys with errors that nothing defines.
	var vr configInfos
	f.expect(http.StatusOK, "PUT", "/connector-plugins/fake/config/validate", map[string]any{
		"connector.class": "fake", "name": "v", "tasks.max": "zero", "flush.size": "5",
		"aws.secret.access.key": "plain-secret-value", "transforms": "t",
	}, &vr)
	if vr.Name != "fake" || vr.ErrorCount != 4 || !slices.Equal(vr.Groups,
		[]string{"Common", "Transforms", "Predicates", "Error Handling", "Fake"}) {
		t.Errorf("validate: %+v", vr)
	}
	byValue := map[string]configInfo{}
	var order []string
	for _, c := range vr.Configs {
		byValue[c.Value.Name] = c
		order = append(order, c.Value.Name)
	}
	if order[0] != "name" || !slices.Contains(order, "fake.required") ||
		slices.Index(order, "fake.required") < slices.Index(order, "errors.tolerance") ||
		order[len(order)-1] != "transforms.t.type" {
		t.Errorf("validate order: %v", order)
	}
	for _, c := range []struct {
		key, value string // value "-" for unset
		errors     int
		definition bool
	}{
		{"tasks.max", "zero", 1, true},
		{"fake.required", "-", 1, true},
		{"flush.size", "5", 0, true},
		{"transforms", "t", 0, true},
		{"transforms.t.type", "-", 1, false},
		{"errors.deadletterqueue.topic.name", "-", 0, true},
	} {
		got, ok := byValue[c.key]
		value := "-"
		if got.Value.Value != nil {
			value = *got.Value.Value
		}
		if !ok || value != c.value || len(got.Value.Errors) != c.errors ||
			(got.Definition != nil) != c.definition {
			t.Errorf("validate %s: %+v, want value %s, %d errors, definition %v", c.key, got,
				c.value, c.errors, c.definition)
		}
	}
	if _, ok := byValue["aws.secret.access.key"]; ok {
		t.Error("validate listed a key with no definition and no error")
	}
	f.expectError(http.StatusBadRequest, "PUT", "/connector-plugins/fake/config/validate",
		map[string]any{"topics": "x", "tasks.max": 1, "aws.secret.access.key": "s3cr3t"},
		"Connector config {aws.secret.access.key=[hidden], tasks.max=1, topics=x} "+
			"contains no connector type")
	f.expectError(http.StatusBadRequest, "PUT", "/connector-plugins/s3/config/validate",
		map[string]any{"connector.class": "fake"},
		"Included connector type fake does not match request type s3")

	// Only JSON is served: an Accept header that excludes it is refused.
	for _, c := range []struct {
		accept string
		want   int
	}{
		{"", http.StatusOK},
		{"*/*", http.StatusOK},
		{"application/*", http.StatusOK},
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"text/html, application/json;q=0.5", http.StatusOK},
		{"text/html,application/xhtml+xml,*/*;q=0.8", http.StatusOK},
		{"text/html", http.StatusNotAcceptable},
		{"text/plain, application/xml", http.StatusNotAcceptable},
		{"application/json;q=0", http.StatusNotAcceptable},
	} {
		var header []string
		if c.accept != "" {
			header = []string{"Accept", c.accept}
		}
		got, body, hdr := f.do("GET", "/connector-plugins", nil, header...)
		if got != c.want || hdr.Get("Content-Type") != "application/json" {
			t.Errorf("Accept %q: %d %s %s, want %d", c.accept, got, hdr.Get("Content-Type"),
				body, c.want)
		}
	}
}

// TestPluginAliases checks that a plugin with a Kafka Connect class name is
// listed by it, and that its keys are found by that name and its aliases.
func TestPluginAliases(t *testing.T) {
	f := newFixture(t, Options{}, func(o *worker.Options) {
		o.Plugins = map[string]connectors.SinkConnector{"s3": workertest.DeclaredSink{},
			"file": workertest.Sink{}}
	})
	var plugins []pluginInfo
	f.expect(http.StatusOK, "GET", "/connector-plugins", nil, &plugins)
	want := []pluginInfo{{Class: "file", Type: "sink", Version: "1.0.0"},
		{Class: "io.confluent.connect.s3.S3SinkConnector", Type: "sink", Version: "1.0.0"}}
	if !slices.Equal(plugins, want) {
		t.Errorf("plugins: %+v, want %+v", plugins, want)
	}
	for _, name := range []string{"io.confluent.connect.s3.S3SinkConnector",
		"S3SinkConnector", "S3Sink", "s3"} {
		var keys []configKeyInfo
		f.expect(http.StatusOK, "GET", "/connector-plugins/"+name+"/config", nil, &keys)
		if len(keys) != len(config.FrameworkKeys())+2 || keys[0].Name != "fake.required" {
			t.Errorf("%s: %d keys, first %+v", name, len(keys), keys[0])
		}
		var vr configInfos
		f.expect(http.StatusOK, "PUT", "/connector-plugins/"+name+"/config/validate",
			map[string]any{"connector.class": name, "name": "x", "topics": "orders",
				"fake.required": "y"}, &vr)
		if vr.Name != name || vr.ErrorCount != 0 {
			t.Errorf("validate %s: %+v", name, vr)
		}
	}

	// A plugin that declares nothing lists the framework's keys only.
	var keys []configKeyInfo
	f.expect(http.StatusOK, "GET", "/connector-plugins/file/config", nil, &keys)
	if len(keys) != len(config.FrameworkKeys()) || keys[0].Name != "name" {
		t.Errorf("file: %d keys, first %+v", len(keys), keys[0])
	}
}
