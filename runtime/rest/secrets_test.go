package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/runtime/worker/workertest"
)

// Secrets the test config carries: one behind ${env:TRIB_TEST_SECRET} in
// a URL, one behind a ${file:...} reference and one written into URLs.
const (
	envSecret  = "trib-env-s3cr3t-7f3a9c"
	fileSecret = "trib-file-s3cr3t-2b6d05"
	urlSecret  = "url-pw-4e8b1d"
)

// leakySink is as careless as a connector can be: its validation errors,
// its task's logs and its task's failure quote the resolved config,
// secrets included. With leaky.fail set, its validation fails.
type leakySink struct{ workertest.Sink }

func (leakySink) Validate(cfg map[string]string) []connectors.FieldError {
	if cfg["leaky.fail"] == "" {
		return nil
	}
	return []connectors.FieldError{{Key: "leaky.endpoint", Message: fmt.Sprintf(
		"cannot reach %s or %s with password %s", cfg["leaky.endpoint"], cfg["store.url"],
		cfg["leaky.password"])}}
}

func (s leakySink) NewTask() connectors.SinkTask {
	return leakyTask{SinkTask: s.Sink.NewTask()}
}

type leakyTask struct{ connectors.SinkTask }

func (leakyTask) Start(_ context.Context, tc connectors.SinkTaskContext,
	cfg map[string]string,
) error {
	tc.Logger.Info("connecting to "+cfg["store.url"], "endpoint", cfg["leaky.endpoint"],
		"password", cfg["leaky.password"])
	return fmt.Errorf("connect to %s with password %s: connection refused",
		cfg["leaky.endpoint"], cfg["leaky.password"])
}

// TestSecretsNeverShown creates a connector whose config holds a reference
// to a secret and URLs with passwords, makes a careless connector quote
// them resolved, and reads every route that shows a config, a validation
// or a failure, and the worker's logs wired as the worker command wires
// them: none of the secrets appears anywhere.
func TestSecretsNeverShown(t *testing.T) {
	t.Setenv("TRIB_TEST_SECRET", envSecret)
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds.properties")
	if err := os.WriteFile(creds, []byte("password="+fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &workertest.Logs{}
	secrets := &config.Secrets{}
	loggers := NewLoggers(slog.LevelInfo, secrets.Redact)
	log := slog.New(loggers.Handler(slog.NewTextHandler(logs, nil)))
	f := newFixture(t, Options{Loggers: loggers, Logger: log.With("logger", "rest")},
		func(o *worker.Options) {
			o.Plugins = map[string]connectors.SinkConnector{"leaky": leakySink{}}
			o.Logger = log.With("logger", "worker")
			o.Secrets = secrets
			o.Providers = &config.Providers{FileAllowed: []string{dir},
				Enabled: []string{config.ProviderEnv, config.ProviderFile}}
		})

	registryURL := "http://reader:" + urlSecret + "@127.0.0.1:9"
	cfg := sinkConfig(config.KeyConnectorClass, "leaky",
		"leaky.password", "${file:"+creds+":password}",
		"leaky.endpoint", "http://svc:${env:TRIB_TEST_SECRET}@127.0.0.1:9/",
		"store.url", "http://minio:"+urlSecret+"@127.0.0.1:9/",
		config.KeyValueRegistryURL, registryURL)
	var bodies []string
	show := func(status int, method, path string, body any) string {
		out := string(f.expect(status, method, path, body, nil))
		bodies = append(bodies, method+" "+path+": "+out)
		return out
	}

	// A config whose validation fails quotes it in the 400 and in the
	// validate response.
	bad := sinkConfig("leaky.fail", "yes")
	for k, v := range cfg {
		bad[k] = v
	}
	created := show(http.StatusBadRequest, "POST", "/connectors",
		map[string]any{"name": "bad", "config": bad})
	if !strings.Contains(created, "cannot reach") {
		t.Errorf("create with a failing validation: %s", created)
	}
	validated := show(http.StatusOK, "PUT", "/connector-plugins/leaky/config/validate", bad)
	if !strings.Contains(validated, "cannot reach") {
		t.Errorf("validate: %s", validated)
	}

	f.expect(http.StatusCreated, "POST", "/connectors",
		map[string]any{"name": "leaky", "config": cfg}, nil)
	f.waitFor(func() bool {
		st, _ := f.w.Status("leaky")
		failed := 0
		for _, ts := range st.Tasks {
			if ts.State == worker.StateFailed {
				failed++
			}
		}
		return failed == 2
	}, "both tasks to fail")

	for _, path := range []string{
		"/connectors?expand=info&expand=status", "/connectors/leaky", "/connectors/leaky/config",
		"/connectors/leaky/tasks", "/connectors/leaky/status", "/connectors/leaky/tasks/0/status",
	} {
		show(http.StatusOK, "GET", path, nil)
	}
	if got := show(http.StatusOK, "GET", "/connectors/leaky/config", nil); !strings.Contains(got,
		`"leaky.endpoint":"http://svc:${env:TRIB_TEST_SECRET}@127.0.0.1:9/"`) ||
		!strings.Contains(got, `"http://reader:[hidden]@127.0.0.1:9"`) {
		t.Errorf("config does not show the reference and the masked URL: %s", got)
	}
	status := show(http.StatusOK, "GET", "/connectors/leaky/tasks/0/status", nil)
	if !strings.Contains(status, "connection refused") || !strings.Contains(status, "[hidden]") {
		t.Errorf("task status does not carry the redacted failure: %s", status)
	}

	// The masked config written back keeps the stored passwords.
	var masked map[string]string
	f.expect(http.StatusOK, "GET", "/connectors/leaky/config", nil, &masked)
	f.expect(http.StatusOK, "PUT", "/connectors/leaky/config", masked, nil)
	if info, _ := f.w.Info("leaky"); info.Config[config.KeyValueRegistryURL] != registryURL {
		t.Errorf("PUT of the masked config stored %q", info.Config[config.KeyValueRegistryURL])
	}

	logged := waitLogged(t, logs, "task failed")
	for _, want := range []string{"connecting to", "connector created"} {
		if !strings.Contains(logged, want) {
			t.Errorf("the logs have no %q line:\n%s", want, logged)
		}
	}
	for _, text := range append(bodies, "logs: "+logged) {
		for _, secret := range []string{envSecret, fileSecret, urlSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows secret %s", text, secret)
			}
		}
	}
}

// waitLogged polls logs until they contain want, or fails after ten
// seconds, and returns them.
func waitLogged(t *testing.T, logs *workertest.Logs, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the logs:\n%s", want, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return logs.String()
}
