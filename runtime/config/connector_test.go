package config

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

// errorLines renders the field errors of a *connectors.ConfigError.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	var ce *connectors.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *connectors.ConfigError", err, err)
	}
	out := make([]string, len(ce.Errors))
	for i, fe := range ce.Errors {
		out[i] = fe.Error()
	}
	return out
}

func TestLoadConnectorErrors(t *testing.T) {
	const dir = "testdata/connectors/"
	tests := []struct {
		file string
		want []string
	}{
		{"duplicate.yaml", []string{
			dir + "duplicate.yaml:7: config.flush.size: duplicate key (first at line 5)",
		}},
		{"duplicate.json", []string{
			dir + "duplicate.json:6: config.topics: duplicate key (first at line 5)",
		}},
		{"duplicate-nested.yaml", []string{
			dir + `duplicate-nested.yaml:5: config.transforms.mask.type: alias "mask" is not listed in transforms`,
			dir + "duplicate-nested.yaml:8: config.transforms.mask.type: duplicate key (first at line 5)",
		}},
		{"alias.yaml", []string{
			dir + "alias.yaml:4: anchors (&t) are not allowed",
			dir + "alias.yaml:5: aliases (*t) are not allowed",
		}},
		{"unknown-top.yaml", []string{
			dir + "unknown-top.yaml: config: required",
			dir + "unknown-top.yaml:2: confg: unknown key; a connector file holds name and config (did you mean config?)",
			dir + "unknown-top.yaml:4: tasks: unknown key; a connector file holds name and config",
		}},
		{"wrong-types.yaml", []string{
			dir + "wrong-types.yaml:1: name: must be a string",
			dir + `wrong-types.yaml:5: config.flush.size: null value; write "" for an empty string`,
			dir + `wrong-types.yaml:6: config.tasks.max: want an integer, got "two"`,
			dir + "wrong-types.yaml:7: config.path.format: a list may hold only plain values",
			dir + "wrong-types.yaml:8: config.size: .inf is not a finite number",
			dir + "wrong-types.yaml:9: config.mode: 0755 has a leading zero, which YAML reads as octal; quote it",
		}},
		{"tasks-zero.yaml", []string{
			dir + "tasks-zero.yaml:5: config.tasks.max: must be at least 1, got 0",
		}},
		{"both-topics.yaml", []string{
			dir + "both-topics.yaml:5: config.topics.regex: set either topics or topics.regex, not both",
		}},
		{"security.yaml", []string{
			dir + "security.yaml:5: config.consumer.override.sasl.jaas.config: " +
				"security settings cannot be overridden per connector; set them on the worker",
			dir + "security.yaml:6: config.consumer.override.security.protocol: " +
				"security settings cannot be overridden per connector; set them on the worker",
			dir + "security.yaml:7: config.consumer.override.ssl.truststore.location: " +
				"security settings cannot be overridden per connector; set them on the worker",
			dir + "security.yaml:8: config.consumer.override.client.id: client.id cannot be " +
				"overridden per connector; allowed: auto.offset.reset, fetch.max.bytes, " +
				"fetch.max.wait.ms, max.partition.fetch.bytes, max.poll.records, session.timeout.ms",
			dir + "security.yaml:9: config.producer.override.max.request.size: " +
				"sinks have no per-connector producer client to override",
		}},
		{"four-mistakes.yaml", []string{
			dir + "four-mistakes.yaml:5: config.topics.regex: set either topics or topics.regex, not both",
			dir + "four-mistakes.yaml:6: config.tasks.max: must be at least 1, got 0",
			dir + "four-mistakes.yaml:8: config.flush.size: duplicate key (first at line 7)",
			dir + "four-mistakes.yaml:9: config.consumer.override.sasl.mechanism: " +
				"security settings cannot be overridden per connector; set them on the worker",
		}},
		{"two-docs.yaml", []string{
			dir + "two-docs.yaml:5: a file holds one document; found another",
		}},
		{"bad-name.yaml", []string{
			dir + `bad-name.yaml:1: name: "a/b" must not contain '/'`,
		}},
		{"missing.yaml", []string{
			dir + "missing.yaml: name: required",
			dir + "missing.yaml:1: config.connector.class: required",
			dir + "missing.yaml:1: config.topics: required: set topics or topics.regex",
		}},
		{"syntax.yaml", []string{
			dir + "syntax.yaml:4: did not find expected key (column 2), while parsing a block " +
				"mapping that starts at line 1; check the indentation",
		}},
		{"syntax.json", []string{
			dir + `syntax.json:5: invalid character '"' after object key:value pair`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := LoadConnector(dir + tt.file)
			if c != nil {
				t.Errorf("got connector %+v, want none", c)
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadConnectorGood(t *testing.T) {
	want := map[string]string{
		"connector.class":                     "io.confluent.connect.s3.S3SinkConnector",
		"tasks.max":                           "3",
		"topics":                              "bookings,clicks",
		"flush.size":                          "10000",
		"rotate.interval.ms":                  "600000",
		"s3.part.retries":                     "16",
		"ratio":                               "1.5",
		"store.kafka.keys":                    "true",
		"path.format":                         "'year'=YYYY",
		"day":                                 "2024-01-01",
		"port":                                "0755",
		"empty":                               "",
		"value.converter":                     "avro",
		"value.converter.schema.registry.url": "http://127.0.0.1:8081",
		"errors.tolerance":                    "all",
		"consumer.override.max.poll.records":  "500",
		"transforms":                          "mask",
		"transforms.mask.type":                "org.apache.kafka.connect.transforms.MaskField$Value",
		"transforms.mask.fields":              "card_number,cvv",
	}
	// The YAML, JSON and properties forms of one connector must give equal
	// configs.
	for _, file := range []string{"good.yaml", "good.json", "good.properties"} {
		t.Run(file, func(t *testing.T) {
			path := "testdata/connectors/" + file
			c, err := LoadConnector(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "bookings-s3" || c.Source != path {
				t.Errorf("name %q source %q, want bookings-s3 and %s", c.Name, c.Source, path)
			}
			if !maps.Equal(c.Config, want) {
				t.Errorf("config\n%v\nwant\n%v", c.Config, want)
			}
			if !slices.Equal(slices.Sorted(maps.Keys(c.Lines)), slices.Sorted(maps.Keys(want))) {
				t.Errorf("lines for keys %v, want %v", c.Lines, slices.Sorted(maps.Keys(want)))
			}
		})
	}

	c, err := LoadConnector("testdata/connectors/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for key, line := range map[string]int{
		"connector.class": 3, "flush.size": 6, "transforms.mask.type": 21, "transforms.mask.fields": 22,
	} {
		if c.Lines[key] != line {
			t.Errorf("line of %s = %d, want %d", key, c.Lines[key], line)
		}
	}
	c, err = LoadConnector("testdata/connectors/good.properties")
	if err != nil {
		t.Fatal(err)
	}
	for key, line := range map[string]int{"connector.class": 3, "topics": 5, "flush.size": 8} {
		if c.Lines[key] != line {
			t.Errorf("properties: line of %s = %d, want %d", key, c.Lines[key], line)
		}
	}
}

func TestLoadConnectorDir(t *testing.T) {
	cs, err := LoadConnectorDir("testdata/dir-ok")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("names %v, want [a b c] (README.md and hidden files skipped)", names)
	}

	cs, err = LoadConnectorDir("testdata/dir-bad")
	if cs != nil {
		t.Errorf("got %d connectors with errors", len(cs))
	}
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		got = append(got, errorLines(t, e)...)
	}
	want := []string{
		`testdata/dir-bad/b.yml:1: name: connector "a" is also defined at testdata/dir-bad/a.yaml:1`,
		"testdata/dir-bad/c.yaml:2: config.connector.class: required",
		"testdata/dir-bad/c.yaml:4: config.tasks.max: must be at least 1, got -1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if _, err := LoadConnectorDir("testdata/absent"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: got %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestLoadConnectorFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	data := []byte("name: big\nconfig:\n  pad: \"" + strings.Repeat("x", MaxFileSize) + "\"\n")
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{big + ": file is larger than 1 MiB"}
	if _, err := LoadConnector(big); !slices.Equal(errorLines(t, err), want) {
		t.Errorf("big file: got %v, want %v", err, want)
	}

	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want = []string{empty + ": empty document"}
	if _, err := LoadConnector(empty); !slices.Equal(errorLines(t, err), want) {
		t.Errorf("empty file: got %v, want %v", err, want)
	}

	_, err := LoadConnector(filepath.Join(dir, "absent.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: got %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"bookings-s3", ""},
		{strings.Repeat("n", MaxNameLength), ""},
		{"", "must not be empty"},
		{" \t ", "must not be empty"},
		{strings.Repeat("n", MaxNameLength+1), "is 250 bytes long; the limit is 249"},
		{"a/b", `"a/b" must not contain '/'`},
		{"a\tb", `"a\tb" must not contain control characters`},
	}
	for _, tt := range tests {
		var got string
		if err := ValidateName(tt.name); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("ValidateName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLocate(t *testing.T) {
	c, err := LoadConnector("testdata/connectors/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// As a connector's Validate would return them.
	errs := []connectors.FieldError{
		{Key: "flush.size", Message: "too small"},
		{Key: "s3.bucket.name", Message: "required"},
	}
	got := c.Locate(errs)
	want := []connectors.FieldError{
		{Key: "testdata/connectors/good.yaml:6: config.flush.size", Message: "too small"},
		{Key: "testdata/connectors/good.yaml:2: config.s3.bucket.name", Message: "required"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Locate = %v, want %v", got, want)
	}
	if rest := (&Connector{Name: "rest"}).Locate(errs); !slices.Equal(rest, errs) {
		t.Errorf("Locate without a file = %v, want the errors unchanged", rest)
	}
}

// TestIgnoredConnectorFiles checks that a connectors directory's files
// whose names do not end as connector files do are listed, so that a
// misnamed file is reported instead of skipped unseen, and that the
// connector files, hidden files and directories are not.
func TestIgnoredConnectorFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.YML", "c.json", "d.properties",
		"e.ymal", "f.yaml.bak", "README", ".hidden.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "old"), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := IgnoredConnectorFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "README"), filepath.Join(dir, "e.ymal"),
		filepath.Join(dir, "f.yaml.bak")}
	if !slices.Equal(got, want) {
		t.Errorf("ignored %v, want %v", got, want)
	}
	if _, err := IgnoredConnectorFiles(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing directory gave no error")
	}
}
