//go:build integration

package api

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
)

// TestKafkaConnectClient has kafka-connect-py, a Kafka Connect client from
// PyPI, create, inspect, pause, resume and delete an S3 sink connector.
func TestKafkaConnectClient(t *testing.T) {
	e := services.Require(t)
	topic, bucket := services.NewTopic(t, e, 2), services.NewBucket(t, e)
	w := startWorker(t, e, registrytest.Start(t, e))
	// The connector's name names its consumer group: one of its own keeps
	// the offsets of other runs on the shared Kafka out of this one.
	name := "py-sink-" + topic

	cfg, err := json.Marshal(s3Config(e, topic, bucket, e.S3SecretKey))
	must(t, err)
	cmd := exec.Command(e.Python, "client.py", w.url, name, string(cfg))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client.py: %v\n%s", err, out)
	}
	var seen struct {
		Cluster map[string]string `json:"cluster"`
		Created struct {
			Name   string            `json:"name"`
			Config map[string]string `json:"config"`
			Type   string            `json:"type"`
		} `json:"created"`
		Listed   []string                  `json:"listed"`
		Expanded map[string]map[string]any `json:"expanded"`
		Config   map[string]string         `json:"config"`
		Running  state                     `json:"running"`
		Tasks    []map[string]any          `json:"tasks"`
		Task0    map[string]any            `json:"task0"`
		Plugins  []map[string]string       `json:"plugins"`
		Valid    struct {
			ErrorCount int `json:"error_count"`
			Configs    []struct {
				Definition *struct {
					Name string `json:"name"`
				} `json:"definition"`
				Value struct {
					Name   string   `json:"name"`
					Errors []string `json:"errors"`
				} `json:"value"`
			} `json:"configs"`
		} `json:"validated"`
		Paused  state    `json:"paused"`
		Resumed state    `json:"resumed"`
		After   []string `json:"after_delete"`
	}
	must(t, json.Unmarshal(out, &seen))
	if seen.Cluster["kafka_cluster_id"] == "" || seen.Cluster["version"] == "" {
		t.Errorf("cluster info: %v", seen.Cluster)
	}
	if seen.Created.Name != name || seen.Created.Type != "sink" ||
		seen.Created.Config["aws.secret.access.key"] != "[hidden]" {
		t.Errorf("created: %+v", seen.Created)
	}
	if !slices.Equal(seen.Listed, []string{name}) || seen.Expanded[name]["status"] == nil {
		t.Errorf("listed %v, expanded %v", seen.Listed, seen.Expanded)
	}
	if seen.Config["topics"] != topic || seen.Config["tasks.max"] != "2" {
		t.Errorf("config: %v", seen.Config)
	}
	if len(seen.Running.Tasks) != 2 || len(seen.Tasks) != 2 || seen.Task0["state"] != "RUNNING" {
		t.Errorf("running %+v, tasks %v, task 0 %v", seen.Running, seen.Tasks, seen.Task0)
	}
	if seen.Paused.Connector.State != "PAUSED" || seen.Resumed.Connector.State != "RUNNING" {
		t.Errorf("paused %+v, resumed %+v", seen.Paused, seen.Resumed)
	}
	if len(seen.After) != 0 {
		t.Errorf("after delete: %v", seen.After)
	}
	found := false
	for _, p := range seen.Plugins {
		found = found || (p["class"] == "io.confluent.connect.s3.S3SinkConnector" &&
			p["type"] == "sink")
	}
	if !found {
		t.Errorf("plugins: %v", seen.Plugins)
	}
	defined, errs := map[string]bool{}, map[string][]string{}
	for _, c := range seen.Valid.Configs {
		if c.Definition != nil {
			defined[c.Definition.Name] = true
		}
		if len(c.Value.Errors) > 0 {
			errs[c.Value.Name] = c.Value.Errors
		}
	}
	if seen.Valid.ErrorCount != 0 || !defined["s3.bucket.name"] || !defined["flush.size"] ||
		!defined["errors.tolerance"] {
		t.Errorf("validated: errors %v, definitions %v", errs, defined)
	}
}

// TestConnectorSurvivesRestart creates a connector through the API of a
// standalone worker, lets it commit, pauses it, restarts the worker and
// finds the connector there again, paused, with the same offsets; resumed,
// it goes on from them.
func TestConnectorSurvivesRestart(t *testing.T) {
	e := services.Require(t)
	topic, bucket := services.NewTopic(t, e, 2), services.NewBucket(t, e)
	reg := registrytest.Start(t, e)
	loadBookings(t, e, topic, reg, 40)
	w := startWorker(t, e, reg)
	name := "kept-" + topic // its own consumer group, as in TestKafkaConnectClient
	conn := "/connectors/" + name

	// The records spread over both partitions in shares that flush.size
	// need not divide: the scheduled rotation commits the rest.
	cfg := s3Config(e, topic, bucket, e.S3SecretKey)
	cfg["rotate.schedule.interval.ms"], cfg["timezone"] = 1000, "UTC"
	status, body := w.call("POST", "/connectors", map[string]any{"name": name, "config": cfg})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	waitFor(t, 2*time.Minute, "40 records committed", func() bool {
		return w.committed(name) == 40
	})
	if status, body := w.call("PUT", conn+"/pause", nil); status != http.StatusAccepted {
		t.Fatalf("pause: %d %s", status, body)
	}
	w.waitState(name, "PAUSED", 2)
	w.stop()

	w.start()
	var names []string
	w.get("/connectors", &names)
	if !slices.Equal(names, []string{name}) {
		t.Fatalf("after restart the worker has %v, want [%s]", names, name)
	}
	var stored map[string]string
	w.get(conn+"/config", &stored)
	if stored["topics"] != topic || stored["s3.bucket.name"] != bucket {
		t.Errorf("config after restart: %v", stored)
	}
	w.waitState(name, "PAUSED", 2)
	if got := w.committed(name); got != 40 {
		t.Errorf("offsets after restart sum to %d, want 40", got)
	}

	loadBookings(t, e, topic, reg, 20)
	if status, body := w.call("PUT", conn+"/resume", nil); status != http.StatusAccepted {
		t.Fatalf("resume: %d %s", status, body)
	}
	w.waitState(name, "RUNNING", 2)
	waitFor(t, 2*time.Minute, "60 records committed", func() bool {
		return w.committed(name) == 60
	})

	// The bucket decides where the S3 sink resumes, so a reset that could
	// not replay anything is refused, and so is one while it runs.
	if status, body := w.call("DELETE", conn+"/offsets", nil); status != http.StatusBadRequest ||
		!strings.Contains(string(body), "STOPPED state") {
		t.Errorf("reset while running: %d %s", status, body)
	}
	if status, body := w.call("PUT", conn+"/stop", nil); status != http.StatusNoContent {
		t.Fatalf("stop: %d %s", status, body)
	}
	w.waitState(name, "STOPPED", 0)
	status, body = w.call("DELETE", conn+"/offsets", nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body),
		"after a reset the sink would resume after them and write nothing again") {
		t.Errorf("reset of a storage sink: %d %s", status, body)
	}
	if got := w.committed(name); got != 60 {
		t.Errorf("a refused reset changed the offsets: sum %d, want 60", got)
	}
}

// TestSecretNeverShown gives the S3 secret as ${env:...} and checks that
// its value appears in no response, no log line and no error, including a
// validation error about a key whose resolved value is the secret.
func TestSecretNeverShown(t *testing.T) {
	e := services.Require(t)
	topic, bucket := services.NewTopic(t, e, 1), services.NewBucket(t, e)
	reg := registrytest.Start(t, e)
	loadBookings(t, e, topic, reg, 10)
	const secret = "s3cr3t-" + "value-never-shown"
	w := startWorker(t, e, reg, "API_TEST_S3_SECRET="+e.S3SecretKey, "API_TEST_OTHER="+secret)
	name := "secretive-" + topic // its own consumer group, as in TestKafkaConnectClient
	conn := "/connectors/" + name

	// The connector really authenticates with the resolved secret: it
	// writes and commits.
	cfg := s3Config(e, topic, bucket, "${env:API_TEST_S3_SECRET}")
	cfg["other.password"] = "${env:API_TEST_OTHER}"
	var bodies []string
	record := func(status int, body []byte) (int, []byte) {
		bodies = append(bodies, string(body))
		return status, body
	}
	if status, body := record(w.call("POST", "/connectors", map[string]any{
		"name": name, "config": cfg})); status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	waitFor(t, 2*time.Minute, "10 records committed", func() bool {
		return w.committed(name) == 10
	})

	for _, path := range []string{conn, conn + "/config", conn + "/tasks", conn + "/status",
		"/connectors?expand=status&expand=info", conn + "/offsets"} {
		status, body := record(w.call("GET", path, nil))
		if status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	// A value that resolves to the secret where a number is expected: the
	// error names the key but hides the value.
	bad := s3Config(e, topic, bucket, "${env:API_TEST_S3_SECRET}")
	bad["flush.size"] = "${env:API_TEST_OTHER}"
	status, body := record(w.call("PUT", conn+"/config", bad))
	if status != http.StatusBadRequest || !strings.Contains(string(body), "flush.size") ||
		!strings.Contains(string(body), "[hidden]") {
		t.Errorf("bad config: %d %s", status, body)
	}
	record(w.call("PUT", "/connector-plugins/s3/config/validate", bad))
	w.stop()

	logText := w.logText()
	if !strings.Contains(logText, "connector created") {
		t.Fatalf("the worker log lacks the connector's creation:\n%s", tail(logText, 3000))
	}
	for _, leak := range []string{secret, e.S3SecretKey} {
		for i, b := range bodies {
			if strings.Contains(b, leak) {
				t.Errorf("response %d shows the secret: %s", i, b)
			}
		}
		if strings.Contains(logText, leak) {
			t.Errorf("the worker log shows the secret")
		}
	}
	if !strings.Contains(strings.Join(bodies, "\n"), "${env:API_TEST_S3_SECRET}") {
		t.Error("the reference itself is not returned as submitted")
	}
}
