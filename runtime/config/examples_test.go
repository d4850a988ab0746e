package config

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/viper"
)

// examples is the directory of the example configs shipped with Tributary.
const examples = "../../configs"

// TestExamples loads and validates every file under configs/, so that the
// examples cannot drift from what the code accepts. Files directly in
// configs/ are worker configs; configs/connectors holds connector files.
func TestExamples(t *testing.T) {
	clearWorkerEnv(t)
	entries, err := os.ReadDir(examples)
	if err != nil {
		t.Fatal(err)
	}
	workers := 0
	for _, e := range entries {
		path := filepath.Join(examples, e.Name())
		switch {
		case e.IsDir() && e.Name() == "connectors":
			if _, err := LoadConnectorDir(path); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			continue
		case e.IsDir():
			t.Errorf("%s: no test loads this directory; teach TestExamples about it", path)
			continue
		}
		v := viper.New()
		v.Set(ViperConfigFile, path)
		w, err := LoadWorker(v)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		workers++
		// A worker config's connectors must load too.
		if _, err := w.LoadConnectors(); err != nil {
			t.Errorf("%s: connectors: %v", path, err)
		}
	}
	if workers == 0 {
		t.Errorf("no worker config in %s", examples)
	}
}

// The main demo job: what the demo and the integration tests rely on.
func TestExampleBookingsS3(t *testing.T) {
	clearWorkerEnv(t)
	v := viper.New()
	v.Set(ViperConfigFile, filepath.Join(examples, "worker.yaml"))
	w, err := LoadWorker(v)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.BootstrapServers, []string{"127.0.0.1:9092"}) ||
		w.RESTAddr() != "127.0.0.1:8083" ||
		len(w.SchemaRegistryURLs) != 0 || w.RegistryListener != "127.0.0.1:8081" {
		t.Errorf("worker: %+v", w)
	}
	cs, err := w.LoadConnectors()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cs, func(c *Connector) bool { return c.Name == "bookings-s3" })
	if i < 0 {
		t.Fatalf("no bookings-s3 among %d connectors", len(cs))
	}
	c := cs[i]

	cm, errs := c.Common()
	if len(errs) > 0 || cm.Class != "s3" || cm.TasksMax != 2 ||
		!slices.Equal(cm.Topics, []string{"bookings"}) {
		t.Errorf("common: %+v, errors %v", cm, errs)
	}
	want := map[string]string{
		"format.class":          "parquet",
		"flush.size":            "10000",
		"partitioner.class":     "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
		"path.format":           "'year'=YYYY/'month'=MM/'day'=dd",
		"partition.duration.ms": "86400000",
		"timezone":              "UTC",
		"locale":                "en-US",
		"timestamp.extractor":   "RecordField",
		"timestamp.field":       "arrival_date",
		"s3.bucket.name":        "tributary",
		"store.url":             "http://127.0.0.1:9000",
		"topics.dir":            "topics",
		"aws.access.key.id":     "${env:TRIBUTARY_S3_ACCESS_KEY}",
		"aws.secret.access.key": "${env:TRIBUTARY_S3_SECRET_KEY}",
	}
	for k, v := range want {
		if c.Config[k] != v {
			t.Errorf("%s = %q, want %q", k, c.Config[k], v)
		}
	}

	env := map[string]string{"TRIBUTARY_S3_ACCESS_KEY": "minio", "TRIBUTARY_S3_SECRET_KEY": "minio123"}
	resolved, err := Resolve(c.Config, func(n string) (string, bool) { v, ok := env[n]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if resolved["aws.access.key.id"] != "minio" || resolved["aws.secret.access.key"] != "minio123" {
		t.Errorf("resolved credentials %q %q",
			resolved["aws.access.key.id"], resolved["aws.secret.access.key"])
	}
	delete(resolved, "aws.access.key.id")
	delete(resolved, "aws.secret.access.key")
	rest := maps.Clone(c.Config)
	delete(rest, "aws.access.key.id")
	delete(rest, "aws.secret.access.key")
	if !maps.Equal(resolved, rest) {
		t.Errorf("Resolve changed keys without references: %v", resolved)
	}
}
