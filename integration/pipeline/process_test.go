//go:build integration

package pipeline

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-io/tributary/integration/services"
)

// workerProc is a tributary worker running as a child process.
type workerProc struct {
	t     *testing.T
	name  string
	dir   string
	args  []string
	cmd   *exec.Cmd
	log   *os.File
	spool string
	group string // the consumer group of the worker's connector
}

// metricsLine is the line a worker logs once its /metrics listens.
var metricsLine = regexp.MustCompile(`msg="metrics serving" addr=(\S+)`)

// metricsAddr returns the address the worker's /metrics listens on, once
// its log shows it.
func (p *workerProc) metricsAddr() string {
	p.t.Helper()
	var addr string
	eventually(p.t, time.Minute, p.name+" serving metrics", func() bool {
		b, _ := os.ReadFile(p.log.Name())
		if m := metricsLine.FindAllSubmatch(b, -1); len(m) > 0 {
			addr = string(m[len(m)-1][1])
		}
		return addr != ""
	})
	return addr
}

// startWorkerProc writes a worker config and a connector file under a fresh
// directory and starts `tributary worker` on them.
func startWorkerProc(t *testing.T, name, registryURL string, connector map[string]string) *workerProc {
	return startWorkerProcCommitting(t, name, registryURL, connector, time.Second)
}

// startWorkerProcCommitting is startWorkerProc with the worker's
// offset.flush.interval.ms set to every.
func startWorkerProcCommitting(t *testing.T, name, registryURL string, connector map[string]string,
	every time.Duration) *workerProc {
	t.Helper()
	return startWorkerProcWith(t, name, registryURL, connector, every, "")
}

// startWorkerProcWith is startWorkerProcCommitting with extra lines at the
// end of the worker's YAML file.
func startWorkerProcWith(t *testing.T, name, registryURL string, connector map[string]string,
	every time.Duration, extraYAML string) *workerProc {
	t.Helper()
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	// Each worker gets its own REST port and connector store, so that two
	// workers of one test, or workers of consecutive tests, never meet.
	// The tests do not call the REST API: port 0 lets the worker bind a
	// port no one holds, at each restart too.
	workerYAML := fmt.Sprintf(`bootstrap.servers: %s
schema.registry.url: %s
registry.listener: ""
listeners: http://127.0.0.1:0
metrics.listener: 127.0.0.1:0
config.storage.file.filename: %s
offset.flush.interval.ms: %d
consumer.session.timeout.ms: 6000
task.shutdown.graceful.timeout.ms: 10000
spool.dir: %s
log.level: info
%s`, strings.Join(env.KafkaBrokers, ","), registryURL,
		filepath.Join(dir, "connectors.json"), every.Milliseconds(), spool, extraYAML)
	var conn strings.Builder
	connName := connectorName("crash", connector["topics"])
	fmt.Fprintf(&conn, "name: %s\nconfig:\n", connName)
	keys := make([]string, 0, len(connector))
	for k := range connector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&conn, "  %s: %q\n", k, connector[k])
	}
	must(t, os.WriteFile(filepath.Join(dir, "worker.yaml"), []byte(workerYAML), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "connector.yaml"), []byte(conn.String()), 0o600))
	p := &workerProc{t: t, name: name, dir: dir, spool: spool, group: "connect-" + connName,
		args: []string{"worker", "--config", filepath.Join(dir, "worker.yaml"),
			filepath.Join(dir, "connector.yaml")}}
	p.start()
	t.Cleanup(func() {
		if p.cmd != nil && p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			reportLog(t, name, p.logText())
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
	p.cmd = exec.Command(services.Binary(p.t), p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	must(p.t, p.cmd.Start())
}

// kill sends SIGKILL and reaps the process.
func (p *workerProc) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// stop sends SIGTERM and waits for a clean exit.
func (p *workerProc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			p.t.Errorf("%s exited after SIGTERM: %v", p.name, err)
		}
	case <-time.After(60 * time.Second):
		p.kill()
		p.t.Errorf("%s did not stop within 60s of SIGTERM", p.name)
	}
}

func (p *workerProc) signal(sig syscall.Signal) { must(p.t, p.cmd.Process.Signal(sig)) }

// logText returns what the worker logged so far.
func (p *workerProc) logText() string {
	b, _ := os.ReadFile(p.log.Name())
	return string(b)
}

// hasOpenFile reports whether the worker is writing a file into its spool.
func (p *workerProc) hasOpenFile() bool {
	matches, _ := filepath.Glob(filepath.Join(p.spool, "*", "file-*"))
	return len(matches) > 0
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// reportLog keeps a failed test's worker log in full under the system's
// temporary directory and shows its warnings, errors and last lines: a
// short excerpt leaves the test's own failure message in sight.
func reportLog(t *testing.T, name, text string) {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "tributary-failed-logs")
	path := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+"-"+name+".log")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = os.WriteFile(path, []byte(text), 0o644)
	}
	lines := strings.SplitAfter(text, "\n")
	var notable strings.Builder
	for _, l := range lines {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			notable.WriteString(l)
		}
	}
	last := strings.Join(lines[max(0, len(lines)-4):], "")
	t.Logf("%s log in %s; its warnings and errors (last 1500 bytes):\n%s\nlast lines:\n%s",
		name, path, tail([]byte(notable.String()), 1500), last)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
