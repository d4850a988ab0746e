package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/store"
)

// connector is one connector, its target state and its tasks. Every field
// but paused is guarded by Worker.mu.
type connector struct {
	name   string
	config map[string]string // as submitted: references unresolved
	common Common
	plugin connectors.SinkConnector
	target string
	owner  string
	// failure explains why the connector could not start its tasks.
	failure string

	taskConfigs []map[string]string // unresolved, as the plugin split them
	tasks       []*taskRun

	// paused is read by the tasks' loops; see task.syncPause.
	paused atomic.Bool
}

// taskRun is one running task and what stops it.
type taskRun struct {
	t          *task
	cancel     context.CancelFunc
	done       chan struct{}
	restarting bool
}

func newConnector(sc store.Connector, common Common, plugin connectors.SinkConnector) *connector {
	return &connector{name: sc.Name, config: maps.Clone(sc.Config), common: common,
		plugin: plugin, target: sc.Target, owner: sc.Owner}
}

// stored returns what the store holds of c.
func (c *connector) stored() store.Connector {
	return store.Connector{Name: c.name, Config: maps.Clone(c.config), Target: c.target,
		Owner: c.owner}
}

// ownedBy checks that by may change c's config: the REST API ("") may
// change only connectors no file owns; a file may take over any.
func (c *connector) ownedBy(by string) error {
	if by == "" && c.owner != "" {
		return &OwnedError{Name: c.name, File: c.owner}
	}
	return nil
}

// apply brings c's tasks to its target state. Call with mu held.
func (w *Worker) apply(ctx context.Context, c *connector) {
	if c.failure != "" {
		return
	}
	c.paused.Store(c.target == store.TargetPaused)
	if c.target == store.TargetStopped {
		_ = w.stopTasks(ctx, c)
		c.taskConfigs = nil
		return
	}
	if len(c.tasks) == 0 {
		if err := w.startTasks(ctx, c); err != nil {
			c.failure = w.opts.Secrets.Redact(err.Error())
			w.log.Error("connector failed", "connector", c.name, "err", c.failure)
		}
	}
}

// startTasks splits c into task configs and starts one task for each.
// References are resolved here and nowhere else: the resolved configs live
// only in the tasks. Call with mu held.
func (w *Worker) startTasks(ctx context.Context, c *connector) error {
	run := w.runConfig(c.config)
	resolved, err := w.opts.Providers.Resolve(run)
	if err != nil {
		return fmt.Errorf("resolve config: %w", err)
	}
	w.opts.Secrets.Add(run, resolved)
	if c.plugin == nil {
		return errors.New("no connector plugin")
	}
	configs := c.plugin.TaskConfigs(c.config, c.common.TasksMax)
	dec, err := w.opts.NewDecoder(resolved)
	if err != nil {
		return fmt.Errorf("value converter: %w", err)
	}
	c.taskConfigs = configs
	c.tasks = make([]*taskRun, len(configs))
	for i := range configs {
		if !w.owns(c.name, i) {
			continue // another worker of the cluster runs it
		}
		tr, err := w.launch(ctx, c, i, dec)
		if err != nil {
			c.tasks = c.tasks[:i]
			_ = w.stopTasks(ctx, c)
			return err
		}
		c.tasks[i] = tr
	}
	w.log.Info("connector started", "connector", c.name, "class", c.common.Class,
		"tasks", len(c.tasks), "paused", c.paused.Load())
	return nil
}

// launch starts task id of c from its task config.
func (w *Worker) launch(ctx context.Context, c *connector, id int, dec Decoder) (*taskRun, error) {
	// The spool directory is this worker's: it goes to the task, not into
	// the task configs the REST API shows from any worker.
	tc := withSpool(c.taskConfigs[id], w.opts.SpoolDir)
	cfg, err := w.opts.Providers.Resolve(tc)
	if err != nil {
		return nil, fmt.Errorf("resolve config of task %d: %w", id, err)
	}
	w.opts.Secrets.Add(tc, cfg)
	t := newTask(w, c, id, c.plugin.NewTask(), cfg, dec)
	tctx, cancel := context.WithCancel(ctx)
	tr := &taskRun{t: t, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		t.run(tctx)
	}()
	return tr, nil
}

// stopTasks stops every task of c and waits for them, or for ctx. Call
// with mu held.
func (w *Worker) stopTasks(ctx context.Context, c *connector) error {
	if len(c.tasks) == 0 {
		return nil
	}
	for _, tr := range c.tasks {
		if tr != nil {
			tr.cancel()
		}
	}
	var err error
	for _, tr := range c.tasks {
		if tr == nil {
			continue
		}
		select {
		case <-tr.done:
		case <-ctx.Done():
			err = fmt.Errorf("stop connector %s: %w", c.name, ctx.Err())
		}
	}
	c.tasks = nil
	w.log.Info("connector tasks stopped", "connector", c.name)
	return err
}

// restartTask stops task id of c and starts it again. Call with mu held.
func (w *Worker) restartTask(ctx context.Context, c *connector, id int) {
	if id >= len(c.tasks) || c.tasks[id] == nil {
		return
	}
	old := c.tasks[id]
	old.cancel()
	<-old.done
	resolved, err := w.opts.Providers.Resolve(w.runConfig(c.config))
	var dec Decoder
	if err == nil {
		dec, err = w.opts.NewDecoder(resolved)
	}
	var tr *taskRun
	if err == nil {
		tr, err = w.launch(ctx, c, id, dec)
	}
	if err != nil {
		old.t.setState(StateFailed, err)
		old.restarting = false
		return
	}
	c.tasks[id] = tr
	w.log.Info("task restarted", "connector", c.name, "task", id)
}

func withSpool(cfg map[string]string, dir string) map[string]string {
	out := maps.Clone(cfg)
	if out == nil {
		out = map[string]string{}
	}
	if _, ok := out["spool.dir"]; !ok && dir != "" {
		out["spool.dir"] = dir
	}
	return out
}
