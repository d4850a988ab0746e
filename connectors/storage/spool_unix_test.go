//go:build unix

package storage

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// TestOpenSpoolRemovesAbandonedSpools opens a task's spool next to the
// spools of a killed worker's task (lock file unlocked), of a running task
// (locked) and of a task being created (no lock file yet): only the first
// is removed.
func TestOpenSpoolRemovesAbandonedSpools(t *testing.T) {
	base := t.TempDir()
	mkdir := func(name string, lock bool) string {
		dir := filepath.Join(base, name)
		must(t, os.MkdirAll(dir, 0o700))
		must(t, os.WriteFile(filepath.Join(dir, "file-1"), []byte("spooled"), 0o600))
		if lock {
			must(t, os.WriteFile(filepath.Join(dir, spoolLockName), nil, 0o600))
		}
		return dir
	}
	abandoned := mkdir("c-0-111", true)
	creating := mkdir("c-2-333", false)
	running := filepath.Join(base, "c-1-222")
	must(t, os.MkdirAll(running, 0o700))
	held, err := lockSpool(filepath.Join(running, spoolLockName))
	must(t, err)

	dir, lock, err := openSpool(base, "c-0-")
	must(t, err)
	defer lock.release()
	for path, want := range map[string]bool{abandoned: false, creating: true, running: true, dir: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", path, err == nil, want)
		}
	}

	// Once the running task stops without cleaning up, as a killed one
	// does, its spool goes at the next start.
	held.release()
	dir2, lock2, err := openSpool(base, "c-1-")
	must(t, err)
	defer lock2.release()
	for path, want := range map[string]bool{running: false, dir: true, dir2: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("after release: %s exists: %v, want %v", path, err == nil, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenSpoolConcurrently starts tasks at once over one spool.dir: none
// takes another's new directory for abandoned.
func TestOpenSpoolConcurrently(t *testing.T) {
	base := t.TempDir()
	const tasks = 32
	dirs := make([]string, tasks)
	locks := make([]*spoolLock, tasks)
	errs := make([]error, tasks)
	var wg sync.WaitGroup
	for i := range tasks {
		wg.Go(func() { dirs[i], locks[i], errs[i] = openSpool(base, "c-"+strconv.Itoa(i)+"-") })
	}
	wg.Wait()
	for i := range tasks {
		must(t, errs[i])
		if _, err := os.Stat(filepath.Join(dirs[i], spoolLockName)); err != nil {
			t.Errorf("task %d: %v", i, err)
		}
		locks[i].release()
	}
}
