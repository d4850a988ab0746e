//go:build !unix

package storage

// spoolLock does nothing where advisory locks are not available: spool
// directories of killed workers are then left for the operator to remove.
type spoolLock struct{}

func lockSpool(string) (*spoolLock, error) { return &spoolLock{}, nil }

// tryLockSpool never claims a directory, so that none is removed.
func tryLockSpool(string) (*spoolLock, error) { return nil, nil }

func (*spoolLock) release() {}
