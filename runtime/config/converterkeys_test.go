package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/schemas"
)

// TestConverterKeysMatchWhatIsRead holds the converters' descriptions to
// the converter keys a connector config is read with.
func TestConverterKeysMatchWhatIsRead(t *testing.T) {
	var read []string // converter keys the runtime reads, without prefix
	for _, k := range runtimeKeys {
		for _, prefix := range []string{"key.converter.", "value.converter."} {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				read = append(read, rest)
			}
		}
	}
	var described []string
	for class, keys := range converterKeys {
		for _, k := range keys {
			described = append(described, k.Name)
			if k.Documentation == "" || k.Type == "" || k.Importance == "" {
				t.Errorf("%s %s: incomplete description %+v", class, k.Name, k)
			}
		}
	}
	slices.Sort(read)
	read = slices.Compact(read)
	slices.Sort(described)
	if !slices.Equal(read, described) {
		t.Errorf("converter keys read %v, described %v", read, described)
	}
}

func TestConverterKeysByName(t *testing.T) {
	for _, c := range []struct {
		name, class, typ string
		keys             int
	}{
		{"io.confluent.connect.avro.AvroConverter", schemas.ClassAvroConverter, "converter", 8},
		{"AvroConverter", schemas.ClassAvroConverter, "converter", 8},
		{"Avro", schemas.ClassAvroConverter, "converter", 8},
		{"avro", schemas.ClassAvroConverter, "converter", 8},
		{"JsonConverter", schemas.ClassJSONConverter, "converter", 1},
		{"json", schemas.ClassJSONConverter, "converter", 1},
		{"String", schemas.ClassStringConverter, "converter", 0},
		{"ByteArrayConverter", schemas.ClassByteArrayConverter, "converter", 0},
		{"org.apache.kafka.connect.storage.SimpleHeaderConverter", schemas.ClassSimpleHeader,
			"header_converter", 0},
		{"Simple", schemas.ClassSimpleHeader, "header_converter", 0},
		{" SimpleHeaderConverter ", schemas.ClassSimpleHeader, "header_converter", 0},
	} {
		keys, class, typ, ok := ConverterKeys(c.name)
		if !ok || class != c.class || typ != c.typ || len(keys) != c.keys {
			t.Errorf("ConverterKeys(%q) = %d keys, %q, %q, %v; want %d, %q, %q", c.name,
				len(keys), class, typ, ok, c.keys, c.class, c.typ)
		}
	}
	for _, name := range []string{"", "Converter", "SimpleHeader", "ProtobufConverter",
		"org.apache.kafka.connect.transforms.Filter"} {
		if _, _, _, ok := ConverterKeys(name); ok {
			t.Errorf("ConverterKeys(%q) found a converter", name)
		}
	}
}
