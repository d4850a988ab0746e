package config

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

func TestResolve(t *testing.T) {
	env := map[string]string{"KEY": "AKIA-secret-id", "SECRET": "s3cr3t-value", "EMPTY": ""}
	getenv := func(name string) (string, bool) { v, ok := env[name]; return v, ok }

	cfg := map[string]string{
		"aws.access.key.id":     "${env:KEY}",
		"aws.secret.access.key": "${env:SECRET}",
		"store.url":             "http://${env:KEY}@host/${env:EMPTY}x",
		"plain":                 "no $ reference ${here",
	}
	got, err := Resolve(cfg, getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"aws.access.key.id":     "AKIA-secret-id",
		"aws.secret.access.key": "s3cr3t-value",
		"store.url":             "http://AKIA-secret-id@host/x",
		"plain":                 "no $ reference ${here",
	}
	if !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if cfg["aws.secret.access.key"] != "${env:SECRET}" {
		t.Errorf("Resolve changed its input: %v", cfg)
	}
}

func TestResolveErrors(t *testing.T) {
	getenv := func(name string) (string, bool) {
		if name == "SECRET" {
			return "s3cr3t-value", true
		}
		return "", false
	}
	cfg := map[string]string{
		"a": "${env:SECRET}-${env:MISSING}",
		"b": "${file:/etc/secrets.properties:password}",
		"c": "${env:}",
	}
	got, err := Resolve(cfg, getenv)
	if got != nil {
		t.Errorf("got config %v with errors", got)
	}
	var msgs []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe connectors.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a connectors.FieldError", e)
		}
		msgs = append(msgs, fe.Error())
	}
	want := []string{
		"a: environment variable MISSING is not set",
		`b: config provider "file" is not supported; use ${env:NAME}`,
		"c: empty environment variable name in ${env:}",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error reveals a secret: %v", err)
	}
}

func TestResolveProcessEnv(t *testing.T) {
	t.Setenv("TRIBUTARY_TEST_RESOLVE", "from-process")
	got, err := Resolve(map[string]string{"k": "${env:TRIBUTARY_TEST_RESOLVE}"}, nil)
	if err != nil || got["k"] != "from-process" {
		t.Errorf("got %v, %v; want k=from-process", got, err)
	}
}
