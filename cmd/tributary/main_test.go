package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestGroupCommands checks that every group of commands fails on an
// unknown subcommand, naming it, and prints its help when run bare.
func TestGroupCommands(t *testing.T) {
	run := func(args ...string) (string, error) {
		cmd := newRootCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	groups := 0
	for _, c := range newRootCmd().Commands() {
		if !c.HasSubCommands() {
			continue
		}
		groups++
		name := c.Name()
		_, err := run(name, "bogus")
		want := `unknown command "bogus" for "tributary ` + name + `"`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("tributary %s bogus: error %v, want %s", name, err, want)
		}
		out, err := run(name)
		if err != nil || !strings.Contains(out, "Available Commands:") {
			t.Errorf("tributary %s: %v, want its help, got:\n%s", name, err, out)
		}
	}
	if groups < 4 {
		t.Errorf("found %d groups of commands, want at least connectors, schemas, dlq, load",
			groups)
	}
	_, err := run("connectors", "lst")
	if err == nil || !strings.Contains(err.Error(), "did you mean get or list?") {
		t.Errorf("connectors lst: error %v lacks a suggestion", err)
	}
}
