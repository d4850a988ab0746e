package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/runtime/store"
)

// TestRoutes drives every route in the order a user would, checking
// statuses and shapes against Kafka Connect's reference.
func TestRoutes(t *testing.T) {
	f := newFixture(t, Options{})
	testRoutes(t, f)
}

func testRoutes(t *testing.T, f *fixture) {
	// Root and health.
	var info serverInfo
	f.expect(http.StatusOK, "GET", "/", nil, &info)
	if info != (serverInfo{Version: "1.0.0", Commit: "abc123", KafkaClusterID: "fake-cluster"}) {
		t.Errorf("GET /: %+v", info)
	}
	var health workerStatus
	f.expect(http.StatusServiceUnavailable, "GET", "/health", nil, &health)
	if health.Status != "starting" {
		t.Errorf("health before startup: %+v", health)
	}
	f.srv.SetReady()
	f.expect(http.StatusOK, "GET", "/health", nil, &health)
	if health.Status != "healthy" {
		t.Errorf("health: %+v", health)
	}

	// Create: invalid, valid, duplicate.
	f.expectError(http.StatusBadRequest, "POST", "/connectors", map[string]any{
		"name": "a", "config": map[string]any{"connector.class": "fake", "tasks.max": "0"},
	}, "contains the following 3 error(s)")
	f.expectError(http.StatusBadRequest, "POST", "/connectors", map[string]any{
		"name": "a", "config": map[string]any{"name": "b", "connector.class": "fake"},
	}, "Connector name configuration (b) doesn't match connector name in the URL (a)")
	f.expectError(http.StatusBadRequest, "POST", "/connectors", map[string]any{
		"name": "a", "config": f.sinkConfig("consumer.override.sasl.jaas.config", "x"),
	}, "consumer.override.sasl.jaas.config: security settings cannot be overridden")

	cfg := f.sinkConfig("aws.secret.access.key", "plain-secret-value",
		"other.password", "${env:FAKE_SECRET}")
	var ci connectorInfo
	status, body, hdr := f.do("POST", "/connectors", map[string]any{"name": " a ", "config": cfg})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	if hdr.Get("Location") != f.http.URL+"/connectors/a" {
		t.Errorf("Location %q", hdr.Get("Location"))
	}
	must(t, json.Unmarshal(body, &ci))
	if ci.Name != "a" || ci.Type != "sink" || ci.Config["name"] != "a" ||
		ci.Config["tasks.max"] != "2" || ci.Config["aws.secret.access.key"] != "[hidden]" ||
		ci.Config["other.password"] != "${env:FAKE_SECRET}" {
		t.Errorf("created: %+v", ci)
	}
	f.expectError(http.StatusConflict, "POST", "/connectors",
		map[string]any{"name": "a", "config": f.sinkConfig()}, "Connector a already exists")

	// Reads.
	st := f.waitState("a", "RUNNING", 2)
	if st.Name != "a" || st.Type != "sink" || st.Connector.WorkerID != "127.0.0.1:8083" ||
		st.Tasks[0].ID != 0 || st.Tasks[1].ID != 1 {
		t.Errorf("status: %+v", st)
	}
	var names []string
	f.expect(http.StatusOK, "GET", "/connectors", nil, &names)
	if !slices.Equal(names, []string{"a"}) {
		t.Errorf("list: %v", names)
	}
	var expanded map[string]struct {
		Status *connectorState `json:"status"`
		Info   *connectorInfo  `json:"info"`
	}
	f.expect(http.StatusOK, "GET", "/connectors?expand=status&expand=info", nil, &expanded)
	if e := expanded["a"]; e.Status == nil || e.Info == nil || e.Info.Config["aws.secret.access.key"] != "[hidden]" ||
		len(e.Info.Tasks) != 2 {
		t.Errorf("expanded: %+v", expanded)
	}
	var conf map[string]string
	f.expect(http.StatusOK, "GET", "/connectors/a/config", nil, &conf)
	if conf["aws.secret.access.key"] != "[hidden]" || conf["fake.required"] != "yes" {
		t.Errorf("config: %v", conf)
	}
	var tasks []taskInfo
	f.expect(http.StatusOK, "GET", "/connectors/a/tasks", nil, &tasks)
	if len(tasks) != 2 || tasks[1].ID.Connector != "a" || tasks[1].ID.Task != 1 ||
		tasks[1].Config["aws.secret.access.key"] != "[hidden]" {
		t.Errorf("tasks: %+v", tasks)
	}
	var ts map[string]any
	f.expect(http.StatusOK, "GET", "/connectors/a/tasks/1/status", nil, &ts)
	if ts["id"] != 1.0 || ts["state"] != "RUNNING" || ts["worker_id"] != "127.0.0.1:8083" {
		t.Errorf("task status: %v", ts)
	}
	if _, ok := ts["trace"]; ok {
		t.Errorf("task status has a trace: %v", ts)
	}

	// Unknown connectors and tasks.
	for _, c := range []struct{ method, path, msg string }{
		{"GET", "/connectors/nope", "Connector nope not found"},
		{"GET", "/connectors/nope/config", "Connector nope not found"},
		{"DELETE", "/connectors/nope", "Connector nope not found"},
		{"GET", "/connectors/nope/status", "No status found for connector nope"},
		{"GET", "/connectors/nope/tasks", "Connector nope not found"},
		{"GET", "/connectors/nope/topics", "Connector nope not found"},
		{"GET", "/connectors/a/tasks/7/status", "No status found for task a-7"},
		{"GET", "/connectors/a/tasks/x/status", "HTTP 404 Not Found"},
		{"POST", "/connectors/nope/restart", "Unknown connector: nope"},
		{"POST", "/connectors/a/tasks/7/restart", "Unknown task: a-7"},
		{"PUT", "/connectors/nope/pause", "Unknown connector nope"},
		{"PUT", "/connectors/nope/stop", "Unknown connector nope"},
		{"GET", "/connectors/nope/offsets", "Connector nope not found"},
		{"GET", "/no/such/route", "HTTP 404 Not Found"},
	} {
		f.expectError(http.StatusNotFound, c.method, c.path, nil, c.msg)
	}
	f.expectError(http.StatusNotFound, "PATCH", "/connectors/nope/config",
		map[string]any{"x": "y"}, "Connector nope not found")
	f.expectError(http.StatusMethodNotAllowed, "POST", "/connectors/a/config", "{}",
		"HTTP 405 Method Not Allowed")

	// Config updates: PATCH, PUT of an existing and of a new connector,
	// with a masked secret sent back unchanged.
	conf["fake.required"] = "changed"
	f.expect(http.StatusOK, "PUT", "/connectors/a/config", conf, &ci)
	if ci.Config["fake.required"] != "changed" {
		t.Errorf("put: %+v", ci)
	}
	f.expect(http.StatusOK, "PATCH", "/connectors/a/config",
		map[string]any{"other.password": nil, "flush.size": 3}, &ci)
	if _, ok := ci.Config["other.password"]; ok || ci.Config["flush.size"] != "3" {
		t.Errorf("patch: %+v", ci)
	}
	if got, _ := f.w.Info("a"); got.Config["aws.secret.access.key"] != "plain-secret-value" {
		t.Errorf("PUT of [hidden] overwrote the secret: %q", got.Config["aws.secret.access.key"])
	}
	f.expect(http.StatusCreated, "PUT", "/connectors/b/config",
		f.sinkConfig("tasks.max", "1"), &ci)
	f.expectError(http.StatusBadRequest, "PUT", "/connectors/b/config",
		f.sinkConfig("name", "c"), "doesn't match connector name in the URL (b)")
	f.expectError(http.StatusBadRequest, "PUT", "/connectors/b/config",
		map[string]any{"connector.class": "fake", "topics": map[string]any{}},
		"must be a string, number or boolean")
	f.waitState("a", "RUNNING", 2)

	// Pause, resume.
	f.expect(http.StatusAccepted, "PUT", "/connectors/a/pause", nil, nil)
	f.waitState("a", "PAUSED", 2)
	f.expect(http.StatusAccepted, "PUT", "/connectors/a/resume", nil, nil)
	f.waitState("a", "RUNNING", 2)

	// Restarts.
	f.expect(http.StatusNoContent, "POST", "/connectors/a/restart", nil, nil)
	f.expect(http.StatusAccepted, "POST", "/connectors/a/restart?includeTasks=true", nil, &st)
	if st.Connector.State != "RESTARTING" || st.Tasks[0].State != "RESTARTING" {
		t.Errorf("restart with tasks: %+v", st)
	}
	f.waitState("a", "RUNNING", 2)
	f.expect(http.StatusAccepted, "POST", "/connectors/a/restart?includeTasks=true&onlyFailed=true",
		nil, &st)
	if st.Connector.State != "RUNNING" || st.Tasks[0].State != "RUNNING" {
		t.Errorf("restart of failed only, none failed: %+v", st)
	}
	f.expect(http.StatusNoContent, "POST", "/connectors/a/tasks/0/restart", nil, nil)
	f.waitState("a", "RUNNING", 2)

	// Offsets: readable while running, editable only when stopped.
	var offs connectorOffsets
	waitOffsets(t, f, "a", 10)
	f.expectError(http.StatusBadRequest, "PATCH", "/connectors/a/offsets", map[string]any{
		"offsets": []any{map[string]any{
			"partition": map[string]any{"kafka_topic": f.topic, "kafka_partition": 0},
			"offset":    map[string]any{"kafka_offset": 1},
		}},
	}, "Connectors must be in the STOPPED state before their offsets can be modified")
	f.expectError(http.StatusBadRequest, "DELETE", "/connectors/a/offsets", nil,
		"'/connectors/a/stop' endpoint")
	f.expect(http.StatusNoContent, "PUT", "/connectors/a/stop", nil, nil)
	f.waitState("a", "STOPPED", 0)
	f.expect(http.StatusOK, "GET", "/connectors/a", nil, &ci)
	if len(ci.Tasks) != 0 {
		t.Errorf("stopped connector has tasks: %+v", ci)
	}
	f.expectError(http.StatusBadRequest, "PATCH", "/connectors/a/offsets",
		map[string]any{"offsets": []any{}}, "Partitions / offsets need to be provided")
	f.expectError(http.StatusBadRequest, "PATCH", "/connectors/a/offsets", map[string]any{
		"offsets": []any{map[string]any{"partition": map[string]any{"kafka_partition": 0}}},
	}, "kafka_topic")
	for _, c := range []struct {
		partition, offset any
		want              string
	}{
		{nil, 1, "Kafka partition value in the provided offsets: null"},
		{map[string]any{"p": 1}, 1, `Kafka partition value in the provided offsets: {"p":1}`},
		{"x", 1, `Kafka partition value in the provided offsets: "x"`},
		{0, "x", `Kafka offset value in the provided offsets: "x"`},
		{0, -1, "Kafka offset value in the provided offsets: -1"},
	} {
		f.expectError(http.StatusBadRequest, "PATCH", "/connectors/a/offsets",
			map[string]any{"offsets": []any{map[string]any{
				"partition": map[string]any{"kafka_topic": f.topic, "kafka_partition": c.partition},
				"offset":    map[string]any{"kafka_offset": c.offset},
			}}}, c.want)
	}
	var msg message
	f.expect(http.StatusOK, "PATCH", "/connectors/a/offsets", map[string]any{
		"offsets": []any{
			map[string]any{
				"partition": map[string]any{"kafka_topic": f.topic, "kafka_partition": "0"},
				"offset":    map[string]any{"kafka_offset": 2},
			},
			map[string]any{
				"partition": map[string]any{"kafka_topic": f.topic, "kafka_partition": 1},
				"offset":    nil,
			},
		},
	}, &msg)
	if !strings.Contains(msg.Message, "have been altered successfully") {
		t.Errorf("alter: %+v", msg)
	}
	f.expect(http.StatusOK, "GET", "/connectors/a/offsets", nil, &offs)
	if len(offs.Offsets) != 1 || offs.Offsets[0].Offset["kafka_offset"] != 2.0 ||
		offs.Offsets[0].Partition["kafka_partition"] != 0.0 {
		t.Errorf("offsets after alter: %+v", offs)
	}
	var topics map[string]map[string][]string
	f.expect(http.StatusOK, "GET", "/connectors/a/topics", nil, &topics)
	if !slices.Equal(topics["a"]["topics"], []string{f.topic}) {
		t.Errorf("topics: %v", topics)
	}
	f.expectError(http.StatusForbidden, "PUT", "/connectors/a/topics/reset", nil,
		"Topic tracking reset is disabled.")
	f.expect(http.StatusOK, "DELETE", "/connectors/a/offsets", nil, &msg)
	if !strings.Contains(msg.Message, "have been reset successfully") {
		t.Errorf("reset: %+v", msg)
	}
	f.expect(http.StatusOK, "GET", "/connectors/a/offsets", nil, &offs)
	if len(offs.Offsets) != 0 {
		t.Errorf("offsets after reset: %+v", offs)
	}
	f.expect(http.StatusAccepted, "PUT", "/connectors/a/resume", nil, nil)
	f.waitState("a", "RUNNING", 2)
	waitOffsets(t, f, "a", 10) // replayed from the start after the reset

	testPlugins(t, f)

	// Loggers.
	var levels map[string]loggerLevel
	f.expect(http.StatusOK, "GET", "/admin/loggers", nil, &levels)
	if levels["root"].Level != "INFO" || levels["root"].LastModified != nil {
		t.Errorf("loggers: %+v", levels)
	}
	var changed []string
	f.expect(http.StatusOK, "PUT", "/admin/loggers/worker", map[string]any{"level": "debug"}, &changed)
	if !slices.Equal(changed, []string{"worker"}) {
		t.Errorf("set logger: %v", changed)
	}
	var ll loggerLevel
	f.expect(http.StatusOK, "GET", "/admin/loggers/worker", nil, &ll)
	if ll.Level != "DEBUG" || ll.LastModified == nil {
		t.Errorf("logger: %+v", ll)
	}
	f.expect(http.StatusNoContent, "PUT", "/admin/loggers/worker?scope=cluster",
		map[string]any{"level": "WARN"}, nil)
	f.expectError(http.StatusNotFound, "PUT", "/admin/loggers/worker", map[string]any{"level": "LOUD"},
		"invalid log level 'LOUD'.")
	f.expectError(http.StatusBadRequest, "PUT", "/admin/loggers/worker", map[string]any{},
		"Desired 'level' parameter was not specified in request.")
	f.expectError(http.StatusNotFound, "GET", "/admin/loggers/nope", nil, "Logger nope not found.")

	// A connector a file owns refuses API config changes.
	must(t, f.w.Create(context.Background(), "owned", map[string]string{
		"connector.class": "fake", "topics": f.topic, "fake.required": "y",
	}, store.TargetStopped, "pipelines/owned.yaml"))
	f.expectError(http.StatusConflict, "PUT", "/connectors/owned/config", f.sinkConfig(),
		"connector owned is declared in pipelines/owned.yaml")
	f.expectError(http.StatusConflict, "DELETE", "/connectors/owned", nil, "pipelines/owned.yaml")

	// Requests the server refuses before reading them.
	if got, body, _ := f.do("POST", "/connectors", "name=x", "Content-Type",
		"application/x-www-form-urlencoded"); got != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d %s", got, body)
	}
	big := `{"name":"x","config":{"k":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`
	f.expectError(http.StatusRequestEntityTooLarge, "POST", "/connectors", big, "larger than")
	f.expectError(http.StatusBadRequest, "POST", "/connectors", "{", "invalid JSON")

	// Delete, and create stopped.
	f.expect(http.StatusNoContent, "DELETE", "/connectors/a", nil, nil)
	f.expectError(http.StatusNotFound, "GET", "/connectors/a", nil, "Connector a not found")
	f.expect(http.StatusCreated, "POST", "/connectors", map[string]any{
		"name": "p", "config": f.sinkConfig(), "initial_state": "paused",
	}, nil)
	f.waitState("p", "PAUSED", 2)
	f.expect(http.StatusCreated, "POST", "/connectors", map[string]any{
		"name": "s", "config": f.sinkConfig(), "initial_state": "STOPPED",
	}, nil)
	f.waitState("s", "STOPPED", 0)
}

// waitOffsets polls until the connector has committed n records in all.
func waitOffsets(t *testing.T, f *fixture, name string, n int64) {
	t.Helper()
	f.waitFor(func() bool {
		var offs connectorOffsets
		f.expect(http.StatusOK, "GET", "/connectors/"+name+"/offsets", nil, &offs)
		var sum int64
		for _, o := range offs.Offsets {
			v, _ := o.Offset["kafka_offset"].(float64)
			sum += int64(v)
		}
		return sum == n
	}, "offsets of "+name)
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t, Options{BasicUser: "admin", BasicPassword: "pw-1234", BearerToken: "tok-5678"})
	for _, c := range []struct {
		name   string
		header []string
		want   int
	}{
		{"none", nil, http.StatusUnauthorized},
		{"wrong password", []string{"Authorization", basic("admin", "nope")}, http.StatusUnauthorized},
		{"wrong user", []string{"Authorization", basic("root", "pw-1234")}, http.StatusUnauthorized},
		{"basic", []string{"Authorization", basic("admin", "pw-1234")}, http.StatusOK},
		{"wrong token", []string{"Authorization", "Bearer tok"}, http.StatusUnauthorized},
		{"bearer", []string{"Authorization", "Bearer tok-5678"}, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, body, hdr := f.do("GET", "/connectors", nil, c.header...)
			if got != c.want {
				t.Fatalf("status %d, want %d: %s", got, c.want, body)
			}
			if got == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
