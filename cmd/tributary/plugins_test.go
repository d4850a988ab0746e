package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/runtime/config"
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
	got, err := unknownKeyWarnings(wc, w.PluginConfigDef)
	if err != nil || len(got) > 0 {
		t.Errorf("examples: %v\n%s", err, strings.Join(got, "\n"))
	}
}
