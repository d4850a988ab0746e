package worker

import (
	"errors"
	"fmt"
)

// Kafka Connect's connector and task states.
const (
	StateUnassigned = "UNASSIGNED"
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateFailed     = "FAILED"
	StateStopped    = "STOPPED"
	StateRestarting = "RESTARTING"
)

// TypeSink is the type of every connector Tributary runs.
const TypeSink = "sink"

// ErrNotFound reports an unknown connector.
var ErrNotFound = errors.New("connector not found")

// ErrTaskNotFound reports an unknown task of a known connector.
var ErrTaskNotFound = errors.New("task not found")

// ErrExists reports a connector that runs already.
var ErrExists = errors.New("connector already exists")

// ErrClosed reports a change asked of a worker that is shutting down.
var ErrClosed = errors.New("worker is shutting down")

// ErrNotStopped reports an offsets change asked of a connector that is not
// STOPPED, which Kafka Connect refuses too: running tasks would overwrite
// the change with their next commit.
var ErrNotStopped = errors.New("connector is not stopped")

// OwnedError reports a change through the REST API to a connector that a
// pipelines file declares: the file is the desired state, so the change
// would be undone by the next apply.
type OwnedError struct {
	Name string
	File string
}

func (e *OwnedError) Error() string {
	return fmt.Sprintf("connector %s is declared in %s; change or remove that file instead",
		e.Name, e.File)
}

// OffsetsError reports an offsets change the connector refuses, with why.
type OffsetsError struct {
	Name string
	Err  error
}

func (e *OffsetsError) Error() string {
	return fmt.Sprintf("change offsets of connector %s: %v", e.Name, e.Err)
}

func (e *OffsetsError) Unwrap() error { return e.Err }

// ConnectorStatus is a connector's state as Kafka Connect's status endpoint
// shows it.
type ConnectorStatus struct {
	Name     string
	State    string
	WorkerID string
	// Trace explains a FAILED state.
	Trace string
	Type  string
	Tasks []TaskStatus
}

// TaskStatus is one task's state; Trace holds the failure when FAILED.
type TaskStatus struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskID names one task, as Kafka Connect's ConnectorTaskId.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// Info describes a connector, as Kafka Connect's ConnectorInfo, plus what
// the store knows of it.
type Info struct {
	Name   string
	Config map[string]string
	Tasks  []TaskID
	Type   string
	// Target is the target state: STARTED, PAUSED or STOPPED.
	Target string
	// Owner is the pipelines file declaring the connector, or "".
	Owner string
}
