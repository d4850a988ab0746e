package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/metrics"
	"github.com/tributary-io/tributary/runtime/store"
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
	// NewDecoder returns the value converter for a connector config. The
	// key converter comes from it too, given the config with the
	// key.converter.* keys renamed to value.converter.*.
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
	// DeadLetterTimeout bounds the creation of a dead letter queue topic
	// and the delivery of each dead letter; a dead letter not delivered in
	// time fails its task (default 30s).
	DeadLetterTimeout time.Duration
	// SpoolDir is where sinks buffer files; passed to tasks as spool.dir.
	SpoolDir string
	// KafkaOpts are added to every consumer's and admin client's options.
	KafkaOpts []kgo.Opt
	// WorkerID is the worker_id statuses report, the REST API's
	// host:port (default "standalone").
	WorkerID string
	// Store keeps the connectors and their target states (default: in
	// memory, forgotten at exit).
	Store store.ConfigStore
	// Providers resolves ${provider:...} references when tasks start
	// (default: the env provider only).
	Providers *config.Providers
	// Secrets collects the secret values the worker sees, so that logs and
	// responses can redact them (default: a set of the worker's own).
	Secrets *config.Secrets
	// Owns reports whether this worker runs task id of a connector; in
	// distributed mode the cluster's assignment decides (default: every
	// task). Sync applies a change of its answers.
	Owns func(connector string, id int) bool
	// Metrics receives the worker's metrics (default: a registry nobody
	// serves). One worker per Metrics.
	Metrics *metrics.Metrics
	// ConverterDefaults are the worker's key.converter, value.converter
	// and header.converter settings, for connectors that name no such
	// converter (see config.WithConverterDefaults). A connector's stored
	// and returned config never includes them.
	ConverterDefaults map[string]string
}

// runConfig is cfg as the worker runs it: completed with the worker's
// converter defaults.
func (w *Worker) runConfig(cfg map[string]string) map[string]string {
	return config.WithConverterDefaults(cfg, w.opts.ConverterDefaults)
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
	if o.DeadLetterTimeout <= 0 {
		o.DeadLetterTimeout = defaultDeadLetterTimeout
	}
	if o.WorkerID == "" {
		o.WorkerID = "standalone"
	}
	if o.Store == nil {
		o.Store = store.NewMemory()
	}
	if o.Providers == nil {
		o.Providers = &config.Providers{Enabled: []string{config.ProviderEnv}}
	}
	if o.Secrets == nil {
		o.Secrets = &config.Secrets{}
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
}

// Worker hosts connectors: it keeps each one in its target state, writes
// every change to its ConfigStore before acting on it, and runs the tasks.
// Its methods are safe for concurrent use.
//
// Lock order: Worker.syncMu, then Worker.mu, then a task's locks. Lifecycle
// changes hold mu while tasks stop, so changes to connectors apply one at a
// time.
type Worker struct {
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	connectors map[string]*connector
	closed     bool

	// syncMu serialises Sync, read of the store and apply together.
	syncMu sync.Mutex
	// writes counts the changes this worker wrote to its store, added to
	// with mu held once the store has applied one. Sync reads the store
	// without mu and applies what it read only if no write came between.
	writes atomic.Uint64

	// bg tracks the restarts that run after their request was answered.
	bg sync.WaitGroup
}

// New returns a worker; it runs nothing until connectors are started,
// created or restored.
func New(opts Options) *Worker {
	opts.defaults()
	w := &Worker{opts: opts, log: opts.Logger, connectors: make(map[string]*connector)}
	opts.Metrics.SetWorker(w.snapshot)
	return w
}

// Secrets returns the worker's set of secret values, for redaction.
func (w *Worker) Secrets() *config.Secrets { return w.opts.Secrets }

// WorkerID returns the worker_id statuses report.
func (w *Worker) WorkerID() string { return w.opts.WorkerID }

// Validate checks a connector config the way Create would and returns a
// *connectors.ConfigError listing every problem, or nil.
func (w *Worker) Validate(name string, cfg map[string]string) error {
	_, _, err := w.validate(name, cfg)
	return err
}

// ValidateFields checks a connector config and returns every problem as a
// field error: the keys every sink shares, the connector's own keys and
// the config provider references, each resolved and then forgotten.
//
// The worker's converter defaults complete the config first; errors about
// the keys they supply are left out, since they are the worker config's,
// reported when it loads. A key whose reference cannot be resolved is
// reported as such, and the connector checks the other keys.
func (w *Worker) ValidateFields(name string, cfg map[string]string) []connectors.FieldError {
	run := w.runConfig(cfg)
	common, errs := ParseCommon(name, run)
	plugin := w.opts.Plugins[common.Class]
	if plugin == nil && common.Class != "" {
		errs = append(errs, connectors.FieldError{Key: KeyConnectorClass,
			Message: fmt.Sprintf("no connector named %q; known: %s", common.Class,
				strings.Join(w.Plugins(), ", "))})
	}
	refs := w.opts.Providers.Check(run)
	errs = append(errs, refs...)
	if plugin != nil {
		unresolved := map[string]bool{}
		for _, fe := range refs {
			unresolved[fe.Key] = true
		}
		rest := maps.Clone(run)
		maps.DeleteFunc(rest, func(k, _ string) bool { return unresolved[k] })
		resolved, _ := w.opts.Providers.Resolve(rest)
		w.opts.Secrets.Add(rest, resolved)
		for _, fe := range plugin.Validate(resolved) {
			if !unresolved[fe.Key] {
				errs = append(errs, fe)
			}
		}
	}
	errs = slices.DeleteFunc(errs, func(fe connectors.FieldError) bool {
		_, own := cfg[fe.Key]
		_, added := run[fe.Key]
		return added && !own
	})
	for i := range errs {
		errs[i].Message = w.opts.Secrets.Redact(errs[i].Message)
	}
	return errs
}

func (w *Worker) validate(name string, cfg map[string]string) (Common, connectors.SinkConnector, error) {
	if errs := w.ValidateFields(name, cfg); len(errs) > 0 {
		return Common{}, nil, &connectors.ConfigError{Source: "connector " + name, Errors: errs}
	}
	common, _ := ParseCommon(name, w.runConfig(cfg))
	return common, w.opts.Plugins[common.Class], nil
}

// PluginConfigDef returns the keys the connector class declares, and
// false when the class is unknown or declares none.
func (w *Worker) PluginConfigDef(class string) (connectors.ConfigDef, bool) {
	plugin := w.opts.Plugins[config.CanonicalClass(strings.TrimSpace(class))]
	def, ok := plugin.(connectors.ConfigDefiner)
	if !ok {
		return connectors.ConfigDef{}, false
	}
	return def.ConfigDef(), true
}

// warnUnknownKeys logs one warning for each key of cfg that neither the
// runtime nor its connector declares, when the connector declares its
// keys. Such keys are kept, as Kafka Connect keeps them, but a misspelt one
// falls back to a default without a word otherwise.
func (w *Worker) warnUnknownKeys(name string, cfg map[string]string) {
	def, ok := w.PluginConfigDef(cfg[KeyConnectorClass])
	if !ok {
		return
	}
	for _, u := range config.UnknownKeys(cfg, def) {
		args := []any{"connector", name, "key", u.Key}
		if u.Closest != "" {
			args = append(args, "hint", "did you mean "+u.Closest+"?")
		}
		w.log.Warn("connector config key is unknown and ignored", args...)
	}
}

// Plugins lists the connector.class values the worker knows, sorted.
func (w *Worker) Plugins() []string {
	names := make([]string, 0, len(w.opts.Plugins))
	for n := range w.opts.Plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start creates a connector that no file owns, in the RUNNING state, and
// starts its tasks. It returns once the tasks are launched; their failures
// show in Status. ctx bounds the tasks' lifetime as well as Start itself.
func (w *Worker) Start(ctx context.Context, name string, cfg map[string]string) error {
	return w.create(ctx, store.Connector{Name: name, Config: cfg, Target: store.TargetStarted})
}

// Create creates a connector in target state (store.TargetStarted,
// TargetPaused or TargetStopped) and persists it. owner is the pipelines
// file that declares it, or "" for the REST API. The tasks outlive ctx;
// Close or Delete stops them. An invalid config yields a
// *connectors.ConfigError, a taken name ErrExists.
func (w *Worker) Create(ctx context.Context, name string, cfg map[string]string,
	target, owner string,
) error {
	sc := store.Connector{Name: name, Config: cfg, Target: target, Owner: owner}
	return w.create(context.WithoutCancel(ctx), sc)
}

func (w *Worker) create(ctx context.Context, sc store.Connector) error {
	common, plugin, err := w.validate(sc.Name, sc.Config)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if _, ok := w.connectors[sc.Name]; ok {
		return fmt.Errorf("connector %s: %w", sc.Name, ErrExists)
	}
	if err := w.opts.Store.Put(ctx, sc.Clone()); err != nil {
		return fmt.Errorf("connector %s: %w", sc.Name, err)
	}
	w.writes.Add(1)
	c := newConnector(sc, common, plugin)
	w.connectors[sc.Name] = c
	w.log.Info("connector created", "connector", sc.Name, "class", common.Class,
		"target_state", sc.Target, "owner", sc.Owner)
	w.warnUnknownKeys(sc.Name, sc.Config)
	w.apply(ctx, c)
	return nil
}

// PutConfig creates the connector, RUNNING, or replaces its config and
// restarts its tasks in their target state. by is the caller: "" for the
// REST API, which may not change a connector a file owns (*OwnedError), or
// the file that declares it. created reports whether the connector is new.
func (w *Worker) PutConfig(ctx context.Context, name string, cfg map[string]string,
	by string,
) (created bool, err error) {
	ctx = context.WithoutCancel(ctx)
	w.mu.Lock()
	c, ok := w.connectors[name]
	var owned error
	var prev map[string]string
	if ok {
		owned, prev = c.ownedBy(by), maps.Clone(c.config)
	}
	w.mu.Unlock()
	if !ok {
		err := w.create(ctx, store.Connector{Name: name, Config: cfg,
			Target: store.TargetStarted, Owner: by})
		if errors.Is(err, ErrExists) {
			return w.PutConfig(ctx, name, cfg, by) // created meanwhile
		}
		return err == nil, err
	}
	if owned != nil {
		return false, owned // before validation: a fixed config would be refused too
	}
	cfg = config.Unmask(cfg, prev)
	common, plugin, err := w.validate(name, cfg)
	if err != nil {
		return false, err
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok = w.connectors[name]
	if !ok {
		return false, fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	if err := c.ownedBy(by); err != nil {
		return false, err
	}
	if maps.Equal(c.config, cfg) && c.owner == by && c.failure == "" {
		// The same config again, such as a secret sent back in full
		// because the API hides it: nothing to store or restart. A
		// failed connector is started again, as before.
		return false, nil
	}
	sc := c.stored()
	sc.Config, sc.Owner = cfg, by
	if err := w.opts.Store.Put(ctx, sc); err != nil {
		return false, fmt.Errorf("connector %s: %w", name, err)
	}
	w.writes.Add(1)
	w.stopTasks(ctx, c)
	c.config, c.common, c.plugin, c.owner, c.failure = maps.Clone(cfg), common, plugin, by, ""
	w.log.Info("connector reconfigured", "connector", name, "owner", by)
	w.warnUnknownKeys(name, cfg)
	w.apply(ctx, c)
	return false, nil
}

// Delete stops a connector's tasks and removes it from the store. by is as
// for PutConfig.
func (w *Worker) Delete(ctx context.Context, name, by string) error {
	ctx = context.WithoutCancel(ctx)
	return w.change(name, func(c *connector) error { return w.delete(ctx, c, by) })
}

// change runs f on the connector called name, with mu held.
func (w *Worker) change(name string, f func(*connector) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, err := w.lookup(name)
	if err != nil {
		return err
	}
	return f(c)
}

func (w *Worker) delete(ctx context.Context, c *connector, by string) error {
	name := c.name
	if err := c.ownedBy(by); err != nil {
		return err
	}
	if err := w.opts.Store.Delete(ctx, name); err != nil {
		return fmt.Errorf("connector %s: %w", name, err)
	}
	w.writes.Add(1)
	w.stopTasks(ctx, c)
	delete(w.connectors, name)
	w.opts.Metrics.DeleteConnector(name)
	w.log.Info("connector deleted", "connector", name)
	return nil
}

// Pause sets the target state PAUSED: the tasks stay assigned to their
// partitions but stop fetching. It returns without waiting for them.
func (w *Worker) Pause(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, store.TargetPaused)
}

// Resume sets the target state STARTED, from PAUSED or STOPPED.
func (w *Worker) Resume(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, store.TargetStarted)
}

// Stop sets the target state STOPPED: the tasks commit what is durable and
// shut down, leaving the consumer group empty, and the connector stays
// defined. It returns once the tasks have stopped or ctx is done.
func (w *Worker) Stop(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, store.TargetStopped)
}

func (w *Worker) setTarget(ctx context.Context, name, target string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, err := w.lookup(name)
	if err != nil {
		return err
	}
	// Written even when c holds target already: in a cluster the store
	// may hold another state that this worker has not applied yet.
	sc := c.stored()
	sc.Target = target
	if err := w.opts.Store.Put(ctx, sc); err != nil {
		return fmt.Errorf("connector %s: %w", name, err)
	}
	w.writes.Add(1)
	if c.target == target {
		return nil
	}
	c.target = target
	w.log.Info("connector target state changed", "connector", name, "target_state", target)
	w.apply(context.WithoutCancel(ctx), c)
	return nil
}

// Restore creates the connectors of the store in their target states, as
// a restarted worker does. A connector that cannot start is kept, FAILED,
// with the reason in its status, and the others start anyway.
//
// files is the desired state of the connector files, as LoadPipelines
// returns it. A stored connector that its file still declares is restored
// with the file's config, written to the store first, so that no task runs
// a config the file no longer holds; it keeps its stored target state.
func (w *Worker) Restore(ctx context.Context, files ...store.Connector) error {
	stored, err := w.opts.Store.Connectors(ctx)
	if err != nil {
		return fmt.Errorf("restore connectors: %w", err)
	}
	declared := make(map[string]store.Connector, len(files))
	for _, f := range files {
		declared[f.Name] = f
	}
	for i, sc := range stored {
		f, ok := declared[sc.Name]
		if !ok || sc.Owner == "" || sc.Owner != f.Owner || maps.Equal(sc.Config, f.Config) {
			continue
		}
		sc.Config = f.Config
		if err := w.opts.Store.Put(ctx, sc); err != nil {
			return fmt.Errorf("restore connector %s from %s: %w", sc.Name, sc.Owner, err)
		}
		w.writes.Add(1)
		stored[i] = sc
	}
	ctx = context.WithoutCancel(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, sc := range stored {
		if _, ok := w.connectors[sc.Name]; ok {
			continue
		}
		w.load(ctx, sc, "connector restored")
	}
	return nil
}

// Close stops every connector's tasks, leaving the store as it is, so that
// the next worker resumes them.
func (w *Worker) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	var errs []error
	for _, c := range w.connectors {
		errs = append(errs, w.stopTasks(ctx, c))
	}
	w.mu.Unlock()
	w.bg.Wait()
	return errors.Join(errs...)
}

// lookup returns the connector called name. Call with mu held.
func (w *Worker) lookup(name string) (*connector, error) {
	c, ok := w.connectors[name]
	if !ok {
		return nil, fmt.Errorf("connector %s: %w", name, ErrNotFound)
	}
	return c, nil
}

// Connectors lists the connectors' names, sorted.
func (w *Worker) Connectors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.connectors))
	for n := range w.connectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Info describes one connector as Kafka Connect's ConnectorInfo does. The
// config is as submitted: references unresolved, secrets not yet masked.
func (w *Worker) Info(name string) (Info, error) {
	return read(w, name, func(c *connector) Info {
		info := Info{Name: name, Config: maps.Clone(c.config), Type: TypeSink,
			Owner: c.owner, Target: c.target, Tasks: []TaskID{}}
		for i := range c.taskConfigs {
			info.Tasks = append(info.Tasks, TaskID{Connector: name, Task: i})
		}
		return info
	})
}

// read returns f of the connector called name, with mu held.
func read[T any](w *Worker, name string, f func(*connector) T) (T, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, err := w.lookup(name)
	if err != nil {
		var zero T
		return zero, err
	}
	return f(c), nil
}

// TaskConfigs returns the connector's task configs as generated from its
// submitted config, references unresolved.
func (w *Worker) TaskConfigs(name string) ([]map[string]string, error) {
	return read(w, name, func(c *connector) []map[string]string {
		out := make([]map[string]string, len(c.taskConfigs))
		for i, tc := range c.taskConfigs {
			out[i] = maps.Clone(tc)
		}
		return out
	})
}

// Status reports a connector's state and its tasks' states.
func (w *Worker) Status(name string) (ConnectorStatus, error) {
	return read(w, name, w.status)
}

// status builds c's status. Call with mu held.
func (w *Worker) status(c *connector) ConnectorStatus {
	st := ConnectorStatus{Name: c.name, State: StateRunning, WorkerID: w.opts.WorkerID,
		Type: TypeSink, Tasks: []TaskStatus{}}
	switch {
	case c.failure != "":
		st.State, st.Trace = StateFailed, c.failure
	case c.target == store.TargetStopped:
		st.State = StateStopped
	case c.target == store.TargetPaused:
		st.State = StatePaused
	}
	for _, tr := range c.tasks {
		if tr == nil {
			continue // runs on another worker of the cluster
		}
		ts := tr.t.status()
		ts.WorkerID = w.opts.WorkerID
		ts.Trace = w.opts.Secrets.Redact(ts.Trace)
		if tr.restarting {
			ts.State = StateRestarting
		}
		st.Tasks = append(st.Tasks, ts)
	}
	return st
}

// Restart restarts a connector. With neither option it retries a
// connector that FAILED to start and leaves running tasks alone, and
// returns once done. includeTasks adds the tasks, onlyFailed limits the
// restart to instances that FAILED; with either set, the restart runs after
// Restart returns, and the status it returns shows what will restart as
// RESTARTING.
func (w *Worker) Restart(ctx context.Context, name string, includeTasks, onlyFailed bool) (ConnectorStatus, error) {
	ctx = context.WithoutCancel(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	c, err := w.lookup(name)
	if err != nil {
		return ConnectorStatus{}, err
	}
	if !includeTasks && !onlyFailed {
		if c.failure != "" {
			w.restartConnector(ctx, c)
		}
		return w.status(c), nil
	}

	restartConn := c.failure != "" || !onlyFailed
	var tasks []*taskRun
	if includeTasks && !restartConn {
		for _, tr := range c.tasks {
			if tr != nil && (!onlyFailed || tr.t.status().State == StateFailed) {
				tr.restarting = true
				tasks = append(tasks, tr)
			}
		}
	}
	st := w.status(c)
	if restartConn {
		st.State = StateRestarting
		for i := range st.Tasks {
			if includeTasks && (!onlyFailed || st.Tasks[i].State == StateFailed) {
				st.Tasks[i].State = StateRestarting
				// Until the restart below runs, status says so too,
				// rather than show the tasks about to stop RUNNING.
				c.tasks[st.Tasks[i].ID].restarting = true
			}
		}
	}
	if !restartConn && len(tasks) == 0 {
		return st, nil
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.closed || w.connectors[name] != c {
			return
		}
		if restartConn && includeTasks {
			w.restartConnector(ctx, c)
			return
		}
		if restartConn {
			c.failure = "" // tasks untouched: only the connector restarts
			return
		}
		for _, tr := range tasks {
			w.restartTask(ctx, c, tr.t.id)
		}
	}()
	return st, nil
}

// RestartTask restarts one task and returns once it is started again.
func (w *Worker) RestartTask(ctx context.Context, name string, id int) error {
	ctx = context.WithoutCancel(ctx)
	return w.change(name, func(c *connector) error {
		if id < 0 || id >= len(c.tasks) || c.tasks[id] == nil {
			return fmt.Errorf("task %s-%d: %w", name, id, ErrTaskNotFound)
		}
		w.restartTask(ctx, c, id)
		return nil
	})
}

// restartConnector stops and starts every task. Call with mu held.
func (w *Worker) restartConnector(ctx context.Context, c *connector) {
	w.stopTasks(ctx, c)
	c.failure = ""
	w.log.Info("connector restarting", "connector", c.name)
	w.apply(ctx, c)
}

// OwnedBy reports the file that owns connector name, "" when the REST API
// does.
func (w *Worker) OwnedBy(name string) (string, error) {
	return read(w, name, func(c *connector) string { return c.owner })
}
