package pendulum

import (
	"math"

	"github.com/continuousnet/repro/datasets/dynamics"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/mlp64"
)

// TrueField is the model name of the exact pendulum vector field, whose
// curves are the references.
const TrueField = "true"

// Field is an autonomous vector field dxdt = f(x) on the state (θ, v).
type Field func(x, dxdt []float64)

// NetField returns the vector field of a trained network.
func NetField(net *mlp64.MLP) Field {
	return func(x, dxdt []float64) { net.Forward(x, 1, dxdt, nil) }
}

// Curve is the convergence test of one (model, inference scheme): the
// error against the exact solution for every step scaling h.
type Curve struct {
	Model  string // the scheme the model was trained inside, or TrueField
	Scheme string // the inference scheme
	H      []float64
	Nt     []int     // grid points at each h
	Dt     []float64 // the inference step TEval/(Nt−1)
	E      []float64 // ‖X − X_exact‖_F / Nt (the authors' metric)
	RMS    []float64 // ‖X − X_exact‖_F / √Nt (bias-free)
}

// At returns the value of series y at scaling h, or NaN if h was not run.
func (c Curve) At(y []float64, h float64) float64 {
	for i, v := range c.H {
		if v == h {
			return y[i]
		}
	}
	return math.NaN()
}

// integrate returns the states (nt×2) of f integrated with tab from x0 on
// linspace(0, tEnd, nt).
func integrate(f Field, tab *integrators.Tableau, x0 [2]float64, tEnd float64, nt int) [][2]float64 {
	st := integrators.NewStepper(tab, integrators.Float64s{})
	x := []float64{x0[0], x0[1]}
	out := make([][2]float64, nt)
	rate := func(_, _ int, _ float64, x, d []float64) { f(x, d) }
	st.Integrate(rate, integrators.Grid{T0: 0, T1: tEnd, N: nt - 1}, x, func(k int, _ float64, x []float64) {
		out[k] = [2]float64{x[0], x[1]}
	})
	return out
}

// ConvergenceCurve runs the convergence test of field f (named model)
// under one inference scheme: for each h of cfg.Hs, integrate from the exact
// x(0) on linspace(0, TEval, int(PointsPerH1/h)) and measure the error.
func ConvergenceCurve(cfg Config, model string, f Field, scheme string) (Curve, error) {
	tab, err := integrators.Builtin(scheme)
	if err != nil {
		return Curve{}, err
	}
	p := dynamics.Pendulum{G: cfg.G, Theta0: cfg.Theta0}
	c := Curve{Model: model, Scheme: tab.ID()}
	for _, h := range cfg.Hs {
		nt := cfg.nt(h)
		ts := dynamics.Linspace(0, cfg.TEval, nt)
		exact := p.Trajectory(ts)
		got := integrate(f, tab, exact[0], cfg.TEval, nt)
		ss := 0.0
		for i := range got {
			for d := 0; d < 2; d++ {
				e := got[i][d] - exact[i][d]
				ss += e * e
			}
		}
		fro := math.Sqrt(ss)
		c.H = append(c.H, h)
		c.Nt = append(c.Nt, nt)
		c.Dt = append(c.Dt, cfg.TEval/float64(nt-1))
		c.E = append(c.E, fro/float64(nt))
		c.RMS = append(c.RMS, fro/math.Sqrt(float64(nt)))
	}
	return c, nil
}

// Trajectory is one integrated trajectory for the trajectory panels.
type Trajectory struct {
	Model  string
	Scheme string
	H      float64
	T      []float64
	X      [][2]float64 // integrated (θ, v)
	Exact  [][2]float64
}

// TrajectoryOf integrates field f with scheme at scaling h on the
// convergence-test grid and returns it beside the exact solution.
func TrajectoryOf(cfg Config, model string, f Field, scheme string, h float64) (Trajectory, error) {
	tab, err := integrators.Builtin(scheme)
	if err != nil {
		return Trajectory{}, err
	}
	p := dynamics.Pendulum{G: cfg.G, Theta0: cfg.Theta0}
	nt := cfg.nt(h)
	ts := dynamics.Linspace(0, cfg.TEval, nt)
	exact := p.Trajectory(ts)
	return Trajectory{Model: model, Scheme: tab.ID(), H: h, T: ts, X: integrate(f, tab, exact[0], cfg.TEval, nt), Exact: exact}, nil
}

// FitSlope returns the least-squares slope of log y against log x over the
// points with lo ≤ x ≤ hi (NaN with fewer than two points or a
// non-positive y).
func FitSlope(x, y []float64, lo, hi float64) float64 {
	var sx, sy, sxx, sxy, n float64
	for i := range x {
		if x[i] < lo || x[i] > hi {
			continue
		}
		if !(y[i] > 0) {
			return math.NaN()
		}
		lx, ly := math.Log(x[i]), math.Log(y[i])
		sx += lx
		sy += ly
		sxx += lx * lx
		sxy += lx * ly
		n++
	}
	if n < 2 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}
