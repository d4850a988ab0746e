package main

import (
	"os"
	"runtime/debug"
)

// Memory defaults, in force unless GOMEMLIMIT or GOGC is set.
const (
	// defaultMemoryLimit is the soft limit on the memory the Go runtime
	// manages. Near it the collector runs as often as it must; below it,
	// rarely. It is what keeps a worker under 200 MiB of RSS.
	defaultMemoryLimit = 160 << 20
	// defaultGCPercent lets the heap grow to nine times the live data
	// between collections while that stays under the limit. A sink task's
	// live data is small next to what it allocates per record, so this
	// cuts the collector's share of the CPU by about two thirds.
	defaultGCPercent = 800
)

// tuneMemory applies the memory defaults. A user who sets GOMEMLIMIT or
// GOGC takes the collector over entirely: neither default applies then.
func tuneMemory() {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	debug.SetGCPercent(defaultGCPercent)
}
