package storage

import (
	"context"
	"errors"
	"io"
)

// ErrExist reports that a create-only write found an object at its key.
var ErrExist = errors.New("object already exists")

// ErrNotExist reports that no object exists at a key.
var ErrNotExist = errors.New("object does not exist")

// Store is an object store with create-only writes. Implementations must be
// safe for concurrent use. Errors that are worth retrying (timeouts, 5xx,
// throttling, connection resets) wrap connectors.ErrRetriable.
type Store interface {
	// PutIfAbsent writes size bytes from r at key unless an object exists
	// there, in which case it returns an error wrapping ErrExist. The object
	// becomes visible whole or not at all.
	PutIfAbsent(ctx context.Context, key string, r io.Reader, size int64) error

	// Get returns the whole object at key, or an error wrapping ErrNotExist.
	Get(ctx context.Context, key string) ([]byte, error)

	// List returns the keys that start with prefix and sort after
	// startAfter, in lexical order.
	List(ctx context.Context, prefix, startAfter string) ([]string, error)

	// Delete removes the object at key; a missing object is not an error.
	Delete(ctx context.Context, key string) error

	// String names the store for logs and errors, e.g. s3://bucket.
	String() string
}
