package pendulum

import (
	"context"
	"fmt"
	"time"

	"github.com/continuousnet/repro/datasets/dynamics"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/mlp64"
	"github.com/continuousnet/repro/nnlib/rng"
)

// Model is a vector field trained inside one step of a scheme.
type Model struct {
	// Scheme is the id of the tableau the model was trained inside; it
	// names the model.
	Scheme string
	Loss   string
	Iters  int
	// LossIters and LossValues sample the training loss: the loss of the
	// batch at iteration LossIters[i] (1-based), every LogEvery iterations
	// and at the last one.
	LossIters  []int
	LossValues []float64
	// Seconds is the wall time of the training loop.
	Seconds float64
	// Net is the trained vector field f(x).
	Net *mlp64.MLP
}

// data returns the training trajectory: times, states (n×2, row-major) and
// the data step.
func (c Config) data() (ts, x []float64, dt float64) {
	p := dynamics.Pendulum{G: c.G, Theta0: c.Theta0}
	ts = dynamics.Linspace(0, c.TData, c.NData)
	x = make([]float64, 2*len(ts))
	for i, t := range ts {
		x[2*i], x[2*i+1] = p.Exact(t)
	}
	return ts, x, c.TData / float64(c.NData-1)
}

// rkStep holds the workspaces of a batched Runge-Kutta step of an MLP vector
// field, with its backward pass through every stage.
type rkStep struct {
	tab    *integrators.Tableau
	net    *mlp64.MLP
	n, dim int
	z, k   [][]float64 // stage inputs and rates, n×dim each
	dk     [][]float64
	dz     []float64
	caches []mlp64.Cache
}

func newRKStep(tab *integrators.Tableau, net *mlp64.MLP, n int) *rkStep {
	s := tab.Stages()
	r := &rkStep{tab: tab, net: net, n: n, dim: net.In,
		z: make([][]float64, s), k: make([][]float64, s), dk: make([][]float64, s),
		dz: make([]float64, n*net.In), caches: make([]mlp64.Cache, s)}
	for i := 0; i < s; i++ {
		r.z[i] = make([]float64, n*net.In)
		r.k[i] = make([]float64, n*net.In)
		r.dk[i] = make([]float64, n*net.In)
	}
	return r
}

// forward sets y = x + dt·Σ b_i k_i with k_i = f(x + dt·Σ_j a_ij k_j),
// recording every stage for backward.
func (r *rkStep) forward(x []float64, dt float64, y []float64) {
	tab := r.tab
	for i := range r.z {
		z := r.z[i]
		copy(z, x)
		for j := 0; j < i; j++ {
			if a := tab.A(i, j); a != 0 {
				axpy(z, dt*a, r.k[j])
			}
		}
		r.net.Forward(z, r.n, r.k[i], &r.caches[i])
	}
	copy(y, x)
	for i := range r.k {
		if b := tab.B(i); b != 0 {
			axpy(y, dt*b, r.k[i])
		}
	}
}

// backward adds to grad the parameter gradient of ⟨dy, y⟩ for the last
// forward: the cotangent of k_i starts at dt·b_i·dy and, going back over
// the stages, each stage's input cotangent flows to the earlier rates
// through a_ij.
func (r *rkStep) backward(dt float64, dy, grad []float64) {
	tab := r.tab
	s := len(r.k)
	for i := 0; i < s; i++ {
		clear(r.dk[i])
		if b := tab.B(i); b != 0 {
			axpy(r.dk[i], dt*b, dy)
		}
	}
	for i := s - 1; i >= 0; i-- {
		needDz := false
		for j := 0; j < i; j++ {
			if tab.A(i, j) != 0 {
				needDz = true
			}
		}
		var dz []float64
		if needDz {
			dz = r.dz
		}
		r.net.Backward(&r.caches[i], r.dk[i], dz, grad)
		for j := 0; j < i; j++ {
			if a := tab.A(i, j); a != 0 {
				axpy(r.dk[j], dt*a, dz)
			}
		}
	}
}

func axpy(dst []float64, a float64, x []float64) {
	for i := range dst {
		dst[i] += a * x[i]
	}
}

// Train trains one model as the config says: a fresh MLP (stream
// "pendulum/init/<scheme>"), batches of one-step pairs drawn without
// replacement within a batch (stream "pendulum/batches/<scheme>"), the
// network embedded in one step of the scheme over the data step, and Adam.
// It stops early with ctx's error if ctx is cancelled. Trainings share
// nothing, so a caller may run several concurrently; the numbers do not
// depend on it.
func Train(ctx context.Context, cfg Config, tr Training) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tab, err := integrators.Builtin(tr.Scheme)
	if err != nil {
		return nil, err
	}
	lossFn := mlp64.MSE
	switch tr.Loss {
	case "l1":
		lossFn = mlp64.L1
	case "mse":
	default:
		return nil, fmt.Errorf("pendulum: training %s: loss %q must be \"l1\" or \"mse\"", tr.Scheme, tr.Loss)
	}
	init, _ := cfg.init()
	if tr.Init != "" {
		if init, err = parseInit("init", tr.Init); err != nil {
			return nil, err
		}
	}
	_, data, dt := cfg.data()
	net := mlp64.New(2, cfg.Hidden, 2, init, rng.New(cfg.Seed, "pendulum/init/"+tab.ID()))
	batches := rng.New(cfg.Seed, "pendulum/batches/"+tab.ID())
	opt := mlp64.NewAdam(len(net.P), cfg.LR)

	b := cfg.Batch
	perm := identity(cfg.NData - 1)
	x, target, y, dy := make([]float64, 2*b), make([]float64, 2*b), make([]float64, 2*b), make([]float64, 2*b)
	grad := make([]float64, len(net.P))
	step := newRKStep(tab, net, b)
	m := &Model{Scheme: tab.ID(), Loss: tr.Loss, Iters: cfg.Iters, Net: net}
	start := time.Now()
	for it := 1; it <= cfg.Iters; it++ {
		if it%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("pendulum: training %s stopped at iteration %d: %w", tab.ID(), it, err)
			}
		}
		for i, p := range sample(batches, perm, b) {
			x[2*i], x[2*i+1] = data[2*p], data[2*p+1]
			target[2*i], target[2*i+1] = data[2*p+2], data[2*p+3]
		}
		step.forward(x, dt, y)
		loss := lossFn(y, target, dy)
		clear(grad)
		step.backward(dt, dy, grad)
		opt.Step(net.P, grad)
		if it%cfg.LogEvery == 0 || it == cfg.Iters {
			m.LossIters = append(m.LossIters, it)
			m.LossValues = append(m.LossValues, loss)
		}
	}
	m.Seconds = time.Since(start).Seconds()
	return m, nil
}
