package odenet

import (
	"fmt"
	"math"
	"testing"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// ref64 is an independent float64 reference of one OdeBlock's forward
// pass, written with plain loops: no nnlib op, no Tableau.Piece.
type ref64 struct {
	c, n, h, w int
	k, nt      int
	unit       Unit
	eps        float64
	tab        *integrators.Tableau
	rule       integrators.KnotRule
	training   bool
	linear     bool                 // piecewise-linear basis of the conv weights, biases and SkipInit
	p          map[string][]float64 // parameters and buffers by nnlib name, piece axis first
}

func (r *ref64) piece(step, stage int) int {
	x := (float64(step) + r.tab.C(stage)) * float64(r.k) / float64(r.nt)
	p := int(math.Floor(x))
	if r.rule == integrators.OwnPiece {
		p = min(p, int(math.Ceil(float64((step+1)*r.k)/float64(r.nt)))-1)
	}
	return max(0, min(p, r.k-1))
}

func (r *ref64) slice(name string, k, n int) []float64 { return r.p[name][k*n : (k+1)*n] }

// conv3 is a 3×3 convolution with padding 1 and bias on [C][N][H][W].
func (r *ref64) conv3(x, wt, b []float64) []float64 {
	c, n, h, w := r.c, r.n, r.h, r.w
	y := make([]float64, len(x))
	for co := range c {
		for in := range n {
			for oy := range h {
				for ox := range w {
					s := b[co]
					for ci := range c {
						for ky := range 3 {
							for kx := range 3 {
								iy, ix := oy+ky-1, ox+kx-1
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								s += wt[((co*c+ci)*3+ky)*3+kx] * x[((ci*n+in)*h+iy)*w+ix]
							}
						}
					}
					y[((co*n+in)*h+oy)*w+ox] = s
				}
			}
		}
	}
	return y
}

func (r *ref64) bn(x []float64, prefix string, k int) []float64 {
	c := r.c
	m := len(x) / c
	g, b := r.slice(prefix+".weight", k, c), r.slice(prefix+".bias", k, c)
	rm, rv := r.slice(prefix+".running_mean", k, c), r.slice(prefix+".running_var", k, c)
	y := make([]float64, len(x))
	for ch := range c {
		row := x[ch*m : (ch+1)*m]
		mean, v := rm[ch], rv[ch]
		if r.training {
			mean, v = 0, 0
			for _, e := range row {
				mean += e
			}
			mean /= float64(m)
			for _, e := range row {
				v += (e - mean) * (e - mean)
			}
			v /= float64(m)
		}
		inv := 1 / math.Sqrt(v+1e-5)
		for i, e := range row {
			y[ch*m+i] = g[ch]*(e-mean)*inv + b[ch]
		}
	}
	return y
}

func relu64(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, e := range x {
		y[i] = max(e, 0)
	}
	return y
}

// weights returns θ(t) of a basis tensor at stage `stage` of step `step`:
// piece k, or the blend of nodes j and j+1.
func (r *ref64) weights(name string, step, stage, size int) []float64 {
	if !r.linear {
		return r.slice(name, r.piece(step, stage), size)
	}
	x := (float64(step) + r.tab.C(stage)) * float64(r.k) / float64(r.nt)
	j := min(int(math.Floor(x)), r.k-1)
	w := x - float64(j)
	a, b := r.slice(name, j, size), r.slice(name, j+1, size)
	out := make([]float64, size)
	for i := range out {
		out[i] = (1-w)*a[i] + w*b[i]
	}
	return out
}

func (r *ref64) residual(x []float64, step, stage int) []float64 {
	cw := r.c * r.c * 9
	k := r.piece(step, stage)
	conv := func(x []float64, name string) []float64 {
		return r.conv3(x, r.weights(name+".weight", step, stage, cw), r.weights(name+".bias", step, stage, r.c))
	}
	var h []float64
	if r.unit == PreActivation {
		h = conv(relu64(r.bn(x, "b.bn1", k)), "b.conv1")
		h = conv(relu64(r.bn(h, "b.bn2", k)), "b.conv2")
	} else {
		h = r.bn(relu64(conv(x, "b.conv1")), "b.bn1", k)
		h = r.bn(relu64(conv(h, "b.conv2")), "b.bn2", k)
	}
	a := r.eps * r.weights("b.skip", step, stage, 1)[0]
	for i := range h {
		h[i] *= a
	}
	return h
}

func (r *ref64) forward(x []float64) []float64 {
	s, dt := r.tab.Stages(), 1/float64(r.nt)
	x = append([]float64(nil), x...)
	for n := range r.nt {
		ks := make([][]float64, s)
		for i := range s {
			xi := append([]float64(nil), x...)
			for j := range i {
				for e := range xi {
					xi[e] += dt * r.tab.A(i, j) * ks[j][e]
				}
			}
			ks[i] = r.residual(xi, n, i)
		}
		for i := range s {
			for e := range x {
				x[e] += dt * r.tab.B(i) * ks[i][e]
			}
		}
	}
	return x
}

// TestOdeBlockGradients checks the backward pass through every stage of an
// RK4 step (with weights changing between and within steps) against
// central finite differences of the float64 reference. The relative error
// of element i is |g − fd| / max(|fd|, 1e-3·max_j |fd_j|): the floor keeps
// near-zero gradients (the conv bias before a training-mode BatchNorm has
// an exactly zero gradient) from dividing by rounding noise. The step is
// 1e-7 (relative): larger ones straddle ReLU kinks.
func TestOdeBlockGradients(t *testing.T) {
	const c, n, h, w = 2, 2, 4, 4
	for _, tc := range []struct {
		scheme   string
		rule     integrators.KnotRule
		unit     Unit
		training bool
		basis    Basis
	}{
		{"rk4-classic", integrators.NextPiece, PreActivation, true, PiecewiseConstant},
		{"rk4-classic", integrators.OwnPiece, ConvReLUBN, true, PiecewiseConstant},
		{"rk4-38", integrators.NextPiece, PreActivation, false, PiecewiseConstant},
		{"rk4-classic", integrators.NextPiece, PreActivation, false, PiecewiseConstant},
		{"euler", integrators.NextPiece, ConvReLUBN, false, PiecewiseConstant},
		{"rk4-38", integrators.NextPiece, PreActivation, true, PiecewiseLinear},
		{"midpoint", integrators.OwnPiece, ConvReLUBN, false, PiecewiseLinear},
	} {
		t.Run(fmt.Sprintf("%s/%v/%v/%v/training=%v", tc.scheme, tc.basis, tc.rule, tc.unit, tc.training), func(t *testing.T) {
			cfg := tinyConfig(2, tc.unit)
			cfg.Basis = tc.basis
			cfg.Width, cfg.Steps, cfg.Scheme, cfg.KnotRule = c, 3, integrators.MustBuiltin(tc.scheme), tc.rule
			set := nnlib.NewParamSet()
			b := newOdeBlock(set, "b", c, cfg, rng.New(21, "init"))
			r := rng.New(22, "values")
			for _, p := range set.Params() {
				for i := range p.Data {
					switch p.Name {
					case "b.skip":
						p.Data[i] = float32(0.5 + 0.5*r.Float64())
					case "b.bn1.weight", "b.bn2.weight":
						p.Data[i] = float32(1 + 0.2*r.NormFloat64())
					case "b.conv1.weight", "b.conv2.weight":
						p.Data[i] *= 2
					default:
						p.Data[i] = float32(0.2 * r.NormFloat64())
					}
				}
			}
			for _, buf := range set.Buffers() {
				for i := range buf.Data {
					buf.Data[i] = float32(0.1*r.NormFloat64() + 0.7*float64(len(buf.Name)%2))
				}
			}
			ref := &ref64{c: c, n: n, h: h, w: w, k: cfg.Pieces, nt: cfg.Steps, unit: tc.unit, eps: cfg.Epsilon,
				tab: cfg.Scheme, rule: tc.rule, training: tc.training, linear: tc.basis == PiecewiseLinear, p: map[string][]float64{}}
			for _, p := range set.Params() {
				ref.p[p.Name] = to64(p.Data)
			}
			for _, buf := range set.Buffers() {
				ref.p[buf.Name] = to64(buf.Data)
			}
			x := make([]float32, c*n*h*w)
			dy := make([]float32, len(x))
			for i := range x {
				x[i], dy[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			x64, dy64 := to64(x), to64(dy)

			// The float32 forward runs first on a copy of the buffers: in
			// training mode it updates the running statistics.
			g := nnlib.NewGraph(tc.training)
			y := b.Forward(g, g.Input(x, c, n, h, w))
			g.BackwardWithGrad(y, dy)
			y64 := ref.forward(x64)
			var maxAbs, maxDiff float64
			for i := range y64 {
				maxAbs = max(maxAbs, math.Abs(y64[i]))
				maxDiff = max(maxDiff, math.Abs(y64[i]-float64(y.Data[i])))
			}
			if maxDiff > 1e-5*maxAbs {
				t.Fatalf("float32 forward differs from the float64 reference by %.3g (max |y| %.3g)", maxDiff, maxAbs)
			}
			if b.UnitsPerForward() != cfg.Scheme.Stages()*cfg.Steps {
				t.Fatalf("UnitsPerForward = %d", b.UnitsPerForward())
			}

			loss := func() float64 {
				yy := ref.forward(x64)
				var s float64
				for i := range yy {
					s += yy[i] * dy64[i]
				}
				return s
			}
			fds := map[string][]float64{}
			top := 0.0
			for _, p := range set.Params() {
				v := ref.p[p.Name]
				fd := make([]float64, len(v))
				for i := range v {
					old := v[i]
					step := 1e-7 * max(1, math.Abs(old))
					v[i] = old + step
					up := loss()
					v[i] = old - step
					down := loss()
					v[i] = old
					fd[i] = (up - down) / (2 * step)
					top = max(top, math.Abs(fd[i]))
				}
				fds[p.Name] = fd
			}
			if top == 0 {
				t.Fatal("all finite-difference gradients are zero")
			}
			worst, worstName := 0.0, ""
			for _, p := range set.Params() {
				for i, fd := range fds[p.Name] {
					e := math.Abs(float64(p.Grad[i])-fd) / max(math.Abs(fd), 1e-3*top)
					if e > worst {
						worst, worstName = e, fmt.Sprintf("%s[%d] (analytic %.6g, fd %.6g)", p.Name, i, p.Grad[i], fd)
					}
				}
			}
			t.Logf("max relative error %.3g at %s", worst, worstName)
			if worst > 1e-3 {
				t.Errorf("max relative gradient error %.3g > 1e-3 at %s", worst, worstName)
			}
		})
	}
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
