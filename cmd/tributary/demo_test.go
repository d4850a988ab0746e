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
