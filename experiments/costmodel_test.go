package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
)

// repoRoot is the repository root (the tests run in experiments/).
const repoRoot = ".."

// The committed cost model is what -fit-costs writes from the committed
// runs of record: a new run of record refits it in the same commit.
func TestCostModelUpToDate(t *testing.T) {
	recs, err := harness.Records(filepath.Join(repoRoot, filepath.Dir(costModelRecords)))
	if err != nil {
		t.Fatal(err)
	}
	prev, err := harness.ParseCostModel(costModelFile, costModelJSON)
	if err != nil {
		t.Fatal(err)
	}
	m, err := harness.FitCostModel(recs, costModelRecords, prev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, costModelJSON) {
		t.Errorf("%s is not what the records in %s give: run `make costmodel` and commit it", costModelFile, costModelRecords)
	}
}

// The model estimates each run of record within ±30 % of its measured wall
// time, at the kernel level and thread count it ran with.
func TestCostModelEstimatesRunsOfRecord(t *testing.T) {
	m, err := harness.ParseCostModel(costModelFile, costModelJSON)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := harness.Records(filepath.Join(repoRoot, filepath.Dir(costModelRecords)))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, rec := range recs {
		k, ok := harness.Lookup(rec.Kind)
		if !ok {
			continue
		}
		wc, ok := k.(harness.WorkCounter)
		if !ok || rec.Provenance.WallSeconds < 1 {
			continue // the summaries take microseconds
		}
		params := k.NewParams()
		raw, _ := json.Marshal(rec.Config["params"])
		if err := json.Unmarshal(raw, params); err != nil {
			t.Fatalf("%s/%s: %v", rec.Experiment, rec.Run, err)
		}
		e, ok := m.Estimate(wc.WorkParts(params), rec.Provenance.Kernels, rec.Provenance.Threads)
		if !ok {
			t.Errorf("%s/%s: no estimate", rec.Experiment, rec.Run)
			continue
		}
		checked++
		t.Logf("%s/%s: estimated %.0f s, measured %.0f s (%+.0f %%)", rec.Experiment, rec.Run, e.Seconds, rec.Provenance.WallSeconds, 100*(e.Seconds/rec.Provenance.WallSeconds-1))
		if rel := e.Seconds/rec.Provenance.WallSeconds - 1; math.Abs(rel) > 0.30 || e.Note != "" {
			t.Errorf("%s/%s: estimated %.0f s, measured %.0f s (%+.0f %%), note %q", rec.Experiment, rec.Run, e.Seconds, rec.Provenance.WallSeconds, 100*rel, e.Note)
		}
	}
	if checked == 0 {
		t.Fatal("no run of record checked")
	}
}

// A fresh clone's -plan -profile paper prints a total estimate and names
// the machine the model was measured on; at the other vector level it says
// how the costs were scaled, and at a level without a factor that it did not
// scale them.
func TestPlanPaperEstimate(t *testing.T) {
	defer func(f func() string) { kernelLevel = f }(kernelLevel)
	m, err := harness.ParseCostModel(costModelFile, costModelJSON)
	if err != nil {
		t.Fatal(err)
	}
	var measured *harness.CostMachine
	for _, mc := range m.Machines {
		if mc.Classes["cifar-train"] != nil && mc.Threads == 2 {
			measured = mc
		}
	}
	if measured == nil {
		t.Fatalf("%s has no 2-thread cifar-train entry", costModelFile)
	}
	other := map[string]string{"avx512": "avx2", "avx2": "avx512"}[measured.Kernels]
	if other == "" {
		t.Fatalf("%s: measured with kernels %q, want avx512 or avx2", costModelFile, measured.Kernels)
	}
	cache := t.TempDir()
	tests := []struct {
		level string
		want  []string
	}{
		{measured.Kernels, []string{"profile paper: ", " to run, 0 cached; estimated ≈ ", " h (", " cores\n",
			"cost model experiments/costmodel.json, fitted from the runs of record in results/runs: " + m.Describe(measured) + "\n",
			"pendulum                                 will run, ≈ "}},
		{other, []string{"measured with kernels " + measured.Kernels + ", scaled ×", " for this machine's " + other + " ("}},
		{"generic", []string{"this machine runs generic, for which no factor is known: not scaled"}},
	}
	for _, tc := range tests {
		t.Run(tc.level, func(t *testing.T) {
			kernelLevel = func() string { return tc.level }
			code, out, errs := runCmd(t, "-plan", "-profile", "paper", "-cache", cache)
			if code != 0 || errs != "" {
				t.Fatalf("-plan: %d\n%s%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("-plan -profile paper lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "never measured") {
				t.Errorf("a run without an estimate:\n%s", out)
			}
		})
	}
}

// -fit-costs writes the model from the records of the repository it runs
// in, and refuses to write one from no records.
func TestFitCosts(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "experiments"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	code, _, errs := runCmd(t, "-fit-costs")
	if code != 1 || !strings.Contains(errs, "no record under results/runs") {
		t.Errorf("-fit-costs without records: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(root, costModelFile)); !os.IsNotExist(err) {
		t.Errorf("a model was written from no records (%v)", err)
	}
}
