package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/rest"
)

// restCredentials are the worker config's REST secrets, as written: each
// may be a ${env:...} or ${file:...} reference.
func restCredentials(wc *config.Worker) map[string]string {
	return map[string]string{
		"rest.auth.basic.password": wc.RESTBasicPassword,
		"rest.auth.bearer.token":   wc.RESTBearerToken,
		"inter.worker.key":         wc.InterWorkerKey,
	}
}

// resolveRESTCredentials resolves the references of submitted, as the
// REST server does at start and --check-config does to report them.
func resolveRESTCredentials(providers *config.Providers, submitted map[string]string,
) (map[string]string, error) {
	creds, err := providers.Resolve(submitted)
	if err != nil {
		return nil, fmt.Errorf("rest credentials: %w", err)
	}
	return creds, nil
}

// newRESTServer builds the REST API from the worker config and binds its
// listener, so that a port in use fails the start.
func newRESTServer(wc *config.Worker, h rest.Herder, loggers *rest.Loggers,
	providers *config.Providers, log *slog.Logger, leader func() (string, bool),
) (*rest.Server, net.Listener, error) {
	submitted := restCredentials(wc)
	creds, err := resolveRESTCredentials(providers, submitted)
	if err != nil {
		return nil, nil, err
	}
	h.Secrets().Add(submitted, creds)
	opts := rest.Options{
		Herder: h, Version: version, Commit: commit(), Loggers: loggers, Logger: log,
		ClusterID:     clusterID(wc.BootstrapServers),
		BasicUser:     wc.RESTBasicUsername,
		BasicPassword: creds["rest.auth.basic.password"],
		BearerToken:   creds["rest.auth.bearer.token"],
		Leader:        leader,
	}
	if leader != nil {
		opts.InterWorkerKey = []byte(creds["inter.worker.key"])
	}
	if wc.RESTTLS() {
		if opts.TLS, err = restTLS(wc); err != nil {
			return nil, nil, err
		}
	}
	ln, err := net.Listen("tcp", wc.RESTAddr())
	if err != nil {
		return nil, nil, fmt.Errorf("rest listener: %w", err)
	}
	scheme := "http"
	if opts.TLS != nil {
		scheme = "https"
	}
	opts.BaseURL = scheme + "://" + ln.Addr().String()
	return rest.New(opts), ln, nil
}

// restTLS loads the REST API's certificate and, for mTLS, the client CAs.
func restTLS(wc *config.Worker) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(wc.RESTTLSCertFile, wc.RESTTLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load rest.tls.cert.file and rest.tls.key.file: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if wc.RESTTLSClientCAFile != "" {
		pool, err := certPool(wc.RESTTLSClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("rest.tls.client.ca.file: %w", err)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// clusterID asks Kafka for its cluster id.
func clusterID(brokers []string) func(ctx context.Context) (string, error) {
	var mu sync.Mutex
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			return "", err
		}
		defer cl.Close()
		md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
		if err != nil {
			return "", err
		}
		return md.Cluster, nil
	}
}

// commit is the VCS revision the binary was built from, when known.
func commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
