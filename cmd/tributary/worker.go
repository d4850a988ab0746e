package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/metrics"
	"github.com/tributary-io/tributary/runtime/rest"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
)

func newWorkerCmd() *cobra.Command {
	v := viper.New()
	var check bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "worker [connector files...]",
		Short: "Run a worker: connectors from files and the REST API",
		Long: `Run a worker. The worker config comes from --config (YAML, or a Java
.properties file such as Kafka Connect's worker.properties), TRIBUTARY_*
environment variables and flags, in increasing precedence.

Connectors come from two places. Files (connectors.dir, connectors.files and
the arguments) are desired state: they are applied at start and whenever they
change, and a connector a file declares cannot be changed through the API.
Connectors created through the Kafka Connect-compatible REST API (listeners)
are kept in config.storage.file.filename and come back, in their target
state, when the worker restarts. Every file is validated before any connector
starts; all problems are reported at once.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := config.BindFlags(v, cmd.Flags()); err != nil {
				return err
			}
			// A check goes on past the worker config's problems, to
			// report them with those of the connector files.
			wc, wcErr := config.LoadWorker(v)
			if wcErr != nil && (!check || wc == nil) {
				return wcErr
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
			if check {
				return checkWorker(cmd.Context(), cmd.OutOrStdout(), wc, wcErr)
			}
			return runWorker(cmd.Context(), wc, false)
		},
	}
	config.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&check, "check-config", false,
		"validate the worker and connector configs, then exit")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	return cmd
}

// kafkaReachTimeout bounds how long a starting worker waits for Kafka.
const kafkaReachTimeout = 30 * time.Second

func runWorker(ctx context.Context, wc *config.Worker, check bool) error {
	secrets := &config.Secrets{}
	loggers := rest.NewLoggers(wc.SlogLevel(), secrets.Redact)
	log := newWorkerLogger(os.Stderr, loggers, wc.LogFormat)
	providers, err := workerProviders(wc)
	if err != nil {
		return err
	}
	pipelines := worker.Pipelines{Dir: wc.ConnectorsDir, Files: wc.ConnectorFiles}
	// A mistake in a connector file is reported at once, before anything
	// starts or waits for Kafka; each connector's own checks follow below.
	// A check reports every problem together, below.
	if !check {
		if _, err := pipelines.Load(); err != nil {
			return err
		}
	}

	// A worker that cannot reach Kafka would report its tasks RUNNING
	// while they wait; refuse to start instead, as Kafka Connect does.
	if !check {
		reachCtx, cancel := context.WithTimeout(ctx, kafkaReachTimeout)
		id, err := clusterID(wc.BootstrapServers)(reachCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("reach Kafka at %s within %v (bootstrap.servers): %w",
				strings.Join(wc.BootstrapServers, ","), kafkaReachTimeout, err)
		}
		log.Info("kafka reached", "cluster_id", id)
	}

	// The built-in registry serves unless an external one is configured.
	reg, stopRegistry, regErr := workerRegistry(ctx, log.With("logger", "registry"), wc,
		providers, secrets, check)
	if regErr != nil && !check {
		return regErr
	}
	if stopRegistry != nil {
		defer stopRegistry()
	}

	var st store.ConfigStore = store.NewMemory()
	var dist *distributed
	var owns func(string, int) bool
	switch {
	case check:
	case wc.Distributed():
		dist, err = openDistributed(ctx, wc, log.With("logger", "cluster"))
		if err != nil {
			return err
		}
		defer dist.close()
		st, owns = dist.store, dist.owns
	default:
		fs, err := store.OpenFile(wc.ConfigStorePath())
		if err != nil {
			return err
		}
		st = fs
	}
	m := metrics.New()
	w := worker.New(worker.Options{
		Brokers:         wc.BootstrapServers,
		Plugins:         sinkPlugins(),
		NewDecoder:      decoders(reg),
		Logger:          log.With("logger", "worker"),
		CommitInterval:  wc.OffsetFlushInterval(),
		SessionTimeout:  wc.ConsumerSessionTimeout(),
		MaxPollRecords:  wc.ConsumerMaxPollRecords,
		ShutdownTimeout: wc.TaskShutdownGracefulTimeout(),
		SpoolDir:        wc.SpoolDir,
		WorkerID:        wc.RESTAddr(),
		Store:           st,
		Providers:       providers,
		Secrets:         secrets,
		Owns:            owns,
		Metrics:         m,
		// Connectors that name no converter take the worker file's.
		ConverterDefaults: wc.ConverterDefaults,
	})

	// Validate every file before starting anything.
	conns, err := validateFiles(wc, w)
	ignored := ignoredFiles(wc)
	if check {
		for _, warning := range wc.Warnings {
			fmt.Println("warning: " + warning)
		}
		for _, path := range ignored {
			fmt.Printf("warning: %s: not read: connector files end in %s\n",
				path, strings.Join(config.ConnectorFileExts, ", "))
		}
		for _, line := range unknownKeyWarnings(wc, w.PluginConfigDef) {
			fmt.Println(line)
		}
		_, credErr := resolveRESTCredentials(providers, restCredentials(wc))
		return errors.Join(regErr, err, credErr)
	}
	if err != nil {
		return err
	}
	for _, warning := range wc.Warnings {
		log.Warn("worker config key ignored", "where", warning)
	}
	for _, path := range ignored {
		log.Warn("file in connectors.dir not read", "file", path,
			"hint", "connector files end in "+strings.Join(config.ConnectorFileExts, ", "))
	}

	if wc.MetricsListener != "" {
		_, stop, err := serveMetrics(log, wc.MetricsListener, m.Handler())
		if err != nil {
			return err
		}
		defer stop()
	}
	var leader func() (string, bool)
	var herder rest.Herder = w
	if dist != nil {
		leader = dist.leader
		herder = clusterHerder{Worker: w, d: dist}
	}
	srv, ln, err := newRESTServer(wc, herder, loggers, providers, log.With("logger", "rest"),
		leader)
	if err != nil {
		return err
	}
	restCtx, stopREST := context.WithCancel(context.WithoutCancel(ctx))
	restDone := make(chan error, 1)
	go func() { restDone <- srv.Serve(restCtx, ln) }()

	if dist != nil {
		return runDistributed(ctx, wc, log, w, dist, srv, stopREST, restDone)
	}

	// Connectors created through the API come back in their target
	// states; then the files, the desired state, are applied over them.
	log.Info("worker started", "version", version, "brokers", wc.BootstrapServers,
		"rest", ln.Addr().String(), "config_store", wc.ConfigStorePath())
	// The files' configs replace the stored ones of the connectors they
	// declare before any task starts.
	err = w.Restore(ctx, conns...)
	if err == nil {
		_, err = w.Apply(ctx, pipelines)
	}
	if err != nil {
		stopREST()
		<-restDone
		return errors.Join(err, w.Close(context.Background()))
	}
	srv.SetReady()
	watchDone := make(chan error, 1)
	go func() { watchDone <- w.Watch(ctx, pipelines) }()

	stopCtx, cancel := waitStop(ctx, log, wc)
	defer cancel()
	// Shutdown order: stop taking requests, stop watching files, then stop
	// the tasks, which commit what is durable and leave their groups.
	stopREST()
	err = errors.Join(<-restDone, <-watchDone)
	closeWorker(stopCtx, log, w)
	return err
}

// runDistributed runs a worker of a cluster until ctx ends: the cluster
// assigns its tasks and the shared config store holds the connectors.
func runDistributed(ctx context.Context, wc *config.Worker, log *slog.Logger,
	w *worker.Worker, dist *distributed, srv *rest.Server, stopREST func(),
	restDone <-chan error,
) error {
	dist.w = w
	log.Info("worker started", "version", version, "brokers", wc.BootstrapServers,
		"rest", wc.RESTAddr(), "group", wc.GroupID, "config_topic", wc.ConfigStorageTopic)
	runCtx, stopCluster := context.WithCancel(context.WithoutCancel(ctx))
	clusterDone := make(chan error, 1)
	go func() { clusterDone <- dist.run(runCtx) }()
	srv.SetReady()

	stopCtx, cancel := waitStop(ctx, log, wc)
	defer cancel()
	// Shutdown order: stop taking requests, then leave the cluster, which
	// stops this worker's tasks first so that others may take them at
	// once, then stop whatever is left.
	stopREST()
	stopCluster()
	err := errors.Join(<-restDone, <-clusterDone)
	closeWorker(stopCtx, log, w)
	return err
}

// closeWorker stops w's tasks within ctx. Tasks still stopping when ctx
// ends, such as one waiting to join a group whose dead member has not timed
// out yet, are abandoned: the process exits and the next owner of their
// partitions recovers from the sink, so that is the forced stage of a
// normal stop, worth a warning but not a failed exit.
func closeWorker(ctx context.Context, log *slog.Logger, w *worker.Worker) {
	if err := w.Close(ctx); err != nil {
		log.Warn("worker stopped before every task finished", "err", err,
			"hint", "uncommitted records are written again by the next owner, exactly once")
		return
	}
	log.Info("worker stopped")
}

// waitStop returns once ctx ends, with a context that bounds the
// graceful stop that follows.
func waitStop(ctx context.Context, log *slog.Logger, wc *config.Worker,
) (context.Context, context.CancelFunc) {
	<-ctx.Done()
	log.Info("worker stopping", "why", "signal")
	return context.WithTimeout(context.Background(), wc.TaskShutdownGracefulTimeout()+5*time.Second)
}

// validateFiles loads the connector files and validates each with w,
// reporting every problem of every file at once, with file and line.
func validateFiles(wc *config.Worker, w *worker.Worker) ([]store.Connector, error) {
	return w.LoadPipelines(worker.Pipelines{Dir: wc.ConnectorsDir, Files: wc.ConnectorFiles})
}

// checkWorker validates the worker config and every connector file without
// starting anything, and reports all their problems at once: wcErr, the
// worker config's own, then those of the registry settings and of each
// connector file that the worker config leaves to check.
func checkWorker(ctx context.Context, out io.Writer, wc *config.Worker, wcErr error) error {
	if err := errors.Join(wcErr, runWorker(ctx, wc, true)); err != nil {
		return err
	}
	conns, _ := wc.ReadConnectors(nil)
	fmt.Fprintf(out, "worker config and %d connector(s) are valid\n", len(conns))
	return nil
}

// ignoredFiles lists the files of connectors.dir that are not read as
// connectors; a directory that cannot be read is reported elsewhere.
func ignoredFiles(wc *config.Worker) []string {
	if wc.ConnectorsDir == "" {
		return nil
	}
	ignored, _ := config.IgnoredConnectorFiles(wc.ConnectorsDir)
	return ignored
}

// unknownKeyWarnings lists, each at its file and line, the keys of the
// connector files that neither the runtime nor their connector reads: the
// keys a running worker warns about. Files that cannot be read are left to
// the check that reports their problems.
func unknownKeyWarnings(wc *config.Worker,
	defOf func(class string) (connectors.ConfigDef, bool),
) []string {
	conns, _ := wc.ReadConnectors(nil)
	var out []string
	for _, c := range conns {
		def, ok := defOf(c.Config[config.KeyConnectorClass])
		if !ok {
			continue
		}
		var unknown []connectors.FieldError
		for _, u := range config.UnknownKeys(c.Config, def) {
			msg := "unknown key, ignored"
			if u.Closest != "" {
				msg += " (did you mean " + u.Closest + "?)"
			}
			unknown = append(unknown, connectors.FieldError{Key: u.Key, Message: msg})
		}
		for _, fe := range c.Locate(unknown) {
			out = append(out, "warning: "+fe.Error())
		}
	}
	return out
}

// workerProviders builds the config providers the worker enables.
func workerProviders(wc *config.Worker) (*config.Providers, error) {
	p := &config.Providers{Enabled: wc.ConfigProviders, FileAllowed: wc.FileProviderAllowedPaths}
	if wc.EnvProviderAllowlist != "" {
		re, err := regexp.Compile("^(?:" + wc.EnvProviderAllowlist + ")$")
		if err != nil {
			return nil, fmt.Errorf("config.providers.env.param.allowlist.pattern: %w", err)
		}
		p.EnvAllow = re
	}
	return p, nil
}

// newWorkerLogger returns the worker's logger: levels per logger name,
// changeable through /admin/loggers, and secrets redacted.
func newWorkerLogger(w io.Writer, loggers *rest.Loggers, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug - 8}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	l := slog.New(loggers.Handler(h))
	slog.SetDefault(l)
	return l
}

// serveMetrics serves h, the worker's metrics, at /metrics on addr until
// stop is called. It returns the address it listens on.
func serveMetrics(log interface{ Info(string, ...any) }, addr string, h http.Handler,
) (bound string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("metrics serving", "addr", ln.Addr().String())
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}
