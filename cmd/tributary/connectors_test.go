package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
)

// TestConnectorsCommand drives tributary connectors against a stand-in for
// a Kafka Connect REST API and checks the requests it sends.
func TestConnectorsCommand(t *testing.T) {
	var got, checks []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := strings.TrimSpace(r.Method + " " + r.URL.RequestURI() + " " + string(body))
		if u, p, _ := r.BasicAuth(); u != "admin" || p != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/config/validate"),
			r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/config"):
			// apply's checks, each answered as nothing to object to and
			// no connector yet.
			checks = append(checks, req)
			if r.Method == "GET" {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			_, _ = w.Write([]byte(`{"name":"s3","error_count":0,"groups":[],"configs":[]}`))
			return
		}
		got = append(got, req)
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
	wantChecks := []string{
		"PUT /connector-plugins/s3/config/validate",
		"PUT /connector-plugins/s3/config/validate",
		"GET /connectors/yaml-sink/config", "GET /connectors/json-sink/config",
	}
	if len(checks) != len(wantChecks) {
		t.Fatalf("checks: %q", checks)
	}
	for i, w := range wantChecks {
		if !strings.HasPrefix(checks[i], w) {
			t.Errorf("check %d: %q, want %q", i, checks[i], w)
		}
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

// TestConnectorsUnreachable checks the error for an endpoint that does not
// answer: the request named once, without the password of its URL.
func TestConnectorsUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	cmd := newRootCmd()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"connectors", "list", "--url", "http://admin:s3cret@" + addr})
	err := cmd.Execute()
	want := "GET http://admin:xxxxx@" + addr + "/connectors: dial tcp " + addr + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "s3cret") ||
		strings.Count(err.Error(), addr+"/connectors") != 1 {
		t.Errorf("connectors list at a closed port: %v, want it to start %q", err, want)
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
		switch {
		case strings.HasSuffix(r.URL.Path, "/config/validate"):
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"name":"s3","error_count":0,"groups":[],"configs":[]}`))
		case r.Method == "GET":
			w.WriteHeader(http.StatusNotFound)
		default:
			got = append(got, r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(body)))
			w.WriteHeader(http.StatusCreated)
		}
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

// TestConnectorsApplyChecksFirst applies three files, the last with a
// value the server refuses: no connector is created, every error is
// reported at its file and line, and a file whose config the server
// already holds is reported unchanged.
func TestConnectorsApplyChecksFirst(t *testing.T) {
	var mu sync.Mutex
	var puts []string
	server := map[string]map[string]string{
		"a": {"connector.class": "file", "topics": "t", "name": "a"},
		"s": {"connector.class": "file", "topics": "t", "name": "s",
			"aws.secret.access.key": "[hidden]"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var cfg map[string]string
		_ = json.NewDecoder(r.Body).Decode(&cfg)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/config/validate"):
			errs := []string{}
			if cfg["flush.size"] == "many" {
				errs = append(errs, "Invalid value many: not a number")
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"name": "file",
				"error_count": len(errs), "groups": []string{}, "configs": []any{
					map[string]any{"value": map[string]any{"name": "flush.size",
						"value": cfg["flush.size"], "errors": errs}}}})
		case r.Method == "GET":
			name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/connectors/"), "/config")
			c, ok := server[name]
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			_ = json.NewEncoder(w).Encode(c)
		case r.Method == "PUT":
			puts = append(puts, r.URL.Path)
			name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/connectors/"), "/config")
			if _, ok := server[name]; ok {
				w.WriteHeader(http.StatusOK)
			} else {
				w.WriteHeader(http.StatusCreated)
			}
			_, _ = w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.json"),
		filepath.Join(dir, "c.yaml")
	must(t, os.WriteFile(a, []byte("name: a\nconfig:\n  connector.class: file\n"+
		"  topics: t\n"), 0o600))
	must(t, os.WriteFile(b, []byte(`{"name":"b","config":{"connector.class":"file",`+
		`"topics":"t"}}`), 0o600))
	must(t, os.WriteFile(c, []byte("name: c\nconfig:\n  connector.class: file\n"+
		"  topics: t\n  flush.size: many\n"), 0o600))
	run := func(files ...string) (string, error) {
		cmd := newRootCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(append([]string{"connectors", "apply", "--url", srv.URL}, files...))
		err := cmd.Execute()
		return out.String(), err
	}

	_, err := run(a, b, c)
	want := c + ":5: config.flush.size: Invalid value many: not a number"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("apply error %v, want one naming %q", err, want)
	}
	if len(puts) != 0 {
		t.Fatalf("apply sent %q before every file was valid", puts)
	}

	// A file whose only difference may be a secret the server hides is
	// sent again, and said to be.
	sec := filepath.Join(dir, "s.yaml")
	must(t, os.WriteFile(sec, []byte("name: s\nconfig:\n  connector.class: file\n"+
		"  topics: t\n  aws.secret.access.key: plain-secret\n"), 0o600))
	out, err := run(a, b, sec)
	if err != nil {
		t.Fatal(err)
	}
	if want := "unchanged a (" + a + ")\ncreated b (" + b + ")\napplied s (" + sec + "): " +
		"equal but for values the server hides, sent again; the server keeps them if " +
		"they did not change\n"; out != want {
		t.Errorf("apply printed %q, want %q", out, want)
	}
	if !slices.Equal(puts, []string{"/connectors/b/config", "/connectors/s/config"}) {
		t.Errorf("apply sent %q, want b's and s's configs", puts)
	}
}

// TestConnectorsApplyValidatesOnWorker checks apply's validation against
// the worker's own REST API: its errors come back at the file's lines.
func TestConnectorsApplyValidatesOnWorker(t *testing.T) {
	wc := config.DefaultWorker()
	wc.Listeners = []string{"http://127.0.0.1:0"}
	w := worker.New(worker.Options{Plugins: sinkPlugins()})
	ln := serveREST(t, wc, w, &config.Providers{})
	file := filepath.Join(t.TempDir(), "c.yaml")
	must(t, os.WriteFile(file, []byte("name: c\nconfig:\n  connector.class: file\n"+
		"  topics: t\n  file.dir: /tmp/x\n  flush.size: many\n"), 0o600))
	cmd := newRootCmd()
	cmd.SetOut(io.Discard)
	cmd.SetArgs([]string{"connectors", "apply", "--url", "http://" + ln.Addr().String(), file})
	err := cmd.Execute()
	want := file + ":6: config.flush.size:"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("apply error %v, want one naming %q", err, want)
	}
	if got := w.Connectors(); len(got) != 0 {
		t.Errorf("connectors after a refused apply: %v", got)
	}
}
