package claims

import (
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/pendulum"
)

// The work of each kind, counted by hand: images (items) and image ×
// residual-unit evaluations (units) per class.
func TestWorkParts(t *testing.T) {
	quick := func(scheme string, k0 int, refine []int) *TrainParams {
		return &TrainParams{Dataset: "cifar10", TrainPerClass: 500, EvalPerClass: 200, FinalPerClass: 0, Width: 16,
			Scheme: scheme, K0: k0, RefineEpochs: refine, Epochs: 15, Batch: 128, DropLast: true, EvalEvery: 5}
	}
	smoke := quick("euler", 1, nil)
	smoke.Width, smoke.DropLast = 4, false
	linear := quick("rk4-classic", 4, nil)
	linear.Basis = "piecewise-linear"
	tests := []struct {
		name string
		kind harness.WorkCounter
		p    harness.Params
		want []harness.Work
	}{
		// 15 epochs of 39 × 128 = 4,992 images at 3 × 1 × 1 units; evaluations
		// after epochs 1, 5, 10 and 15 on 2,000 images, the last on 10,000.
		{"euler K = 1", trainKind{}, quick("euler", 1, nil), []harness.Work{
			{Class: "cifar-train", Items: 74880, Units: 224640, Metric: "train_seconds"},
			{Class: "cifar-eval", Items: 18000, Units: 54000}}},
		// K = 1, 2, 4 for 5 epochs each (3 × 4 × K units); evaluations at
		// K = 1, 1, 2 (refinement), 2, 4 (refinement), 4, and the final at 4.
		{"rk4 refined 1 → 2 → 4", trainKind{}, quick("rk4-classic", 1, []int{5, 10}), []harness.Work{
			{Class: "cifar-train", Items: 74880, Units: 4992 * 5 * 12 * 7, Metric: "train_seconds"},
			{Class: "cifar-eval", Items: 22000, Units: 2000*12*(1+1+2+2+4+4) + 10000*48}}},
		// α = 4 counts (4/16)² of a unit; the short last batch is kept.
		{"smoke width", trainKind{}, smoke, []harness.Work{
			{Class: "cifar-train", Items: 75000, Units: 75000 * 3.0 / 16, Metric: "train_seconds"},
			{Class: "cifar-eval", Items: 18000, Units: 18000 * 3.0 / 16}}},
		// 100 images plus 32 × (5 + 1) timed, per (scheme, Nt): 4 passes of
		// 292 images at 3 × stages × Nt.
		{"sweep", sweepKind{}, &SweepParams{EvalSet: EvalSet{Dataset: "cifar10", EvalPerClass: 10}, Schemes: []string{"euler", "rk4-38"}, Nts: []int{1, 2},
			Time: true, Timing: Timing{TimeImages: 32, TimeRepeats: 5}}, []harness.Work{
			{Class: "cifar-eval", Items: 4 * 292, Units: 292 * 3 * (1 + 2 + 4 + 8)}}},
		// The piecewise-linear basis: RK4-classic at Nt = K = 4 evaluates the
		// convolutions of its two c = ½ stages at two nodes: 24 units per
		// block where the piecewise-constant basis counts 16.
		{"rk4 K = 4 piecewise-linear", trainKind{}, linear, []harness.Work{
			{Class: "cifar-train", Items: 74880, Units: 74880 * 3 * 24, Metric: "train_seconds"},
			{Class: "cifar-eval", Items: 18000, Units: 18000 * 3 * 24}}},
		// The trained net and two θ-coarsened ones, each at Nt = 1 and 2:
		// 100 images plus 32 × (5 + 1) timed per (net, Nt), at 3 × 4 × Nt.
		{"theta-coarsen", thetaCoarsenKind{}, &ThetaCoarsenParams{EvalSet: EvalSet{Dataset: "cifar10", EvalPerClass: 10}, Scheme: "rk4-classic",
			Modes: []string{"average", "sample"}, Nts: []int{1, 2}, Timing: Timing{TimeImages: 32, TimeRepeats: 5}}, []harness.Work{
			{Class: "cifar-eval", Items: 3 * 2 * 292, Units: 3 * 292 * 3 * 4 * (1 + 2)}}},
		{"pendulum", pendulumKind{}, &PendulumParams{Iters: 100, Batch: 10,
			Trainings: []pendulum.Training{{Scheme: "euler"}, {Scheme: "rk4-38"}}}, []harness.Work{
			{Class: "pendulum", Items: 2000, Units: 1000 * (1 + 4), KernelFree: true}}},
		{"summary", summaryB, &SummaryBParams{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.kind.WorkParts(tc.p)
			if len(got) != len(tc.want) {
				t.Fatalf("%d parts %+v, want %+v", len(got), got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("part %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// Every kind the specs use says how much work it is, so -plan can estimate
// every run of every profile.
func TestEveryKindCountsItsWork(t *testing.T) {
	for _, name := range []string{"cifar-train", "cifar-sweep", "cifar-theta-coarsen", "pendulum", "summary-b", "summary-c", "summary-d"} {
		k, ok := harness.Lookup(name)
		if !ok {
			t.Fatalf("kind %s not registered", name)
		}
		if _, ok := k.(harness.WorkCounter); !ok {
			t.Errorf("kind %s is no harness.WorkCounter", name)
		}
	}
}
