package integrators

import "fmt"

// Ops are the vector-space operations the stepper needs on a state type S.
// Implementations decide what a state is (a float64 slice, a tensor); the
// stepper never looks inside one.
type Ops[S any] interface {
	// NewLike returns a new state shaped like s (its contents are
	// overwritten before use).
	NewLike(s S) S
	// Copy sets dst = src.
	Copy(dst, src S)
	// Axpy sets dst += alpha·x.
	Axpy(dst S, alpha float64, x S)
}

// RateFunc computes the rate dxdt = f(t, x) of stage `stage` of step
// `step`. It must not modify x. The integer indices let a caller pick
// time-dependent weights exactly (see [Tableau.Piece]) instead of
// recovering them from the float t.
type RateFunc[S any] func(step, stage int, t float64, x, dxdt S)

// Stepper integrates with one explicit Runge-Kutta tableau on uniform
// integer grids. It owns its stage workspaces, so it is not safe for
// concurrent use; create one per goroutine.
type Stepper[S any] struct {
	tab *Tableau
	ops Ops[S]
	// Evals counts rate-function evaluations since creation (or the last
	// reset by the caller).
	Evals int64

	k     []S
	stage S
	have  bool
}

// NewStepper returns a stepper for tableau tab over states handled by ops.
func NewStepper[S any](tab *Tableau, ops Ops[S]) *Stepper[S] {
	if tab == nil {
		panic("integrators: NewStepper: nil tableau")
	}
	return &Stepper[S]{tab: tab, ops: ops}
}

// Tableau returns the stepper's tableau.
func (s *Stepper[S]) Tableau() *Tableau { return s.tab }

func (s *Stepper[S]) workspace(x S) {
	if s.have {
		return
	}
	s.k = make([]S, s.tab.Stages())
	for i := range s.k {
		s.k[i] = s.ops.NewLike(x)
	}
	s.stage = s.ops.NewLike(x)
	s.have = true
}

// Step advances x in place by one step of size h from time t; step is the
// step's index, passed on to f. The stage times are t + c_i·h.
//
// Workspaces are allocated on the first call, shaped like x; later calls
// must pass states of the same shape.
func (s *Stepper[S]) Step(f RateFunc[S], step int, t, h float64, x S) {
	s.workspace(x)
	tab := s.tab
	for i := range s.k {
		in := x
		if !tab.rowZero[i] {
			s.ops.Copy(s.stage, x)
			for j := 0; j < i; j++ {
				if a := tab.af[i][j]; a != 0 {
					s.ops.Axpy(s.stage, h*a, s.k[j])
				}
			}
			in = s.stage
		}
		f(step, i, t+tab.cf[i]*h, in, s.k[i])
		s.Evals++
	}
	for i := range s.k {
		if b := tab.bf[i]; b != 0 {
			s.ops.Axpy(x, h*b, s.k[i])
		}
	}
}

// Grid is a uniform step grid: n steps of size H from T0. The time of grid
// point k is T0 + k·H, computed from the integer k (never accumulated), and
// the last point is T1 exactly.
type Grid struct {
	T0, T1 float64
	N      int
}

// H returns the step size (T1 − T0)/N.
func (g Grid) H() float64 { return (g.T1 - g.T0) / float64(g.N) }

// At returns the time of grid point k ∈ [0, N].
func (g Grid) At(k int) float64 {
	if k == g.N {
		return g.T1
	}
	return g.T0 + float64(k)*g.H()
}

// Integrate advances x in place over the grid's N steps. If observe is not
// nil it is called with (0, T0, x) before the first step and with (k, t_k, x)
// after step k; x must not be modified or retained by observe.
func (s *Stepper[S]) Integrate(f RateFunc[S], g Grid, x S, observe func(k int, t float64, x S)) {
	if g.N < 1 {
		panic(fmt.Sprintf("integrators: Integrate: grid has %d steps, need at least 1", g.N))
	}
	h := g.H()
	if observe != nil {
		observe(0, g.T0, x)
	}
	for n := 0; n < g.N; n++ {
		s.Step(f, n, g.T0+float64(n)*h, h, x)
		if observe != nil {
			observe(n+1, g.At(n+1), x)
		}
	}
}

// Float64s implements Ops for float64 slices.
type Float64s struct{}

// NewLike returns a zeroed slice of len(s).
func (Float64s) NewLike(s []float64) []float64 { return make([]float64, len(s)) }

// Copy sets dst = src; it panics on a length mismatch.
func (Float64s) Copy(dst, src []float64) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("integrators: Float64s.Copy: length mismatch %d != %d", len(dst), len(src)))
	}
	copy(dst, src)
}

// Axpy sets dst += alpha·x; it panics on a length mismatch.
//
//	for i := range dst { dst[i] += alpha * x[i] }
func (Float64s) Axpy(dst []float64, alpha float64, x []float64) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("integrators: Float64s.Axpy: length mismatch %d != %d", len(dst), len(x)))
	}
	for i := range dst {
		dst[i] += alpha * x[i]
	}
}
