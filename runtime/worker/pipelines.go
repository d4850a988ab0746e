package worker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/store"
)

// Pipelines is desired state declared in files: the connectors of a
// pipelines directory (connectors.dir) and of listed files
// (connectors.files). Each connector is owned by its file.
type Pipelines struct {
	// Dir is the pipelines directory, or "".
	Dir string
	// Files are connector files outside Dir.
	Files []string
}

// Load reads every file and reports all their problems at once.
func (p Pipelines) Load() ([]store.Connector, error) {
	wc := &config.Worker{ConnectorsDir: p.Dir, ConnectorFiles: p.Files}
	conns, err := wc.LoadConnectors()
	if err != nil {
		return nil, err
	}
	out := make([]store.Connector, len(conns))
	for i, c := range conns {
		out[i] = store.Connector{Name: c.Name, Config: c.Config, Target: store.TargetStarted,
			Owner: abs(c.Source)}
	}
	return out, nil
}

// LoadPipelines reads every file of p and validates each connector as
// Create would, the keys every sink shares and the connector's own alike,
// reporting the problems of all files at once, each at its file and line.
func (w *Worker) LoadPipelines(p Pipelines) ([]store.Connector, error) {
	wc := &config.Worker{ConnectorsDir: p.Dir, ConnectorFiles: p.Files}
	conns, err := wc.ReadConnectors(func(c *config.Connector) []connectors.FieldError {
		return w.ValidateFields(c.Name, c.Config)
	})
	if err != nil {
		return nil, err
	}
	out := make([]store.Connector, 0, len(conns))
	for _, c := range conns {
		out = append(out, store.Connector{Name: c.Name, Config: c.Config,
			Target: store.TargetStarted, Owner: abs(c.Source)})
	}
	return out, nil
}

// Owns reports whether a connector owned by file belongs to p: a file of
// p.Dir, present or deleted since, or one of p.Files.
func (p Pipelines) Owns(file string) bool {
	file = abs(file)
	if p.Dir != "" && filepath.Dir(file) == abs(p.Dir) {
		return true
	}
	for _, f := range p.Files {
		if abs(f) == file {
			return true
		}
	}
	return false
}

// abs makes owner paths comparable whatever directory they were given from.
func abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}

// Plan returns what applying p to the worker would change.
func (w *Worker) Plan(ctx context.Context, p Pipelines) ([]store.Change, error) {
	_, changes, err := w.diff(ctx, p)
	return changes, err
}

// diff loads p and compares it with the store.
func (w *Worker) diff(ctx context.Context, p Pipelines) (map[string]store.Connector, []store.Change, error) {
	desired, err := w.LoadPipelines(p)
	if err != nil {
		return nil, nil, err
	}
	current, err := w.opts.Store.Connectors(ctx)
	if err != nil {
		return nil, nil, err
	}
	byName := make(map[string]store.Connector, len(desired))
	for _, d := range desired {
		byName[d.Name] = d
	}
	return byName, store.Diff(desired, current, p.Owns), nil
}

// Apply makes the worker run what p declares: it creates, reconfigures and
// deletes connectors until they match the files. A file that does not load
// changes nothing: its errors are returned, with file and line, and the
// connectors keep running as they were.
func (w *Worker) Apply(ctx context.Context, p Pipelines) ([]store.Change, error) {
	byName, changes, err := w.diff(ctx, p)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ch := range changes {
		var err error
		switch ch.Action {
		case store.ActionCreate, store.ActionUpdate:
			d := byName[ch.Name]
			_, err = w.PutConfig(ctx, d.Name, d.Config, d.Owner)
		case store.ActionDelete:
			err = w.Delete(ctx, ch.Name, ch.Owner)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", ch.Action, ch.Name, err))
		}
	}
	if len(changes) > 0 {
		w.log.Info("pipelines applied", "changes", len(changes), "failed", len(errs))
	}
	return changes, errors.Join(errs...)
}

// Watch applies p once its watch is in place, then whenever a file of
// p.Dir or one of p.Files changes, until ctx is done. Changes are gathered for a short while first, since
// editors write a file in several steps. A failed apply is logged with
// every problem and the next change retries it.
func (w *Worker) Watch(ctx context.Context, p Pipelines) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch pipelines: %w", err)
	}
	defer fw.Close()
	dirs := map[string]bool{}
	if p.Dir != "" {
		dirs[p.Dir] = true
	}
	for _, f := range p.Files {
		dirs[filepath.Dir(f)] = true
	}
	for d := range dirs {
		if err := fw.Add(d); err != nil {
			return fmt.Errorf("watch %s: %w", d, err)
		}
	}

	// Apply once as soon as the watch is in place, for changes made since
	// the caller's last Apply and before the watch saw them.
	const settle = 300 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if p.relevant(ev.Name) {
				timer.Reset(settle)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			w.log.Warn("pipelines watch", "err", err)
		case <-timer.C:
			if _, err := w.Apply(ctx, p); err != nil {
				w.log.Error("pipelines not applied; fix the files", "err", err)
			}
		}
	}
}

// relevant reports whether a changed path may hold a connector of p.
func (p Pipelines) relevant(path string) bool {
	base := filepath.Base(path)
	if strings.HasPrefix(base, ".") {
		return false
	}
	return slices.Contains(config.ConnectorFileExts, strings.ToLower(filepath.Ext(base))) &&
		p.Owns(path)
}
