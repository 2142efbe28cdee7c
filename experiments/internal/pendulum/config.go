// Package pendulum is the paper's E1 study ("ResNets fail to be meaningful
// dynamical integrators") and its E1b companion, as a library the experiment
// harness calls: a 2→50→2 tanh MLP vector field is trained inside one step of
// a Runge-Kutta scheme on one-step pairs of the exact nonlinear-pendulum
// trajectory, then integrated with other schemes and step sizes and compared
// with the exact solution (the convergence test). E1b learns the one-step
// map and the generator of a linear oscillator.
//
// Everything is float64 and deterministic for a seed: every random draw
// comes from a named nnlib/rng stream. The package returns plain structs and
// writes no files; the harness records and plots them.
//
// Settings follow the authors' "omega" code (paper/README.md E1): data on
// linspace(0, 10, 1000), batches of 128 random one-step pairs, Adam lr 1e-4,
// 25,000 iterations, L1 loss inside Euler and MSE inside RK4-3/8; the
// convergence test integrates from the exact x(0) on linspace(0, 5, nt) with
// nt = int(500/h) points, so h = 1 is (almost exactly) the training step.
package pendulum

import (
	"fmt"
	"math"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/mlp64"
)

// Training is one model to train: the scheme it is embedded in and its loss.
type Training struct {
	// Scheme is the id of the built-in tableau the network is trained
	// inside (e.g. "euler", "rk4-38"). It also names the model.
	Scheme string `yaml:"scheme" json:"scheme"`
	// Loss is "l1" (mean absolute error) or "mse".
	Loss string `yaml:"loss" json:"loss"`
	// Init overrides Config.Init for this model when not empty. The
	// authors' RK4 model effectively got "torch-default" (paper/README.md E1: its
	// Xavier init call was applied to the wrong object); PaperConfig keeps
	// Xavier for both, as the paper describes.
	Init string `yaml:"init,omitempty" json:"init,omitempty"`
}

// Config holds every setting of the study. Start from PaperConfig.
type Config struct {
	Seed uint64 `yaml:"-" json:"-"` // set by the caller (the harness: the run's seed), not a parameter

	// Pendulum and training data.
	G        float64 `yaml:"g" json:"g"`
	Theta0   float64 `yaml:"theta0" json:"theta0"`
	TData    float64 `yaml:"t_data" json:"t_data"`       // data on [0, TData]
	NData    int     `yaml:"n_data" json:"n_data"`       // linspace points
	Hidden   int     `yaml:"hidden" json:"hidden"`       // MLP width
	Iters    int     `yaml:"iters" json:"iters"`         // Adam iterations per model
	Batch    int     `yaml:"batch" json:"batch"`         // pairs per iteration
	LR       float64 `yaml:"lr" json:"lr"`               // Adam learning rate
	Init     string  `yaml:"init" json:"init"`           // "xavier-normal" or "torch-default"
	LogEvery int     `yaml:"log_every" json:"log_every"` // loss-curve sampling (iterations)

	Trainings []Training `yaml:"trainings" json:"trainings"`

	// Convergence test.
	TEval        float64   `yaml:"t_eval" json:"t_eval"`               // integrate on [0, TEval]
	PointsPerH1  float64   `yaml:"points_per_h1" json:"points_per_h1"` // nt = int(PointsPerH1/h)
	Hs           []float64 `yaml:"hs" json:"hs"`
	InferSchemes []string  `yaml:"infer_schemes" json:"infer_schemes"`
	TrajectoryHs []float64 `yaml:"trajectory_hs" json:"trajectory_hs"`

	// E1b operator study (skipped when OscRepeats is 0).
	OscTEnd    float64 `yaml:"osc_t_end" json:"osc_t_end"`
	OscN       int     `yaml:"osc_n" json:"osc_n"`
	OscRepeats int     `yaml:"osc_repeats" json:"osc_repeats"`
	OscDamping float64 `yaml:"osc_damping" json:"osc_damping"`
}

// PaperConfig returns the authors' settings (paper/README.md E1, E1b).
func PaperConfig() Config {
	return Config{
		Seed: 0, G: 9.81, Theta0: 3 * math.Pi / 4, TData: 10, NData: 1000,
		Hidden: 50, Iters: 25000, Batch: 128, LR: 1e-4, Init: "xavier-normal", LogEvery: 250,
		Trainings: []Training{{Scheme: "euler", Loss: "l1"}, {Scheme: "rk4-38", Loss: "mse"}},
		TEval:     5, PointsPerH1: 500,
		Hs:           []float64{0.02, 0.05, 0.1, 0.2, 0.5, 0.6, 0.9, 1.0, 1.1, 1.5, 2, 5, 7.5, 10, 12, 15, 20},
		InferSchemes: []string{"euler", "midpoint", "rk4-38"},
		TrajectoryHs: []float64{0.1, 1, 10},
		OscTEnd:      50, OscN: 1000, OscRepeats: 30, OscDamping: 0,
	}
}

// Validate reports the first setting that is out of range, naming the
// field.
func (c Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("pendulum: config field %s = %v: %s", field, v, want)
	}
	switch {
	case !(c.G > 0):
		return bad("g", c.G, "must be > 0")
	case !(math.Abs(c.Theta0) < math.Pi) || c.Theta0 == 0:
		return bad("theta0", c.Theta0, "must be non-zero with |theta0| < π")
	case !(c.TData > 0):
		return bad("t_data", c.TData, "must be > 0")
	case c.NData < 3:
		return bad("n_data", c.NData, "need at least 3 points")
	case c.Hidden < 1:
		return bad("hidden", c.Hidden, "must be ≥ 1")
	case c.Iters < 0:
		return bad("iters", c.Iters, "must be ≥ 0")
	case c.Batch < 1 || c.Batch > c.NData-1:
		return bad("batch", c.Batch, fmt.Sprintf("must be in 1..%d (the number of one-step pairs)", c.NData-1))
	case !(c.LR > 0):
		return bad("lr", c.LR, "must be > 0")
	case c.LogEvery < 1:
		return bad("log_every", c.LogEvery, "must be ≥ 1")
	case !(c.TEval > 0):
		return bad("t_eval", c.TEval, "must be > 0")
	case !(c.PointsPerH1 > 0):
		return bad("points_per_h1", c.PointsPerH1, "must be > 0")
	}
	if _, err := c.init(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, tr := range c.Trainings {
		if _, err := integrators.Builtin(tr.Scheme); err != nil {
			return fmt.Errorf("pendulum: config field trainings[%d].scheme: %w", i, err)
		}
		if seen[tr.Scheme] {
			return bad(fmt.Sprintf("trainings[%d].scheme", i), tr.Scheme, "each scheme may be trained once (it names the model)")
		}
		seen[tr.Scheme] = true
		if tr.Loss != "l1" && tr.Loss != "mse" {
			return bad(fmt.Sprintf("trainings[%d].loss", i), tr.Loss, `must be "l1" or "mse"`)
		}
		if tr.Init != "" {
			if _, err := parseInit(fmt.Sprintf("trainings[%d].init", i), tr.Init); err != nil {
				return err
			}
		}
	}
	for i, s := range c.InferSchemes {
		if _, err := integrators.Builtin(s); err != nil {
			return fmt.Errorf("pendulum: config field infer_schemes[%d]: %w", i, err)
		}
	}
	for i, h := range append(append([]float64(nil), c.Hs...), c.TrajectoryHs...) {
		if !(h > 0) || c.nt(h) < 2 {
			return bad(fmt.Sprintf("hs/trajectory_hs[%d]", i), h, fmt.Sprintf("must be > 0 with int(%v/h) ≥ 2 grid points", c.PointsPerH1))
		}
	}
	if c.OscRepeats < 0 {
		return bad("osc_repeats", c.OscRepeats, "must be ≥ 0")
	}
	if c.OscRepeats > 0 && (!(c.OscTEnd > 0) || c.OscN < 51) {
		return fmt.Errorf("pendulum: config fields osc_t_end = %v, osc_n = %d: need osc_t_end > 0 and osc_n ≥ 51", c.OscTEnd, c.OscN)
	}
	return nil
}

func (c Config) init() (mlp64.Init, error) { return parseInit("init", c.Init) }

func parseInit(field, name string) (mlp64.Init, error) {
	switch name {
	case "xavier-normal", "":
		return mlp64.XavierNormal, nil
	case "torch-default":
		return mlp64.TorchDefault, nil
	}
	return 0, fmt.Errorf("pendulum: config field %s = %q: must be \"xavier-normal\" or \"torch-default\"", field, name)
}

// nt is the number of grid points of the convergence test at scaling h:
// int(PointsPerH1/h), truncated as Python's int() does.
func (c Config) nt(h float64) int { return int(c.PointsPerH1 / h) }
