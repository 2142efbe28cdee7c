package nnlib

import (
	"github.com/continuousnet/repro/nnlib/internal/kernels"
)

// minParallelWork (a variable so tests can force the parallel paths) is the number of float32 elements an op must touch before
// it is split across threads: waking a worker costs microseconds, which
// only pays off on large passes.
var minParallelWork = 1 << 16

// parallelFor calls fn over [0, n) split into kernels.Threads() contiguous
// chunks when work (elements touched) is large, else in one call. Every
// index is handled by exactly one call, so a fn whose iterations are
// independent gives the same result whatever the split.
func parallelFor(n, work int, fn func(lo, hi int)) {
	if kernels.Threads() < 2 || n < 2 || work < minParallelWork {
		fn(0, n) // without the wrapper closure, which would allocate
		return
	}
	parallelForW(n, work, func(_, lo, hi int) { fn(lo, hi) })
}

// parallelForW is parallelFor (the same split) that also passes the worker index w ∈
// [0, kernels.Threads()) of each call, so that fn can use per-worker
// scratch (two calls never run with the same w at the same time). The
// chunks run on kernels' persistent workers (kernels.Parallel). A call made
// from inside another parallel region runs its chunks inline, numbered from
// w = 0 again: code that runs inside a region (the conv chunks) must
// therefore not use the per-worker scratch of Graph.scratch itself.
func parallelForW(n, work int, fn func(w, lo, hi int)) {
	t := kernels.Threads()
	if t < 2 || n < 2 || work < minParallelWork {
		fn(0, 0, n)
		return
	}
	t = min(t, n)
	kernels.Parallel(t, func(i int) { fn(i, i*n/t, (i+1)*n/t) })
}

// scratch returns per-worker scratch buffers of n floats each, one per
// thread, reused across calls (their contents are undefined).
func (g *Graph) scratch(n int) [][]float32 {
	t := max(1, kernels.Threads())
	for len(g.scr) < t {
		g.scr = append(g.scr, nil)
	}
	for i := range t {
		grow(&g.scr[i], n)
	}
	return g.scr[:t]
}
