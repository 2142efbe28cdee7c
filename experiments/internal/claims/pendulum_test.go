package claims

import (
	"math"
	"reflect"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/pendulum"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// The spec runs the authors' settings (pendulum.PaperConfig) in every
// profile, but for fewer iterations in smoke.
func TestPendulumSpecIsPaperConfig(t *testing.T) {
	s := loadSpec(t, "resnets-as-integrators")
	for _, prof := range spec.Profiles {
		plan, err := harness.Resolve([]*spec.Spec{s}, prof)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Units) != 1 {
			t.Fatalf("%s: %d units, want 1", prof, len(plan.Units))
		}
		got := plan.Units[0].Params.(*PendulumParams).Config(plan.Units[0].Seed)
		want := pendulum.PaperConfig()
		for i := range want.Trainings { // "" means Config.Init; the spec spells it out
			if want.Trainings[i].Init == "" {
				want.Trainings[i].Init = want.Init
			}
		}
		if prof == spec.Smoke {
			want.Iters = 5000
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s profile:\n got %+v\nwant %+v", prof, got, want)
		}
	}
}

// End to end through the harness with 300 iterations (the spec's settings
// otherwise): every series and metric of the contract is in the record.
func TestPendulumEndToEnd(t *testing.T) {
	s := loadSpec(t, "resnets-as-integrators", "iters: 25000", "iters: 300", "osc_repeats: 30", "osc_repeats: 3")
	recs, sum := runSpecs(t, spec.Smoke, s)
	if sum.Ran != 1 || sum.Failed != 0 {
		t.Fatalf("summary %s", sum)
	}
	r := mustOK(t, recs, "resnets-as-integrators/pendulum")
	for _, m := range []string{"eul_eul_dip_ratio", "eul_eul_refine_ratio", "rk4_rk4_refine_ratio", "rk4_mid_vs_rk4_max_factor",
		"eul_mid_vs_eul_eul_at_1", "rk4_eul_slope", "osc_omega_vs_euler", "osc_omega_vs_exact", "osc_lambda_err_fe", "osc_lambda_err_mix"} {
		if v, ok := r.Metric(m); !ok || math.IsNaN(v) {
			t.Errorf("metric %s missing", m)
		}
	}
	count := map[string]int{}
	for _, s := range r.Series {
		count[s.Name]++
		if len(s.X) == 0 || len(s.X) != len(s.Y) {
			t.Errorf("series %s %v: %d x, %d y", s.Name, s.Labels, len(s.X), len(s.Y))
		}
		if s.Name == "trajectory" && len(s.X) > maxTrajectoryPoints+1 {
			t.Errorf("trajectory %v has %d points", s.Labels, len(s.X))
		}
	}
	// 3 fields (true, euler, rk4-38) × 3 schemes; trajectories × 3 h × 2 components.
	want := map[string]int{"error": 9, "error_unbiased": 9, "trajectory": 54, "exact": 2, "train_loss": 2}
	for n, c := range want {
		if count[n] != c {
			t.Errorf("%d series %q, want %d", count[n], n, c)
		}
	}
	e := r.FindSeries("error")
	if e.Labels["train"] == "" || e.Labels["eval"] == "" || e.XName != "h" {
		t.Errorf("error series labels %v, x %q", e.Labels, e.XName)
	}
}

func TestThin(t *testing.T) {
	for _, n := range []int{0, 1, 2, 499, 500, 501, 1000, 5000, 5001} {
		ts := make([]float64, n)
		xs := make([][2]float64, n)
		for i := range ts {
			ts[i], xs[i] = float64(i), [2]float64{float64(i), -float64(i)}
		}
		gx, gy := thin(ts, xs, 1)
		if len(gx) > maxTrajectoryPoints+1 || len(gx) != len(gy) {
			t.Errorf("n=%d: %d points", n, len(gx))
		}
		if n > 0 && (gx[0] != 0 || gx[len(gx)-1] != float64(n-1) || gy[len(gy)-1] != -float64(n-1)) {
			t.Errorf("n=%d: ends %v %v", n, gx[0], gx[len(gx)-1])
		}
		if n == 0 && len(gx) != 0 {
			t.Errorf("n=0: %d points", len(gx))
		}
	}
}
