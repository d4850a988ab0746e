package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the demo on the embedded broker and checks what it reports:
// nothing but Go is needed.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := runDemo(ctx, &out, demoOptions{
		regTopic: "_schemas", out: filepath.Join(t.TempDir(), "out"), rows: 20000,
		partitions: 2, flushSize: 5000, format: "parquet",
	})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"loaded     20000 bookings",
		"wrote      20000 rows in ",
		"verified   0 missing, 0 duplicated offsets",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

// TestDemoRefusesBadFlags checks that bad flags stop the demo before it
// starts a broker or loads anything, with every problem named at once.
func TestDemoRefusesBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--rows", "0"}, []string{"--rows must be at least 1, got 0"}},
		{[]string{"--rows", "-5"}, []string{"--rows must be at least 1, got -5"}},
		{[]string{"--partitions", "0"}, []string{"--partitions must be at least 1, got 0"}},
		{[]string{"--flush-size", "0"}, []string{"--flush-size must be at least 1, got 0"}},
		{[]string{"--flush-size", "-1"}, []string{"--flush-size must be at least 1, got -1"}},
		{[]string{"--format", "orc"},
			[]string{`--format: unknown format "orc": want parquet, avro or json`}},
		{[]string{"--registry-topic", ""}, []string{"--registry-topic must not be empty"}},
		{[]string{"--s3-secret-key", "s"},
			[]string{"--s3-access-key and --s3-secret-key go together"}},
		{[]string{"--rows", "0", "--partitions", "-2", "--format", "csv"}, []string{
			"--rows must be at least 1, got 0",
			"--partitions must be at least 1, got -2",
			`--format: unknown format "csv"`,
		}},
	}
	// An --out that cannot be a directory: below a regular file.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests = append(tests, struct {
		args []string
		want []string
	}{[]string{"--out", filepath.Join(file, "out")}, []string{"--out: mkdir " + file}})
	clearS3Env(t)
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := demoRefuses(t, tt.args...)
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// demoRefuses runs the demo with args and returns the error it must refuse
// them with before it starts anything.
func demoRefuses(t *testing.T, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"demo", "--out", filepath.Join(t.TempDir(), "out")}, args...))
	err := cmd.ExecuteContext(context.Background())
	if err == nil {
		t.Fatal("the demo accepted bad flags")
	}
	if out.Len() > 0 {
		t.Errorf("the demo started before refusing its flags:\n%s", out.String())
	}
	return err
}

// clearS3Env unsets, for the test, the variables the demo's S3 keys
// default to.
func clearS3Env(t *testing.T) {
	for _, v := range []string{"TRIBUTARY_S3_ACCESS_KEY", "TRIBUTARY_S3_SECRET_KEY",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(v, "")
	}
}

// TestDemoS3KeysFromEnv checks that the demo's S3 keys default to the
// variables integration/services.sh env exports, then to AWS's.
func TestDemoS3KeysFromEnv(t *testing.T) {
	clearS3Env(t)
	const half = "--s3-access-key and --s3-secret-key go together"
	t.Setenv("TRIBUTARY_S3_ACCESS_KEY", "k")
	if err := demoRefuses(t, "--rows", "0"); !strings.Contains(err.Error(), half) {
		t.Errorf("TRIBUTARY_S3_ACCESS_KEY alone: error %q lacks %q", err, half)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	if err := demoRefuses(t, "--rows", "0"); strings.Contains(err.Error(), half) {
		t.Errorf("TRIBUTARY_S3_ACCESS_KEY with AWS_SECRET_ACCESS_KEY: %q", err)
	}
	// A flag wins over its variables.
	if err := demoRefuses(t, "--rows", "0", "--s3-secret-key", ""); !strings.Contains(
		err.Error(), half) {
		t.Errorf("--s3-secret-key '': error %q lacks %q", err, half)
	}
}

// TestDemoWithoutS3Keys checks that an S3 endpoint refusing a demo run
// without keys is explained, rather than left as a bare access denied.
func TestDemoWithoutS3Keys(t *testing.T) {
	clearS3Env(t)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`)
	}))
	defer s3.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := runDemo(ctx, &out, demoOptions{
		regTopic: "_schemas", s3Endpoint: s3.URL, s3Bucket: "bkt", rows: 10, partitions: 1,
		flushSize: 10, format: "json",
	})
	want := "no S3 access key was given: pass --s3-access-key and --s3-secret-key, " +
		"or export TRIBUTARY_S3_ACCESS_KEY and TRIBUTARY_S3_SECRET_KEY"
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") ||
		!strings.Contains(err.Error(), want) {
		t.Errorf("demo without S3 keys: error %v, want access denied and %q", err, want)
	}
	if !strings.Contains(out.String(), "s3         no access key given") {
		t.Errorf("demo output does not say that no key was given:\n%s", out.String())
	}
}

// TestDemoSinkConfigEndpoint checks that a bare host:port, the form of
// TRIBUTARY_S3_ENDPOINT, is taken as an http URL.
func TestDemoSinkConfigEndpoint(t *testing.T) {
	for endpoint, want := range map[string]string{
		"127.0.0.1:9000":          "http://127.0.0.1:9000",
		"https://s3.example.com":  "https://s3.example.com",
		"http://minio.local:9000": "http://minio.local:9000",
	} {
		cfg, where, err := demoSinkConfig(demoOptions{s3Endpoint: endpoint, s3Bucket: "bkt",
			format: "json", flushSize: 1}, "t")
		if err != nil || cfg["store.url"] != want || where != "s3://bkt" {
			t.Errorf("--s3-endpoint %s: store.url %q at %s, %v; want %s", endpoint,
				cfg["store.url"], where, err, want)
		}
	}
}

// TestDemoTopic checks that two runs get different topics, even in the
// same second.
func TestDemoTopic(t *testing.T) {
	a, b := demoTopic(), demoTopic()
	re := regexp.MustCompile(`^bookings-[0-9]{10}-[a-z2-7]{6}$`)
	if a == b || !re.MatchString(a) || !re.MatchString(b) {
		t.Errorf("demo topics %q and %q, want two distinct names matching %s", a, b, re)
	}
}
