package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// spoolLockName is the file a task holds locked in its spool directory
// for as long as it runs.
const spoolLockName = ".lock"

// openSpool creates a task's spool directory below base, named after
// prefix, and locks it for the life of the task (see spoolLock.release).
// It then removes the spool directories below base that no task holds:
// what a killed worker left behind. A directory without a lock file may be
// one another task is creating, and is left alone.
func openSpool(base, prefix string) (string, *spoolLock, error) {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", nil, fmt.Errorf("create spool directory: %w", err)
	}
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", nil, fmt.Errorf("create spool directory: %w", err)
	}
	lock, err := lockSpool(filepath.Join(dir, spoolLockName))
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("lock spool directory: %w", err)
	}
	removeAbandonedSpools(base, dir)
	return dir, lock, nil
}

// removeAbandonedSpools removes the directories of base, but keep, whose
// lock file no task holds.
func removeAbandonedSpools(base, keep string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(base, e.Name())
		if !e.IsDir() || dir == keep {
			continue
		}
		lock, err := tryLockSpool(filepath.Join(dir, spoolLockName))
		if errors.Is(err, fs.ErrNotExist) || lock == nil {
			continue // being created, held, or not ours to judge
		}
		_ = os.RemoveAll(dir)
		lock.release()
	}
}
