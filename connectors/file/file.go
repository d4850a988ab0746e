// Package file is the local-directory sink: the same layout, formats and
// commit protocol as the S3 sink, written under a directory of the local
// file system. The demo uses it, and so can a user who mounts a shared file
// system.
//
// Create-only writes are link(2): a finished file is written under a
// temporary name in the target directory and linked to its final name, which
// fails when the name exists, so an object appears whole or not at all.
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/storage"
)

// KeyDir is the directory the sink writes under.
const KeyDir = "file.dir"

// NewConnector returns the local-directory sink connector.
func NewConnector() connectors.SinkConnector {
	return &storage.Connector{
		Keys: func(config map[string]string) []connectors.FieldError {
			if strings.TrimSpace(config[KeyDir]) == "" {
				return []connectors.FieldError{{Key: KeyDir, Message: "is required"}}
			}
			return nil
		},
		NewStore: OpenStore,
		Def: connectors.ConfigDef{Keys: []connectors.ConfigKey{{Name: KeyDir,
			Type: connectors.TypeString, Required: true, Importance: connectors.ImportanceHigh,
			Group: "File", Documentation: "Directory the connector writes under; " +
				"created when missing."}}},
	}
}

// OpenStore opens the directory a connector config names.
func OpenStore(ctx context.Context, config map[string]string) (storage.Store, error) {
	return NewStore(config[KeyDir])
}

// Store is a storage.Store over a local directory.
type Store struct {
	root string
}

// NewStore returns a Store rooted at dir, creating dir if needed.
func NewStore(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", abs, err)
	}
	return &Store{root: abs}, nil
}

func (s *Store) path(key string) (string, error) {
	p := filepath.Join(s.root, filepath.FromSlash(key))
	if !strings.HasPrefix(p, s.root+string(filepath.Separator)) {
		return "", fmt.Errorf("key %q leaves %s", key, s.root)
	}
	return p, nil
}

// PutIfAbsent implements storage.Store.
func (s *Store) PutIfAbsent(ctx context.Context, key string, r io.Reader, size int64) error {
	dst, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, r)
	if err == nil && n != size {
		err = fmt.Errorf("wrote %d bytes, want %d", n, size)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("put %s: %w", key, storage.ErrExist)
		}
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, storage.ErrNotExist)
	}
	return b, err
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix, startAfter string) ([]string, error) {
	// Walk only below the deepest directory the prefix names.
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		dir, err := s.path(prefix[:i])
		if err != nil {
			return nil, err
		}
		start = dir
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(key, prefix) && key > startAfter {
			keys = append(keys, key)
		}
		return nil
	})
	sort.Strings(keys)
	return keys, err
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// String implements storage.Store.
func (s *Store) String() string { return "file://" + s.root }
