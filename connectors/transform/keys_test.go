package transform

import (
	"slices"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

// TestPluginKeysMatchWhatIsRead holds each plugin's description to the keys
// its constructor reads, so that a key cannot be read without being
// described, or described without being read.
func TestPluginKeysMatchWhatIsRead(t *testing.T) {
	all := slices.Concat(transforms, predicates)
	if len(pluginKeys) != len(all) {
		t.Errorf("%d plugins described, %d built in", len(pluginKeys), len(all))
	}
	for _, pl := range all {
		var errs []connectors.FieldError
		p := newParams(map[string]string{}, "transforms.x.", &errs)
		if pl.transform != nil {
			pl.transform(p, false)
		} else {
			pl.predicate(p)
		}
		read := slices.DeleteFunc(slices.Clone(p.known), func(k string) bool { return k == KeyType })
		keys, ok := pluginKeys[pl.name]
		if !ok {
			t.Errorf("%s: not described", pl.name)
			continue
		}
		var described []string
		for _, k := range keys {
			described = append(described, k.Name)
			if k.Documentation == "" || k.Type == "" || k.Importance == "" {
				t.Errorf("%s.%s: incomplete description %+v", pl.name, k.Name, k)
			}
			if k.Required && (k.Default != "" || k.NoDefault) {
				t.Errorf("%s.%s: required with a default %+v", pl.name, k.Name, k)
			}
		}
		slices.Sort(read)
		slices.Sort(described)
		if !slices.Equal(read, described) {
			t.Errorf("%s: reads %v, describes %v", pl.name, read, described)
		}
	}
}

func TestTransformKeysByName(t *testing.T) {
	for _, c := range []struct {
		name, class string
		keys        int
	}{
		{"org.apache.kafka.connect.transforms.InsertField$Value",
			"org.apache.kafka.connect.transforms.InsertField$Value", 7},
		{"InsertField$Key", "org.apache.kafka.connect.transforms.InsertField$Key", 7},
		{"RegexRouter", "org.apache.kafka.connect.transforms.RegexRouter", 2},
		{"org.apache.kafka.connect.transforms.Filter", "org.apache.kafka.connect.transforms.Filter", 0},
	} {
		keys, class, ok := TransformKeys(c.name)
		if !ok || class != c.class || len(keys) != c.keys {
			t.Errorf("TransformKeys(%q) = %d keys, %q, %v; want %d, %q", c.name, len(keys),
				class, ok, c.keys, c.class)
		}
	}
	for _, name := range []string{"InsertField", "RegexRouter$Value", "Nope", "HasHeaderKey", ""} {
		if _, _, ok := TransformKeys(name); ok {
			t.Errorf("TransformKeys(%q) found a transformation", name)
		}
	}
	keys, class, ok := PredicateKeys("TopicNameMatches")
	if !ok || class != "org.apache.kafka.connect.transforms.predicates.TopicNameMatches" ||
		len(keys) != 1 || keys[0].Name != "pattern" || !keys[0].Required {
		t.Errorf("PredicateKeys(TopicNameMatches) = %+v, %q, %v", keys, class, ok)
	}
	if _, _, ok := PredicateKeys("Filter"); ok {
		t.Error("PredicateKeys(Filter) found a predicate")
	}

	// The returned keys are a copy.
	keys, _, _ = TransformKeys("Flatten$Value")
	keys[0].Name = "changed"
	if again, _, _ := TransformKeys("Flatten$Value"); again[0].Name != "delimiter" {
		t.Errorf("TransformKeys shares its descriptions: %+v", again)
	}
}
