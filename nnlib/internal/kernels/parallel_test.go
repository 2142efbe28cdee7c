package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallel checks that every part runs exactly once, on two threads
// and on one, that a call from inside a part (nested) runs its parts
// inline instead of deadlocking, and that calls from several goroutines
// at once all complete.
func TestParallel(t *testing.T) {
	for _, threads := range []int{1, 2} {
		prev := SetThreads(threads)
		for _, parts := range []int{1, 2, 3, 7} {
			var hits [7]atomic.Int32
			var nested atomic.Int32
			Parallel(parts, func(p int) {
				hits[p].Add(1)
				Parallel(2, func(int) { nested.Add(1) })
			})
			for p := range parts {
				if n := hits[p].Load(); n != 1 {
					t.Errorf("threads=%d parts=%d: part %d ran %d times", threads, parts, p, n)
				}
			}
			if n := nested.Load(); n != int32(2*parts) {
				t.Errorf("threads=%d parts=%d: nested parts ran %d times, want %d", threads, parts, n, 2*parts)
			}
		}
		SetThreads(prev)
	}
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				Parallel(2, func(p int) { total.Add(int64(p + 1)) })
			}
		}()
	}
	wg.Wait()
	if got := total.Load(); got != 4*100*3 {
		t.Errorf("concurrent callers: sum of parts %d, want %d", got, 4*100*3)
	}
	defer func() {
		if recover() == nil {
			t.Error("Parallel(0, …) did not panic")
		}
	}()
	Parallel(0, func(int) {})
}
