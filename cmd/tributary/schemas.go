package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/schemas/registry"
)

// errIncompatible makes schemas check exit non-zero once it has printed
// why a schema is incompatible.
var errIncompatible = errors.New("schema is incompatible")

// schemasCLI holds what every schemas subcommand shares: where the
// registry is and how to authenticate.
type schemasCLI struct {
	url, user, pass, token string
}

// client connects to the registry the flags name.
func (s *schemasCLI) client() (*registry.Client, error) {
	var opts []registry.ClientOption
	if s.user != "" {
		opts = append(opts, registry.WithBasicAuth(s.user, s.pass))
	}
	if s.token != "" {
		opts = append(opts, registry.WithBearerToken(s.token))
	}
	var urls []string
	for _, u := range strings.Split(s.url, ",") {
		if u = strings.TrimSuffix(strings.TrimSpace(u), "/"); u != "" {
			urls = append(urls, u)
		}
	}
	return registry.NewClient(urls, opts...)
}

// run makes a RunE that connects first.
func (s *schemasCLI) run(f func(*cobra.Command, *registry.Client, []string) error) func(
	*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cl, err := s.client()
		if err != nil {
			return err
		}
		return f(cmd, cl, args)
	}
}

func newSchemasCmd() *cobra.Command {
	s := &schemasCLI{}
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "Manage Avro schemas in a Confluent-compatible Schema Registry",
		Long: `Register, read, check and delete Avro schemas in Tributary's registry or any
Confluent-compatible one. The URL and credentials may come from
TRIBUTARY_SCHEMA_REGISTRY_URL, TRIBUTARY_SCHEMA_REGISTRY_USER,
TRIBUTARY_SCHEMA_REGISTRY_PASSWORD and TRIBUTARY_SCHEMA_REGISTRY_TOKEN instead
of flags; a flag wins over its variable.`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return flagsFromEnv(cmd, []envFlag{
				{"schema-registry-url", "TRIBUTARY_SCHEMA_REGISTRY_URL"},
				{"user", "TRIBUTARY_SCHEMA_REGISTRY_USER"},
				{"password", "TRIBUTARY_SCHEMA_REGISTRY_PASSWORD"},
				{"token", "TRIBUTARY_SCHEMA_REGISTRY_TOKEN"},
			})
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&s.url, "schema-registry-url", "http://127.0.0.1:8081",
		"Schema Registry base URL, or several separated by commas "+
			"($TRIBUTARY_SCHEMA_REGISTRY_URL)")
	f.StringVar(&s.user, "user", "", "basic auth user ($TRIBUTARY_SCHEMA_REGISTRY_USER)")
	f.StringVar(&s.pass, "password", "", "basic auth password ($TRIBUTARY_SCHEMA_REGISTRY_PASSWORD)")
	f.StringVar(&s.token, "token", "", "bearer token ($TRIBUTARY_SCHEMA_REGISTRY_TOKEN)")
	cmd.AddCommand(s.registerCmd(), s.getCmd(), s.listCmd(), s.versionsCmd(), s.checkCmd(),
		s.deleteCmd(), s.configCmd())
	return cmd
}

func (s *schemasCLI) registerCmd() *cobra.Command {
	return &cobra.Command{
		Use: "register SUBJECT FILE.avsc", Short: "Register a schema; print its id and version",
		Args: cobra.ExactArgs(2),
		RunE: s.run(func(cmd *cobra.Command, cl *registry.Client, args []string) error {
			text, err := os.ReadFile(args[1])
			if err != nil {
				return fmt.Errorf("read schema: %w", err)
			}
			v, err := cl.RegisterVersion(cmd.Context(), args[0], string(text))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "id %d version %d\n", v.ID, v.Version)
			return nil
		}),
	}
}

func (s *schemasCLI) getCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID | get SUBJECT [VERSION]",
		Short: "Print a schema by id, or a subject's version (default latest)",
		Long: `Print a schema. A lone number is a schema id; otherwise the first argument is a
subject and the second a version number or "latest".`,
		Args: cobra.RangeArgs(1, 2),
		RunE: s.run(func(cmd *cobra.Command, cl *registry.Client, args []string) error {
			out := cmd.OutOrStdout()
			if id, err := strconv.Atoi(args[0]); err == nil && len(args) == 1 {
				v, err := cl.SchemaText(cmd.Context(), id)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, v.Schema)
				return nil
			}
			version, err := parseVersion(argAt(args, 1), registry.VersionLatest)
			if err != nil {
				return err
			}
			v, err := cl.Version(cmd.Context(), args[0], version)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "subject %s version %d id %d\n%s\n", v.Subject, v.Version, v.ID, v.Schema)
			return nil
		}),
	}
}

// parseVersion reads a version argument: a positive number or "latest",
// or def when arg is empty.
func parseVersion(arg string, def int) (int, error) {
	if arg == "" {
		return def, nil
	}
	if arg == "latest" {
		return registry.VersionLatest, nil
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("version %q: want a positive number or latest", arg)
	}
	return n, nil
}

// printEach prints one item a line.
func printEach[T any](w io.Writer, items []T) {
	for _, item := range items {
		fmt.Fprintln(w, item)
	}
}

// argAt is args[i], or "" when there are fewer.
func argAt(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func (s *schemasCLI) listCmd() *cobra.Command {
	var deleted bool
	cmd := &cobra.Command{
		Use: "list", Short: "List subjects", Args: cobra.NoArgs,
		RunE: s.run(func(cmd *cobra.Command, cl *registry.Client, _ []string) error {
			subjects, err := cl.Subjects(cmd.Context(), deleted)
			if err != nil {
				return err
			}
			printEach(cmd.OutOrStdout(), subjects)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&deleted, "deleted", false, "include soft-deleted subjects")
	return cmd
}

func (s *schemasCLI) versionsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "versions SUBJECT", Short: "List a subject's versions", Args: cobra.ExactArgs(1),
		RunE: s.run(func(cmd *cobra.Command, cl *registry.Client, args []string) error {
			versions, err := cl.Versions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			printEach(cmd.OutOrStdout(), versions)
			return nil
		}),
	}
}

func (s *schemasCLI) checkCmd() *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "check SUBJECT FILE.avsc",
		Short: "Check a schema against a subject; exit non-zero when incompatible",
		Long: `Check whether a schema could be registered under a subject: against the versions
its compatibility level asks for, or only against --version. Prints "compatible" and
exits 0, or prints "incompatible" with the registry's reasons and exits 1. Other
failures, such as an unreachable registry, also exit 1 with an error.`,
		Args: cobra.ExactArgs(2),
		RunE: s.run(func(cmd *cobra.Command, cl *registry.Client, args []string) error {
			against, err := parseVersion(version, registry.VersionAll)
			if err != nil {
				return err
			}
			text, err := os.ReadFile(args[1])
			if err != nil {
				return fmt.Errorf("read schema: %w", err)
			}
			ok, reasons, err := cl.CheckCompatibility(cmd.Context(), args[0], string(text), against)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if ok {
				fmt.Fprintln(out, "compatible")
				return nil
			}
			fmt.Fprintln(out, "incompatible")
			for _, r := range reasons {
				fmt.Fprintln(out, "  "+r)
			}
			return errIncompatible
		}),
	}
	cmd.Flags().StringVar(&version, "version", "", "check against this version only (or latest)")
	return cmd
}

func (s *schemasCLI) deleteCmd() *cobra.Command {
	var permanent bool
	cmd := &cobra.Command{
		Use:   "delete SUBJECT [VERSION]",
		Short: "Delete a subject, or one version of it",
		Long: `Soft-delete a subject or one of its versions. With --permanent the versions go
for good (after a soft delete, which the registry requires first).`,
		Args: cobra.RangeArgs(1, 2),
		RunE: s.run(func(cmd *cobra.Command, cl *registry.Client, args []string) error {
			version, err := parseVersion(argAt(args, 1), 0)
			if err != nil {
				return err
			}
			deleted, err := cl.Delete(cmd.Context(), args[0], version, permanent)
			if err != nil {
				return err
			}
			how := "soft-deleted"
			if permanent {
				how = "permanently deleted"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s versions %v\n", how, args[0], deleted)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&permanent, "permanent", false, "delete for good")
	return cmd
}

func (s *schemasCLI) configCmd() *cobra.Command {
	var set string
	cmd := &cobra.Command{
		Use:   "config [SUBJECT]",
		Short: "Print or set the compatibility level of a subject or the registry",
		Long: `Print the compatibility level that applies to a subject (its own or the global
one), or the global level with no subject. --set changes it: BACKWARD, BACKWARD_TRANSITIVE,
FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE.`,
		Args: cobra.MaximumNArgs(1),
		RunE: s.run(func(cmd *cobra.Command, cl *registry.Client, args []string) error {
			subject := ""
			if len(args) == 1 {
				subject = args[0]
			}
			var level string
			var err error
			if set != "" {
				level, err = cl.SetCompatibility(cmd.Context(), subject, strings.ToUpper(set))
			} else {
				level, err = cl.Compatibility(cmd.Context(), subject)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), level)
			return nil
		}),
	}
	cmd.Flags().StringVar(&set, "set", "", "compatibility level to set")
	return cmd
}
