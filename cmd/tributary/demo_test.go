package main

import (
	"bytes"
	"context"
	"path/filepath"
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
		out: filepath.Join(t.TempDir(), "out"), rows: 20000, partitions: 2,
		flushSize: 5000, format: "parquet",
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
		{[]string{"--rows", "0", "--partitions", "-2", "--format", "csv"}, []string{
			"--rows must be at least 1, got 0",
			"--partitions must be at least 1, got -2",
			`--format: unknown format "csv"`,
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			cmd := newRootCmd()
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(append([]string{"demo", "--out", filepath.Join(t.TempDir(), "out")},
				tt.args...))
			err := cmd.ExecuteContext(context.Background())
			if err == nil {
				t.Fatal("the demo accepted bad flags")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if out.Len() > 0 {
				t.Errorf("the demo started before refusing its flags:\n%s", out.String())
			}
		})
	}
}
