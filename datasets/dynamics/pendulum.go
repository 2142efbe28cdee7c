package dynamics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Pendulum is the nonlinear pendulum θ” = −G·sin θ released at rest from
// angle Theta0 (|Theta0| < π). Its state is x = (θ, v) with v = θ'.
type Pendulum struct {
	G      float64 // gravity over length; ω0 = √G
	Theta0 float64 // initial angle (rad); the initial velocity is 0
}

// PaperPendulum returns the pendulum of the paper's E1 study: g = 9.81,
// θ0 = 3π/4, v0 = 0.
func PaperPendulum() Pendulum { return Pendulum{G: 9.81, Theta0: 3 * math.Pi / 4} }

func (p Pendulum) check() {
	if !(p.G > 0) || !(math.Abs(p.Theta0) < math.Pi) {
		panic(fmt.Sprintf("dynamics: Pendulum{G: %v, Theta0: %v}: need G > 0 and |Theta0| < π", p.G, p.Theta0))
	}
}

// Rate is the true vector field: dxdt = (v, −G·sin θ) for x = (θ, v).
func (p Pendulum) Rate(x, dxdt []float64) {
	dxdt[0], dxdt[1] = x[1], -p.G*math.Sin(x[0])
}

// Exact returns the exact state at time t:
//
//	θ(t) = 2·asin(S·sn(K(m) − ω0·t | m)),  θ'(t) = −2·S·ω0·cn(K(m) − ω0·t | m)
//
// with S = sin(θ0/2), m = S², ω0 = √G and K the complete elliptic integral
// of the first kind. (The velocity is the paper's 2S·(−ω0·cn·dn)/√(1−S²sn²)
// simplified with dn² = 1 − m·sn².)
func (p Pendulum) Exact(t float64) (theta, v float64) {
	p.check()
	s := math.Sin(p.Theta0 / 2)
	m := s * s
	w0 := math.Sqrt(p.G)
	sn, cn, _ := Jacobi(mathext.CompleteK(m)-w0*t, m)
	return 2 * math.Asin(s*sn), -2 * s * w0 * cn
}

// Period returns the exact period 4·K(m)/ω0.
func (p Pendulum) Period() float64 {
	p.check()
	s := math.Sin(p.Theta0 / 2)
	return 4 * mathext.CompleteK(s*s) / math.Sqrt(p.G)
}

// Trajectory returns the exact states at the times ts, as rows (θ, v).
func (p Pendulum) Trajectory(ts []float64) [][2]float64 {
	x := make([][2]float64, len(ts))
	for i, t := range ts {
		x[i][0], x[i][1] = p.Exact(t)
	}
	return x
}

// Linspace returns n points from a to b inclusive with numpy's semantics:
// a + i·(b−a)/(n−1), the last point exactly b; n = 1 gives [a]. It panics
// if n < 1.
func Linspace(a, b float64, n int) []float64 {
	if n < 1 {
		panic(fmt.Sprintf("dynamics: Linspace: n = %d, need at least 1", n))
	}
	ts := make([]float64, n)
	if n == 1 {
		ts[0] = a
		return ts
	}
	step := (b - a) / float64(n-1)
	for i := range ts {
		ts[i] = a + float64(i)*step
	}
	ts[n-1] = b
	return ts
}
