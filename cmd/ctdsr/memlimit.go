package main

import (
	"math"
	"runtime/debug"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless
// GOMEMLIMIT sets another. The commands stream: their live heap stays
// under about 90 MiB whatever the ledger's size, and without a limit the
// collector lets the heap grow to twice that before it runs. With it a
// million-request report or run peaks near 150 MB resident instead of
// 230 MB. A heap that truly needs more still gets it: the limit is soft.
// An import is the exception (see withoutMemoryLimit).
const defaultMemoryLimit = 128 << 20

// setMemoryLimit applies defaultMemoryLimit when the environment does not
// set GOMEMLIMIT (the runtime has already read it).
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// withoutMemoryLimit runs f with defaultMemoryLimit lifted, if it is the
// limit in force, and puts it back. An import holds at most its buffer
// (about 110 MB resident for a million rows, with the limit or without),
// so the limit buys it nothing, while the collections it forces cost a
// million-row load of UUID ids about 2.5 s of its 16. A limit GOMEMLIMIT
// set is left alone.
func withoutMemoryLimit(f func()) {
	if debug.SetMemoryLimit(-1) != defaultMemoryLimit {
		f()
		return
	}
	debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(defaultMemoryLimit)
	f()
}
