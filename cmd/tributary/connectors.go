package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
)

// connectClient talks to any Kafka Connect-compatible REST API.
type connectClient struct {
	base        string
	user, pass  string
	token       string
	http        *http.Client
	out, errOut io.Writer
}

func newConnectorsCmd() *cobra.Command {
	c := &connectClient{http: &http.Client{Timeout: 100 * time.Second}}
	cmd := &cobra.Command{
		Use:   "connectors",
		Short: "Manage connectors through a Kafka Connect-compatible REST API",
		Long: `Manage connectors through the REST API of a Tributary worker or of any
Kafka Connect cluster. The URL and credentials may come from
TRIBUTARY_REST_URL, TRIBUTARY_REST_USER, TRIBUTARY_REST_PASSWORD and
TRIBUTARY_REST_TOKEN instead of flags; a flag wins over its variable.`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			c.out, c.errOut = cmd.OutOrStdout(), cmd.ErrOrStderr()
			err := flagsFromEnv(cmd, []envFlag{{"url", "TRIBUTARY_REST_URL"},
				{"user", "TRIBUTARY_REST_USER"}, {"password", "TRIBUTARY_REST_PASSWORD"},
				{"token", "TRIBUTARY_REST_TOKEN"}})
			c.base = strings.TrimSuffix(c.base, "/")
			return err
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&c.base, "url", "http://127.0.0.1:8083", "REST API base URL ($TRIBUTARY_REST_URL)")
	f.StringVar(&c.user, "user", "", "basic auth user ($TRIBUTARY_REST_USER)")
	f.StringVar(&c.pass, "password", "", "basic auth password ($TRIBUTARY_REST_PASSWORD)")
	f.StringVar(&c.token, "token", "", "bearer token ($TRIBUTARY_REST_TOKEN)")

	var includeTasks, onlyFailed, reset bool
	var expand []string
	list := &cobra.Command{
		Use: "list", Short: "List connectors", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			path := "/connectors"
			if len(expand) > 0 {
				path += "?" + url.Values{"expand": expand}.Encode()
			}
			return c.print("GET", path, nil, http.StatusOK)
		},
	}
	list.Flags().StringSliceVar(&expand, "expand", nil, "status, info or both")
	restart := &cobra.Command{
		Use: "restart NAME", Short: "Restart a connector", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			q := url.Values{"includeTasks": {fmt.Sprint(includeTasks)},
				"onlyFailed": {fmt.Sprint(onlyFailed)}}
			return c.print("POST", c.path(args[0], "restart")+"?"+q.Encode(), nil,
				http.StatusAccepted, http.StatusNoContent)
		},
	}
	restart.Flags().BoolVar(&includeTasks, "include-tasks", false, "restart the tasks too")
	restart.Flags().BoolVar(&onlyFailed, "only-failed", false, "restart only what FAILED")
	offsets := &cobra.Command{
		Use: "offsets NAME", Short: "Show a connector's offsets, or reset them (--reset)",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if reset {
				return c.print("DELETE", c.path(args[0], "offsets"), nil, http.StatusOK)
			}
			return c.print("GET", c.path(args[0], "offsets"), nil, http.StatusOK)
		},
	}
	offsets.Flags().BoolVar(&reset, "reset", false, "reset the offsets of a STOPPED connector")

	simple := func(use, short, method, sub string, ok ...int) *cobra.Command {
		return &cobra.Command{Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				return c.print(method, c.path(args[0], sub), nil, ok...)
			}}
	}
	cmd.AddCommand(list, restart, offsets,
		simple("get", "Show a connector's info", "GET", "", http.StatusOK),
		simple("status", "Show a connector's status", "GET", "status", http.StatusOK),
		simple("delete", "Delete a connector", "DELETE", "", http.StatusNoContent),
		simple("pause", "Pause a connector", "PUT", "pause", http.StatusAccepted),
		simple("resume", "Resume a connector", "PUT", "resume", http.StatusAccepted),
		simple("stop", "Stop a connector, keeping it defined", "PUT", "stop", http.StatusNoContent),
		&cobra.Command{
			Use:   "apply FILE...",
			Short: "Create or update connectors from YAML, JSON or .properties files",
			Long: `Create or update the connectors of YAML or JSON files, each in Kafka
Connect's shape: {"name": ..., "config": {...}}, or of Kafka Connect
standalone's .properties files, whose keys are name and the config keys.
Every file is read and its config checked by the server (PUT
/connector-plugins/{class}/config/validate) before any connector is created
or updated; all problems are reported at once. A connector whose config on
the server already equals its file's is left unchanged.`,
			Args: cobra.MinimumNArgs(1),
			RunE: func(_ *cobra.Command, args []string) error { return c.apply(args) },
		})
	return cmd
}

func (c *connectClient) path(name, sub string) string {
	p := "/connectors/" + url.PathEscape(name)
	if sub != "" {
		p += "/" + sub
	}
	return p
}

// apply reads every file and has the server validate each config, then,
// only when all are valid, puts each connector's config that differs from
// the server's. Every problem of every file is reported at once.
func (c *connectClient) apply(paths []string) error {
	var conns []*config.Connector
	var errs []error
	for _, p := range paths {
		cc, err := config.LoadConnector(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conns = append(conns, cc)
	}
	for _, cc := range conns {
		errs = append(errs, c.validate(cc))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, cc := range conns {
		same, hidden, err := c.unchanged(cc)
		if err != nil {
			return err
		}
		if same {
			fmt.Fprintf(c.out, "unchanged %s (%s)\n", cc.Name, cc.Source)
			continue
		}
		status, body, err := c.do("PUT", c.path(cc.Name, "config"), cc.Config)
		if err != nil {
			return err
		}
		switch {
		case status == http.StatusCreated:
			fmt.Fprintf(c.out, "created %s (%s)\n", cc.Name, cc.Source)
		case status == http.StatusOK && hidden:
			fmt.Fprintf(c.out, "applied %s (%s): equal but for values the server hides, "+
				"sent again; the server keeps them if they did not change\n", cc.Name, cc.Source)
		case status == http.StatusOK:
			fmt.Fprintf(c.out, "updated %s (%s)\n", cc.Name, cc.Source)
		default:
			return fmt.Errorf("apply %s (%s): %w", cc.Name, cc.Source, apiFailure(status, body))
		}
	}
	return nil
}

// validate has the server check cc's config through Kafka Connect's
// validate endpoint and returns its errors placed at cc's file and lines,
// or nil.
func (c *connectClient) validate(cc *config.Connector) error {
	class := cc.Config[config.KeyConnectorClass]
	body := maps.Clone(cc.Config)
	body["name"] = cc.Name
	status, out, err := c.do("PUT",
		"/connector-plugins/"+url.PathEscape(class)+"/config/validate", body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("validate %s (%s): %w", cc.Name, cc.Source, apiFailure(status, out))
	}
	var infos struct {
		ErrorCount int `json:"error_count"`
		Configs    []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	if err := json.Unmarshal(out, &infos); err != nil {
		return fmt.Errorf("validate %s (%s): read answer: %w", cc.Name, cc.Source, err)
	}
	var fes []connectors.FieldError
	for _, ci := range infos.Configs {
		for _, msg := range ci.Value.Errors {
			fes = append(fes, connectors.FieldError{Key: ci.Value.Name, Message: msg})
		}
	}
	if len(fes) == 0 && infos.ErrorCount > 0 {
		return fmt.Errorf("validate %s (%s): %d error(s) reported without a key",
			cc.Name, cc.Source, infos.ErrorCount)
	}
	if len(fes) == 0 {
		return nil
	}
	return &connectors.ConfigError{Source: cc.Source, Errors: cc.Locate(fes)}
}

// unchanged reports whether the server already runs cc's config. A value
// the server hides (config.Hidden) cannot be compared, so a config holding
// one counts as changed and is applied again; hidden reports that only
// such values may differ.
func (c *connectClient) unchanged(cc *config.Connector) (same, hidden bool, err error) {
	status, out, err := c.do("GET", c.path(cc.Name, "config"), nil)
	if err != nil {
		return false, false, err
	}
	switch status {
	case http.StatusNotFound:
		return false, false, nil
	case http.StatusOK:
	default:
		return false, false, fmt.Errorf("read config of %s: %w", cc.Name, apiFailure(status, out))
	}
	var current map[string]string
	if err := json.Unmarshal(out, &current); err != nil {
		return false, false, fmt.Errorf("read config of %s: %w", cc.Name, err)
	}
	delete(current, "name") // Kafka Connect adds it; the files keep it outside config
	if maps.Equal(current, cc.Config) {
		return true, false, nil
	}
	return false, maps.EqualFunc(current, cc.Config, func(cur, local string) bool {
		return cur == local || cur == config.Hidden
	}), nil
}

// print sends a request and prints the JSON answer, indented.
func (c *connectClient) print(method, path string, body any, ok ...int) error {
	status, out, err := c.do(method, path, body)
	if err != nil {
		return err
	}
	for _, s := range ok {
		if status == s {
			if len(bytes.TrimSpace(out)) == 0 {
				fmt.Fprintf(c.out, "%d %s\n", status, http.StatusText(status))
				return nil
			}
			var buf bytes.Buffer
			if json.Indent(&buf, out, "", "  ") != nil {
				buf.Reset()
				buf.Write(out)
			}
			fmt.Fprintln(c.out, buf.String())
			return nil
		}
	}
	return apiFailure(status, out)
}

// apiFailure renders Kafka Connect's error body.
func apiFailure(status int, body []byte) error {
	var e struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return fmt.Errorf("%d: %s", status, e.Message)
	}
	return fmt.Errorf("%d %s: %s", status, http.StatusText(status), bytes.TrimSpace(body))
}

func (c *connectClient) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	case c.user != "":
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The client's error repeats the URL, unredacted: name it once,
		// without a password it may carry.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("%s %s: %w", method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, out, err
}
