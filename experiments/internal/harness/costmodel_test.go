package harness_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// planOpt is the estimate options of the plan tests: no cost model, two
// cores.
func planOpt(jobs int, force bool) harness.EstimateOptions {
	return harness.EstimateOptions{Root: ".", Jobs: jobs, Force: force, Procs: 2}
}

// workKind is an exclusive kind that says how much work it is: a training
// part timed by the metric "train_seconds" and the rest of the wall time.
type workKind struct{}

type workParams struct {
	Items float64 `yaml:"items" json:"items"`
	Units float64 `yaml:"units" json:"units"`
	Eval  float64 `yaml:"eval" json:"eval"` // eval items (one unit each)
}

func (*workParams) Validate() error { return nil }

func (workKind) Name() string              { return "work" }
func (workKind) Version() int              { return 1 }
func (workKind) NewParams() harness.Params { return &workParams{} }
func (workKind) Exclusive() bool           { return true }
func (workKind) Run(context.Context, *harness.Env) (*harness.Result, error) {
	return &harness.Result{}, nil
}
func (workKind) Work(p harness.Params) (string, float64) { return "work", p.(*workParams).Units }
func (workKind) WorkParts(hp harness.Params) []harness.Work {
	p := hp.(*workParams)
	parts := []harness.Work{{Class: "train", Items: p.Items, Units: p.Units, Metric: "train_seconds"}}
	if p.Eval > 0 {
		parts = append(parts, harness.Work{Class: "eval", Items: p.Eval, Units: p.Eval})
	}
	return parts
}

func init() { harness.Register(workKind{}) }

// workRecord is a record of the work kind measured at a level and thread
// count: train_seconds for the training part, wall for the whole run.
func workRecord(key, level string, threads int, items, units, eval, trainSec, wall float64) *record.Record {
	start := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	return &record.Record{
		Experiment: "x", Run: key, Kind: "work", Key: key, Status: record.StatusOK,
		Config:  map[string]any{"params": map[string]any{"items": items, "units": units, "eval": eval, "removed_since": true}},
		Metrics: map[string]float64{"train_seconds": trainSec},
		Provenance: record.Provenance{Commit: "9fd107b8264484b777c40fa243f12241e3edfa74", CPUModel: "AMD EPYC", Kernels: level,
			Threads: threads, Start: start, End: start.Add(time.Duration(wall * float64(time.Second))), WallSeconds: wall},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9+1e-4*math.Abs(b) }

func TestFitCostModel(t *testing.T) {
	// The law of the first cases: 0.5 s per item + 0.01 s per unit for
	// training, 0.002 s per eval item (+ 0 per unit).
	law := func(items, units float64) float64 { return 0.5*items + 0.01*units }
	failed := workRecord("f", "avx512", 2, 10, 100, 0, 6, 6)
	failed.Status = record.StatusFailed
	noLevel := workRecord("n", "", 2, 10, 100, 0, 6, 6)
	unknownKind := workRecord("u", "avx512", 2, 10, 100, 0, 6, 6)
	unknownKind.Kind = "gone"
	tests := []struct {
		name     string
		recs     []*record.Record
		machines int
		check    func(t *testing.T, m *harness.CostModel)
	}{
		{"two terms recovered", []*record.Record{
			workRecord("a", "avx512", 2, 10, 100, 0, law(10, 100), law(10, 100)),
			workRecord("b", "avx512", 2, 10, 1000, 0, law(10, 1000), law(10, 1000)),
			workRecord("c", "avx512", 2, 40, 400, 0, law(40, 400), law(40, 400)),
		}, 1, func(t *testing.T, m *harness.CostModel) {
			c := m.Machines[0].Classes["train"]
			if !near(c.PerItem, 0.5) || !near(c.PerUnit, 0.01) || c.MaxErr != 0 || c.Samples != 3 {
				t.Errorf("train: %+v, want 0.5 s/item, 0.01 s/unit, exact, 3 samples", *c)
			}
		}},
		{"the rest of the wall time is the eval part", []*record.Record{
			workRecord("a", "avx512", 2, 10, 100, 500, law(10, 100), law(10, 100)+1),
			workRecord("b", "avx512", 2, 10, 1000, 1000, law(10, 1000), law(10, 1000)+2),
		}, 1, func(t *testing.T, m *harness.CostModel) {
			c := m.Machines[0].Classes["eval"]
			if c == nil || !near(c.PerItem+c.PerUnit, 0.002) || c.MaxErr > 1e-6 {
				t.Errorf("eval: %+v, want 0.002 s per item and unit together", c)
			}
		}},
		{"one record: the units alone", []*record.Record{
			workRecord("a", "avx512", 1, 10, 100, 0, 20, 20),
		}, 1, func(t *testing.T, m *harness.CostModel) {
			c := m.Machines[0].Classes["train"]
			if c.PerItem != 0 || !near(c.PerUnit, 0.2) || c.MaxErr != 0 {
				t.Errorf("train: %+v, want 0.2 s/unit alone", *c)
			}
		}},
		{"a negative term falls back to one", []*record.Record{
			workRecord("a", "avx512", 2, 10, 100, 0, 1, 1),
			workRecord("b", "avx512", 2, 10, 1000, 0, 20, 20),
		}, 1, func(t *testing.T, m *harness.CostModel) {
			c := m.Machines[0].Classes["train"]
			if c.PerItem < 0 || c.PerUnit < 0 || (c.PerItem > 0 && c.PerUnit > 0) {
				t.Errorf("train: %+v, want one non-negative term", *c)
			}
		}},
		{"per level and thread count; a shared run counts once; unusable records left out", []*record.Record{
			workRecord("a", "avx512", 2, 10, 100, 0, 6, 6),
			workRecord("a", "avx512", 2, 10, 100, 0, 6, 6), // the same run in a second experiment
			workRecord("b", "avx2", 2, 10, 100, 0, 15, 15),
			workRecord("c", "avx512", 1, 10, 100, 0, 11, 11),
			failed, noLevel, unknownKind,
		}, 3, func(t *testing.T, m *harness.CostModel) {
			var got []string
			for _, mc := range m.Machines {
				got = append(got, fmt.Sprintf("%s/%d:%d", mc.Kernels, mc.Threads, mc.Records))
			}
			if s := strings.Join(got, " "); s != "avx2/2:1 avx512/1:1 avx512/2:1" {
				t.Errorf("machines %s, want avx2/2:1 avx512/1:1 avx512/2:1", s)
			}
			mc := m.Machines[2]
			if mc.From != "2026-11-29" || mc.To != "2026-11-29" || len(mc.Commits) != 1 || mc.Commits[0] != "9fd107b82644" || mc.CPUModels[0] != "AMD EPYC" {
				t.Errorf("provenance of the entry: %+v", *mc)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev := &harness.CostModel{LevelFactors: map[string]harness.LevelFactor{"avx2": {Factor: 2.5, Source: "hand"}}}
			m, err := harness.FitCostModel(tc.recs, "results/runs", prev)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Machines) != tc.machines {
				t.Fatalf("%d machines, want %d: %+v", len(m.Machines), tc.machines, m.Machines)
			}
			if m.LevelFactors["avx2"].Factor != 2.5 || m.Records != "results/runs" {
				t.Errorf("the level factors or the records folder were not kept: %+v", m)
			}
			tc.check(t, m)
			// The file round-trips, and a refit writes the same bytes.
			data, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := harness.ParseCostModel("m.json", data)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := harness.FitCostModel(tc.recs, "results/runs", back)
			if data2, _ := again.Marshal(); !bytes.Equal(data, data2) {
				t.Errorf("a refit differs:\n%s\n%s", data, data2)
			}
		})
	}
}

func TestParseCostModelErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`{"machines": [{"kernels": "", "threads": 2}]}`, "m.json: machines[0]: want a kernel level"},
		{`{"level_factors": {"avx2": {"factor": 0}}}`, "m.json: level_factors.avx2.factor: want a finite factor > 0"},
		{`{"machines": 3}`, "m.json: json: cannot unmarshal"},
	} {
		if _, err := harness.ParseCostModel("m.json", []byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.src, err, tc.want)
		}
	}
}

// testModel measured train at 0.5 s/item + 0.01 s/unit on 2 threads of
// avx512, and eval (1 s/unit) only on avx2.
func testModel() *harness.CostModel {
	return &harness.CostModel{
		Records: "results/runs",
		Machines: []*harness.CostMachine{
			{Kernels: "avx2", Threads: 2, CPUModels: []string{"AMD EPYC"}, Commits: []string{"aaaaaaaaaaaa"}, From: "2026-12-03", To: "2026-12-03", Records: 1,
				Classes: map[string]*harness.ClassCost{"eval": {PerUnit: 1}}},
			{Kernels: "avx512", Threads: 2, CPUModels: []string{"AMD EPYC"}, Commits: []string{"9fd107b82644", "d2ade58d27d4"}, From: "2026-11-29", To: "2026-11-29", Records: 3,
				Classes: map[string]*harness.ClassCost{"train": {PerItem: 0.5, PerUnit: 0.01}}},
		},
		LevelFactors: map[string]harness.LevelFactor{"avx2": {Factor: 2.5, Source: "a measured ratio"}},
		CPUNotes:     map[string]string{"AMD EPYC/avx512": "Zen 5"},
	}
}

func TestCostModelEstimate(t *testing.T) {
	train := []harness.Work{{Class: "train", Items: 10, Units: 100}} // 6 s on avx512, 2 threads
	tests := []struct {
		name    string
		work    []harness.Work
		level   string
		threads int
		ok      bool
		seconds float64
		note    string
	}{
		{"measured here", train, "avx512", 2, true, 6, ""},
		{"fewer threads: scaled up", train, "avx512", 1, true, 12, "measured on 2 threads, scaled ×2/1 to 1"},
		{"more threads: not credited", train, "avx512", 8, true, 6, "no speed-up credited for 8"},
		{"another level with a factor", train, "avx2", 2, true, 15, "measured with kernels avx512, scaled ×2.5 for this machine's avx2 (a measured ratio)"},
		{"another level without one", train, "generic", 2, true, 6, "this machine runs generic, for which no factor is known: not scaled"},
		{"back to the reference level", []harness.Work{{Class: "eval", Units: 5}}, "avx512", 2, true, 2, "scaled ×0.4 for this machine's avx512"},
		{"a class never measured", []harness.Work{{Class: "other", Units: 1}}, "avx512", 2, false, 0, ""},
		{"two classes no entry has together", append(train, harness.Work{Class: "eval", Units: 1}), "avx512", 2, false, 0, ""},
		{"no work", []harness.Work{{Class: "other"}}, "avx512", 2, true, 0, ""},
		{"kernel-free work: unscaled", []harness.Work{{Class: "train", Items: 10, Units: 100, KernelFree: true}}, "generic", 1, true, 6, ""},
	}
	m := testModel()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := m.Estimate(tc.work, tc.level, tc.threads)
			if ok != tc.ok || !near(e.Seconds, tc.seconds) || (tc.note == "") != (e.Note == "") || !strings.Contains(e.Note, tc.note) {
				t.Errorf("got %v, %g s, note %q; want %v, %g s, note with %q", ok, e.Seconds, e.Note, tc.ok, tc.seconds, tc.note)
			}
		})
	}
	if _, ok := (*harness.CostModel)(nil).Estimate(train, "avx512", 2); ok {
		t.Error("a nil model estimated")
	}
}

func TestFormatEstimate(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "< 1 s"},
		{999 * time.Millisecond, "< 1 s"},
		{45 * time.Second, "≈ 45 s"},
		{89 * time.Second, "≈ 89 s"},
		{90 * time.Second, "≈ 2 min"},
		{12*time.Minute + 20*time.Second, "≈ 12 min"},
		{89 * time.Minute, "≈ 89 min"},
		{90 * time.Minute, "≈ 1.5 h"},
		{3*time.Hour + 24*time.Minute, "≈ 3.4 h"},
		{30 * time.Hour, "≈ 30 h"},
		{250 * time.Hour, "≈ 250 h (10.4 days)"},
	} {
		if got := harness.FormatEstimate(tc.d); got != tc.want {
			t.Errorf("FormatEstimate(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// The plan estimates from the cost model, names the machine its entry was
// measured on, says how its costs were carried over, and prefers the costs
// measured in the cache for a configuration.
func TestPlanFromCostModel(t *testing.T) {
	src := `name: w
runs:
  - name: small
    kind: work
    params: {items: 10, units: 100, eval: 0}
  - name: big
    kind: work
    params: {items: 1000, units: 100000, eval: 0}
  - name: both
    kind: work
    params: {items: 1, units: 1, eval: 5}
`
	p := resolve(t, spec.Quick, parse(t, "w.yaml", src))
	c := &harness.Cache{Dir: t.TempDir()}
	opt := harness.EstimateOptions{Root: ".", Jobs: 2, Procs: 2, Model: testModel(), ModelPath: "experiments/costmodel.json", Level: "avx512"}
	tests := []struct {
		name  string
		level string
		want  []string
	}{
		{"measured at this level", "avx512", []string{
			"w                            small                                    will run, ≈ 6 s\n",
			"w                            big                                      will run, ≈ 25 min\n",
			"both                                     will run, time unknown (never measured)\n",
			"profile quick: 3 to run, 0 cached; estimated ≈ 25 min on 2 cores plus 1 never measured\n",
			"cost model experiments/costmodel.json, fitted from the runs of record in results/runs: AMD EPYC (Zen 5), kernels avx512, 2 threads, 3 records, commits 9fd107b d2ade58, 2026-11-29\n",
		}},
		{"scaled to another level", "avx2", []string{
			"small                                    will run, ≈ 15 s\n",
			"estimated ≈ 63 min on 2 cores plus 1 never measured",
			"results/runs: AMD EPYC (Zen 5), kernels avx512, 2 threads", // the avx2 entry has no train costs
			"  2 run(s): measured with kernels avx512, scaled ×2.5 for this machine's avx2 (a measured ratio)\n",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := opt
			o.Level = tc.level
			var b bytes.Buffer
			harness.WritePlan(&b, p, harness.Estimate(p, c, o), o)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("plan lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
	// Costs measured in the cache for the configuration come first.
	if err := c.SetCost("work threads=2", 0.1, time.Now()); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	harness.WritePlan(&b, p, harness.Estimate(p, c, opt), opt)
	for _, w := range []string{"small                                    will run, ≈ 10 s (measured in the cache)",
		"big                                      will run, ≈ 2.8 h (measured in the cache)",
		"estimates: 3 of 3 from the costs measured in the cache (costs.json), the rest from the cost model"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("plan lacks %q:\n%s", w, b.String())
		}
	}
	if strings.Contains(b.String(), "cost model experiments") {
		t.Errorf("the plan names a cost model it did not use:\n%s", b.String())
	}
}
