package claims

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// The summary kinds compute the pre-registered criterion values of claims
// (a, b), (c) and (d) from the records of the runs they need, and nothing
// else. Each also writes quality_ok_<model> (1 or 0) for every cifar-train
// run it needs, <model> being the run name without "train/": whether the
// model reached QualityFloor on the whole test set (below it the
// claim's rows are ERROR, "profile too small"). A ratio whose denominator
// is not positive is left out (records hold finite numbers only) and
// logged; its parts are recorded beside it.

// SummaryBParams name the sweeps of the Euler K = 1 and RK4-classic K = 1
// nets (claims a and b).
type SummaryBParams struct {
	EulerSweep   string  `yaml:"euler_sweep" json:"euler_sweep"`     // sweep of the Euler-trained K = 1 net
	RK4Sweep     string  `yaml:"rk4_sweep" json:"rk4_sweep"`         // sweep of the RK4-classic-trained K = 1 net
	Chance       float64 `yaml:"chance" json:"chance"`               // chance accuracy (0.1 for 10 classes)
	QualityFloor float64 `yaml:"quality_floor" json:"quality_floor"` // minimum acc_full_test of a usable model
}

// Validate checks the values.
func (p *SummaryBParams) Validate() error {
	if err := validateRuns(map[string]string{"euler_sweep": p.EulerSweep, "rk4_sweep": p.RK4Sweep}); err != nil {
		return err
	}
	if !(p.Chance >= 0 && p.Chance < 1) {
		return spec.Invalid("chance", nil, "want 0 ≤ chance < 1, got %v", p.Chance)
	}
	return validateFloor(p.QualityFloor)
}

// SummaryCParams name the refined and the from-scratch training runs
// (claim c) and the accuracy metric compared.
type SummaryCParams struct {
	Refined      string  `yaml:"refined" json:"refined"`
	Scratch      string  `yaml:"scratch" json:"scratch"`
	Accuracy     string  `yaml:"accuracy" json:"accuracy"` // acc_full_test, acc_final or acc_max
	QualityFloor float64 `yaml:"quality_floor" json:"quality_floor"`
}

var accuracyMetrics = []string{"acc_full_test", "acc_final", "acc_max"}

// Validate checks the values.
func (p *SummaryCParams) Validate() error {
	if err := validateRuns(map[string]string{"refined": p.Refined, "scratch": p.Scratch}); err != nil {
		return err
	}
	if !slices.Contains(accuracyMetrics, p.Accuracy) {
		return spec.Invalid("accuracy", accuracyMetrics, "unknown accuracy metric %q", p.Accuracy)
	}
	return validateFloor(p.QualityFloor)
}

// SummaryDParams name the timed sweep of the refined net (claim d).
type SummaryDParams struct {
	Sweep        string  `yaml:"sweep" json:"sweep"`
	QualityFloor float64 `yaml:"quality_floor" json:"quality_floor"`
}

// Validate checks the values.
func (p *SummaryDParams) Validate() error {
	if err := validateRuns(map[string]string{"sweep": p.Sweep}); err != nil {
		return err
	}
	return validateFloor(p.QualityFloor)
}

func validateRuns(runs map[string]string) error {
	keys := make([]string, 0, len(runs))
	for k := range runs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if runs[k] == "" {
			return spec.Invalid(k, nil, "name the run (it must also be listed in needs)")
		}
	}
	return nil
}

func validateFloor(f float64) error {
	if !(f >= 0 && f <= 1) {
		return spec.Invalid("quality_floor", nil, "want an accuracy in [0, 1], got %v", f)
	}
	return nil
}

// summaryKind is a summary run kind: its parameters and the function that
// computes its metrics from the records of the runs it needs. The summaries
// differ in nothing else.
type summaryKind[T any, P interface {
	*T
	harness.Params
}] struct {
	name    string
	compute func(*harness.Env, deps, P) (map[string]float64, error)
}

var (
	summaryB = summaryKind[SummaryBParams, *SummaryBParams]{"summary-b", computeB}
	summaryC = summaryKind[SummaryCParams, *SummaryCParams]{"summary-c", computeC}
	summaryD = summaryKind[SummaryDParams, *SummaryDParams]{"summary-d", computeD}
)

func (k summaryKind[T, P]) Name() string            { return k.name }
func (summaryKind[T, P]) Version() int              { return 1 }
func (summaryKind[T, P]) Exclusive() bool           { return false }
func (summaryKind[T, P]) NewParams() harness.Params { return P(new(T)) }

// WorkParts is empty: a summary reads records, no work worth estimating.
func (summaryKind[T, P]) WorkParts(harness.Params) []harness.Work { return nil }

func (k summaryKind[T, P]) Run(_ context.Context, env *harness.Env) (*harness.Result, error) {
	m, err := k.compute(env, depsOf(env), env.Params.(P))
	if err != nil {
		return nil, err
	}
	return &harness.Result{Metrics: m}, nil
}

// deps gives the records of a summary's needed runs by name. A run of a
// seeds list goes by its group name when it is the only run of its group
// among the needs (a seeded summary needs the runs of its own seed), so the
// parameters name runs as the spec declares them.
type deps map[string]*record.Record

func depsOf(env *harness.Env) deps {
	inGroup := map[string]int{}
	for _, n := range env.Needs {
		inGroup[n.Group]++
	}
	d := deps{}
	for _, n := range env.Needs {
		if n.Group != "" && inGroup[n.Group] == 1 {
			d[n.Group] = n.Record
		} else {
			d[n.Run] = n.Record
		}
	}
	return d
}

func (d deps) get(name, kind string) (*record.Record, error) {
	r, ok := d[name]
	if !ok {
		names := make([]string, 0, len(d))
		for n := range d {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("run %q is not among the runs this summary needs (%s): add it to needs", name, strings.Join(names, ", "))
	}
	if r.Kind != kind {
		return nil, fmt.Errorf("run %q is of kind %q, want %q", name, r.Kind, kind)
	}
	return r, nil
}

// qualityFlags sets quality_ok_<model> for every cifar-train record.
func (d deps) qualityFlags(m map[string]float64, floor float64) error {
	for name, r := range d {
		if r.Kind != "cifar-train" {
			continue
		}
		acc, ok := r.Metric("acc_full_test")
		if !ok {
			return fmt.Errorf("run %q has no acc_full_test", name)
		}
		flag := 0.0
		if acc >= floor {
			flag = 1
		}
		m["quality_ok_"+strings.TrimPrefix(name, "train/")] = flag
	}
	return nil
}

// accuracyAt returns the accuracy of a sweep record under eval at Nt.
func accuracyAt(r *record.Record, eval string, nt int) (float64, error) {
	return seriesAt(r, "accuracy", eval, nt)
}

func seriesAt(r *record.Record, name, eval string, nt int) (float64, error) {
	for _, s := range r.Series {
		if s.Name != name || s.Labels["eval"] != eval {
			continue
		}
		for i, x := range s.X {
			if x == float64(nt) {
				return s.Y[i], nil
			}
		}
	}
	return 0, fmt.Errorf("run %q has no %s point under %s at Nt = %d", r.Run, name, eval, nt)
}

// ratio puts num/den into m[name] when den > 0, else logs why it is left out.
func ratio(env *harness.Env, m map[string]float64, name string, num, den float64) {
	if den > 0 && isFinite(num/den) {
		m[name] = num / den
		return
	}
	env.Logf("%s left out: its denominator is %v (not positive)", name, den)
}

// computeB (kind summary-b) computes the CIFAR row of claim (a) and the criteria of claim
// (b) from the two K = 1 sweeps (accuracies in points = percent):
//
//	rk4_k1_rk438_spread_pts       max − min of the RK4 net under rk4-38 over Nt = 1…8
//	euler_k1_loss_pts             acc(1) − acc(8) of the Euler net under euler
//	rk4_k1_spread_over_euler_loss the spread / that loss
//	rk4_k1_euler8_vs_rk438_8_pts  |acc under euler − acc under rk4-38| of the RK4 net at Nt = 8
//	euler_k1_collapse_margin      (acc(1) − acc(8)) / (acc(1) − chance) of the Euler net under euler
func computeB(env *harness.Env, d deps, p *SummaryBParams) (map[string]float64, error) {
	eul, err := d.get(p.EulerSweep, "cifar-sweep")
	if err != nil {
		return nil, err
	}
	rk4, err := d.get(p.RK4Sweep, "cifar-sweep")
	if err != nil {
		return nil, err
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for nt := 1; nt <= 8; nt++ {
		a, err := accuracyAt(rk4, "rk4-38", nt)
		if err != nil {
			return nil, err
		}
		lo, hi = math.Min(lo, a), math.Max(hi, a)
	}
	e1, err := accuracyAt(eul, "euler", 1)
	if err != nil {
		return nil, err
	}
	e8, err := accuracyAt(eul, "euler", 8)
	if err != nil {
		return nil, err
	}
	r8e, err := accuracyAt(rk4, "euler", 8)
	if err != nil {
		return nil, err
	}
	r8r, err := accuracyAt(rk4, "rk4-38", 8)
	if err != nil {
		return nil, err
	}
	m := map[string]float64{
		"rk4_k1_rk438_spread_pts":      100 * (hi - lo),
		"euler_k1_loss_pts":            100 * (e1 - e8),
		"rk4_k1_euler8_vs_rk438_8_pts": 100 * math.Abs(r8e-r8r),
	}
	ratio(env, m, "rk4_k1_spread_over_euler_loss", 100*(hi-lo), 100*(e1-e8))
	ratio(env, m, "euler_k1_collapse_margin", e1-e8, e1-p.Chance)
	return m, d.qualityFlags(m, p.QualityFloor)
}

// computeC (kind summary-c) compares the refined model with the same scheme trained at the
// final K from scratch (claim c):
//
//	refined_minus_scratch_acc_pts     accuracy(refined) − accuracy(scratch), points
//	refined_minus_scratch_acc_max_pts the same for acc_max
//	scratch_over_refined_time         train_seconds(scratch) / train_seconds(refined)
//	scratch_over_refined_units        unit_evals(scratch) / unit_evals(refined)
func computeC(env *harness.Env, d deps, p *SummaryCParams) (map[string]float64, error) {
	ref, err := d.get(p.Refined, "cifar-train")
	if err != nil {
		return nil, err
	}
	scr, err := d.get(p.Scratch, "cifar-train")
	if err != nil {
		return nil, err
	}
	v := map[string][2]float64{}
	for _, k := range []string{p.Accuracy, "acc_max", "train_seconds", "unit_evals"} {
		a, ok1 := ref.Metric(k)
		b, ok2 := scr.Metric(k)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("metric %q missing from %q or %q", k, p.Refined, p.Scratch)
		}
		v[k] = [2]float64{a, b}
	}
	m := map[string]float64{
		"refined_minus_scratch_acc_pts":     100 * (v[p.Accuracy][0] - v[p.Accuracy][1]),
		"refined_minus_scratch_acc_max_pts": 100 * (v["acc_max"][0] - v["acc_max"][1]),
	}
	ratio(env, m, "scratch_over_refined_time", v["train_seconds"][1], v["train_seconds"][0])
	ratio(env, m, "scratch_over_refined_units", v["unit_evals"][1], v["unit_evals"][0])
	return m, d.qualityFlags(m, p.QualityFloor)
}

// computeD (kind summary-d) reads the timed sweep of the refined net (claim d):
//
//	rk438_nt2_vs_nt4_drop_pts acc(Nt = 4) − acc(Nt = 2) under rk4-38, points
//	rk438_nt4_over_nt2_time   ms/image at Nt = 4 / ms/image at Nt = 2 under rk4-38
func computeD(env *harness.Env, d deps, p *SummaryDParams) (map[string]float64, error) {
	sw, err := d.get(p.Sweep, "cifar-sweep")
	if err != nil {
		return nil, err
	}
	a2, err := accuracyAt(sw, "rk4-38", 2)
	if err != nil {
		return nil, err
	}
	a4, err := accuracyAt(sw, "rk4-38", 4)
	if err != nil {
		return nil, err
	}
	t2, err := seriesAt(sw, "infer_ms_per_image", "rk4-38", 2)
	if err != nil {
		return nil, err
	}
	t4, err := seriesAt(sw, "infer_ms_per_image", "rk4-38", 4)
	if err != nil {
		return nil, err
	}
	m := map[string]float64{"rk438_nt2_vs_nt4_drop_pts": 100 * (a4 - a2)}
	ratio(env, m, "rk438_nt4_over_nt2_time", t4, t2)
	return m, d.qualityFlags(m, p.QualityFloor)
}
