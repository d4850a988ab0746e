package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// fileVersion is the version of the file's layout.
const fileVersion = 1

// File is a ConfigStore kept in one JSON file. Every change rewrites the
// whole file through a temporary file, fsync and rename, so that a crash
// leaves either the old or the new content, never a torn one. The file is
// small: a worker holds tens of connectors, not millions.
type File struct {
	path string

	mu sync.Mutex
	m  map[string]Connector
}

// fileContent is the file's JSON document.
type fileContent struct {
	Version    int         `json:"version"`
	Connectors []Connector `json:"connectors"`
}

// OpenFile opens the store at path, creating its directory (mode 0700,
// since configs may hold credentials) when missing, so that a worker that
// could not save a connector fails at start. Otherwise it is ReadFile.
func OpenFile(path string) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create config store directory: %w", err)
	}
	return ReadFile(path)
}

// ReadFile opens the store at path and creates nothing, for a reader such
// as tributary plan. A missing file is an empty store; a file that cannot
// be parsed is an error, because starting with no connectors would silently
// drop them all.
func ReadFile(path string) (*File, error) {
	s := &File{path: path, m: map[string]Connector{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config store %s: %w", path, err)
	}
	var fc fileContent
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, fmt.Errorf("read config store %s: %w", path, err)
	}
	if fc.Version != fileVersion {
		return nil, fmt.Errorf("read config store %s: unknown version %d", path, fc.Version)
	}
	for _, c := range fc.Connectors {
		s.m[c.Name] = c
	}
	return s, nil
}

// Path returns the file's path.
func (s *File) Path() string { return s.path }

// Connectors implements ConfigStore.
func (s *File) Connectors(context.Context) ([]Connector, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sorted(s.m), nil
}

// Put implements ConfigStore.
func (s *File) Put(_ context.Context, c Connector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]Connector, len(s.m)+1)
	for k, v := range s.m {
		next[k] = v
	}
	next[c.Name] = c.Clone()
	return s.write(next)
}

// Delete implements ConfigStore.
func (s *File) Delete(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[name]; !ok {
		return nil
	}
	next := make(map[string]Connector, len(s.m))
	for k, v := range s.m {
		if k != name {
			next[k] = v
		}
	}
	return s.write(next)
}

// write makes next the file's content and, once it is durable, the
// store's. Call with mu held.
func (s *File) write(next map[string]Connector) error {
	data, err := json.MarshalIndent(fileContent{Version: fileVersion, Connectors: sorted(next)},
		"", "  ")
	if err != nil {
		return fmt.Errorf("encode config store: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".connectors-*.tmp")
	if err != nil {
		return fmt.Errorf("write config store: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write config store %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync config store %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config store %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("replace config store %s: %w", s.path, err)
	}
	syncDir(filepath.Dir(s.path))
	s.m = next
	return nil
}

// syncDir makes a rename in dir durable. Not every file system supports
// syncing a directory; the rename is then as durable as that system makes it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
