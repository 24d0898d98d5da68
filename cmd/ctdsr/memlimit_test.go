package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	debug.SetMemoryLimit(math.MaxInt64)
	setMemoryLimit(func(string) string { return "" })
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("without GOMEMLIMIT the limit is %d, want %d", got, defaultMemoryLimit)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	setMemoryLimit(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	})
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set the limit became %d, want it left to the runtime", got)
	}
}

func TestWithoutMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	debug.SetMemoryLimit(defaultMemoryLimit)
	var inside int64
	withoutMemoryLimit(func() { inside = debug.SetMemoryLimit(-1) })
	if inside != math.MaxInt64 {
		t.Errorf("inside, the limit is %d, want none", inside)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("after, the limit is %d, want %d back", got, defaultMemoryLimit)
	}

	debug.SetMemoryLimit(1 << 30) // as GOMEMLIMIT=1GiB sets it
	withoutMemoryLimit(func() { inside = debug.SetMemoryLimit(-1) })
	if inside != 1<<30 {
		t.Errorf("a GOMEMLIMIT limit became %d inside, want it left alone", inside)
	}
}
