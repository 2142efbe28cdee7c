package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Parallel calls fn(0), …, fn(t−1) and returns when all have returned:
// part 0 on the caller, the others on persistent worker goroutines (one
// per extra part, started once and reused, so a call costs a wake-up, not
// a goroutine). The parts run one after the other on the caller instead
// when t < 2 or when the team is busy: a call made from inside a part (so
// nesting never deadlocks) or from another goroutine while a call runs.
// fn must therefore give the same results whether or not its parts run at
// the same time; callers choose t and the work of each part from shapes
// alone (never from Threads) when results must not depend on the thread
// count.
func Parallel(t int, fn func(part int)) {
	if t < 1 {
		panic(fmt.Sprintf("kernels.Parallel: t=%d < 1", t))
	}
	p := &workers
	if t < 2 || !p.mu.TryLock() {
		for i := range t {
			fn(i)
		}
		return
	}
	p.fn = fn
	p.runLocked(t, callFn)
	p.fn = nil
	p.mu.Unlock()
}

// callFn is the job of a Parallel call.
var callFn = func(part int) { workers.fn(part) }

// pool holds the persistent workers and the job they are running (set
// while mu is held).
type pool struct {
	mu        sync.Mutex
	ws        []*worker
	job       func(part int)
	fn        func(part int) // Parallel's fn
	op        gemmOp         // runParallel's product
	t, mt, nt int
}

// runLocked runs job(0) on the caller and job(1..t−1) on workers, starting
// workers as needed; p.mu must be held.
func (p *pool) runLocked(t int, job func(part int)) {
	p.job = job
	for len(p.ws) < t-1 {
		w := &worker{job: newEvent(), done: newEvent()}
		p.ws = append(p.ws, w)
		go p.work(w)
	}
	for i := 1; i < t; i++ {
		w := p.ws[i-1]
		w.part = i
		w.job.post()
	}
	job(0)
	for i := 1; i < t; i++ {
		w := p.ws[i-1]
		w.seen = w.done.wait(w.seen)
	}
	p.job = nil
}

// worker is one persistent worker: it waits on job, runs part `part` of
// the pool's job and posts done.
type worker struct {
	job, done *event
	part      int
	seen      uint64 // last done count the caller has waited for
}

var workers pool

// work is a worker's loop.
func (p *pool) work(w *worker) {
	var last uint64
	for {
		last = w.job.wait(last)
		p.job(w.part)
		w.done.post()
	}
}

// spinFor is how long a waiter polls before parking: waking a parked
// thread costs 10–100 µs on the virtual machines this runs on, as long as
// a medium product, while polling costs a core that is otherwise idle.
const spinFor = 200 * time.Microsecond

// event is a counter that one goroutine bumps (post) and another waits to
// see grow (wait). The waiter spins before it parks; post wakes it only if
// it has parked.
type event struct {
	seq    atomic.Uint64
	parked atomic.Bool
	wake   chan struct{} // capacity 1
}

func newEvent() *event { return &event{wake: make(chan struct{}, 1)} }

// post increments the counter and wakes a parked waiter.
func (e *event) post() {
	e.seq.Add(1)
	if e.parked.Load() {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

// wait returns the counter once it exceeds last. The waiter announces
// that it parks before its last check of the counter and post bumps the
// counter before it checks for a parked waiter, so (sync/atomic being
// sequentially consistent) a post is never missed; a spare wake-up token
// only costs one more loop.
func (e *event) wait(last uint64) uint64 {
	start := time.Now()
	for i := 1; ; i++ {
		if s := e.seq.Load(); s > last {
			return s
		}
		if i%64 == 0 {
			if time.Since(start) > spinFor {
				break
			}
			runtime.Gosched()
		}
	}
	for {
		e.parked.Store(true)
		if s := e.seq.Load(); s > last {
			e.parked.Store(false)
			return s
		}
		<-e.wake
		e.parked.Store(false)
	}
}
