package mlp64

import (
	"math"
	"testing"

	"github.com/continuousnet/repro/nnlib/rng"
)

func randVec(s *rng.Stream, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s.NormFloat64()
	}
	return v
}

// relErr is ‖a − b‖ / max(‖b‖, tiny).
func relErr(a, b []float64) float64 {
	var d, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		nb += b[i] * b[i]
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(nb), 1e-300)
}

// TestGradientsFD checks both vector-Jacobian products against central
// finite differences of the scalar ⟨dy, f(x)⟩.
func TestGradientsFD(t *testing.T) {
	for _, tc := range []struct {
		name            string
		in, hidden, out int
		n               int
		init            Init
	}{
		{"2-50-2 batch 7 xavier", 2, 50, 2, 7, XavierNormal},
		{"3-5-4 batch 1 torch", 3, 5, 4, 1, TorchDefault},
		{"2-300-2 batch 3", 2, 300, 2, 3, XavierNormal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rng.New(1, "test")
			m := New(tc.in, tc.hidden, tc.out, tc.init, s)
			x := randVec(s, tc.n*tc.in)
			dy := randVec(s, tc.n*tc.out)
			y := make([]float64, tc.n*tc.out)
			var c Cache
			m.Forward(x, tc.n, y, &c)
			dx := make([]float64, len(x))
			grad := make([]float64, len(m.P))
			m.Backward(&c, dy, dx, grad)

			obj := func() float64 {
				m.Forward(x, tc.n, y, nil)
				s := 0.0
				for i := range y {
					s += dy[i] * y[i]
				}
				return s
			}
			const h = 1e-6
			fd := func(v []float64) []float64 {
				g := make([]float64, len(v))
				for i := range v {
					old := v[i]
					v[i] = old + h
					fp := obj()
					v[i] = old - h
					fm := obj()
					v[i] = old
					g[i] = (fp - fm) / (2 * h)
				}
				return g
			}
			if e := relErr(dx, fd(x)); e > 1e-6 {
				t.Errorf("input VJP relative error %g", e)
			}
			if e := relErr(grad, fd(m.P)); e > 1e-6 {
				t.Errorf("parameter VJP relative error %g", e)
			}
			// Backward accumulates into grad.
			grad2 := append([]float64(nil), grad...)
			m.Forward(x, tc.n, y, &c)
			m.Backward(&c, dy, nil, grad2)
			for i := range grad {
				if math.Abs(grad2[i]-2*grad[i]) > 1e-12*math.Max(1, math.Abs(grad[i])) {
					t.Fatalf("Backward did not accumulate at %d: %v vs 2×%v", i, grad2[i], grad[i])
				}
			}
		})
	}
}

func TestForwardReference(t *testing.T) {
	m := New(2, 3, 2, XavierNormal, rng.New(3, "w"))
	copy(m.B1, []float64{0.1, -0.2, 0.3})
	copy(m.B2, []float64{0.5, -0.5})
	x := []float64{0.7, -1.1}
	y := make([]float64, 2)
	m.Forward(x, 1, y, nil)
	for o := 0; o < 2; o++ {
		want := m.B2[o]
		for j := 0; j < 3; j++ {
			want += m.W2[o*3+j] * math.Tanh(m.B1[j]+m.W1[j*2]*x[0]+m.W1[j*2+1]*x[1])
		}
		if math.Abs(y[o]-want) > 1e-15 {
			t.Fatalf("y[%d] = %v, want %v", o, y[o], want)
		}
	}
}

func TestInit(t *testing.T) {
	m := New(2, 50, 2, XavierNormal, rng.New(0, "init"))
	var ss float64
	for _, w := range m.W1 {
		ss += w * w
	}
	std := math.Sqrt(ss / float64(len(m.W1)))
	if math.Abs(std-math.Sqrt(2.0/52)) > 0.05 {
		t.Errorf("W1 std %v, want ≈ %v", std, math.Sqrt(2.0/52))
	}
	for _, b := range append(append([]float64(nil), m.B1...), m.B2...) {
		if b != 0 {
			t.Fatal("Xavier init must zero the biases")
		}
	}
	m2 := New(2, 50, 2, XavierNormal, rng.New(0, "init"))
	for i := range m.P {
		if m.P[i] != m2.P[i] {
			t.Fatal("same seed gave different weights")
		}
	}
	td := New(4, 50, 2, TorchDefault, rng.New(0, "init"))
	for _, w := range td.W1 {
		if math.Abs(w) > 0.5 {
			t.Fatalf("TorchDefault W1 entry %v outside ±1/√4", w)
		}
	}
	if NumParams(2, 50, 2) != 252 || len(m.P) != 252 {
		t.Fatalf("NumParams(2,50,2) = %d", NumParams(2, 50, 2))
	}
}

func TestLossGradients(t *testing.T) {
	s := rng.New(2, "loss")
	p, q := randVec(s, 12), randVec(s, 12)
	for _, tc := range []struct {
		name string
		f    func(p, q, d []float64) float64
	}{{"L1", L1}, {"MSE", MSE}} {
		d := make([]float64, len(p))
		tc.f(p, q, d)
		const h = 1e-6
		fd := make([]float64, len(p))
		for i := range p {
			old := p[i]
			p[i] = old + h
			fp := tc.f(p, q, nil)
			p[i] = old - h
			fm := tc.f(p, q, nil)
			p[i] = old
			fd[i] = (fp - fm) / (2 * h)
		}
		if e := relErr(d, fd); e > 1e-6 {
			t.Errorf("%s gradient relative error %g", tc.name, e)
		}
	}
	if got := L1([]float64{1, 2}, []float64{0, 4}, nil); got != 1.5 {
		t.Errorf("L1 = %v, want 1.5", got)
	}
	if got := MSE([]float64{1, 2}, []float64{0, 4}, nil); got != 2.5 {
		t.Errorf("MSE = %v, want 2.5", got)
	}
	d := []float64{9}
	L1([]float64{1}, []float64{1}, d)
	if d[0] != 0 {
		t.Errorf("L1 gradient at 0 = %v, want 0 (PyTorch sign)", d[0])
	}
}

func TestAdam(t *testing.T) {
	// First step: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε).
	p := []float64{1, -2, 3}
	g := []float64{0.5, -4, 1e-3}
	a := NewAdam(3, 0.1)
	a.Step(p, g)
	for i, want := range []float64{1 - 0.1*0.5/(0.5+1e-8), -2 + 0.1*4/(4+1e-8), 3 - 0.1*1e-3/(1e-3+1e-8)} {
		if math.Abs(p[i]-want) > 1e-15 {
			t.Errorf("after one step p[%d] = %.17g, want %.17g", i, p[i], want)
		}
	}
	// Second step against the formula written out.
	g2 := []float64{0.25, 1, -1}
	p2 := append([]float64(nil), p...)
	a.Step(p, g2)
	for i := range p2 {
		m := 0.9*(0.1*g[i]) + 0.1*g2[i]
		v := 0.999*(0.001*g[i]*g[i]) + 0.001*g2[i]*g2[i]
		want := p2[i] - 0.1/(1-0.81)*m/(math.Sqrt(v)/math.Sqrt(1-0.999*0.999)+1e-8)
		if math.Abs(p[i]-want) > 1e-14 {
			t.Errorf("after two steps p[%d] = %.17g, want %.17g", i, p[i], want)
		}
	}
	// It minimises a quadratic.
	x := []float64{5, -3}
	opt := NewAdam(2, 0.05)
	for k := 0; k < 2000; k++ {
		opt.Step(x, []float64{2 * x[0], 2 * x[1]})
	}
	if math.Abs(x[0]) > 1e-2 || math.Abs(x[1]) > 1e-2 || opt.Steps() != 2000 {
		t.Errorf("Adam on |x|²: x = %v after %d steps", x, opt.Steps())
	}
}

func BenchmarkForwardBackward128(b *testing.B) {
	m := New(2, 50, 2, XavierNormal, rng.New(0, "b"))
	s := rng.New(1, "x")
	x, dy := randVec(s, 256), randVec(s, 256)
	y, dx, g := make([]float64, 256), make([]float64, 256), make([]float64, len(m.P))
	var c Cache
	for b.Loop() {
		m.Forward(x, 128, y, &c)
		m.Backward(&c, dy, dx, g)
	}
}
