package kernels

import (
	"fmt"
	"runtime"
)

// threads is the number of cores large kernels split their work over.
var threads = min(runtime.GOMAXPROCS(0), 2)

// Threads returns the number of threads large kernels use.
func Threads() int { return threads }

// SetThreads sets the number of threads large kernels use (at least 1) and
// returns the previous value. Results do not depend on it. It must not be
// called while kernels run.
func SetThreads(n int) int {
	if n < 1 {
		panic(fmt.Sprintf("kernels.SetThreads: n=%d < 1", n))
	}
	prev := threads
	threads = n
	return prev
}
