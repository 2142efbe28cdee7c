package claims

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/pendulum"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// PendulumParams are the parameters of the "pendulum" kind: exactly
// pendulum.Config, whose Seed is not a parameter (it carries no yaml or
// json key: the run's seed fills it, and is part of the key already).
type PendulumParams pendulum.Config

// Config returns the study's configuration with the given seed.
func (p *PendulumParams) Config(seed uint64) pendulum.Config {
	c := pendulum.Config(*p)
	c.Seed = seed
	return c
}

// pendulumFields maps the words of pendulum.Config.Validate's messages to
// parameter names, so a bad value points at its line.
var pendulumFields = []string{"g", "theta0", "t_data", "n_data", "hidden", "iters", "batch", "lr", "log_every",
	"t_eval", "points_per_h1", "trainings", "infer_schemes", "hs", "trajectory_hs", "osc_t_end", "osc_n", "osc_repeats", "init"}

// Validate checks the configuration (pendulum.Config.Validate).
func (p *PendulumParams) Validate() error {
	err := p.Config(0).Validate()
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, f := range pendulumFields {
		if strings.Contains(msg, "field "+f) || strings.Contains(msg, "fields "+f) {
			return spec.Invalid(f, nil, "%s", msg)
		}
	}
	return err
}

// pendulumKind runs the E1 convergence test and the E1b operator study
// (claim a, figure 3). Its record holds
//
//   - series "error" and "error_unbiased", Labels {"train": "euler" |
//     "rk4-38" | "true", "eval": scheme}, X = step scaling h, Y = the
//     authors' error ‖X − X_exact‖_F/nt and the bias-free ‖·‖_F/√nt;
//   - series "trajectory", Labels {"train", "eval", "h", "component":
//     "theta" | "v"}, X = t, Y = the state, thinned to about
//     maxTrajectoryPoints points, and "exact", Labels {"component"}, on the
//     finest trajectory grid;
//   - series "train_loss", Labels {"train"}, X = iteration, Y = batch loss;
//   - the criterion metrics of claim (a) (see pendulum.Criteria; the ratio
//     E_eul/mid(1)/E_eul/eul(1) is named "eul_mid_vs_eul_eul_at_1"), the
//     log-log slopes of every curve ("slope_E/<train>/<eval>",
//     "slope_RMS/<train>/<eval>"), the training seconds of each model
//     ("train_seconds/<train>") and the oscillator study's metrics
//     ("osc_omega_vs_<map>", "osc_lambda_err_<scheme>").
type pendulumKind struct{}

func (pendulumKind) Name() string              { return "pendulum" }
func (pendulumKind) Version() int              { return 1 }
func (pendulumKind) NewParams() harness.Params { return &PendulumParams{} }

// Exclusive is false: the training time is reported but is no claim.
func (pendulumKind) Exclusive() bool { return false }

// SourceDirs: the study's code and what it calls.
func (pendulumKind) SourceDirs() []string {
	return []string{"experiments/internal/pendulum", "experiments/internal/claims", "integrators", "nnlib/mlp64", "nnlib/rng", "datasets/dynamics"}
}

// Work is the training iterations, per configuration class.
func (pendulumKind) Work(p harness.Params) (string, float64) {
	pp := p.(*PendulumParams)
	return fmt.Sprintf("pendulum hidden=%d batch=%d models=%d", pp.Hidden, pp.Batch, len(pp.Trainings)), float64(pp.Iters)
}

// maxTrajectoryPoints bounds the points of a recorded trajectory: enough
// for a figure, small enough for a committed record.
const maxTrajectoryPoints = 500

func (pendulumKind) Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	cfg := env.Params.(*PendulumParams).Config(env.Seed)
	env.Report(harness.Progress{Note: fmt.Sprintf("training %d models, %d iterations each", len(cfg.Trainings), cfg.Iters)})
	res, err := pendulum.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return pendulumResult(res), nil
}

// criterionNames renames pendulum.Criteria's metrics to the contract's.
var criterionNames = map[string]string{"eul_mid_over_eul_at_1": "eul_mid_vs_eul_eul_at_1"}

// oscNames are the metric suffixes of the operator study's maps and schemes.
var oscNames = map[string]string{
	"exact": "exact", "dmd": "dmd", "forward-euler": "euler", "backward-euler": "backward_euler",
	"trapezoid": "trapezoid", "rk4": "rk4",
	"fw-euler": "fe", "bw-euler": "be", "mix": "mix", "fw+bw": "fwbw",
}

func oscName(s string) string {
	if n, ok := oscNames[s]; ok {
		return n
	}
	return strings.NewReplacer("-", "_", "+", "").Replace(s)
}

// pendulumResult turns the study's result into the record's metrics and
// series. Non-finite metrics (a criterion whose point was not run) are
// left out: records hold finite numbers only.
func pendulumResult(r *pendulum.Result) *harness.Result {
	out := &harness.Result{Metrics: map[string]float64{}}
	put := func(k string, v float64) {
		if isFinite(v) {
			out.Metrics[k] = v
		}
	}
	for k, v := range pendulum.Metrics(r) {
		if n, ok := criterionNames[k]; ok {
			k = n
		}
		put(k, v)
	}
	for _, m := range r.Models {
		put("train_seconds/"+m.Scheme, m.Seconds)
		if n := len(m.LossValues); n > 0 {
			put("final_loss/"+m.Scheme, m.LossValues[n-1])
		}
		xs := make([]float64, len(m.LossIters))
		for i, it := range m.LossIters {
			xs[i] = float64(it)
		}
		out.Series = append(out.Series, record.Series{Name: "train_loss", Labels: map[string]string{"train": m.Scheme},
			XName: "iteration", YName: "loss", X: xs, Y: append([]float64(nil), m.LossValues...)})
	}
	for _, c := range r.Curves {
		labels := map[string]string{"train": c.Model, "eval": c.Scheme}
		out.Series = append(out.Series,
			record.Series{Name: "error", Labels: labels, XName: "h", YName: "E", X: c.H, Y: c.E},
			record.Series{Name: "error_unbiased", Labels: labels, XName: "h", YName: "RMS", X: c.H, Y: c.RMS})
	}
	var finest *pendulum.Trajectory
	for i, t := range r.Trajectories {
		for d, comp := range []string{"theta", "v"} {
			xs, ys := thin(t.T, t.X, d)
			out.Series = append(out.Series, record.Series{Name: "trajectory",
				Labels: map[string]string{"train": t.Model, "eval": t.Scheme, "h": strconv.FormatFloat(t.H, 'g', -1, 64), "component": comp},
				XName:  "t", YName: comp, X: xs, Y: ys})
		}
		if finest == nil || len(t.T) > len(finest.T) {
			finest = &r.Trajectories[i]
		}
	}
	if finest != nil {
		for d, comp := range []string{"theta", "v"} {
			xs, ys := thin(finest.T, finest.Exact, d)
			out.Series = append(out.Series, record.Series{Name: "exact", Labels: map[string]string{"component": comp},
				XName: "t", YName: comp, X: xs, Y: ys})
		}
	}
	if op := r.Operator; op != nil {
		for _, d := range op.Omega {
			put("osc_omega_vs_"+oscName(d.Name), d.Mean)
		}
		for _, l := range op.Lambdas {
			put("osc_lambda_err_"+oscName(l.Scheme), l.RelErr.Mean)
			// The learned damping (Λ₂₂; 0 in the true Λ): about −Δt/2 inside forward Euler.
			put("osc_lambda_damping_"+oscName(l.Scheme), l.Mean[1][1])
		}
		put("osc_dt", op.Dt)
	}
	return out
}

// thin returns component d of x against t, keeping every k-th point and
// the last, k chosen so that at most maxTrajectoryPoints+1 remain.
func thin(t []float64, x [][2]float64, d int) (xs, ys []float64) {
	k := (len(t) + maxTrajectoryPoints - 1) / maxTrajectoryPoints
	k = max(k, 1)
	for i := 0; i < len(t); i += k {
		xs, ys = append(xs, t[i]), append(ys, x[i][d])
	}
	if n := len(t); n > 0 && (n-1)%k != 0 {
		xs, ys = append(xs, t[n-1]), append(ys, x[n-1][d])
	}
	return xs, ys
}
