package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/report"
	"github.com/continuousnet/repro/paper"
)

// Regenerate the quick-profile outputs from the records alone: here one
// pendulum record holding the pre-registered criteria of claim (a) and the
// oscillator study, so the verdicts, figure3 and the oscillator table are
// written and no CIFAR output is touched.
func ExampleRegenerate() {
	dir, err := os.MkdirTemp("", "report-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	rec := &record.Record{
		Schema: record.SchemaVersion, Experiment: "resnets-as-integrators", Run: "pendulum", Kind: "pendulum",
		Profile: "quick", Status: record.StatusOK,
		Metrics: map[string]float64{
			"eul_eul_dip_ratio": 0.03, "eul_eul_refine_ratio": 40, "rk4_rk4_refine_ratio": 0.9,
			"rk4_mid_vs_rk4_max_factor": 1.2, "eul_mid_vs_eul_eul_at_1": 120, "rk4_eul_slope": 1.02,
			"osc_omega_vs_euler": 1.25e-3,
		},
		Series: []record.Series{
			{Name: "error", Labels: map[string]string{"train": "euler", "eval": "euler"}, X: []float64{0.1, 1, 10}, Y: []float64{1e-2, 2e-4, 0.8}},
			{Name: "error", Labels: map[string]string{"train": "true", "eval": "euler"}, X: []float64{0.1, 1, 10}, Y: []float64{9e-3, 0.09, 0.9}},
		},
	}
	opts := report.Options{Profile: "quick", ResultsDir: filepath.Join(dir, "results"), FiguresDir: filepath.Join(dir, "figures")}
	sum, err := report.Regenerate(opts, []*record.Record{rec})
	if err != nil {
		panic(err)
	}
	for _, f := range sum.Files {
		rel, _ := filepath.Rel(dir, f)
		fmt.Println(rel)
	}
	counts := map[string]int{}
	for _, v := range sum.Verdicts {
		counts[v.Verdict]++
	}
	fmt.Println(counts)
	// Output:
	// results/verdicts.md
	// results/verdicts.csv
	// figures/figure3.png
	// figures/figure3.svg
	// results/oscillator.md
	// results/oscillator.csv
	// map[PASS:6 SKIP:8]
}

// Print one line per claim for a terminal, and where the full tables are.
func ExamplePrintSummary() {
	vs := []paper.Verdict{
		{Claim: "d", Experiment: "coarsening", Metric: "rk438_nt2_vs_nt4_drop_pts", Measured: "1.2", Tolerance: "<= 3", Verdict: paper.Pass},
		{Claim: "d", Experiment: "coarsening", Metric: "rk438_nt4_over_nt2_time", Measured: "1.52 ± 0.04 (3)", Tolerance: ">= 1.7", Verdict: paper.Fail},
		{Claim: "c", Experiment: "incremental-training", Metric: "scratch_over_refined_time", Measured: "1.8", Tolerance: ">= 1.3", Verdict: paper.Pass},
	}
	if err := report.PrintSummary(os.Stdout, vs, []string{"coarsening"}, "results/verdicts.md", "results/verdicts.csv"); err != nil {
		panic(err)
	}
	// Output:
	// claim d: 1 PASS, 1 FAIL · rk438_nt4_over_nt2_time 1.52 ± 0.04 (3) (>= 1.7) FAIL
	// full table: results/verdicts.md
	// full table: results/verdicts.csv
}
