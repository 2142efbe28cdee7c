package harness

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkGolden compares got with testdata/golden/name (-update rewrites it).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", name)
	if *update {
		if err := record.WriteFileAtomic(golden, got); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update if the change is intended):\n%s", name, golden, got)
	}
}

// The reproduction report (results/reproduction.md) of hand-made committed
// and recomputed records: one identical, one differing in every way a
// record can (a metric changed, new and gone; series points changed, a
// series shorter, a series gone, a series new), with timings that differ and are left out;
// and one without a committed record to compare with.
func TestGoldenReproductionReport(t *testing.T) {
	committed := &record.Record{
		Metrics: map[string]float64{"acc_final": 0.6015, "acc_max": 0.62, "steps": 585, "old_metric": 1, "train_seconds": 387.9, "train_seconds/euler": 4.6},
		Series: []record.Series{
			{Name: "test_acc", X: []float64{1, 5, 10, 15}, Y: []float64{0.31, 0.48, 0.55, 0.6015}},
			{Name: "train_loss", X: []float64{0, 1, 2, 3}, Y: []float64{2.3, 2.1, 1.9, 1.8}},
			{Name: "accuracy", Labels: map[string]string{"eval": "euler", "train": "rk4-classic"}, X: []float64{1, 2, 4}, Y: []float64{0.5, 0.55, 0.57}},
			{Name: "accuracy", Labels: map[string]string{"eval": "rk4-38", "train": "rk4-classic"}, X: []float64{1, 2}, Y: []float64{0.6, 0.61}},
			{Name: "infer_ms_per_image", Labels: map[string]string{"eval": "euler"}, X: []float64{1}, Y: []float64{0.9}},
		},
	}
	recomputed := &record.Record{
		Metrics: map[string]float64{"acc_final": 0.6025, "acc_max": 0.62, "steps": 585, "new_metric": 2, "train_seconds": 401.2, "train_seconds/euler": 5.1},
		Series: []record.Series{
			{Name: "test_acc", X: []float64{1, 5, 10, 15}, Y: []float64{0.31, 0.48, 0.55, 0.6025}},
			{Name: "train_loss", X: []float64{0, 1, 2, 3}, Y: []float64{2.3, 2.05, 1.9, 1.75}},
			{Name: "accuracy", Labels: map[string]string{"eval": "euler", "train": "rk4-classic"}, X: []float64{1, 2}, Y: []float64{0.5, 0.55}},
			{Name: "infer_ms_per_image", Labels: map[string]string{"eval": "euler"}, X: []float64{1}, Y: []float64{1.4}},
			{Name: "refine_epochs", X: []float64{5, 10}, Y: []float64{2, 4}},
		},
	}
	same := &record.Record{
		Metrics: map[string]float64{"acc_final": 0.55, "train_seconds": 78},
		Series:  []record.Series{{Name: "test_acc", X: []float64{1}, Y: []float64{0.55}}},
	}
	sameAgain := &record.Record{
		Metrics: map[string]float64{"acc_final": 0.55, "train_seconds": 91},
		Series:  []record.Series{{Name: "test_acc", X: []float64{1}, Y: []float64{0.55}}},
	}
	rs := []Reproduction{
		{Target: "rk-consistency/train/rk4-classic-refined/seed1", Deltas: diffRecords(committed, recomputed)},
		{Target: "rk-consistency/train/euler-k1/seed1", Deltas: diffRecords(same, sameAgain)},
	}
	for i := range rs {
		rs[i].Identical = len(rs[i].Deltas) == 0
	}
	rs = append(rs, Reproduction{Target: "rk-consistency/train/euler-k1/seed2", Uncompared: "no committed record"})
	if !rs[1].Identical || rs[0].Identical {
		t.Fatalf("identical: %v, %v; want false, true (deltas %q)", rs[0].Identical, rs[1].Identical, rs[0].Deltas)
	}
	checkGolden(t, "reproduction.md", ReproductionReport(rs))
	if got, want := ReproductionLine(rs), "reproduction: 1 of 2 recomputed records identical to the committed ones (timings aside); 1 without a committed record of the same key"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	if got := string(ReproductionReport(nil)); !bytes.Contains([]byte(got), []byte("0 of 0 recomputed")) {
		t.Errorf("empty report:\n%s", got)
	}
}
