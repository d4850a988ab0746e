package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
)

func newWorkerCmd() *cobra.Command {
	v := viper.New()
	var check bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "worker [connector files...]",
		Short: "Run connectors declared in YAML or JSON files",
		Long: `Run a worker. The worker config comes from --config (YAML), TRIBUTARY_*
environment variables and flags, in increasing precedence. Connectors come
from connectors.dir, connectors.files and the arguments. Every connector is
validated before any starts; all problems are reported at once.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := config.BindFlags(v, cmd.Flags()); err != nil {
				return err
			}
			wc, err := config.LoadWorker(v)
			if err != nil {
				return err
			}
			wc.ConnectorFiles = append(wc.ConnectorFiles, args...)
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			return runWorker(cmd.Context(), wc, check)
		},
	}
	config.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&check, "check-config", false,
		"validate the worker and connector configs, then exit")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	return cmd
}

func runWorker(ctx context.Context, wc *config.Worker, check bool) error {
	log := newLogger(os.Stderr, wc.SlogLevel(), wc.LogFormat)
	conns, err := wc.LoadConnectors()
	if err != nil {
		return err
	}

	// The built-in registry serves unless an external one is configured.
	registryURLs := wc.SchemaRegistryURLs
	if len(registryURLs) == 0 && !check {
		stop, url, err := startRegistry(ctx, log, wc.BootstrapServers, wc.RegistryListener, wc.RegistryTopic)
		if err != nil {
			return err
		}
		defer stop()
		registryURLs = []string{url}
	}

	w := worker.New(worker.Options{
		Brokers:         wc.BootstrapServers,
		Plugins:         sinkPlugins(),
		NewDecoder:      decoders(registryURLs),
		Logger:          log,
		CommitInterval:  wc.OffsetFlushInterval(),
		SessionTimeout:  wc.ConsumerSessionTimeout(),
		MaxPollRecords:  wc.ConsumerMaxPollRecords,
		ShutdownTimeout: wc.TaskShutdownGracefulTimeout(),
		SpoolDir:        wc.SpoolDir,
	})

	// Validate everything before starting anything.
	resolved := make([]map[string]string, len(conns))
	var problems []error
	for i, c := range conns {
		cfg, err := config.Resolve(c.Config, os.LookupEnv)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", c.Source, err))
			continue
		}
		resolved[i] = cfg
		if err := w.Validate(c.Name, cfg); err != nil {
			var ce *connectors.ConfigError
			if errors.As(err, &ce) {
				ce.Source = c.Source
				ce.Errors = c.Locate(ce.Errors)
			}
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	if check {
		fmt.Printf("worker config and %d connector(s) are valid\n", len(conns))
		return nil
	}

	if wc.MetricsListener != "" {
		stop, err := serveMetrics(log, wc.MetricsListener)
		if err != nil {
			return err
		}
		defer stop()
	}

	log.Info("worker started", "version", version, "brokers", wc.BootstrapServers,
		"connectors", len(conns))
	for i, c := range conns {
		if err := w.Start(ctx, c.Name, resolved[i]); err != nil {
			_ = w.Close(context.Background())
			return err
		}
	}
	<-ctx.Done()
	log.Info("worker stopping", "why", "signal")
	stopCtx, cancel := context.WithTimeout(context.Background(),
		wc.TaskShutdownGracefulTimeout()+5*time.Second)
	defer cancel()
	err = w.Close(stopCtx)
	log.Info("worker stopped")
	return err
}

// serveMetrics serves Prometheus metrics at /metrics until stop is called.
func serveMetrics(log interface{ Info(string, ...any) }, addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("metrics serving", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
