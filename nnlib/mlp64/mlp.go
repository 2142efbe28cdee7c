// Package mlp64 is a small float64 multilayer perceptron used as a learned
// vector field in the toy dynamics studies: f(x) = W2·tanh(W1·x + b1) + b2,
// with forward passes over a batch, vector-Jacobian products with respect to
// both the input and the parameters (what backpropagation through the stages
// of a Runge-Kutta step needs), L1 and MSE losses and Adam with PyTorch's
// semantics.
//
// It is float64 and scalar on purpose: the networks are tiny (2→50→2), so
// the study's accuracy, not throughput, is what matters.
package mlp64

import (
	"fmt"
	"math"

	"github.com/continuousnet/repro/nnlib/rng"
)

// MLP is f(x) = W2·tanh(W1·x + b1) + b2. All parameters live in one flat
// slice P, in the order W1 (Hidden×In, row-major), b1 (Hidden), W2
// (Out×Hidden, row-major), b2 (Out); W1, B1, W2, B2 are views into it.
type MLP struct {
	In, Hidden, Out int

	P              []float64
	W1, B1, W2, B2 []float64
}

// Init names a weight initialisation.
type Init int

const (
	// XavierNormal draws weights from N(0, 2/(fan_in+fan_out)) (PyTorch's
	// xavier_normal_ with gain 1) and sets biases to 0: the authors' init.
	XavierNormal Init = iota
	// TorchDefault mimics PyTorch's default nn.Linear init, U(−1/√fan_in,
	// 1/√fan_in) for weights and biases: what the authors' RK4 pendulum
	// model actually got, because its Xavier init call was applied to the
	// wrong object (paper/README.md E1).
	TorchDefault
)

// NumParams returns the parameter count of an in→hidden→out MLP.
func NumParams(in, hidden, out int) int { return hidden*in + hidden + out*hidden + out }

// New returns an in→hidden→out MLP initialised with init from stream s.
// Weights are drawn W1 first, then W2, each row-major.
func New(in, hidden, out int, init Init, s *rng.Stream) *MLP {
	if in < 1 || hidden < 1 || out < 1 {
		panic(fmt.Sprintf("mlp64: New(%d, %d, %d): sizes must be positive", in, hidden, out))
	}
	m := &MLP{In: in, Hidden: hidden, Out: out, P: make([]float64, NumParams(in, hidden, out))}
	m.views()
	switch init {
	case XavierNormal:
		s1 := math.Sqrt(2 / float64(in+hidden))
		for i := range m.W1 {
			m.W1[i] = s1 * s.NormFloat64()
		}
		s2 := math.Sqrt(2 / float64(hidden+out))
		for i := range m.W2 {
			m.W2[i] = s2 * s.NormFloat64()
		}
	case TorchDefault:
		u := func(dst []float64, fanIn int) {
			b := 1 / math.Sqrt(float64(fanIn))
			for i := range dst {
				dst[i] = b * (2*s.Float64() - 1)
			}
		}
		u(m.W1, in)
		u(m.B1, in)
		u(m.W2, hidden)
		u(m.B2, hidden)
	default:
		panic(fmt.Sprintf("mlp64: New: unknown init %d", int(init)))
	}
	return m
}

func (m *MLP) views() {
	o := 0
	take := func(n int) []float64 { v := m.P[o : o+n : o+n]; o += n; return v }
	m.W1 = take(m.Hidden * m.In)
	m.B1 = take(m.Hidden)
	m.W2 = take(m.Out * m.Hidden)
	m.B2 = take(m.Out)
}

// Clone returns a deep copy.
func (m *MLP) Clone() *MLP {
	c := &MLP{In: m.In, Hidden: m.Hidden, Out: m.Out, P: append([]float64(nil), m.P...)}
	c.views()
	return c
}

// Cache holds what a forward pass keeps for its vector-Jacobian product:
// the input batch and the hidden activations tanh(W1·x + b1).
type Cache struct {
	n int
	x []float64 // n×In (a copy)
	h []float64 // n×Hidden
}

func (c *Cache) reset(n, in, hidden int) {
	c.n = n
	if cap(c.x) < n*in {
		c.x = make([]float64, n*in)
	}
	if cap(c.h) < n*hidden {
		c.h = make([]float64, n*hidden)
	}
	c.x, c.h = c.x[:n*in], c.h[:n*hidden]
}

// Forward computes y = f(x) for a batch of n rows: x is n×In and y is
// n×Out, row-major. If c is not nil it records what Backward needs (c may be
// reused across calls; it grows as needed).
//
//	for r := 0; r < n; r++ {
//		for j := 0; j < Hidden; j++ { h[j] = tanh(b1[j] + Σ_i W1[j][i]·x[r][i]) }
//		for o := 0; o < Out; o++ { y[r][o] = b2[o] + Σ_j W2[o][j]·h[j] }
//	}
func (m *MLP) Forward(x []float64, n int, y []float64, c *Cache) {
	if len(x) != n*m.In || len(y) != n*m.Out {
		panic(fmt.Sprintf("mlp64: Forward: x has %d values and y %d, want %d×%d and %d×%d", len(x), len(y), n, m.In, n, m.Out))
	}
	var hbuf [256]float64
	var h []float64
	if c != nil {
		c.reset(n, m.In, m.Hidden)
		copy(c.x, x)
	} else if m.Hidden <= len(hbuf) {
		h = hbuf[:m.Hidden]
	} else {
		h = make([]float64, m.Hidden)
	}
	for r := 0; r < n; r++ {
		xr := x[r*m.In : (r+1)*m.In]
		if c != nil {
			h = c.h[r*m.Hidden : (r+1)*m.Hidden]
		}
		for j := 0; j < m.Hidden; j++ {
			s := m.B1[j]
			w := m.W1[j*m.In : (j+1)*m.In]
			for i, xi := range xr {
				s += w[i] * xi
			}
			h[j] = math.Tanh(s)
		}
		yr := y[r*m.Out : (r+1)*m.Out]
		for o := 0; o < m.Out; o++ {
			s := m.B2[o]
			w := m.W2[o*m.Hidden : (o+1)*m.Hidden]
			for j, hj := range h {
				s += w[j] * hj
			}
			yr[o] = s
		}
	}
}

// Backward computes the vector-Jacobian products of the forward pass
// recorded in c with the cotangent dy (n×Out): it sets dx = (∂f/∂x)ᵀ·dy
// (n×In) and adds (∂f/∂P)ᵀ·dy, summed over the batch, to grad (laid out as
// P). Either dx or grad may be nil to skip it.
//
//	dh[j] = Σ_o W2[o][j]·dy[o];  da[j] = dh[j]·(1 − h[j]²)
//	dx[i] = Σ_j W1[j][i]·da[j]
//	gW2[o][j] += dy[o]·h[j];  gb2[o] += dy[o];  gW1[j][i] += da[j]·x[i];  gb1[j] += da[j]
func (m *MLP) Backward(c *Cache, dy, dx, grad []float64) {
	n := c.n
	if len(dy) != n*m.Out || (dx != nil && len(dx) != n*m.In) || (grad != nil && len(grad) != len(m.P)) {
		panic(fmt.Sprintf("mlp64: Backward: dy %d, dx %d, grad %d values; want %d, %d (or nil), %d (or nil)",
			len(dy), len(dx), len(grad), n*m.Out, n*m.In, len(m.P)))
	}
	var gW1, gB1, gW2, gB2 []float64
	if grad != nil {
		o := 0
		take := func(k int) []float64 { v := grad[o : o+k]; o += k; return v }
		gW1, gB1, gW2, gB2 = take(m.Hidden*m.In), take(m.Hidden), take(m.Out*m.Hidden), take(m.Out)
	}
	var dabuf [256]float64
	var da []float64
	if m.Hidden <= len(dabuf) {
		da = dabuf[:m.Hidden]
	} else {
		da = make([]float64, m.Hidden)
	}
	for r := 0; r < n; r++ {
		h := c.h[r*m.Hidden : (r+1)*m.Hidden]
		dyr := dy[r*m.Out : (r+1)*m.Out]
		for j := range da {
			s := 0.0
			for o, g := range dyr {
				s += m.W2[o*m.Hidden+j] * g
			}
			da[j] = s * (1 - h[j]*h[j])
		}
		if dx != nil {
			dxr := dx[r*m.In : (r+1)*m.In]
			for i := range dxr {
				dxr[i] = 0
			}
			for j, d := range da {
				w := m.W1[j*m.In : (j+1)*m.In]
				for i := range dxr {
					dxr[i] += w[i] * d
				}
			}
		}
		if grad != nil {
			xr := c.x[r*m.In : (r+1)*m.In]
			for o, g := range dyr {
				gB2[o] += g
				w := gW2[o*m.Hidden : (o+1)*m.Hidden]
				for j, hj := range h {
					w[j] += g * hj
				}
			}
			for j, d := range da {
				gB1[j] += d
				w := gW1[j*m.In : (j+1)*m.In]
				for i, xi := range xr {
					w[i] += d * xi
				}
			}
		}
	}
}
