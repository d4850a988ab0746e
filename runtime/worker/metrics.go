package worker

import (
	"errors"

	"github.com/tributary-io/tributary/runtime/metrics"
)

// taskStates are the states tributary_task_state has a series for.
var taskStates = []string{
	StateUnassigned, StateRunning, StatePaused, StateFailed, StateStopped, StateRestarting,
}

// snapshot reports the connectors and the states of the tasks this worker
// runs, as Status does, for a scrape of the metrics. It waits for a change
// under way to finish, as Status does.
func (w *Worker) snapshot() metrics.Snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := metrics.Snapshot{Connectors: len(w.connectors), States: taskStates}
	for _, c := range w.connectors {
		for _, ts := range w.status(c).Tasks {
			s.Tasks = append(s.Tasks, metrics.TaskState{
				Connector: c.name, Task: ts.ID, State: ts.State,
			})
		}
	}
	return s
}

// countDelivered adds what one chunk of a batch came to: the records that
// failed, skipped under errors.tolerance=all, and the one that ends the
// delivery, if any.
func (t *task) countDelivered(c *decoded) {
	skipped := len(c.skipped)
	if skipped > 0 {
		t.m.RecordsSkipped.Add(float64(skipped))
	}
	var re *recordError
	if errors.As(c.err, &re) {
		skipped++
	}
	if skipped > 0 {
		t.m.RecordErrors.Add(float64(skipped))
	}
}
