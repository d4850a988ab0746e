package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConnectorsCommand drives tributary connectors against a stand-in for
// a Kafka Connect REST API and checks the requests it sends.
func TestConnectorsCommand(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+string(body)))
		if u, p, _ := r.BasicAuth(); u != "admin" || p != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/yaml-sink/config"):
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"name":"yaml-sink","config":{},"tasks":[],"type":"sink"}`))
		case r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/config"):
			_, _ = w.Write([]byte(`{"name":"json-sink","config":{},"tasks":[],"type":"sink"}`))
		case r.Method == "PUT":
			w.WriteHeader(http.StatusAccepted)
		case r.Method == "POST":
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"name":"yaml-sink","connector":{"state":"RESTARTING"}}`))
		case r.Method == "DELETE" && strings.HasSuffix(r.URL.Path, "/offsets"):
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error_code":400,"message":"Connectors must be in the STOPPED state"}`))
		case r.Method == "DELETE":
			w.WriteHeader(http.StatusNoContent)
		default:
			_, _ = w.Write([]byte(`["yaml-sink"]`))
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	yamlFile, jsonFile := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.json")
	must(t, os.WriteFile(yamlFile, []byte("name: yaml-sink\nconfig:\n  connector.class: s3\n  tasks.max: 2\n  topics: t\n"), 0o600))
	must(t, os.WriteFile(jsonFile, []byte(`{"name":"json-sink","config":{"connector.class":"s3","topics":"t"}}`), 0o600))

	run := func(args ...string) (string, error) {
		cmd := newRootCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(append([]string{"connectors", "--url", srv.URL, "--user", "admin",
			"--password", "pw"}, args...))
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run("apply", yamlFile, jsonFile)
	if err != nil || !strings.Contains(out, "created yaml-sink") || !strings.Contains(out, "updated json-sink") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"list", "--expand", "status"}, {"pause", "yaml-sink"},
		{"restart", "yaml-sink", "--include-tasks"}, {"delete", "json-sink"}} {
		if _, err := run(args...); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, err := run("offsets", "yaml-sink", "--reset"); err == nil ||
		!strings.Contains(err.Error(), "400: Connectors must be in the STOPPED state") {
		t.Errorf("offsets --reset: %v", err)
	}

	var yamlCfg map[string]string
	must(t, json.Unmarshal([]byte(strings.TrimPrefix(got[0], "PUT /connectors/yaml-sink/config ")), &yamlCfg))
	if yamlCfg["tasks.max"] != "2" || yamlCfg["connector.class"] != "s3" {
		t.Errorf("apply sent %v", yamlCfg)
	}
	want := []string{
		"GET /connectors?expand=status",
		"PUT /connectors/yaml-sink/pause",
		"POST /connectors/yaml-sink/restart?includeTasks=true&onlyFailed=false",
		"DELETE /connectors/json-sink",
		"DELETE /connectors/yaml-sink/offsets",
	}
	if len(got) != 2+len(want) {
		t.Fatalf("requests: %q", got)
	}
	for i, w := range want {
		if got[2+i] != w {
			t.Errorf("request %d: %q, want %q", 2+i, got[2+i], w)
		}
	}

	// The URL and credentials may come from the environment instead.
	t.Setenv("TRIBUTARY_REST_URL", srv.URL+"/")
	t.Setenv("TRIBUTARY_REST_USER", "admin")
	t.Setenv("TRIBUTARY_REST_PASSWORD", "pw")
	got = nil
	cmd := newRootCmd()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"connectors", "get", "yaml-sink"})
	if err := cmd.Execute(); err != nil || len(got) != 1 || got[0] != "GET /connectors/yaml-sink" {
		t.Errorf("connectors get with the URL from the environment: %v, requests %q", err, got)
	}
	// A flag wins over its variable.
	t.Setenv("TRIBUTARY_REST_URL", "http://127.0.0.1:1")
	if _, err := run("get", "yaml-sink"); err != nil {
		t.Errorf("connectors get --url: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestConnectorsApplyProperties checks that connectors apply takes Kafka
// Connect standalone's .properties connector files.
func TestConnectorsApplyProperties(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(body)))
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "props-sink.properties")
	must(t, os.WriteFile(file, []byte("# standalone connector\nname=props-sink\n"+
		"connector.class=s3\ntopics=a,\\\n  b\n"), 0o600))

	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"connectors", "--url", srv.URL, "apply", file})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := `PUT /connectors/props-sink/config {"connector.class":"s3","topics":"a,b"}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("requests %q, want %q", got, want)
	}
	if out.String() != "created props-sink ("+file+")\n" {
		t.Errorf("apply printed %q", out.String())
	}
}
