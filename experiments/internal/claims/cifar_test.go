package claims

import (
	"math"
	"strings"
	"testing"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/datasets/datatest"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// requireCIFAR10 skips the test (fails it with CNET_REQUIRE_DATA=1) unless
// CIFAR-10 is in $CNET_DATA, without loading it (the kinds load it once).
func requireCIFAR10(t *testing.T) {
	t.Helper()
	datatest.RequirePresent(t, "cifar10")
}

// The smoke profile of the three CIFAR experiments, end to end through the
// harness: every record is ok and holds the contract's metrics and series.
// It takes about a minute on 2 busy cores: -short skips it.
func TestCIFARSmokeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the CIFAR smoke experiments take about a minute")
	}
	requireCIFAR10(t)
	var specs []*spec.Spec
	for _, n := range cifarSpecs {
		specs = append(specs, loadSpec(t, n))
	}
	recs, sum := runSpecs(t, spec.Smoke, specs...)
	if sum.Failed != 0 || sum.Skipped != 0 {
		t.Fatalf("summary: %s", sum)
	}
	// 5 models, 4 sweeps, 3 summaries.
	if sum.Ran != 12 {
		t.Errorf("%d runs ran, want 12", sum.Ran)
	}
	for _, name := range []string{"rk-consistency/train/euler-k1/seed1", "rk-consistency/train/rk4-classic-k1/seed1",
		"incremental-training/train/euler-scratch/seed1", "incremental-training/train/rk4-classic-scratch/seed1",
		"incremental-training/train/rk4-classic-refined/seed1", "coarsening/train/rk4-classic-refined/seed1"} {
		r := mustOK(t, recs, name)
		for _, m := range []string{"acc_max", "acc_final", "acc_full_test", "train_seconds", "unit_evals", "params", "final_k"} {
			if _, ok := r.Metric(m); !ok {
				t.Errorf("%s: no metric %s", name, m)
			}
		}
		for _, s := range []string{"train_loss", "test_acc", "refine_epochs"} {
			if r.FindSeries(s) == nil {
				t.Errorf("%s: no series %s", name, s)
			}
		}
		if a := r.Metrics["acc_full_test"]; a < 0 || a > 1 {
			t.Errorf("%s: acc_full_test %v", name, a)
		}
		if strings.Contains(name, "refined") {
			ref := r.FindSeries("refine_epochs")
			if len(ref.X) != 2 || ref.Y[0] != 2 || ref.Y[1] != 4 || r.Metrics["final_k"] != 4 {
				t.Errorf("%s: refinements %v → %v, final K %v", name, ref.X, ref.Y, r.Metrics["final_k"])
			}
		}
	}
	sw := mustOK(t, recs, "coarsening/sweep/rk4-classic-refined/seed1")
	count := map[string]int{}
	for _, s := range sw.Series {
		count[s.Name]++
		if s.Name == "accuracy" && (s.Labels["train"] != "rk4-classic" || s.Labels["k"] != "1-2-4" || s.Labels["eval"] == "") {
			t.Errorf("accuracy labels %v", s.Labels)
		}
	}
	if count["accuracy"] != 2 || count["infer_ms_per_image"] != 2 {
		t.Errorf("refined sweep series %v, want 2 accuracy and 2 infer_ms_per_image (smoke: euler, rk4-38)", count)
	}
	k1 := mustOK(t, recs, "rk-consistency/sweep/euler-k1/seed1")
	if s := k1.FindSeries("accuracy"); s == nil || s.Labels["k"] != "1" || len(s.X) != 8 {
		t.Errorf("euler-k1 sweep: %+v", s)
	}
	for name, metrics := range map[string][]string{
		"rk-consistency/summary/seed1":       {"rk4_k1_rk438_spread_pts", "rk4_k1_euler8_vs_rk438_8_pts", "euler_k1_loss_pts", "quality_ok_euler-k1", "quality_ok_rk4-classic-k1"},
		"incremental-training/summary/seed1": {"refined_minus_scratch_acc_pts", "scratch_over_refined_time", "quality_ok_rk4-classic-refined", "quality_ok_rk4-classic-scratch", "quality_ok_euler-scratch"},
		"coarsening/summary/seed1":           {"rk438_nt2_vs_nt4_drop_pts", "rk438_nt4_over_nt2_time", "quality_ok_rk4-classic-refined"},
	} {
		r := mustOK(t, recs, name)
		for _, m := range metrics {
			if v, ok := r.Metric(m); !ok || math.IsNaN(v) {
				t.Errorf("%s: no metric %s (have %v)", name, m, r.Metrics)
			}
		}
	}
}

// Without CIFAR-10 a training run is skipped with the instructions, and
// the runs that need it are skipped too.
func TestCIFARMissingSkips(t *testing.T) {
	t.Setenv(datasets.EnvDataDir, t.TempDir())
	recs, sum := runSpecs(t, spec.Smoke, loadSpec(t, "coarsening"))
	if sum.Ran != 0 || sum.Failed != 0 {
		t.Fatalf("summary: %s", sum)
	}
	r := recs["coarsening/train/rk4-classic-refined/seed1"]
	if r == nil || r.Status != record.StatusSkipped || !strings.Contains(r.Error, "make data") || !strings.Contains(r.Error, datasets.EnvDataDir) {
		t.Fatalf("record %+v", r)
	}
	if !strings.Contains(r.Provenance.Dataset, "missing") {
		t.Errorf("dataset fingerprint %q", r.Provenance.Dataset)
	}
}
