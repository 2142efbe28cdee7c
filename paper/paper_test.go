package paper

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestEmbeddedDataValid(t *testing.T) {
	names, err := entryFiles.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var all []Entry
	for _, n := range names {
		data, err := entryFiles.ReadFile(n.Name())
		if err != nil {
			t.Fatal(err)
		}
		es, err := parseEntries(n.Name(), data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
	}
	if err := checkUnique(all); err != nil {
		t.Fatal(err)
	}
	if _, err := parseFigures("figures.yaml", figuresFile); err != nil {
		t.Fatal(err)
	}
	if len(Entries()) != len(all) {
		t.Fatalf("Entries() = %d entries, files hold %d", len(Entries()), len(all))
	}
}

// Every claim has rows at every profile, and the pre-registered quick
// criteria are all present with their pre-registered thresholds.
func TestCoverage(t *testing.T) {
	for _, p := range Profiles {
		for _, c := range []string{"a", "b", "c", "d"} {
			n := 0
			for _, e := range ForProfile(p) {
				if e.Claim == c {
					n++
				}
			}
			if n == 0 {
				t.Errorf("profile %s claim %s: no entries", p, c)
			}
		}
	}
	want := map[string]struct {
		dir string
		v   float64
	}{
		"eul_eul_dip_ratio":             {AtMost, 0.1},
		"eul_eul_refine_ratio":          {AtLeast, 10},
		"rk4_rk4_refine_ratio":          {AtMost, 1},
		"rk4_mid_vs_rk4_max_factor":     {AtMost, 2},
		"eul_mid_vs_eul_eul_at_1":       {AtLeast, 10},
		"rk4_eul_slope":                 {AtLeast, 1},
		"euler_k1_collapse_margin":      {AtLeast, 0.25},
		"rk4_k1_rk438_spread_pts":       {AtMost, 3},
		"rk4_k1_spread_over_euler_loss": {AtMost, 0.25},
		"rk4_k1_euler8_vs_rk438_8_pts":  {AtMost, 2},
		"refined_minus_scratch_acc_pts": {AtLeast, -2},
		"scratch_over_refined_time":     {AtLeast, 1.3},
		"rk438_nt2_vs_nt4_drop_pts":     {AtMost, 3},
		"rk438_nt4_over_nt2_time":       {AtLeast, 1.7},
	}
	got := map[string]bool{}
	for _, e := range ForProfile("quick") {
		w, ok := want[e.Metric]
		if !ok {
			continue
		}
		got[e.Metric] = true
		if e.Direction != w.dir || e.Value != w.v || e.tol() != 0 || e.Criterion == "" {
			t.Errorf("%s: %s %g tol %g criterion %q; pre-registered as %s %g exactly", e.ID, e.Direction, e.Value, e.tol(), e.Criterion, w.dir, w.v)
		}
		if e.Run == "summary" && len(e.Requires) == 0 {
			t.Errorf("%s: a CIFAR criterion without the quality floor", e.ID)
		}
		for _, g := range e.Requires {
			if g.Metric != "acc_full_test" || g.Direction != AtLeast || g.Value != 0.45 {
				t.Errorf("%s: guard %+v is not acc_full_test >= 0.45", e.ID, g)
			}
		}
	}
	for m := range want {
		if !got[m] {
			t.Errorf("quick criterion %s missing", m)
		}
	}
}

func TestFigure3Readings(t *testing.T) {
	var readings []string
	for _, f := range Figures() {
		if f.PaperLabel == "Figure 3" {
			readings = append(readings, f.Reading+":"+f.Target)
		}
	}
	slices.Sort(readings)
	if !slices.Equal(readings, []string{"alternative:", "decision:make figure3"}) {
		t.Errorf("Figure 3 readings = %v", readings)
	}
}

func TestParseEntriesErrors(t *testing.T) {
	base := `- id: x
  claim: a
  experiment: coarsening
  run: summary
  metric: m
  direction: ">="
  value: 1
  source: "[NB]"
  location: "cell 1"
  profiles: [quick]
`
	tests := []struct {
		name, from, to, want string
	}{
		{"ok", "", "", ""},
		{"unknown direction", `direction: ">="`, `direction: ">"`, "direction"},
		{"missing source", `  source: "[NB]"` + "\n", "", "source"},
		{"unknown source", `"[NB]"`, `"NB"`, "source"},
		{"unknown claim", "claim: a", "claim: e", "claim"},
		{"unknown experiment", "experiment: coarsening", "experiment: nope", "experiment"},
		{"unknown profile", "[quick]", "[fast]", "profile"},
		{"no profiles", "  profiles: [quick]\n", "", "profiles"},
		{"unknown field", "value: 1", "value: 1\n  valu: 2", "valu"},
		{"no location", "  location: \"cell 1\"\n", "", "location"},
		{"bad series", "metric: m", "metric: acc{eval}@2", "label"},
		{"bad series x", "metric: m", "metric: acc@x", "X after"},
		{"factor on >=", "value: 1", "value: 1\n  factor: 2", "factor"},
		{"within two tolerances", `direction: ">="`, "direction: within\n  abs_tol: 1\n  factor: 3", "exactly one"},
		{"factor <= 1", `direction: ">="`, "direction: within\n  factor: 1", "factor"},
		{"bad range", `direction: ">="`, "direction: within\n  range: [2, 1]", "range"},
		{"finite with value", `direction: ">="`, "direction: finite", "finite"},
		{"bad guard", "profiles: [quick]", "profiles: [quick]\n  requires: [{run: r, metric: m, direction: within, value: 1}]", "requires"},
		{"bad unit", "value: 1", "value: 1\n  unit: pts", "unit"},
		{"guard naming an experiment", "profiles: [quick]", "profiles: [quick]\n  requires: [{experiment: rk-consistency, run: r, metric: m, direction: \">=\", value: 1}]", "field experiment not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := base
			if tc.from != "" || tc.to != "" {
				if !strings.Contains(src, tc.from) {
					t.Fatalf("test bug: %q not in base", tc.from)
				}
				src = strings.Replace(src, tc.from, tc.to, 1)
			}
			_, err := parseEntries("t.yaml", []byte(src))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want one mentioning %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not mention %q", err, tc.want)
			case err != nil && !strings.Contains(err.Error(), "t.yaml"):
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
	if err := checkUnique([]Entry{{ID: "x"}, {ID: "x"}}); err == nil {
		t.Error("duplicate ids accepted")
	}
}

func TestParseSeriesRef(t *testing.T) {
	tests := []struct {
		in     string
		series bool
		ok     bool
		want   SeriesRef
	}{
		{"acc_max", false, true, SeriesRef{}},
		{"accuracy{eval=rk4-38}@10", true, true, SeriesRef{"accuracy", map[string]string{"eval": "rk4-38"}, 10}},
		{"error{train=true,eval=euler}@0.02", true, true, SeriesRef{"error", map[string]string{"train": "true", "eval": "euler"}, 0.02}},
		{"loss@3", true, true, SeriesRef{"loss", nil, 3}},
		{"acc{eval=a,eval=b}@1", true, false, SeriesRef{}},
		{"acc{eval=a@1", true, false, SeriesRef{}},
		{"@1", true, false, SeriesRef{}},
		{"acc{}@1", true, false, SeriesRef{}},
		{"acc@NaN", true, false, SeriesRef{}},
		{"a b", false, false, SeriesRef{}},
	}
	for _, tc := range tests {
		ref, isSeries, err := ParseSeriesRef(tc.in)
		if isSeries != tc.series || (err == nil) != tc.ok {
			t.Errorf("%q: series %v err %v; want series %v ok %v", tc.in, isSeries, err, tc.series, tc.ok)
			continue
		}
		if tc.ok && (ref.Name != tc.want.Name || ref.X != tc.want.X || len(ref.Labels) != len(tc.want.Labels)) {
			t.Errorf("%q: %+v, want %+v", tc.in, ref, tc.want)
		}
		for k, v := range tc.want.Labels {
			if ref.Labels[k] != v {
				t.Errorf("%q: label %s = %q, want %q", tc.in, k, ref.Labels[k], v)
			}
		}
	}
}

// fakeRec is one record for the fake lookup.
type fakeRec struct {
	status, reason string
	metrics        map[string]float64
}

func fakeLookup(recs map[string]fakeRec) Lookup {
	return func(exp, run, metric string) (float64, string, string, bool) {
		r, ok := recs[exp+"/"+run]
		if !ok {
			return 0, "", "", false
		}
		if r.status != StatusOK {
			return 0, r.status, r.reason, true
		}
		v, ok := r.metrics[metric]
		if !ok {
			if _, isSeries, _ := ParseSeriesRef(metric); isSeries {
				return 0, StatusNoPoint, "", true
			}
			return 0, StatusNoMetric, "", true
		}
		return v, StatusOK, r.reason, true
	}
}

func TestJudge(t *testing.T) {
	crit := Entry{ID: "c", Claim: "c", Experiment: "incremental-training", Run: "summary", Metric: "ratio",
		Direction: AtLeast, Value: 1.3, Criterion: "ratio ≥ 1.3", Source: "[INFERRED]", Location: "pre-registered quick criteria", Profiles: []string{"quick"},
		Requires: []Guard{{Run: "train/a", Metric: "acc_full_test", Direction: AtLeast, Value: 0.45}}}
	acc := Entry{ID: "p", Claim: "b", Experiment: "rk-consistency", Run: "sweep/x", Metric: "accuracy{eval=euler}@2", Unit: "%",
		Direction: Within, Value: 90.9, AbsTol: 1, Source: "[NB]", Location: "cell 18", Profiles: []string{"paper"}}
	fac := Entry{ID: "f", Claim: "a", Experiment: "resnets-as-integrators", Run: "pendulum", Metric: "e", Direction: Within,
		Value: 2e-4, Factor: 5, Source: "[NB]", Location: "cell 40", Profiles: []string{"paper"}}
	rng := Entry{ID: "r", Claim: "a", Experiment: "resnets-as-integrators", Run: "pendulum", Metric: "e", Direction: Within,
		Range: []float64{0.1, 1.5}, Source: "[NB]", Location: "cell 40", Profiles: []string{"paper"}}
	fin := Entry{ID: "s", Claim: "d", Experiment: "coarsening", Run: "summary", Metric: "m", Direction: Finite,
		Source: "[INFERRED]", Location: "pre-registered quick criteria", Profiles: []string{"smoke"}}
	skipped := acc
	skipped.Skip = "no CIFAR-100"
	ok := func(m map[string]float64) fakeRec { return fakeRec{status: StatusOK, metrics: m} }
	good := map[string]fakeRec{"incremental-training/train/a": ok(map[string]float64{"acc_full_test": 0.6})}
	with := func(extra map[string]fakeRec) map[string]fakeRec {
		m := map[string]fakeRec{}
		for k, v := range good {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		e       Entry
		recs    map[string]fakeRec
		verdict string
		reason  string
	}{
		{"criterion pass", crit, with(map[string]fakeRec{"incremental-training/summary": ok(map[string]float64{"ratio": 1.31})}), Pass, ""},
		{"criterion at threshold", crit, with(map[string]fakeRec{"incremental-training/summary": ok(map[string]float64{"ratio": 1.3})}), Pass, ""},
		{"criterion fail", crit, with(map[string]fakeRec{"incremental-training/summary": ok(map[string]float64{"ratio": 1.29})}), Fail, "below 1.3"},
		{"missing record", crit, good, Skip, "not run"},
		{"skipped record", crit, with(map[string]fakeRec{"incremental-training/summary": {status: StatusSkipped, reason: "CIFAR-10 missing: set CNET_DATA"}}), Skip, "CNET_DATA"},
		{"failed record", crit, with(map[string]fakeRec{"incremental-training/summary": {status: StatusFailed, reason: "panic: boom"}}), Error, "boom"},
		{"metric missing", crit, with(map[string]fakeRec{"incremental-training/summary": ok(map[string]float64{})}), Error, "no metric"},
		{"not finite", crit, with(map[string]fakeRec{"incremental-training/summary": ok(map[string]float64{"ratio": math.NaN()})}), Error, "not finite"},
		{"quality floor violated", crit, map[string]fakeRec{
			"incremental-training/summary": ok(map[string]float64{"ratio": 2}),
			"incremental-training/train/a": ok(map[string]float64{"acc_full_test": 0.44})}, Error, "profile too small"},
		{"quality floor violated on a fail", crit, map[string]fakeRec{
			"incremental-training/summary": ok(map[string]float64{"ratio": 1}),
			"incremental-training/train/a": ok(map[string]float64{"acc_full_test": 0.3})}, Error, "profile too small"},
		{"quality floor record missing", crit, map[string]fakeRec{
			"incremental-training/summary": ok(map[string]float64{"ratio": 2})}, Skip, "unverifiable"},
		{"quality floor record failed", crit, map[string]fakeRec{
			"incremental-training/summary": ok(map[string]float64{"ratio": 2}),
			"incremental-training/train/a": {status: StatusFailed, reason: "oom"}}, Error, "oom"},
		{"percent pass", acc, map[string]fakeRec{"rk-consistency/sweep/x": ok(map[string]float64{"accuracy{eval=euler}@2": 0.915})}, Pass, ""},
		{"percent fail", acc, map[string]fakeRec{"rk-consistency/sweep/x": ok(map[string]float64{"accuracy{eval=euler}@2": 0.885})}, Fail, "below 89.9"},
		{"series point not measured", acc, map[string]fakeRec{"rk-consistency/sweep/x": ok(map[string]float64{})}, Skip, "not measured"},
		{"percent note", acc, map[string]fakeRec{"rk-consistency/sweep/x": {status: StatusOK, reason: "JPEG copy", metrics: map[string]float64{"accuracy{eval=euler}@2": 0.91}}}, Pass, "JPEG copy"},
		{"entry skip", skipped, map[string]fakeRec{"rk-consistency/sweep/x": ok(map[string]float64{"accuracy{eval=euler}@2": 0.91})}, Skip, "no CIFAR-100"},
		{"factor pass", fac, map[string]fakeRec{"resnets-as-integrators/pendulum": ok(map[string]float64{"e": 9e-4})}, Pass, ""},
		{"factor fail", fac, map[string]fakeRec{"resnets-as-integrators/pendulum": ok(map[string]float64{"e": 1.1e-3})}, Fail, "above 0.001"},
		{"range pass", rng, map[string]fakeRec{"resnets-as-integrators/pendulum": ok(map[string]float64{"e": 1})}, Pass, ""},
		{"range fail", rng, map[string]fakeRec{"resnets-as-integrators/pendulum": ok(map[string]float64{"e": 0.05})}, Fail, "below 0.1"},
		{"finite pass", fin, map[string]fakeRec{"coarsening/summary": ok(map[string]float64{"m": -3})}, Pass, ""},
		{"finite inf", fin, map[string]fakeRec{"coarsening/summary": ok(map[string]float64{"m": math.Inf(1)})}, Error, "not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := Judge([]Entry{tc.e}, fakeLookup(tc.recs))
			if len(vs) != 1 {
				t.Fatalf("%d verdicts", len(vs))
			}
			v := vs[0]
			if v.Verdict != tc.verdict || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("verdict %s (%q), want %s (%q)", v.Verdict, v.Reason, tc.verdict, tc.reason)
			}
			if v.Claim != tc.e.Claim || v.Metric != tc.e.Metric || v.Reported == "" || v.Tolerance == "" || v.Source != tc.e.Source {
				t.Errorf("verdict fields not filled: %+v", v)
			}
			if (v.Verdict == Pass || v.Verdict == Fail) && v.Measured == "" {
				t.Errorf("no measured value on a %s", v.Verdict)
			}
		})
	}
}

func TestTexts(t *testing.T) {
	tests := []struct {
		e             Entry
		reported, tol string
	}{
		{Entry{Direction: AtLeast, Value: 1.3, Criterion: "r ≥ 1.3"}, "r ≥ 1.3", ">= 1.3"},
		{Entry{Direction: AtLeast, Value: -0.23, AbsTol: 1}, "-0.23", ">= -1.23"},
		{Entry{Direction: Within, Value: 93.53, AbsTol: 1, Unit: "%"}, "93.53 %", "±1 pts"},
		{Entry{Direction: Within, Value: 2e-4, Factor: 5}, "0.0002", "within ×5"},
		{Entry{Direction: Within, Value: 1.25e-3, RelTol: 0.2}, "0.00125", "±20%"},
		{Entry{Direction: Within, Range: []float64{0.02, 7.5}}, "0.02 to 7.5", "in [0.02, 7.5]"},
		{Entry{Direction: AtMost, Value: 1e-6}, "< 1e-06", "<= 1e-06"},
		{Entry{Direction: Within, Value: 3193596}, "3193596", "exact"},
		{Entry{Direction: Finite}, "present and finite", "none"},
	}
	for _, tc := range tests {
		if r, tol := tc.e.ReportedText(), tc.e.ToleranceText(); r != tc.reported || tol != tc.tol {
			t.Errorf("%+v: %q / %q, want %q / %q", tc.e, r, tol, tc.reported, tc.tol)
		}
	}
}

func TestForProfileNarrows(t *testing.T) {
	for _, e := range ForProfile("paper") {
		if len(e.Profiles) != 1 || e.Profiles[0] != "paper" {
			t.Fatalf("%s: profiles %v", e.ID, e.Profiles)
		}
	}
	// Entries() must not be changed by ForProfile.
	multi := 0
	for _, e := range Entries() {
		if len(e.Profiles) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("expected entries with several profiles (the pendulum criteria)")
	}
}

// The multi-seed rule: the mean against the threshold, and a majority of
// seeds alone.
func TestJudgeSeeds(t *testing.T) {
	crit := Entry{ID: "c", Claim: "c", Experiment: "incremental-training", Run: "summary", Metric: "ratio",
		Direction: AtLeast, Value: 1.3, Criterion: "ratio ≥ 1.3", Source: "[INFERRED]", Location: "pre-registered quick criteria", Profiles: []string{"quick"},
		Requires: []Guard{{Run: "train/a", Metric: "acc_full_test", Direction: AtLeast, Value: 0.45}}}
	ok := func(vs ...float64) []Measurement {
		var ms []Measurement
		for i, v := range vs {
			ms = append(ms, Measurement{Seed: uint64(i + 1), Value: v, Status: StatusOK})
		}
		return ms
	}
	failed := Measurement{Seed: 3, Status: StatusSkipped, Reason: "needs train/a/seed3, which failed: the loss is NaN (diverged)"}
	floor := ok(0.6, 0.5, 0.47)
	tests := []struct {
		name          string
		ratio, guard  []Measurement
		verdict       string
		pass, seeds   int
		measured, why string
	}{
		{"all pass", ok(1.4, 1.5, 1.35), floor, Pass, 3, 3, "1.417 ± 0.07638 (3)", "3/3 seeds pass"},
		{"mean and majority pass", ok(1.2, 1.5, 1.4), floor, Pass, 2, 3, "1.367", "2/3 seeds pass"},
		{"mean passes, majority fails", ok(1.0, 1.1, 2.0), floor, Mixed, 1, 3, "1.367", "1/3 seeds pass"},
		{"mean fails, majority passes", ok(0.1, 1.31, 1.32), floor, Mixed, 2, 3, "0.91", "below 1.3"},
		{"all fail", ok(1.0, 1.1, 1.2), floor, Fail, 0, 3, "1.1", "0/3 seeds pass"},
		{"mean fails, majority fails", ok(1.0, 1.1, 1.5), floor, Fail, 1, 3, "1.2", "1/3"},
		{"a diverged seed fails", ok(1.4, 1.5, math.NaN()), floor, Pass, 2, 3, "1.45 ± 0.07071 (2)", "2/3"},
		{"a diverged seed tips the majority", ok(1.4, 1.0, math.Inf(1)), floor, Fail, 1, 3, "1.2", "1/3"},
		{"a seed whose run did not finish fails", append(ok(1.4, 1.0), failed), floor, Fail, 1, 3, "1.2", "seed 3 has no value"},
		{"floor on the mean", ok(1.4, 1.5, 1.35), ok(0.5, 0.4, 0.4), Error, 0, 3, "1.417", "profile too small"},
		{"floor mean passes", ok(1.4, 1.5, 1.35), ok(0.6, 0.44, 0.44), Pass, 3, 3, "1.417", "3/3"},
		{"one seed", ok(1.2), ok(0.6), Fail, 0, 1, "1.2", "below 1.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(exp, run, metric string) ([]Measurement, bool) {
				if run == "train/a" {
					return tc.guard, true
				}
				return tc.ratio, true
			}
			v := JudgeSeeds([]Entry{crit}, lookup)[0]
			if v.Verdict != tc.verdict || !strings.Contains(v.Reason, tc.why) || !strings.HasPrefix(v.Measured, tc.measured) {
				t.Errorf("%s %q %q, want %s %q %q", v.Verdict, v.Measured, v.Reason, tc.verdict, tc.measured, tc.why)
			}
			if v.Verdict != Error && (v.SeedsPass != tc.pass || v.Seeds != tc.seeds || len(v.PerSeed) != tc.seeds) {
				t.Errorf("%d/%d seeds pass (%v), want %d/%d", v.SeedsPass, v.Seeds, v.PerSeed, tc.pass, tc.seeds)
			}
		})
	}
}

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		in               []float64
		n                int
		mean, sd, lo, hi float64
	}{
		{[]float64{1, 2, 3}, 3, 2, 1, 1, 3},
		{[]float64{5}, 1, 5, 0, 5, 5},
		{[]float64{1, math.NaN(), 3}, 2, 2, math.Sqrt2, 1, 3},
		{[]float64{math.NaN()}, 0, math.NaN(), math.NaN(), math.NaN(), math.NaN()},
	} {
		s := Stats(tc.in)
		same := func(a, b float64) bool { return math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-12 }
		if s.N != tc.n || !same(s.Mean, tc.mean) || !same(s.SD, tc.sd) || !same(s.Min, tc.lo) || !same(s.Max, tc.hi) {
			t.Errorf("Stats(%v) = %+v, want n %d mean %v sd %v range [%v, %v]", tc.in, s, tc.n, tc.mean, tc.sd, tc.lo, tc.hi)
		}
	}
	if got := spreadText(Stats([]float64{55.5, 57.25, 59}), "%"); got != "57.25 ± 1.75 % (3)" {
		t.Errorf("spreadText: %q", got)
	}
}
