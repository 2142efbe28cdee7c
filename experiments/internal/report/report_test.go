package report

import (
	"bytes"
	"flag"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/paper"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func readRecords(t *testing.T) []*record.Record {
	t.Helper()
	recs, err := record.ReadDir(filepath.Join("testdata", "records"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("no test records")
	}
	return recs
}

var (
	quickOnce sync.Once
	quickOpts Options
	quickSum  *Summary
	quickErr  error
)

// quickOutputs regenerates the quick-profile outputs of the test records
// once for the tests that only read them (figures take a second to draw).
func quickOutputs(t *testing.T) (Options, *Summary) {
	t.Helper()
	quickOnce.Do(func() {
		recs, err := record.ReadDir(filepath.Join("testdata", "records"))
		if err != nil {
			quickErr = err
			return
		}
		dir, err := os.MkdirTemp("", "report-test-")
		if err != nil {
			quickErr = err
			return
		}
		quickOpts = Options{Profile: "quick", ResultsDir: filepath.Join(dir, "results"), FiguresDir: filepath.Join(dir, "figures")}
		quickSum, quickErr = Regenerate(quickOpts, recs)
	})
	if quickErr != nil {
		t.Fatal(quickErr)
	}
	return quickOpts, quickSum
}

func TestMain(m *testing.M) {
	code := m.Run()
	if quickOpts.ResultsDir != "" {
		os.RemoveAll(filepath.Dir(quickOpts.ResultsDir))
	}
	os.Exit(code)
}

func regenerate(t *testing.T, profile string, recs []*record.Record) (Options, *Summary) {
	t.Helper()
	dir := t.TempDir()
	o := Options{Profile: profile, ResultsDir: filepath.Join(dir, "results"), FiguresDir: filepath.Join(dir, "figures")}
	s, err := Regenerate(o, recs)
	if err != nil {
		t.Fatal(err)
	}
	return o, s
}

// Golden Markdown and CSV tables from the records in testdata (the
// harness's layout, made-up results; see TestFixturesHaveHarnessLayout).
func TestGoldenTables(t *testing.T) {
	o, s := quickOutputs(t)
	var names []string
	for _, f := range s.Files {
		if ext := filepath.Ext(f); ext == ".md" || ext == ".csv" {
			names = append(names, filepath.Base(f))
		}
	}
	want := []string{"coarsening.csv", "coarsening.md", "extensions-basis.csv", "extensions-basis.md",
		"extensions-coarsening.csv", "extensions-coarsening.md", "figure4.csv", "figure4.md", "oscillator.csv", "oscillator.md",
		"seeds.csv", "table1.csv", "table1.md", "verdicts.csv", "verdicts.md"}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Fatalf("tables written: %v, want %v", names, want)
	}
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(o.ResultsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, name, got)
	}
}

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

// Figures are produced in both formats and decode; no pixel goldens.
func TestFigures(t *testing.T) {
	o, s := quickOutputs(t)
	for _, name := range []string{"figure3", "figure3-unbiased", "figure3-trajectories", "figure4", "table1-loss", "coarsening"} {
		png := filepath.Join(o.FiguresDir, name+".png")
		svg := filepath.Join(o.FiguresDir, name+".svg")
		if !slices.Contains(s.Files, png) || !slices.Contains(s.Files, svg) {
			t.Errorf("%s: not listed in Summary.Files", name)
		}
		f, err := os.Open(png)
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(f)
		f.Close()
		if err != nil || format != "png" || cfg.Width < 300 || cfg.Height < 200 {
			t.Errorf("%s: %v %s %dx%d", png, err, format, cfg.Width, cfg.Height)
		}
		b, err := os.ReadFile(svg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("<svg")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</svg>")) {
			t.Errorf("%s: not an SVG document", svg)
		}
	}
	// Legends use scheme labels, never ids.
	b, err := os.ReadFile(filepath.Join(o.FiguresDir, "figure4.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"Euler→RK4-3/8", "RK4-classic→RK4-classic"} {
		if !bytes.Contains(b, []byte(label)) {
			t.Errorf("figure4.svg lacks the label %q", label)
		}
	}
}

// Verdict kinds follow the records: the failed coarsening summary is ERROR,
// the pendulum slope below 1 is FAIL, the JPEG note reaches the reason.
func TestVerdictKinds(t *testing.T) {
	_, s := quickOutputs(t)
	if len(s.Verdicts) != len(paper.ForProfile("quick")) {
		t.Fatalf("%d verdicts for %d entries", len(s.Verdicts), len(paper.ForProfile("quick")))
	}
	by := map[string]paper.Verdict{}
	for _, v := range s.Verdicts {
		by[v.Metric] = v
	}
	checks := []struct{ metric, verdict, reason string }{
		{"eul_eul_dip_ratio", paper.Pass, ""},
		{"rk4_eul_slope", paper.Fail, "below 1"},
		{"euler_k1_collapse_margin", paper.Pass, ""},
		{"rk4_k1_euler8_vs_rk438_8_pts", paper.Fail, "above 2"},
		{"scratch_over_refined_time", paper.Pass, ""},
		{"rk438_nt2_vs_nt4_drop_pts", paper.Error, "index out of range"},
	}
	for _, c := range checks {
		v := by[c.metric]
		if v.Verdict != c.verdict || !strings.Contains(v.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s %q", c.metric, v.Verdict, v.Reason, c.verdict, c.reason)
		}
	}
}

// Without CIFAR-10 the CIFAR runs are skipped: their rows SKIP with the
// record's reason, and committed CIFAR tables and figures are left alone.
func TestSkippedKeepsCommittedOutputs(t *testing.T) {
	var recs []*record.Record
	for _, r := range readRecords(t) {
		if r.Experiment != "resnets-as-integrators" {
			r.Status, r.Error, r.Metrics, r.Series = record.StatusSkipped, "CIFAR-10 not found: set CNET_DATA (see make data)", nil, nil
		}
		recs = append(recs, r)
	}
	dir := t.TempDir()
	o := Options{Profile: "quick", ResultsDir: filepath.Join(dir, "results"), FiguresDir: filepath.Join(dir, "figures")}
	committed := map[string]string{
		filepath.Join(o.ResultsDir, "table1.md"):      "committed table",
		filepath.Join(o.FiguresDir, "figure4.png"):    "committed figure",
		filepath.Join(o.ResultsDir, "coarsening.csv"): "committed csv",
	}
	for p, c := range committed {
		if err := record.WriteFileAtomic(p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Regenerate(o, recs)
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range committed {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != c {
			t.Errorf("%s: overwritten or removed (%v)", p, err)
		}
		if slices.Contains(s.Files, p) {
			t.Errorf("%s listed as written", p)
		}
	}
	if _, err := os.Stat(filepath.Join(o.FiguresDir, "figure3.png")); err != nil {
		t.Errorf("figure3 not written: %v", err)
	}
	for _, v := range s.Verdicts {
		cifar := v.Experiment != "resnets-as-integrators"
		if cifar && (v.Verdict != paper.Skip || !strings.Contains(v.Reason, "CNET_DATA")) {
			t.Errorf("%s %s: %s %q, want SKIP with the record's reason", v.Experiment, v.Metric, v.Verdict, v.Reason)
		}
	}
}

// Smoke rows: a record without the metric is ERROR; present and finite PASS.
func TestSmokeProfile(t *testing.T) {
	var recs []*record.Record
	for _, r := range readRecords(t) {
		r.Profile = "smoke"
		if r.Experiment == "incremental-training" && r.Group == "summary" {
			delete(r.Metrics, "scratch_over_refined_time")
		}
		recs = append(recs, r)
	}
	recs = append(recs, &record.Record{Experiment: "coarsening", Run: "summary", Profile: "quick", Status: record.StatusOK}) // other profile: ignored
	_, s := regenerate(t, "smoke", recs)
	for _, v := range s.Verdicts {
		switch {
		case v.Metric == "scratch_over_refined_time":
			if v.Verdict != paper.Error || !strings.Contains(v.Reason, "no metric") {
				t.Errorf("missing metric: %s %q", v.Verdict, v.Reason)
			}
		case v.Experiment == "coarsening" && v.Run == "summary":
			if v.Verdict != paper.Error {
				t.Errorf("failed coarsening summary: %s", v.Verdict)
			}
		case v.Verdict != paper.Pass:
			t.Errorf("%s %s %s: %s %q", v.Experiment, v.Run, v.Metric, v.Verdict, v.Reason)
		}
	}
}

func TestLookup(t *testing.T) {
	ix := newIndex("quick", readRecords(t))
	tests := []struct {
		exp, run, metric string
		want             float64
		status           string
		ok               bool
	}{
		{"resnets-as-integrators", "pendulum", "rk4_eul_slope", 0.93, paper.StatusOK, true},
		{"resnets-as-integrators", "pendulum", "error{train=euler,eval=euler}@1", 2e-4, paper.StatusOK, true},
		{"resnets-as-integrators", "pendulum", "error{train=euler,eval=euler}@3", 0, paper.StatusNoPoint, true},
		{"resnets-as-integrators", "pendulum", "error{train=nope}@1", 0, paper.StatusNoMetric, true},
		{"rk-consistency", "sweep/rk4-classic-k1", "accuracy{eval=rk4-classic}@8", 0.66, paper.StatusOK, true},
		// A training run shared through the run graph is found by name.
		{"coarsening", "train/rk4-classic-refined", "acc_full_test", 0.685, paper.StatusOK, true},
		{"coarsening", "summary", "x", 0, paper.StatusFailed, true},
		{"coarsening", "pendulum", "x", 0, "", false},
	}
	for _, tc := range tests {
		ms, ok := ix.lookup(tc.exp, tc.run, tc.metric)
		var v float64
		var status string
		if len(ms) == 1 {
			v, status = ms[0].Value, ms[0].Status
		} else if ok {
			t.Errorf("%s/%s: %d measurements, want 1", tc.exp, tc.run, len(ms))
		}
		if ok != tc.ok || status != tc.status || math.Abs(v-tc.want) > 1e-12 {
			t.Errorf("%s/%s %s: %g %q %v, want %g %q %v", tc.exp, tc.run, tc.metric, v, status, ok, tc.want, tc.status, tc.ok)
		}
	}
}

func TestRegenerateOptionErrors(t *testing.T) {
	if _, err := Regenerate(Options{Profile: "fast", ResultsDir: "r", FiguresDir: "f"}, nil); err == nil {
		t.Error("unknown profile accepted")
	}
	if _, err := Regenerate(Options{Profile: "quick"}, nil); err == nil {
		t.Error("empty folders accepted")
	}
}

// The terminal summary: a line per claim, none wider than SummaryWidth,
// only the selected experiments' rows.
func TestPrintSummary(t *testing.T) {
	_, s := quickOutputs(t)
	var b bytes.Buffer
	if err := PrintSummary(&b, s.Verdicts, nil, "results/verdicts.md"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkGolden(t, "summary.txt", b.Bytes())
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := utf8.RuneCountInString(l); n > SummaryWidth {
			t.Errorf("%d runes: %s", n, l)
		}
	}
	b.Reset()
	if err := PrintSummary(&b, s.Verdicts, []string{"coarsening"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.String()); strings.Count(got, "\n") != 0 || !strings.HasPrefix(got, "claim d:") {
		t.Errorf("-only coarsening printed:\n%s", got)
	}
	if got := clip("abcdef", 4); got != "abc…" {
		t.Errorf("clip: %q", got)
	}
}

// Paper profile: series points are looked up, CIFAR-100 rows SKIP with their
// reason, runs the records do not hold SKIP as not run.
func TestPaperProfile(t *testing.T) {
	var recs []*record.Record
	for _, r := range readRecords(t) {
		r.Profile = "paper"
		recs = append(recs, r)
	}
	_, s := regenerate(t, "paper", recs)
	by := map[string]paper.Verdict{}
	for _, v := range s.Verdicts {
		by[v.ID] = v
	}
	checks := []struct{ id, verdict, reason string }{
		{"a-pend-euler-euler-h1", paper.Pass, ""},            // 2e-4 measured, ~2e-4 read off the plot
		{"a-pend-true-rk4-38-h0p02", paper.Pass, ""},         // 1.6e-15 ≤ 1e-6
		{"a-pend-true-midpoint-h20", paper.Fail, "below"},    // 6e-3, outside 0.7 within ×3
		{"a-osc-omega-vs-euler", paper.Pass, ""},             // 1.26e-3 vs 1.25e-3 ±20 %
		{"c-cifar100-euler-k8-acc", paper.Skip, "CIFAR-100"}, // no data on these machines
		{"a-euler-k32-euler-nt10", paper.Skip, "not run"},    // no such run in the records
		{"b-rk4-k1-rk4-38-nt1", paper.Fail, "below"},         // 66.2 % vs 90.7 ±1
	}
	for _, c := range checks {
		v, ok := by[c.id]
		if !ok {
			t.Errorf("%s: no verdict", c.id)
			continue
		}
		if v.Verdict != c.verdict || !strings.Contains(v.Reason, c.reason) {
			t.Errorf("%s: %s %q (measured %s), want %s %q", c.id, v.Verdict, v.Reason, v.Measured, c.verdict, c.reason)
		}
	}
}

// `-only EXPERIMENT` writes that experiment's records alone (its shared
// runs included): its verdict rows must be judged from them, never SKIP
// for a guard that reads another experiment's copy of a shared net.
func TestVerdictsFromOneExperiment(t *testing.T) {
	for _, exp := range []string{"rk-consistency", "incremental-training", "coarsening"} {
		var recs []*record.Record
		for _, r := range readRecords(t) {
			if r.Experiment == exp {
				recs = append(recs, r)
			}
		}
		_, s := regenerate(t, "quick", recs)
		n := 0
		for _, v := range s.Verdicts {
			if v.Experiment != exp {
				continue
			}
			n++
			if strings.Contains(v.Reason, "unverifiable") {
				t.Errorf("%s alone: %s %s: %s %q", exp, v.Run, v.Metric, v.Verdict, v.Reason)
			}
		}
		if n == 0 {
			t.Errorf("%s alone: no verdict rows", exp)
		}
	}
}
