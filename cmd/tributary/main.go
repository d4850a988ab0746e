// Command tributary is the Tributary worker and its tools: it runs
// connectors (worker), loads the booking dataset into Kafka (load), checks a
// sink's output against its topic (verify), and runs the whole pipeline in
// one process (demo).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errReported is returned by commands that have printed their own failure,
// so that main only sets the exit status.
var errReported = errors.New("reported")

func main() {
	tuneMemory()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRootCmd().ExecuteContext(ctx)
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "tributary",
		Short:         "Move actions from Kafka into storage, exactly once",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newWorkerCmd(), newLoadCmd(), newVerifyCmd(), newDemoCmd(), newRegistryCmd(),
		newConnectorsCmd(), newSchemasCmd(), newDLQCmd(), newPlanCmd())
	for _, c := range root.Commands() {
		requireSubcommand(c)
	}
	return root
}

// requireSubcommand makes a group of commands, such as connectors, print
// its help when run bare and fail on an unknown subcommand, as the root
// command does. Cobra would otherwise print the help and succeed for both.
// It applies to cmd's own subcommand groups too.
func requireSubcommand(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		requireSubcommand(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only on the root
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return errors.New(msg)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// envFlag names the environment variable a flag defaults to.
type envFlag struct{ flag, env string }

// flagsFromEnv gives each flag of vars that is not on the command line the
// value of its environment variable, when that is set. Call it from a
// PersistentPreRunE, after cobra has parsed the flags.
func flagsFromEnv(cmd *cobra.Command, vars []envFlag) error {
	for _, v := range vars {
		val, ok := os.LookupEnv(v.env)
		if !ok || val == "" || cmd.Flags().Changed(v.flag) {
			continue
		}
		if err := cmd.Flags().Set(v.flag, val); err != nil {
			return fmt.Errorf("--%s from $%s: %w", v.flag, v.env, err)
		}
	}
	return nil
}

// newLogger returns the process logger; only cmd touches slog's default.
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}
