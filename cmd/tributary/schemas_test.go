package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-io/tributary/schemas/registry"
)

// TestSchemasCommand drives tributary schemas against an in-process
// registry that requires basic auth, and checks what each subcommand
// prints and what the registry holds afterwards.
func TestSchemasCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, ts := startTestRegistry(ctx, t, registry.Auth{BasicUser: "eng", BasicPassword: "pw"})

	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	v1 := write("v1.avsc", `{"type":"record","name":"Order","namespace":"acme",
		"fields":[{"name":"id","type":"long"}]}`)
	v2 := write("v2.avsc", `{"type":"record","name":"Order","namespace":"acme",
		"fields":[{"name":"id","type":"long"},{"name":"note","type":"string","default":""}]}`)
	bad := write("bad.avsc", `{"type":"record","name":"Order","namespace":"acme",
		"fields":[{"name":"id","type":"string"}]}`)

	run := func(args ...string) (string, error) {
		cmd := newRootCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"schemas", "--schema-registry-url", ts.URL,
			"--user", "eng", "--password", "pw"}, args...))
		err := cmd.ExecuteContext(ctx)
		return out.String(), err
	}
	expect := func(want string, args ...string) {
		t.Helper()
		out, err := run(args...)
		if err != nil || out != want {
			t.Errorf("schemas %v = %q, %v; want %q", args, out, err, want)
		}
	}

	expect("id 1 version 1\n", "register", "orders-value", v1)
	expect("id 1 version 1\n", "register", "orders-value", v1)
	expect("compatible\n", "check", "orders-value", v2)
	expect("id 2 version 2\n", "register", "orders-value", v2)
	expect("id 2 version 1\n", "register", "other", v2)
	expect("orders-value\nother\n", "list")
	expect("1\n2\n", "versions", "orders-value")
	// The registry serves its canonical rendering, not the file's text.
	canon1 := `{"name":"acme.Order","type":"record","fields":[{"name":"id","type":"long"}]}`
	expect(canon1+"\n", "get", "1")
	expect("subject orders-value version 1 id 1\n"+canon1+"\n", "get", "orders-value", "1")
	out, err := run("get", "orders-value")
	if err != nil || !strings.HasPrefix(out, "subject orders-value version 2 id 2\n") {
		t.Errorf("get orders-value = %q, %v", out, err)
	}

	// An incompatible schema prints why and fails; against version 1 alone
	// the verdict is the same, since the field's type changed.
	for _, args := range [][]string{{"check", "orders-value", bad},
		{"check", "orders-value", bad, "--version", "1"}} {
		out, err = run(args...)
		if !errors.Is(err, errIncompatible) || !strings.HasPrefix(out, "incompatible\n  ") ||
			!strings.Contains(out, "id") {
			t.Errorf("%v = %q, %v; want incompatible with reasons", args, out, err)
		}
	}

	expect("BACKWARD\n", "config")
	expect("BACKWARD\n", "config", "orders-value")
	expect("NONE\n", "config", "orders-value", "--set", "none")
	expect("NONE\n", "config", "orders-value")
	expect("BACKWARD\n", "config")
	expect("compatible\n", "check", "orders-value", bad)

	expect("soft-deleted orders-value versions [1]\n", "delete", "orders-value", "1")
	expect("2\n", "versions", "orders-value")
	expect("soft-deleted other versions [1]\n", "delete", "other")
	expect("orders-value\n", "list")
	expect("orders-value\nother\n", "list", "--deleted")
	expect("permanently deleted other versions [1]\n", "delete", "other", "--permanent")
	expect("orders-value\n", "list", "--deleted")
	expect("permanently deleted orders-value versions [2]\n", "delete", "orders-value", "2",
		"--permanent")

	// Errors name what was missing, and wrong credentials are refused.
	if _, err := run("versions", "nobody"); !errors.Is(err, registry.ErrSubjectNotFound) {
		t.Errorf("versions nobody: %v, want subject not found", err)
	}
	_, err = run("get", "nobody")
	if !errors.Is(err, registry.ErrSubjectNotFound) ||
		!strings.Contains(err.Error(), "get nobody latest version: ") {
		t.Errorf("get nobody: %v, want subject not found naming the latest version", err)
	}
	if _, err := run("get", "orders-value", "0"); err == nil {
		t.Error("get with version 0 succeeded")
	}
	cmd := newRootCmd()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"schemas", "--schema-registry-url", ts.URL, "--user", "eng",
		"--password", "wrong", "list"})
	if err := cmd.ExecuteContext(ctx); !errors.Is(err, registry.ErrAccessDenied) {
		t.Errorf("list with a wrong password: %v, want access denied", err)
	}

	// The URL and credentials may come from the environment instead.
	t.Setenv("TRIBUTARY_SCHEMA_REGISTRY_URL", "http://127.0.0.1:1, "+ts.URL+"/")
	t.Setenv("TRIBUTARY_SCHEMA_REGISTRY_USER", "eng")
	t.Setenv("TRIBUTARY_SCHEMA_REGISTRY_PASSWORD", "pw")
	var listed bytes.Buffer
	cmd = newRootCmd()
	cmd.SetOut(&listed)
	cmd.SetArgs([]string{"schemas", "list", "--deleted"})
	if err := cmd.ExecuteContext(ctx); err != nil || listed.String() != "orders-value\n" {
		t.Errorf("list with the URL from the environment = %q, %v", listed.String(), err)
	}
}

// TestRegistryListenerSettings checks that tributary registry refuses
// half-configured credentials and an unreadable certificate before it
// starts anything.
func TestRegistryListenerSettings(t *testing.T) {
	log := newLogger(&bytes.Buffer{}, 0, "text")
	for _, tt := range []struct {
		name string
		lis  registryListener
		want string
	}{
		{"user without password", registryListener{auth: registry.Auth{BasicUser: "u"}},
			envRegistryPassword},
		{"password without user", registryListener{auth: registry.Auth{BasicPassword: "p"}},
			"--basic-auth-user"},
		{"missing certificate", registryListener{certFile: filepath.Join(t.TempDir(), "none.pem"),
			keyFile: "none.key"}, "load schema registry certificate"},
	} {
		_, _, err := startRegistry(context.Background(), log, []string{"127.0.0.1:1"},
			"127.0.0.1:0", "_schemas", tt.lis)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %q", tt.name, err, tt.want)
		}
	}
}

// startTestRegistry starts an embedded broker and a registry stored in it,
// served over HTTP; the test's cleanup stops them.
func startTestRegistry(ctx context.Context, t *testing.T, auth registry.Auth) (
	*kfake.Cluster, *httptest.Server,
) {
	t.Helper()
	kafka, err := kfake.NewCluster(kfake.NumBrokers(1))
	must(t, err)
	t.Cleanup(kafka.Close)
	srv, err := registry.NewServer(ctx, registry.ServerConfig{Brokers: kafka.ListenAddrs(),
		Auth: auth})
	must(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	return kafka, ts
}
