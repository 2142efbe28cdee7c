package dynamics

import (
	"math"
	"testing"

	"github.com/continuousnet/repro/integrators"
	"gonum.org/v1/gonum/mathext"
)

func TestJacobiIdentities(t *testing.T) {
	for _, m := range []float64{0, 0.1, 0.5, 0.8535533905932737, 0.99, 0.999999, 1} {
		for _, u := range []float64{-7.3, -1, -1e-9, 0, 1e-9, 0.3, 1.7, 2.5, 10, 31.4} {
			sn, cn, dn := Jacobi(u, m)
			if e := math.Abs(sn*sn + cn*cn - 1); e > 1e-14 {
				t.Errorf("m=%v u=%v: sn²+cn²−1 = %g", m, u, e)
			}
			if e := math.Abs(dn*dn + m*sn*sn - 1); e > 1e-14 {
				t.Errorf("m=%v u=%v: dn²+m·sn²−1 = %g", m, u, e)
			}
			// d/du sn = cn·dn by a central difference.
			const h = 1e-5
			s1, _, _ := Jacobi(u+h, m)
			s0, _, _ := Jacobi(u-h, m)
			if e := math.Abs((s1-s0)/(2*h) - cn*dn); e > 1e-8 {
				t.Errorf("m=%v u=%v: sn' − cn·dn = %g", m, u, e)
			}
		}
		// Limits: m = 0 gives sin/cos, m = 1 gives tanh/sech.
		if m == 0 {
			sn, cn, dn := Jacobi(0.7, 0)
			if math.Abs(sn-math.Sin(0.7)) > 1e-15 || math.Abs(cn-math.Cos(0.7)) > 1e-15 || dn != 1 {
				t.Errorf("m=0: (%v,%v,%v), want (sin, cos, 1)", sn, cn, dn)
			}
		}
		if m < 1 {
			k := mathext.CompleteK(m)
			if e := math.Abs(k-completeKAGM(m)) / k; e > 1e-14 {
				t.Errorf("m=%v: CompleteK %v vs AGM %v (rel %g)", m, k, completeKAGM(m), e)
			}
			// sn(K) = 1 and cn(K) = 0: a quarter period.
			sn, cn, _ := Jacobi(k, m)
			if math.Abs(sn-1) > 1e-14 || math.Abs(cn) > 1e-7 {
				t.Errorf("m=%v: sn(K)=%v cn(K)=%v, want 1, 0", m, sn, cn)
			}
		}
	}
}

// TestPendulumExactVsRK4 integrates the pendulum with the classic RK4 at a
// step of 1e-4 (global error ~1e-14) and compares with the exact solution at
// every 0.01 over t ∈ [0, 10].
func TestPendulumExactVsRK4(t *testing.T) {
	p := PaperPendulum()
	th0, v0 := p.Exact(0)
	if math.Abs(th0-p.Theta0) > 1e-14 || math.Abs(v0) > 1e-12 {
		t.Fatalf("exact x(0) = (%v, %v), want (%v, 0)", th0, v0, p.Theta0)
	}
	st := integrators.NewStepper(integrators.MustBuiltin("rk4-classic"), integrators.Float64s{})
	x := []float64{p.Theta0, 0}
	f := func(_, _ int, _ float64, x, d []float64) { p.Rate(x, d) }
	maxErr := 0.0
	const n = 100000
	st.Integrate(f, integrators.Grid{T0: 0, T1: 10, N: n}, x, func(k int, tt float64, x []float64) {
		if k%100 != 0 {
			return
		}
		th, v := p.Exact(tt)
		maxErr = max(maxErr, math.Abs(th-x[0]), math.Abs(v-x[1]))
	})
	if maxErr > 1e-9 {
		t.Fatalf("max |exact − RK4| over [0, 10] = %g, want ≤ 1e-9", maxErr)
	}
	t.Logf("max |exact − RK4(h=1e-4)| over [0,10] = %.3g", maxErr)
}

func TestPendulumInvariants(t *testing.T) {
	p := PaperPendulum()
	energy := func(th, v float64) float64 { return 0.5*v*v - p.G*math.Cos(th) }
	e0 := energy(p.Exact(0))
	for _, tt := range Linspace(0, 10, 1000) {
		if e := math.Abs(energy(p.Exact(tt)) - e0); e > 1e-12 {
			t.Fatalf("energy drift %g at t=%v", e, tt)
		}
	}
	th, v := p.Exact(p.Period())
	if math.Abs(th-p.Theta0) > 1e-12 || math.Abs(v) > 1e-10 {
		t.Fatalf("x(period) = (%v, %v), want (%v, 0)", th, v, p.Theta0)
	}
	th, _ = p.Exact(p.Period() / 2)
	if math.Abs(th+p.Theta0) > 1e-12 {
		t.Fatalf("θ(period/2) = %v, want %v", th, -p.Theta0)
	}
}

func TestLinspace(t *testing.T) {
	ts := Linspace(0, 10, 1000)
	if len(ts) != 1000 || ts[0] != 0 || ts[999] != 10 || math.Abs(ts[1]-10.0/999) > 1e-16 {
		t.Fatalf("Linspace(0,10,1000): len %d, ends %v %v, step %v", len(ts), ts[0], ts[999], ts[1])
	}
	if got := Linspace(2, 3, 1); len(got) != 1 || got[0] != 2 {
		t.Fatalf("Linspace(2,3,1) = %v", got)
	}
}

func TestOscillator(t *testing.T) {
	l := Oscillator(0)
	ts := Linspace(0, 50, 1000)
	u := l.Trajectory(ts)
	for i, tt := range ts {
		if math.Abs(u[i][0]-math.Sin(tt)) > 1e-12 || math.Abs(u[i][1]-math.Cos(tt)) > 1e-12 {
			t.Fatalf("u(%v) = %v, want (sin, cos)", tt, u[i])
		}
	}
	// Damped: the flow map composes, exp(Λ·2dt) = exp(Λdt)².
	d := Oscillator(0.1)
	m1, m2 := d.FlowMap(0.05), d.FlowMap(0.1)
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			s := m1.At(i, 0)*m1.At(0, j) + m1.At(i, 1)*m1.At(1, j)
			if math.Abs(s-m2.At(i, j)) > 1e-15 {
				t.Fatalf("flow map does not compose at (%d,%d): %v vs %v", i, j, s, m2.At(i, j))
			}
		}
	}
	du := make([]float64, 2)
	d.Rate([]float64{1, 2}, du)
	if du[0] != 2 || math.Abs(du[1]-(-1-0.2)) > 1e-15 {
		t.Fatalf("Rate = %v", du)
	}
}
