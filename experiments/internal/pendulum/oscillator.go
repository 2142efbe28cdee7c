package pendulum

import (
	"fmt"
	"math"

	"github.com/continuousnet/repro/datasets/dynamics"
	"github.com/continuousnet/repro/nnlib/mlp64"
	"github.com/continuousnet/repro/nnlib/rng"
)

// Mat2 is a 2×2 matrix, row-major.
type Mat2 [2][2]float64

func (a Mat2) mul(b Mat2) (c Mat2) {
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			c[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j]
		}
	}
	return c
}

func (a Mat2) add(s float64, b Mat2) (c Mat2) {
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			c[i][j] = a[i][j] + s*b[i][j]
		}
	}
	return c
}

func (a Mat2) inv() Mat2 {
	d := a[0][0]*a[1][1] - a[0][1]*a[1][0]
	return Mat2{{a[1][1] / d, -a[0][1] / d}, {-a[1][0] / d, a[0][0] / d}}
}

func (a Mat2) fro() float64 {
	return math.Sqrt(a[0][0]*a[0][0] + a[0][1]*a[0][1] + a[1][0]*a[1][0] + a[1][1]*a[1][1])
}

// RelDist returns ‖a − b‖_F / ‖b‖_F.
func RelDist(a, b Mat2) float64 { return a.add(-1, b).fro() / b.fro() }

var eye = Mat2{{1, 0}, {0, 1}}

// NamedMap is a one-step map of a scheme or of the data.
type NamedMap struct {
	Name string
	M    Mat2
}

// Distance summarises a distance over repeats.
type Distance struct {
	Name           string
	Mean, Min, Max float64
}

// LambdaFit is the generator Λ learned through one scheme's residual.
type LambdaFit struct {
	Scheme string // "fw-euler", "bw-euler", "trapezoid", "fw+bw", "mix" (fw+bw+trapezoid)
	// RelErr summarises ‖Λ_learned − Λ‖_F/‖Λ‖_F over the repeats.
	RelErr Distance
	// Mean is the learned Λ averaged over the repeats; its diagonal shows
	// the spurious damping (about −Δt/2 for forward Euler).
	Mean Mat2
}

// OperatorStudy is the E1b linear-oscillator study.
type OperatorStudy struct {
	Lambda  Mat2
	Dt      float64
	Repeats int
	// Maps are the reference one-step maps: "exact" exp(ΛΔt), "dmd" (least
	// squares on all pairs), "forward-euler" I+ΔtΛ, "backward-euler"
	// (I−ΔtΛ)⁻¹, "trapezoid" (I−ΔtΛ/2)⁻¹(I+ΔtΛ/2), "rk4" (the degree-4
	// Taylor polynomial, which both RK4 rules give on a linear problem).
	Maps []NamedMap
	// Omega is the distance of the learned one-step map Ω to each reference
	// map, ‖Ω − M‖_F/‖M‖_F, over the repeats (same order as Maps).
	Omega []Distance
	// Lambdas are the generators learned inside each scheme's residual.
	Lambdas []LambdaFit
}

// theta weights of the one-step residual u1 − u0 − Δt·Λ·(θ·u1 + (1−θ)·u0).
var lambdaSchemes = []struct {
	name   string
	thetas []float64
}{
	{"fw-euler", []float64{0}},
	{"bw-euler", []float64{1}},
	{"trapezoid", []float64{0.5}},
	{"fw+bw", []float64{0, 1}},
	{"mix", []float64{0, 1, 0.5}},
}

// RunOperatorStudy learns, OscRepeats times each, (a) the one-step map Ω
// of the oscillator's exact samples (a 2×2 linear map without bias, PyTorch
// default init, Adam lr 0.1, 1000 iterations, batches of 50, MSE) and (b)
// its generator Λ embedded in the residual of forward Euler, backward Euler,
// the trapezoid rule and sums of them (Adam lr 0.05, ×0.3 at iterations
// 200, 500 and 800, 1000 iterations, batches of 25, MSE of the residual).
// The implicit schemes are used in residual form, which needs no solve
// because both ends of a pair are data.
func RunOperatorStudy(cfg Config) (*OperatorStudy, error) {
	if cfg.OscRepeats < 1 {
		return nil, fmt.Errorf("pendulum: operator study: osc_repeats = %d, need ≥ 1", cfg.OscRepeats)
	}
	osc := dynamics.Oscillator(cfg.OscDamping)
	var lam Mat2
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			lam[i][j] = osc.Lambda.At(i, j)
		}
	}
	ts := dynamics.Linspace(0, cfg.OscTEnd, cfg.OscN)
	u := osc.Trajectory(ts)
	dt := cfg.OscTEnd / float64(cfg.OscN-1)
	st := &OperatorStudy{Lambda: lam, Dt: dt, Repeats: cfg.OscRepeats}

	fm := osc.FlowMap(dt)
	exact := Mat2{{fm.At(0, 0), fm.At(0, 1)}, {fm.At(1, 0), fm.At(1, 1)}}
	hl := eye.add(dt, lam).add(-1, eye) // Δt·Λ
	rk4 := eye.add(1, hl).add(0.5, hl.mul(hl)).add(1.0/6, hl.mul(hl).mul(hl)).add(1.0/24, hl.mul(hl).mul(hl).mul(hl))
	st.Maps = []NamedMap{
		{"exact", exact},
		{"dmd", dmd(u)},
		{"forward-euler", eye.add(1, hl)},
		{"backward-euler", eye.add(-1, hl).inv()},
		{"trapezoid", eye.add(-0.5, hl).inv().mul(eye.add(0.5, hl))},
		{"rk4", rk4},
	}

	npairs := len(u) - 1
	// (a) the one-step map.
	dists := make([][]float64, len(st.Maps))
	for r := 0; r < cfg.OscRepeats; r++ {
		s := rng.New(cfg.Seed, fmt.Sprintf("oscillator/omega/%d", r))
		om := torchLinearInit(s)
		opt := mlp64.NewAdam(4, 0.1)
		p, g := make([]float64, 4), make([]float64, 4)
		perm := identity(npairs)
		for it := 0; it < 1000; it++ {
			clear(g)
			batch := sample(s, perm, 50)
			n := float64(2 * len(batch))
			for _, k := range batch {
				for i := 0; i < 2; i++ {
					e := om[i][0]*u[k][0] + om[i][1]*u[k][1] - u[k+1][i]
					g[2*i] += 2 * e * u[k][0] / n
					g[2*i+1] += 2 * e * u[k][1] / n
				}
			}
			p[0], p[1], p[2], p[3] = om[0][0], om[0][1], om[1][0], om[1][1]
			opt.Step(p, g)
			om = Mat2{{p[0], p[1]}, {p[2], p[3]}}
		}
		for i, m := range st.Maps {
			dists[i] = append(dists[i], RelDist(om, m.M))
		}
	}
	for i, m := range st.Maps {
		st.Omega = append(st.Omega, summarize(m.Name, dists[i]))
	}

	// (b) the generator inside each scheme.
	for _, sc := range lambdaSchemes {
		var errs []float64
		var mean Mat2
		for r := 0; r < cfg.OscRepeats; r++ {
			s := rng.New(cfg.Seed, fmt.Sprintf("oscillator/lambda/%s/%d", sc.name, r))
			l := torchLinearInit(s)
			opt := mlp64.NewAdam(4, 0.05)
			p, g := make([]float64, 4), make([]float64, 4)
			perm := identity(npairs)
			for it := 0; it < 1000; it++ {
				lr := 0.05
				for _, m := range []int{200, 500, 800} {
					if it >= m {
						lr *= 0.3
					}
				}
				opt.LR = lr
				clear(g)
				batch := sample(s, perm, 25)
				n := float64(2 * len(batch))
				for _, th := range sc.thetas {
					for _, k := range batch {
						w := [2]float64{th*u[k+1][0] + (1-th)*u[k][0], th*u[k+1][1] + (1-th)*u[k][1]}
						for i := 0; i < 2; i++ {
							res := u[k+1][i] - u[k][i] - dt*(l[i][0]*w[0]+l[i][1]*w[1])
							g[2*i] += -2 * dt * res * w[0] / n
							g[2*i+1] += -2 * dt * res * w[1] / n
						}
					}
				}
				p[0], p[1], p[2], p[3] = l[0][0], l[0][1], l[1][0], l[1][1]
				opt.Step(p, g)
				l = Mat2{{p[0], p[1]}, {p[2], p[3]}}
			}
			errs = append(errs, RelDist(l, lam))
			mean = mean.add(1/float64(cfg.OscRepeats), l)
		}
		st.Lambdas = append(st.Lambdas, LambdaFit{Scheme: sc.name, RelErr: summarize(sc.name, errs), Mean: mean})
	}
	return st, nil
}

// dmd returns the least-squares one-step map Y·Xᵀ·(X·Xᵀ)⁻¹ over all pairs.
func dmd(u [][]float64) Mat2 {
	var xx, yx Mat2
	for k := 0; k+1 < len(u); k++ {
		for i := 0; i < 2; i++ {
			for j := 0; j < 2; j++ {
				xx[i][j] += u[k][i] * u[k][j]
				yx[i][j] += u[k+1][i] * u[k][j]
			}
		}
	}
	return yx.mul(xx.inv())
}

// torchLinearInit draws a 2×2 weight as PyTorch's nn.Linear(2, 2) default:
// U(−1/√2, 1/√2).
func torchLinearInit(s *rng.Stream) Mat2 {
	var m Mat2
	b := 1 / math.Sqrt2
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			m[i][j] = b * (2*s.Float64() - 1)
		}
	}
	return m
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// sample returns b distinct entries of perm (a partial Fisher-Yates
// shuffle, in place).
func sample(s *rng.Stream, perm []int, b int) []int {
	for i := 0; i < b; i++ {
		j := i + s.IntN(len(perm)-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[:b]
}

func summarize(name string, v []float64) Distance {
	d := Distance{Name: name, Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range v {
		d.Mean += x / float64(len(v))
		d.Min = math.Min(d.Min, x)
		d.Max = math.Max(d.Max, x)
	}
	return d
}
