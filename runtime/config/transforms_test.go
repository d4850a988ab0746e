package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/connectors/transform"
)

// A connector file copied from a Kafka Connect S3 sink with transforms
// loads as it is and its chain builds with every step.
func TestExampleKafkaConnectTransforms(t *testing.T) {
	c, err := LoadConnector(filepath.Join(examples, "connectors", "bookings-clean-s3.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cm, errs := c.Common()
	if len(errs) > 0 || cm.Class != "s3" || cm.ValueConverter != ConverterAvro {
		t.Fatalf("common: %+v, errors %v", cm, errs)
	}
	for k, v := range map[string]string{
		"transforms":                        "dropTest,maskCountry,renameAdr,addSource",
		"transforms.maskCountry.type":       "org.apache.kafka.connect.transforms.MaskField$Value",
		"transforms.renameAdr.renames":      "adr:average_daily_rate",
		"predicates.isTest.type":            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
		"transforms.addSource.static.value": "tributary",
	} {
		if c.Config[k] != v {
			t.Errorf("%s = %q, want %q", k, c.Config[k], v)
		}
	}
	chain, errs := transform.Parse(c.Config)
	if len(errs) > 0 || chain.Len() != 4 {
		t.Fatalf("chain of %d steps, errors %v", chain.Len(), errs)
	}
}

// A bad chain is rejected when the file loads, with every problem at its
// line.
func TestLoadConnectorBadTransforms(t *testing.T) {
	path := filepath.Join("testdata", "connectors", "bad-transforms.yaml")
	_, err := LoadConnector(path)
	got := errorLines(t, err)
	want := []string{
		path + ":6: config.transforms.mask.fields: required: a comma-separated list",
		path + ":7: config.transforms.mask.feilds: unknown key; transforms.mask takes type, predicate, negate, " +
			"fields, replacement, replace.null.with.default",
		path + `:8: config.transforms.route.type: unknown transformation "RegexRoute"; known: ` +
			strings.Join(transformNames(), ", "),
		path + `:9: config.transforms.route.predicate: no predicate "isRaw" in predicates`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func transformNames() []string {
	var out []string
	for _, c := range transform.TransformClasses() {
		name, _, _ := strings.Cut(strings.TrimPrefix(c, "org.apache.kafka.connect.transforms."), "$")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}
