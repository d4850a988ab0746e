package rest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if they leave goroutines behind: every
// task, client and server they start must have stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
