package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Decoder turns a Kafka record value into its schema and generic value.
// *schemas.Converter implements it.
type Decoder interface {
	Decode(ctx context.Context, value []byte) (*schemas.Schema, any, error)
}

// Options configure a Worker. Zero values take the defaults noted.
type Options struct {
	// Brokers are the Kafka bootstrap servers.
	Brokers []string
	// Plugins maps connector.class values, full names and aliases, to
	// connectors.
	Plugins map[string]connectors.SinkConnector
	// NewDecoder returns the value converter for a connector config.
	NewDecoder func(config map[string]string) (Decoder, error)
	// Logger receives the worker's logs; each task logs with connector and
	// task fields added.
	Logger *slog.Logger
	// CommitInterval is offset.flush.interval.ms (default 10s).
	CommitInterval time.Duration
	// SessionTimeout is the consumers' group session timeout (default 45s).
	SessionTimeout time.Duration
	// MaxPollRecords bounds a batch (default 10000).
	MaxPollRecords int
	// ShutdownTimeout bounds a task's graceful stop (default 5s).
	ShutdownTimeout time.Duration
	// SpoolDir is where sinks buffer files; passed to tasks as spool.dir.
	SpoolDir string
	// KafkaOpts are added to every consumer's options.
	KafkaOpts []kgo.Opt
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = 10 * time.Second
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 45 * time.Second
	}
	if o.MaxPollRecords <= 0 {
		o.MaxPollRecords = 10000
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
}

// Worker hosts connectors. Its methods are safe for concurrent use.
type Worker struct {
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	connectors map[string]*connector
}

// New returns a worker; it runs nothing until Start.
func New(opts Options) *Worker {
	opts.defaults()
	return &Worker{opts: opts, log: opts.Logger, connectors: make(map[string]*connector)}
}

// connector is one running connector and its tasks.
type connector struct {
	name   string
	config map[string]string
	common Common
	cancel context.CancelFunc
	tasks  []*task
	done   chan struct{}
}

// Validate checks a connector config the way Start would and returns a
// *connectors.ConfigError listing every problem, or nil.
func (w *Worker) Validate(name string, config map[string]string) error {
	_, _, err := w.validate(name, config)
	return err
}

func (w *Worker) validate(name string, config map[string]string) (Common, connectors.SinkConnector, error) {
	common, errs := ParseCommon(name, config)
	plugin := w.opts.Plugins[common.Class]
	if plugin == nil && common.Class != "" {
		errs = append(errs, connectors.FieldError{Key: KeyConnectorClass,
			Message: fmt.Sprintf("no connector named %q; known: %v", common.Class, w.pluginNames())})
	}
	if plugin != nil {
		errs = append(errs, plugin.Validate(config)...)
	}
	if len(errs) > 0 {
		return common, nil, &connectors.ConfigError{Source: "connector " + name, Errors: errs}
	}
	return common, plugin, nil
}

func (w *Worker) pluginNames() []string {
	var names []string
	for n := range w.opts.Plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start validates the config and starts the connector's tasks. It returns
// once the tasks are launched; their failures show in Status. ctx bounds the
// tasks' lifetime as well as Start itself.
func (w *Worker) Start(ctx context.Context, name string, config map[string]string) error {
	common, plugin, err := w.validate(name, config)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.connectors[name]; ok {
		return fmt.Errorf("connector %s: %w", name, ErrExists)
	}
	dec, err := w.opts.NewDecoder(config)
	if err != nil {
		return fmt.Errorf("connector %s: value converter: %w", name, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	c := &connector{name: name, config: config, common: common, cancel: cancel,
		done: make(chan struct{})}
	var wg sync.WaitGroup
	for i, tcfg := range plugin.TaskConfigs(config, common.TasksMax) {
		tcfg = withSpool(tcfg, w.opts.SpoolDir)
		t := newTask(w, c, i, plugin.NewTask(), tcfg, dec)
		c.tasks = append(c.tasks, t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(cctx)
		}()
	}
	go func() {
		wg.Wait()
		close(c.done)
	}()
	w.connectors[name] = c
	w.log.Info("connector started", "connector", name, "class", common.Class,
		"tasks", len(c.tasks))
	return nil
}

func withSpool(cfg map[string]string, dir string) map[string]string {
	if dir == "" {
		return cfg
	}
	out := make(map[string]string, len(cfg)+1)
	for k, v := range cfg {
		out[k] = v
	}
	if _, ok := out["spool.dir"]; !ok {
		out["spool.dir"] = dir
	}
	return out
}

// Stop stops a connector's tasks gracefully and forgets the connector.
func (w *Worker) Stop(ctx context.Context, name string) error {
	w.mu.Lock()
	c, ok := w.connectors[name]
	delete(w.connectors, name)
	w.mu.Unlock()
	if !ok {
		return fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	c.cancel()
	select {
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.log.Info("connector stopped", "connector", name)
	return nil
}

// Close stops every connector.
func (w *Worker) Close(ctx context.Context) error {
	w.mu.Lock()
	var names []string
	for n := range w.connectors {
		names = append(names, n)
	}
	w.mu.Unlock()
	var errs []error
	for _, n := range names {
		errs = append(errs, w.Stop(ctx, n))
	}
	return errors.Join(errs...)
}

// Connectors lists the running connectors' names.
func (w *Worker) Connectors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var names []string
	for n := range w.connectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Status reports a connector's state and its tasks' states.
func (w *Worker) Status(name string) (ConnectorStatus, error) {
	w.mu.Lock()
	c, ok := w.connectors[name]
	w.mu.Unlock()
	if !ok {
		return ConnectorStatus{}, fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	st := ConnectorStatus{Name: name, State: StateRunning}
	for _, t := range c.tasks {
		ts := t.status()
		st.Tasks = append(st.Tasks, ts)
	}
	return st, nil
}
