package registry

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/tributary-io/tributary/schemas"
)

// Memory is an in-process registry with the server's id rules: ids start at
// 1, and a schema already registered under any subject keeps its id. It
// implements schemas.Resolver for tests that need no network. It is safe
// for concurrent use.
type Memory struct {
	mu sync.Mutex // serialises registrations
	v  *view
}

// NewMemory returns an empty in-memory registry.
func NewMemory() *Memory {
	return &Memory{v: newView(slog.New(slog.DiscardHandler))}
}

// Register registers the Avro schema text under subject and returns it with
// its id. Registering the same schema again returns the same id.
func (m *Memory) Register(subject, text string) (*schemas.Schema, error) {
	ident, parsed, err := identify(typeAvro, text)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", subject, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if sv, found, _ := m.v.find(subject, ident, false); found {
		c, _ := m.v.contentByID(sv.id)
		return schemaOf(c)
	}
	id := m.v.nextID()
	if c, ok := m.v.contentByIdent(ident); ok {
		id = c.id
	}
	version := nextVersion(m.v.history(subject))
	c := &content{id: id, text: ident, schemaType: typeAvro, ident: ident, avro: parsed}
	m.v.mu.Lock()
	m.v.applySchema(subject, version, c, false)
	m.v.mu.Unlock()
	c, _ = m.v.contentByID(id)
	return schemaOf(c)
}

// SchemaByID returns the schema registered under id, or an error wrapping
// schemas.ErrUnknownSchema.
func (m *Memory) SchemaByID(_ context.Context, id int) (*schemas.Schema, error) {
	c, ok := m.v.contentByID(id)
	if !ok {
		return nil, fmt.Errorf("schema %d: %w", id, schemas.ErrUnknownSchema)
	}
	return schemaOf(c)
}
