package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/schemas/registry"
)

// TestLoadCommandSummary checks that tributary load bookings prints its
// summary once when the load succeeds and not at all when it fails.
func TestLoadCommandSummary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kafka, ts := startTestRegistry(ctx, t, registry.Auth{})

	run := func(registryURL string, extra ...string) (stdout, stderr string, err error) {
		var out, errOut bytes.Buffer
		cmd := newRootCmd()
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(append([]string{"load", "bookings", "--topic", "loaded", "--limit", "300",
			"--bootstrap-servers", strings.Join(kafka.ListenAddrs(), ","),
			"--schema-registry-url", registryURL}, extra...))
		err = cmd.ExecuteContext(ctx)
		return out.String(), errOut.String(), err
	}

	out, errOut, err := run(ts.URL)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, errOut)
	}
	want := "produced 300 bookings to loaded (schema id 1, 0 rejected) in "
	if !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("load printed %q, want one line starting %q", out, want)
	}
	if strings.Contains(errOut, "produced") || strings.Contains(errOut, "loaded") {
		t.Errorf("load repeated its summary on standard error:\n%s", errOut)
	}

	// A registry that is down fails the load before anything is produced.
	down := httptest.NewServer(nil)
	down.Close()
	out, _, err = run(down.URL)
	if err == nil || !strings.Contains(err.Error(), "register booking schema") {
		t.Errorf("load with the registry down: %v, want a registration error", err)
	}
	if out != "" {
		t.Errorf("a failed load printed a summary: %q", out)
	}

	// A key field the loader does not know is refused before anything runs.
	out, _, err = run(ts.URL, "--key", "country")
	if err == nil || !strings.Contains(err.Error(), `key: "country" is not a key field`) || out != "" {
		t.Errorf("load --key country: %v, printed %q; want the key refused", err, out)
	}
}
