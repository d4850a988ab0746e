package services

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestUniqueName(t *testing.T) {
	topicRE := regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	bucketRE := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	long := strings.Repeat("Sub/Test_", 40)
	tests := []struct {
		name     string
		testName string
		max      int
		lower    bool
		prefix   string
	}{
		{"topic keeps case", "TestSink/Parquet", 200, false, "it-TestSink-Parquet-"},
		{"bucket lower-cased", "TestSink/Parquet", 63, true, "it-testsink-parquet-"},
		{"runs collapse", "Test__a//b  c", 63, true, "it-test-a-b-c-"},
		{"trailing junk dropped", "Test#1/", 63, true, "it-test-1-"},
		{"long bucket cut", long, 63, true, "it-sub-test-sub-test-"},
		{"long topic cut", long, 200, false, "it-Sub-Test-Sub-Test-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := uniqueName(tt.testName, tt.max, tt.lower)
			if !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("uniqueName(%q) = %q, want prefix %q", tt.testName, got, tt.prefix)
			}
			if len(got) > tt.max {
				t.Errorf("uniqueName(%q) = %q, %d bytes, want at most %d",
					tt.testName, got, len(got), tt.max)
			}
			if strings.Contains(got, "--") {
				t.Errorf("uniqueName(%q) = %q has an empty segment", tt.testName, got)
			}
			re := topicRE
			if tt.lower {
				re = bucketRE
			}
			if !re.MatchString(got) {
				t.Errorf("uniqueName(%q) = %q, not a valid name", tt.testName, got)
			}
			if again := uniqueName(tt.testName, tt.max, tt.lower); again == got {
				t.Errorf("uniqueName(%q) returned %q twice", tt.testName, got)
			}
		})
	}
}

// fatalTB records Fatalf instead of stopping the goroutine, so a test can
// look at what Require reports.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestRequireFailsWhenUnset(t *testing.T) {
	for _, name := range []string{envKafkaBrokers, envKafkaHome, envS3Endpoint,
		envS3AccessKey, envS3SecretKey, envPython} {
		t.Setenv(name, "")
	}
	t.Setenv(envKafkaBrokers, "127.0.0.1:1, 127.0.0.1:2")
	t.Setenv(envS3AccessKey, "key")

	tb := &fatalTB{TB: t}
	e := Require(tb)
	for _, want := range []string{"make test", envS3Endpoint, envS3SecretKey, envPython,
		envKafkaHome} {
		if !strings.Contains(tb.msg, want) {
			t.Errorf("Require message %q does not mention %q", tb.msg, want)
		}
	}
	for _, set := range []string{envKafkaBrokers, envS3AccessKey} {
		if strings.Contains(tb.msg, set) {
			t.Errorf("Require message %q names %s, which is set", tb.msg, set)
		}
	}
	if got := strings.Join(e.KafkaBrokers, ","); got != "127.0.0.1:1,127.0.0.1:2" {
		t.Errorf("KafkaBrokers = %q, want the two brokers trimmed", got)
	}
}

func TestRequireReadsAll(t *testing.T) {
	t.Setenv(envKafkaBrokers, "127.0.0.1:9092")
	t.Setenv(envKafkaHome, "/cache/kafka")
	t.Setenv(envS3Endpoint, "127.0.0.1:9000")
	t.Setenv(envS3AccessKey, "ak")
	t.Setenv(envS3SecretKey, "sk")
	t.Setenv(envPython, "/cache/venv/bin/python")

	tb := &fatalTB{TB: t}
	got := Require(tb)
	if tb.msg != "" {
		t.Fatalf("Require failed: %s", tb.msg)
	}
	want := Env{
		KafkaBrokers: []string{"127.0.0.1:9092"},
		S3Endpoint:   "127.0.0.1:9000",
		S3AccessKey:  "ak",
		S3SecretKey:  "sk",
		Python:       "/cache/venv/bin/python",
		KafkaHome:    "/cache/kafka",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Require = %+v, want %+v", got, want)
	}
}
