//go:build integration

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/internal/loader"
	"github.com/tributary-io/tributary/schemas/registry"
)

// workerProc is a standalone worker process with the REST API on a free
// loopback port and its config store in the test's directory.
type workerProc struct {
	t   *testing.T
	dir string
	url string
	env []string
	cmd *exec.Cmd
	log *os.File
}

// startWorker writes a worker config and starts the worker; it returns
// once /health answers healthy.
func startWorker(t *testing.T, e services.Env, registryURL string, env ...string) *workerProc {
	t.Helper()
	dir := t.TempDir()
	// Port 0: the worker binds a port no one else holds, every time it
	// starts, and start reads it from the log. A port picked here and
	// freed again could be taken before the worker binds it.
	cfg := fmt.Sprintf(`bootstrap.servers: %s
listeners: http://127.0.0.1:0
schema.registry.url: %s
registry.listener: ""
offset.flush.interval.ms: 500
consumer.session.timeout.ms: 6000
config.storage.file.filename: state/connectors.json
spool.dir: spool
log.level: info
`, strings.Join(e.KafkaBrokers, ","), registryURL)
	must(t, os.WriteFile(filepath.Join(dir, "worker.yaml"), []byte(cfg), 0o600))
	p := &workerProc{t: t, dir: dir, env: env}
	p.start()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", tail(p.logText(), 6000))
		}
	})
	return p
}

func (p *workerProc) start() {
	p.t.Helper()
	if p.log == nil {
		f, err := os.Create(filepath.Join(p.dir, "worker.log"))
		must(p.t, err)
		p.log = f
	}
	p.cmd = exec.Command(services.Binary(p.t), "worker", "--config",
		filepath.Join(p.dir, "worker.yaml"))
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	logged := len(p.logText())
	must(p.t, p.cmd.Start())
	waitFor(p.t, 2*time.Minute, "worker listening", func() bool {
		m := restAddr.FindStringSubmatch(p.logText()[logged:])
		if m == nil {
			return false
		}
		p.url = "http://" + m[1]
		return true
	})
	waitFor(p.t, 2*time.Minute, "worker healthy", func() bool {
		resp, err := http.Get(p.url + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// restAddr finds the address the worker's REST API listens on in the line
// it logs once started.
var restAddr = regexp.MustCompile(`msg="worker started".* rest=(\S+)`)

// stop sends SIGTERM and waits for a clean exit.
func (p *workerProc) stop() {
	p.t.Helper()
	must(p.t, p.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			p.t.Fatalf("worker exited after SIGTERM: %v", err)
		}
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Fatal("worker did not stop within 60s of SIGTERM")
	}
}

func (p *workerProc) logText() string {
	b, _ := os.ReadFile(p.log.Name())
	return string(b)
}

// call sends a request to the worker and returns the status and body.
func (p *workerProc) call(method, path string, body any) (int, []byte) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		must(p.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, p.url+path, rd)
	must(p.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	must(p.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	must(p.t, err)
	return resp.StatusCode, out
}

// get decodes a 200 answer into v.
func (p *workerProc) get(path string, v any) {
	p.t.Helper()
	status, body := p.call("GET", path, nil)
	if status != http.StatusOK {
		p.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	must(p.t, json.Unmarshal(body, v))
}

// state is the part of a ConnectorStateInfo the tests read.
type state struct {
	Connector struct {
		State string `json:"state"`
	} `json:"connector"`
	Tasks []struct {
		State string `json:"state"`
	} `json:"tasks"`
}

// waitState polls until the connector and each of its tasks are in want.
func (p *workerProc) waitState(name, want string, tasks int) {
	p.t.Helper()
	waitFor(p.t, 2*time.Minute, name+" "+want, func() bool {
		status, body := p.call("GET", "/connectors/"+name+"/status", nil)
		var st state
		if status != http.StatusOK || json.Unmarshal(body, &st) != nil ||
			st.Connector.State != want || len(st.Tasks) != tasks {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != want {
				return false
			}
		}
		return true
	})
}

// committed returns the sum of the connector's committed offsets.
func (p *workerProc) committed(name string) int64 {
	var offs struct {
		Offsets []struct {
			Offset struct {
				KafkaOffset int64 `json:"kafka_offset"`
			} `json:"offset"`
		} `json:"offsets"`
	}
	p.get("/connectors/"+name+"/offsets", &offs)
	var sum int64
	for _, o := range offs.Offsets {
		sum += o.Offset.KafkaOffset
	}
	return sum
}

// loadBookings produces the first n bookings to topic.
func loadBookings(t *testing.T, e services.Env, topic, registryURL string, n int) {
	t.Helper()
	client, err := registry.NewClient([]string{registryURL})
	must(t, err)
	src, err := bookings.Open()
	must(t, err)
	defer src.Close()
	res, err := loader.Load(context.Background(), loader.Config{
		Brokers: e.KafkaBrokers, Topic: topic, Registry: client, Limit: n,
	}, src)
	must(t, err)
	if res.Produced != int64(n) {
		t.Fatalf("produced %d bookings, want %d", res.Produced, n)
	}
}

// s3Config is an S3 sink connector config writing topic into bucket.
func s3Config(e services.Env, topic, bucket, secret string) map[string]any {
	return map[string]any{
		"connector.class":       "io.confluent.connect.s3.S3SinkConnector",
		"tasks.max":             2,
		"topics":                topic,
		"s3.bucket.name":        bucket,
		"store.url":             "http://" + e.S3Endpoint,
		"aws.access.key.id":     e.S3AccessKey,
		"aws.secret.access.key": secret,
		"format.class":          "io.confluent.connect.s3.format.json.JsonFormat",
		"flush.size":            10,
		"topics.dir":            "topics",
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
