package report

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/paper"
)

// seeded repeats every CIFAR record of the test records (seed 1 of each
// group) over three seeds, as a spec with `seeds: [1, 2, 3]` writes them:
// run GROUP/seedS, every metric and series value scaled by 1 + scale[s−1].
func seeded(t *testing.T, scale [3]float64) []*record.Record {
	t.Helper()
	var out []*record.Record
	for _, r := range readRecords(t) {
		if r.Experiment == expIntegrators {
			out = append(out, r)
			continue
		}
		for s := 1; s <= 3; s++ {
			c := *r
			f := 1 + scale[s-1]
			c.Run = r.Group + "/seed" + string(rune('0'+s))
			c.Provenance.Seeds = []uint64{uint64(s)}
			c.Metrics = map[string]float64{}
			for k, v := range r.Metrics {
				c.Metrics[k] = v * f
			}
			c.Series = nil
			for _, q := range r.Series {
				q.Y = scaled(q.Y, f)
				c.Series = append(c.Series, q)
			}
			out = append(out, &c)
		}
	}
	return out
}

func TestSeedGroups(t *testing.T) {
	o, s := regenerate(t, "quick", seeded(t, [3]float64{-0.01, 0, 0.02}))
	for _, v := range s.Verdicts {
		if v.Experiment == expIntegrators {
			if v.Seeds != 1 || strings.Contains(v.Measured, "±") {
				t.Errorf("%s: one seed, got %d (%q)", v.ID, v.Seeds, v.Measured)
			}
			continue
		}
		if v.Verdict == paper.Error || v.Verdict == paper.Skip {
			continue // the test records hold a failed coarsening summary
		}
		if v.Seeds != 3 || len(v.PerSeed) != 3 || !strings.Contains(v.Measured, "± ") || !strings.HasSuffix(v.Measured, "(3)") {
			t.Errorf("%s: seeds %d per seed %v measured %q", v.ID, v.Seeds, v.PerSeed, v.Measured)
		}
		if want := (v.PerSeed[0] + v.PerSeed[1] + v.PerSeed[2]) / 3; math.Abs(v.Value-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s: mean %v, want %v", v.ID, v.Value, want)
		}
		if !strings.Contains(v.Reason, "/3 seeds pass") {
			t.Errorf("%s: reason %q lacks the seed count", v.ID, v.Reason)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(o.ResultsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if tab := read("table1.md"); !strings.Contains(tab, " ± ") || !strings.Contains(tab, "(3)") || !strings.Contains(tab, "over 3 seeds") {
		t.Errorf("table1.md shows no spread:\n%s", tab)
	}
	if tab := read("figure4.csv"); !strings.Contains(tab, "[") {
		t.Errorf("figure4.csv shows no range:\n%s", tab)
	}
	seeds := read("seeds.csv")
	for _, want := range []string{"incremental-training,train/rk4-classic-refined,1,ok,acc_full_test,", "rk-consistency,sweep/euler-k1,3,ok,"} {
		if !strings.Contains(seeds, want) {
			t.Errorf("seeds.csv lacks %q", want)
		}
	}
	for _, name := range []string{"figure4", "table1-loss", "coarsening"} {
		if _, err := os.Stat(filepath.Join(o.FiguresDir, name+".png")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An aggregated record: means, spread and the min–max band of a series.
func TestAggregate(t *testing.T) {
	mk := func(seed uint64, acc float64, ys ...float64) *record.Record {
		return &record.Record{Experiment: "e", Run: "train/x/seed", Group: "train/x", Status: record.StatusOK,
			Metrics:    map[string]float64{"acc": acc},
			Series:     []record.Series{{Name: "loss", Labels: map[string]string{"k": "1"}, X: []float64{0, 1}, Y: ys}},
			Provenance: record.Provenance{Seeds: []uint64{seed}}}
	}
	a := aggregate("train/x", []*record.Record{mk(1, 0.5, 2, 1), mk(2, 0.6, 4, 3), mk(3, 0.7, 3, 2)})
	if a.Run != "train/x" || math.Abs(a.Metrics["acc"]-0.6) > 1e-12 || math.Abs(a.Metrics["acc.sd"]-0.1) > 1e-12 ||
		a.Metrics["acc.min"] != 0.5 || a.Metrics["acc.max"] != 0.7 || a.Metrics["acc.n"] != 3 {
		t.Errorf("metrics %v", a.Metrics)
	}
	s := a.FindSeries("loss")
	lo, hi := band(a, s)
	if s == nil || s.Y[0] != 3 || s.Y[1] != 2 || lo[0] != 2 || hi[0] != 4 || lo[1] != 1 || hi[1] != 3 {
		t.Errorf("series %+v band %v %v", s, lo, hi)
	}
	if got := spreadText(a, "acc", pct); got != "60.00 ± 10.00 (3)" {
		t.Errorf("spreadText %q", got)
	}
	if got := spreadText(mk(1, 0.5, 1, 1), "acc", pct); got != "50.00" {
		t.Errorf("spreadText of one seed %q", got)
	}
}
