//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// spoolLock is an exclusive advisory lock on a spool directory's lock
// file, released by the kernel when the process dies.
type spoolLock struct{ f *os.File }

// lockSpool creates path locked: the file is locked under another name
// and renamed, so that no other task sees it unlocked and takes the
// directory for abandoned.
func lockSpool(path string) (*spoolLock, error) {
	tmp := path + ".new"
	l, err := lockFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

// tryLockSpool locks an existing lock file. It returns a nil lock and no
// error when another process holds it.
func tryLockSpool(path string) (*spoolLock, error) {
	l, err := lockFile(path, os.O_RDWR)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, nil
	}
	return l, err
}

// lockFile opens path with flag and locks it without waiting.
func lockFile(path string, flag int) (*spoolLock, error) {
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return &spoolLock{f: f}, nil
}

// release unlocks and closes the lock file.
func (l *spoolLock) release() {
	if l != nil {
		l.f.Close()
	}
}
