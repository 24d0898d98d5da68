//go:build unix

package checkpoint_test

import (
	"syscall"
	"time"
)

// cpuSeconds is the user+system CPU time the process used so far: on a
// shared machine it varies less than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
