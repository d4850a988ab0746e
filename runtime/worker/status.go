package worker

import "errors"

// Kafka Connect's connector and task states.
const (
	StateUnassigned = "UNASSIGNED"
	StateRunning    = "RUNNING"
	StatePaused     = "PAUSED"
	StateFailed     = "FAILED"
	StateStopped    = "STOPPED"
)

// ErrNotFound reports an unknown connector.
var ErrNotFound = errors.New("connector not found")

// ErrExists reports a connector that runs already.
var ErrExists = errors.New("connector already exists")

// ConnectorStatus is a connector's state as Kafka Connect's status endpoint
// shows it.
type ConnectorStatus struct {
	Name  string       `json:"name"`
	State string       `json:"state"`
	Tasks []TaskStatus `json:"tasks"`
}

// TaskStatus is one task's state; Trace holds the failure when FAILED.
type TaskStatus struct {
	ID    int    `json:"id"`
	State string `json:"state"`
	Trace string `json:"trace,omitempty"`
}
