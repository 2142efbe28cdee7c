package dynamics

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Linear is the linear system u' = Λ·u with u(0) = U0; its solution is
// u(t) = exp(Λt)·U0.
type Linear struct {
	Lambda *mat.Dense
	U0     []float64
}

// Oscillator returns the paper's E1b harmonic oscillator: Λ = [[0, 1],
// [−1, −damping]] (damping 0 is undamped; the authors' damped variant uses
// 0.1), u0 = (0, 1).
func Oscillator(damping float64) Linear {
	return Linear{Lambda: mat.NewDense(2, 2, []float64{0, 1, -1, -damping}), U0: []float64{0, 1}}
}

func (l Linear) dim() int {
	r, c := l.Lambda.Dims()
	if r != c || r != len(l.U0) {
		panic(fmt.Sprintf("dynamics: Linear: Λ is %d×%d and u0 has %d entries; need n×n and n", r, c, len(l.U0)))
	}
	return r
}

// FlowMap returns exp(Λ·dt), the exact one-step map for a step dt.
func (l Linear) FlowMap(dt float64) *mat.Dense {
	l.dim()
	var a, e mat.Dense
	a.Scale(dt, l.Lambda)
	e.Exp(&a)
	return &e
}

// Rate sets dudt = Λ·u.
func (l Linear) Rate(u, dudt []float64) {
	n := l.dim()
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < n; j++ {
			s += l.Lambda.At(i, j) * u[j]
		}
		dudt[i] = s
	}
}

// Trajectory returns the exact states u(t) = exp(Λt)·u0 at the times ts, one
// row per time.
func (l Linear) Trajectory(ts []float64) [][]float64 {
	n := l.dim()
	out := make([][]float64, len(ts))
	u0 := mat.NewVecDense(n, append([]float64(nil), l.U0...))
	for i, t := range ts {
		var u mat.VecDense
		u.MulVec(l.FlowMap(t), u0)
		out[i] = append([]float64(nil), u.RawVector().Data...)
	}
	return out
}
