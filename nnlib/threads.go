package nnlib

import "github.com/continuousnet/repro/nnlib/internal/kernels"

// Threads returns the number of threads nnlib's large ops use.
func Threads() int { return kernels.Threads() }

// SetThreads sets the number of threads nnlib's large ops use (at least 1)
// and returns the previous value. Results are bit-identical for any value.
// It is process-wide and must not be called while a step runs.
func SetThreads(n int) int { return kernels.SetThreads(n) }

// KernelLevel names the instruction-set level of the kernels in use
// ("avx512", "avx2" or "generic"), for provenance.
func KernelLevel() string { return kernels.CurrentLevel().String() }
