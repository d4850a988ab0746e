package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/schemas/registry"
)

// Environment variables holding the built-in registry's secrets, kept off
// the command line where any local user could read them.
const (
	envRegistryPassword = "TRIBUTARY_REGISTRY_PASSWORD"
	envRegistryToken    = "TRIBUTARY_REGISTRY_TOKEN"
)

// registryListener is how the built-in registry serves: TLS and what each
// request must present.
type registryListener struct {
	certFile, keyFile string
	auth              registry.Auth
}

func newRegistryCmd() *cobra.Command {
	var brokers []string
	var addr, topic string
	var lis registryListener
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run the built-in Schema Registry alone",
		Long: `Serve the Confluent-compatible Schema Registry API, with its state in a
compacted Kafka topic, until interrupted.

With --basic-auth-user, requests need that user and the password in
$` + envRegistryPassword + `; with $` + envRegistryToken + ` set, a bearer token
is accepted too. Use them with --tls-cert-file and --tls-key-file.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			lis.auth.BasicPassword = os.Getenv(envRegistryPassword)
			lis.auth.BearerToken = os.Getenv(envRegistryToken)
			log := newLogger(os.Stderr, slog.LevelInfo, "text")
			stop, url, err := startRegistry(cmd.Context(), log, brokers, addr, topic, lis)
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintln(cmd.OutOrStdout(), "schema registry serving at", url)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&brokers, "bootstrap-servers", []string{"127.0.0.1:9092"}, "Kafka brokers")
	cmd.Flags().StringVar(&addr, "listener", "127.0.0.1:8081", "address to serve on")
	cmd.Flags().StringVar(&topic, "topic", registry.DefaultTopic, "compacted topic holding the schemas")
	cmd.Flags().StringVar(&lis.certFile, "tls-cert-file", "", "PEM certificate; serves https")
	cmd.Flags().StringVar(&lis.keyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	cmd.Flags().StringVar(&lis.auth.BasicUser, "basic-auth-user", "",
		"user every request must present, with the password in $"+envRegistryPassword)
	return cmd
}

// tlsConfig loads the listener's certificate, or returns nil for plain
// HTTP.
func (l registryListener) tlsConfig() (*tls.Config, error) {
	if l.certFile == "" && l.keyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(l.certFile, l.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load schema registry certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// validate refuses half-configured credentials.
func (l registryListener) validate() error {
	if (l.auth.BasicUser == "") != (l.auth.BasicPassword == "") {
		return fmt.Errorf("schema registry basic auth needs both --basic-auth-user and $%s",
			envRegistryPassword)
	}
	return nil
}

// prepare checks everything the built-in registry needs to serve on addr
// and returns its TLS config, nil for plain HTTP. The start and
// --check-config both call it, so that the check refuses what the start
// would.
func (l registryListener) prepare(addr string) (*tls.Config, error) {
	if addr == "" {
		return nil, errors.New("no schema registry: set schema.registry.url, " +
			"or registry.listener for the built-in one")
	}
	if err := l.validate(); err != nil {
		return nil, err
	}
	return l.tlsConfig()
}

// startRegistry starts the built-in registry on addr over the brokers.
func startRegistry(ctx context.Context, log *slog.Logger, brokers []string, addr, topic string,
	lis registryListener,
) (stop func(), url string, err error) {
	tlsCfg, err := lis.prepare(addr)
	if err != nil {
		return nil, "", err
	}
	srv, err := registry.Start(ctx, registry.ServerConfig{
		Brokers: brokers, Addr: addr, Topic: topic, Logger: log,
		Auth: lis.auth, TLSConfig: tlsCfg,
	})
	if err != nil {
		return nil, "", fmt.Errorf("start schema registry: %w", err)
	}
	log.Info("schema registry serving", "url", srv.URL(), "topic", topic,
		"tls", tlsCfg != nil, "auth", lis.auth.BasicUser != "" || lis.auth.BearerToken != "")
	return func() { _ = srv.Close() }, srv.URL(), nil
}

// workerRegistry returns the registry the worker's converters use: the
// external one of schema.registry.url, with its credentials, or else the
// built-in one, which it starts unless check is set. The converters present
// the built-in registry's own credentials to it and trust its certificate.
// Secrets given as references are resolved through providers and recorded
// in secrets.
func workerRegistry(ctx context.Context, log *slog.Logger, wc *config.Worker,
	providers *config.Providers, secrets *config.Secrets, check bool,
) (reg registryAccess, stop func(), err error) {
	submitted := map[string]string{
		"registry.basic.auth.password":         wc.RegistryBasicPassword,
		"registry.bearer.token":                wc.RegistryBearerToken,
		"schema.registry.basic.auth.user.info": wc.SchemaRegistryUserInfo,
		"schema.registry.bearer.auth.token":    wc.SchemaRegistryBearerToken,
	}
	creds, err := providers.Resolve(submitted)
	if err != nil {
		return reg, nil, fmt.Errorf("schema registry credentials: %w", err)
	}
	secrets.Add(submitted, creds)
	// The registry URLs may carry a password too.
	secrets.Add(map[string]string{"schema.registry.url": strings.Join(wc.SchemaRegistryURLs, ",")},
		nil)
	stop = func() {}
	if len(wc.SchemaRegistryURLs) > 0 {
		info := creds["schema.registry.basic.auth.user.info"]
		if msg := config.UserInfo(info); msg != "" {
			return reg, nil, fmt.Errorf("schema.registry.basic.auth.user.info: %s", msg)
		}
		reg = registryAccess{urls: wc.SchemaRegistryURLs, auth: config.RegistryAuth{
			UserInfo: info, BearerToken: creds["schema.registry.bearer.auth.token"],
			CALocation: wc.SchemaRegistryCALocation,
		}}
		return reg, stop, nil
	}

	lis := registryListener{
		certFile: wc.RegistryTLSCertFile, keyFile: wc.RegistryTLSKeyFile,
		auth: registry.Auth{
			BasicUser: wc.RegistryBasicUser, BasicPassword: creds["registry.basic.auth.password"],
			BearerToken: creds["registry.bearer.token"],
		},
	}
	reg.auth.CALocation = lis.certFile
	if lis.auth.BasicUser != "" {
		reg.auth.UserInfo = lis.auth.BasicUser + ":" + lis.auth.BasicPassword
	} else {
		reg.auth.BearerToken = lis.auth.BearerToken
	}
	if check {
		if _, err := lis.prepare(wc.RegistryListener); err != nil {
			return reg, nil, err
		}
		return reg, stop, nil
	}
	stop, served, err := startRegistry(ctx, log, wc.BootstrapServers, wc.RegistryListener,
		wc.RegistryTopic, lis)
	if err != nil {
		return reg, nil, err
	}
	reg.urls = []string{loopback(served)}
	return reg, stop, nil
}

// loopback returns the URL of a registry serving on all interfaces
// (0.0.0.0 or [::]) as one the worker reaches on 127.0.0.1.
func loopback(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}
