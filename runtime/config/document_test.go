package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// flatten reads one document the way connector configs are read.
func flatten(t *testing.T, path, src string) (map[string]string, []string) {
	t.Helper()
	d := &document{path: path}
	var out map[string]string
	if root := d.parse([]byte(src), false); root != nil {
		f := newFlattener(d, "")
		f.add("", root)
		out = f.out
	}
	var errs []string
	for _, fe := range d.errs {
		errs = append(errs, fe.Error())
	}
	return out, errs
}

func TestScalarNormalisation(t *testing.T) {
	tests := []struct {
		yaml string
		want string
		err  string
	}{
		{yaml: "plain text", want: "plain text"},
		{yaml: `"quoted: text"`, want: "quoted: text"},
		{yaml: "10000", want: "10000"},
		{yaml: "-42", want: "-42"},
		{yaml: "+5", want: "5"},
		{yaml: "0", want: "0"},
		{yaml: "1_000_000", want: "1000000"},
		{yaml: "12345678901234567890123", want: "12345678901234567890123"},
		{yaml: "0x1F", want: "31"},
		{yaml: "0o17", want: "15"},
		{yaml: "1e4", want: "10000"},
		{yaml: "2.5e-3", want: "0.0025"},
		{yaml: "1.50", want: "1.5"},
		{yaml: "true", want: "true"},
		{yaml: "False", want: "false"},
		{yaml: "yes", want: "yes"}, // a string in YAML 1.2
		{yaml: "2024-01-01", want: "2024-01-01"},
		{yaml: "[a, b, 3]", want: "a,b,3"},
		{yaml: "[]", want: ""},
		{yaml: `""`, want: ""},
		{yaml: "0755", err: "t.yaml:1: k: 0755 has a leading zero, which YAML reads as octal; quote it"},
		{yaml: "~", err: `t.yaml:1: k: null value; write "" for an empty string`},
		{yaml: ".nan", err: "t.yaml:1: k: .nan is not a finite number"},
		{yaml: "!!binary aGk=", err: "t.yaml:1: k: unsupported tag !!binary"},
		{yaml: `["a,b"]`, err: `t.yaml:1: k: list item "a,b" holds a comma`},
		{yaml: "[a, {b: c}]", err: "t.yaml:1: k: a list may hold only plain values"},
	}
	for _, tt := range tests {
		got, errs := flatten(t, "t.yaml", "k: "+tt.yaml+"\n")
		if tt.err != "" {
			if !slices.Equal(errs, []string{tt.err}) {
				t.Errorf("%s: errors %q, want %q", tt.yaml, errs, tt.err)
			}
			continue
		}
		if len(errs) > 0 || got["k"] != tt.want {
			t.Errorf("%s: got %q (errors %q), want %q", tt.yaml, got["k"], errs, tt.want)
		}
	}
}

func TestFlattenKeys(t *testing.T) {
	src := `
a:
  b:
    c: 1
  d: 2
"a.e": 3
? [complex]
: 4
"": 5
" padded": 6
<<: {x: 1}
`
	got, errs := flatten(t, "t.yaml", src)
	want := map[string]string{"a.b.c": "1", "a.d": "2", "a.e": "3"}
	if len(got) != len(want) || got["a.b.c"] != "1" || got["a.d"] != "2" || got["a.e"] != "3" {
		t.Errorf("got %v, want %v", got, want)
	}
	wantErrs := []string{
		"t.yaml:7: keys must be plain strings",
		"t.yaml:9: empty key",
		"t.yaml:10:  padded: key has leading or trailing spaces",
		"t.yaml:11: merge keys (<<) are not allowed",
	}
	if !slices.Equal(errs, wantErrs) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(wantErrs, "\n"))
	}
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		src  string
		want map[string]string
		errs []string
	}{
		{
			src:  `{"a": "x\/y\u00e9", "b": 1.0, "c": null}`,
			want: map[string]string{"a": "x/yé", "b": "1"},
			errs: []string{`t.json:1: c: null value; write "" for an empty string`},
		},
		{src: "[1, 2]", errs: []string{"t.json:1: the top level must be a mapping of keys to values"}},
		{src: "", errs: []string{"t.json: empty document"}},
		{src: "{\"a\": 1}\n{}", errs: []string{"t.json:2: unexpected data after the top-level value"}},
		{src: "{\n\"a\": [1,\n", errs: []string{"t.json:3: unexpected end of file"}},
	}
	for _, tt := range tests {
		got, errs := flatten(t, "t.json", tt.src)
		if !slices.Equal(errs, tt.errs) {
			t.Errorf("%q: errors %q, want %q", tt.src, errs, tt.errs)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%q: %s = %q, want %q", tt.src, k, got[k], v)
			}
		}
	}
}

// TestYAMLSyntaxErrors checks that a YAML mistake in a connector file or in
// the worker file names the file and the line a person has to fix.
func TestYAMLSyntaxErrors(t *testing.T) {
	clearWorkerEnv(t)
	tests := []struct {
		name, body string // the lines under config: or consumer:
		want       string // the error line after the file name
	}{
		{"unclosed double quote", "  topics: \"bookings\n  flush.size: 10\n  tasks.max: 1\n",
			":3: scanning a quoted scalar that starts here (column 11): found unexpected " +
				"end of stream at line 6; is a closing quote missing?"},
		{"unclosed single quote", "  topics: 'bookings\n",
			":3: scanning a quoted scalar that starts here (column 11): found unexpected " +
				"end of stream at line 4; is a closing quote missing?"},
		{"key indented too deep", "  tasks.max: 1\n    topics: bookings\n",
			":4: mapping values are not allowed in this context (column 11); " +
				"check the indentation"},
		{"key indented too little", "  tasks.max: 1\n topics: bookings\n",
			":4: did not find expected key (column 2), while parsing a block mapping " +
				"that starts at line 1; check the indentation"},
		{"tab indent", "\ttopics: bookings\n",
			":3: found character that cannot start any token (column 1); " +
				"indent with spaces, not tabs"},
		{"bracket open at the end", "  topics: [bookings,\n",
			":3: flow sequence that starts here (column 11) is not closed: did not find " +
				"expected node content at line 4; is a closing bracket missing?"},
		{"brace open at the end", "  topics: {a: 1,\n",
			":3: flow mapping that starts here (column 11) is not closed: did not find " +
				"expected node content at line 4; is a closing bracket missing?"},
		{"unclosed bracket", "  topics: [bookings, clicks\n  flush.size: 10\n",
			":3: parsing a flow sequence that starts here (column 11): did not find " +
				"expected ',' or ']' at line 4; is a closing bracket missing?"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The same two lines of context lead both files, so the same
			// mistake sits on the same line of each.
			conn := filepath.Join(dir, fmt.Sprintf("c%d.yaml", i))
			writeTestFile(t, conn, "name: a\nconfig:\n"+tt.body)
			_, err := LoadConnector(conn)
			if got, want := errorLines(t, err), []string{conn + tt.want}; !slices.Equal(got, want) {
				t.Errorf("connector file:\n%s\nwant:\n%s", strings.Join(got, "\n"), want[0])
			}

			wf := filepath.Join(dir, fmt.Sprintf("w%d.yaml", i))
			writeTestFile(t, wf, "group.id: g\nconsumer:\n"+tt.body)
			_, err = loadWorker(t, "--config", wf)
			if got, want := errorLines(t, err), []string{wf + tt.want}; !slices.Equal(got, want) {
				t.Errorf("worker file:\n%s\nwant:\n%s", strings.Join(got, "\n"), want[0])
			}
		})
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
