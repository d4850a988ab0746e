package store

import (
	"context"
	"errors"
	"maps"
	"sort"
	"sync"
)

// Kafka Connect's target states: what a user asked a connector to be.
const (
	TargetStarted = "STARTED"
	TargetPaused  = "PAUSED"
	TargetStopped = "STOPPED"
)

// ErrNotFound reports a connector the store does not hold.
var ErrNotFound = errors.New("connector not in the store")

// Connector is one stored connector.
type Connector struct {
	Name string `json:"name"`
	// Config is the config as submitted, references unresolved.
	Config map[string]string `json:"config"`
	// Target is TargetStarted, TargetPaused or TargetStopped.
	Target string `json:"target_state"`
	// Owner is the pipelines file that declares the connector, or "" for a
	// connector created through the REST API.
	Owner string `json:"owner,omitempty"`
}

// Clone returns a deep copy of c.
func (c Connector) Clone() Connector {
	c.Config = maps.Clone(c.Config)
	return c
}

// ConfigStore holds the connectors of a worker or a cluster.
//
// The worker calls it with its own lock held, so calls never overlap for
// one worker; implementations must still be safe for concurrent use, since
// tools may read while the worker writes. ctx bounds each call. A returned
// error means the change is not durable: the worker then leaves its running
// connectors as they were and reports the error to the caller.
type ConfigStore interface {
	// Connectors returns every stored connector, sorted by name.
	Connectors(ctx context.Context) ([]Connector, error)
	// Put creates or replaces a connector.
	Put(ctx context.Context, c Connector) error
	// Delete removes a connector; deleting an unknown name is not an error.
	Delete(ctx context.Context, name string) error
}

// Memory is a ConfigStore that forgets everything when the process ends.
type Memory struct {
	mu sync.Mutex
	m  map[string]Connector
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{m: map[string]Connector{}} }

// Connectors implements ConfigStore.
func (s *Memory) Connectors(context.Context) ([]Connector, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sorted(s.m), nil
}

// Put implements ConfigStore.
func (s *Memory) Put(_ context.Context, c Connector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[c.Name] = c.Clone()
	return nil
}

// Delete implements ConfigStore.
func (s *Memory) Delete(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, name)
	return nil
}

func sorted(m map[string]Connector) []Connector {
	out := make([]Connector, 0, len(m))
	for _, c := range m {
		out = append(out, c.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
