package config

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestParseProperties checks the Java properties syntax Kafka Connect's
// standalone files use: separators, comments, continuations and escapes.
func TestParseProperties(t *testing.T) {
	text := "# comment\r\n" +
		"  ! another = comment\r\n" +
		"\n" +
		"a=1\n" +
		"b : two words \n" +
		"c\tthree\n" +
		"d\n" +
		"e=\\\n" +
		"    x,\\\n" +
		"    y\n" +
		`f=ends in a backslash\\` + "\n" +
		`g\=h\:i\ j=\u00e9\tk` + "\n" +
		"#l=not a key\n" +
		"m=last\\"
	root, err := parseProperties([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var lines []int
	for i := 0; i+1 < len(root.Content); i += 2 {
		got = append(got, root.Content[i].Value+"|"+root.Content[i+1].Value)
		lines = append(lines, root.Content[i].Line)
	}
	want := []string{"a|1", "b|two words ", "c|three", "d|", "e|x,y",
		`f|ends in a backslash\`, "g=h:i j|é\tk", "m|last"}
	if !slices.Equal(got, want) {
		t.Errorf("entries\n%q\nwant\n%q", got, want)
	}
	if wantLines := []int{4, 5, 6, 7, 8, 11, 12, 14}; !slices.Equal(lines, wantLines) {
		t.Errorf("lines %v, want %v", lines, wantLines)
	}

	if root, err := parseProperties([]byte("# only a comment\n\n")); root != nil || err != nil {
		t.Errorf("a file of comments: %v, %v; want no document", root, err)
	}
}

// TestLoadConnectorPropertiesErrors checks that mistakes in a properties
// connector file are reported with their lines, as in the other formats.
func TestLoadConnectorPropertiesErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"connector.class=s3\ntopics=t\n", []string{": name: required"}},
		{"name=a\nconnector.class=s3\ntopics=t\ntopics=u\n",
			[]string{":4: config.topics: duplicate key (first at line 3)"}},
		{"name=a\nconnector.class=s3\ntopics=t\nkey=\\u12\n",
			[]string{`:4: key: malformed \u escape "\\u12"`}},
		{"name=a/b\nconnector.class=s3\ntopics=t\n",
			[]string{`:1: name: "a/b" must not contain '/'`}},
	} {
		path := filepath.Join(dir, "c.properties")
		if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConnector(path)
		if err == nil {
			t.Errorf("%q: loaded, want %q", tt.text, tt.want)
			continue
		}
		var want []string
		for _, w := range tt.want {
			want = append(want, path+w)
		}
		if got := errorLines(t, err); !slices.Equal(got, want) {
			t.Errorf("%q: errors %q, want %q", tt.text, got, want)
		}
	}
}

// TestWorkerFileProperties checks that a worker file may be a Kafka Connect
// worker.properties, read into the same keys as its YAML twin.
func TestWorkerFileProperties(t *testing.T) {
	yamlKeys, _, errs, err := readWorkerFile("testdata/worker/good.yaml")
	if err != nil || len(errs) > 0 {
		t.Fatalf("good.yaml: %v %v", errs, err)
	}
	keys, lines, errs, err := readWorkerFile("testdata/worker/good.properties")
	if err != nil || len(errs) > 0 {
		t.Fatalf("good.properties: %v %v", errs, err)
	}
	if !maps.Equal(keys, yamlKeys) {
		t.Errorf("keys\n%v\nwant those of good.yaml\n%v", keys, yamlKeys)
	}
	if lines["log.format"] != 5 {
		t.Errorf("line of log.format = %d, want 5", lines["log.format"])
	}

	clearWorkerEnv(t)
	w, err := loadWorker(t, "--config", "testdata/worker/good.properties")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.BootstrapServers, []string{"kafka-1:9092", "kafka-2:9092"}) ||
		w.GroupID != "from-file" || w.LogFormat != "json" || w.ConsumerMaxPollRecords != 500 {
		t.Errorf("worker from good.properties: %+v", w)
	}
}
