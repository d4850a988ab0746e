package worker

import (
	"context"
	"fmt"
	"maps"

	"github.com/tributary-io/tributary/runtime/store"
)

// owns reports whether this worker runs task id of connector name.
func (w *Worker) owns(name string, id int) bool {
	return w.opts.Owns == nil || w.opts.Owns(name, id)
}

// TaskCount returns how many tasks cfg splits into, 0 for a config that
// does not validate. A distributed leader assigns that many tasks.
func (w *Worker) TaskCount(name string, cfg map[string]string) int {
	common, plugin, err := w.validate(name, cfg)
	if err != nil || plugin == nil {
		return 0
	}
	return len(plugin.TaskConfigs(cfg, common.TasksMax))
}

// Sync brings the worker to its store and to Owns, for distributed mode,
// where other workers change the shared store: it creates the connectors
// it does not hold, recreates those whose stored config or owner changed,
// applies a changed target state as Pause, Resume and Stop do, removes
// those the store no longer holds, and starts and stops tasks as Owns now
// answers. It writes nothing to the store.
func (w *Worker) Sync(ctx context.Context) error {
	// The store is read without mu, which tasks stopping may hold for
	// long. Two Syncs, as a distributed worker runs from the store's
	// progress and from a rebalance, must then not overlap: one that read
	// the store first could apply its older view after the other, and undo
	// a change that no later progress would bring back.
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	var stored []store.Connector
	for {
		// A write of this worker's own, which holds mu, may land between
		// the read and mu: the view read is then older than what the
		// worker holds, and applying it would undo the write.
		seen := w.writes.Load()
		var err error
		if stored, err = w.opts.Store.Connectors(ctx); err != nil {
			return fmt.Errorf("sync connectors: %w", err)
		}
		w.mu.Lock()
		if w.writes.Load() == seen {
			break
		}
		w.mu.Unlock()
	}
	defer w.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	if w.closed {
		return ErrClosed
	}
	want := make(map[string]bool, len(stored))
	for _, sc := range stored {
		want[sc.Name] = true
		c, ok := w.connectors[sc.Name]
		if ok && (!maps.Equal(c.config, sc.Config) || c.owner != sc.Owner) {
			_ = w.stopTasks(ctx, c)
			delete(w.connectors, sc.Name)
			ok = false
		}
		if ok {
			if c.target != sc.Target {
				// Pausing keeps the tasks running; only stopping stops them.
				c.target = sc.Target
				w.log.Info("connector target state changed", "connector", sc.Name,
					"target_state", sc.Target, "why", "store")
				w.apply(ctx, c)
			}
			w.syncTasks(ctx, c)
			continue
		}
		w.load(ctx, sc, "connector synced")
	}
	for name, c := range w.connectors {
		if !want[name] {
			_ = w.stopTasks(ctx, c)
			delete(w.connectors, name)
			w.opts.Metrics.DeleteConnector(name)
			w.log.Info("connector removed", "connector", name, "why", "deleted from store")
		}
	}
	return nil
}

// syncTasks stops the tasks of c this worker no longer owns and starts
// those it now owns. A task stops, committing what is durable and leaving
// the connector's consumer group, before Sync returns, so that the worker
// that takes it over finds its partitions released. Call with mu held.
func (w *Worker) syncTasks(ctx context.Context, c *connector) {
	if c.failure != "" || c.target == store.TargetStopped ||
		len(c.tasks) != len(c.taskConfigs) {
		return
	}
	var dec Decoder
	for i, tr := range c.tasks {
		owned := w.owns(c.name, i)
		switch {
		case tr != nil && !owned:
			tr.cancel()
			select {
			case <-tr.done:
			case <-ctx.Done():
			}
			c.tasks[i] = nil
			w.log.Info("task revoked", "connector", c.name, "task", i, "why", "rebalance")
		case tr == nil && owned:
			var err error
			if dec == nil {
				dec, err = w.decoder(c)
			}
			if err == nil {
				c.tasks[i], err = w.launch(ctx, c, i, dec)
			}
			if err != nil {
				w.log.Error("task failed", "connector", c.name, "task", i, "err",
					w.opts.Secrets.Redact(err.Error()))
				continue
			}
			w.log.Info("task assigned", "connector", c.name, "task", i, "why", "rebalance")
		}
	}
}

// load adds a stored connector the worker does not hold and brings it to
// its target state, logging msg; one that cannot start is kept, FAILED,
// with the reason in its status. Call with mu held.
func (w *Worker) load(ctx context.Context, sc store.Connector, msg string) {
	common, plugin, verr := w.validate(sc.Name, sc.Config)
	c := newConnector(sc, common, plugin)
	w.connectors[sc.Name] = c
	if verr != nil {
		c.failure = w.opts.Secrets.Redact(verr.Error())
		w.log.Error("connector failed", "connector", sc.Name, "err", c.failure)
		return
	}
	w.log.Info(msg, "connector", sc.Name, "target_state", sc.Target, "owner", sc.Owner)
	w.warnUnknownKeys(sc.Name, sc.Config)
	w.apply(ctx, c)
}

// decoder returns the value converter of c's config.
func (w *Worker) decoder(c *connector) (Decoder, error) {
	resolved, err := w.opts.Providers.Resolve(w.runConfig(c.config))
	if err != nil {
		return nil, fmt.Errorf("resolve config: %w", err)
	}
	return w.opts.NewDecoder(resolved)
}
