//go:build unix

package nnlib

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time of the process so far (all
// threads), or 0 if unavailable. Benchmarks report it beside wall time
// because wall time is meaningless on a machine shared with other jobs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
