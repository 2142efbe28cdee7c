// Package paper holds the numbers reported by Continuous-in-Depth Neural
// Networks (Queiruga et al., arXiv 2008.02389) and the project's
// pre-registered criteria, as data with their sources, and judges measured
// results against them.
//
// The data live in YAML files beside this package, embedded in the binary:
//
//   - criteria_quick.yaml: the quick-profile criteria, committed before any
//     quick result existed;
//   - reported_paper.yaml: the paper's reported numbers (paper/README.md),
//     checked at the paper profile;
//   - smoke.yaml: smoke-profile checks that each experiment produced its
//     outputs;
//   - figures.yaml: what each paper figure and table is, and which reading of
//     Figure 3 this project draws.
//
// Every entry names its source with the labels of paper/README.md ([CODE],
// [NB], [README], [INFERRED], [UNCONFIRMED]) and where in that source the number
// is, so a verdict can always be traced back to the paper or the notebook.
package paper

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat"
	"gopkg.in/yaml.v3"
)

//go:embed criteria_quick.yaml reported_paper.yaml smoke.yaml
var entryFiles embed.FS

//go:embed figures.yaml
var figuresFile []byte

// Source labels, as paper/README.md defines them.
var SourceLabels = []string{"[CODE]", "[NB]", "[README]", "[INFERRED]", "[UNCONFIRMED]"}

// Profiles of the harness.
var Profiles = []string{"smoke", "quick", "paper"}

// Experiments are the spec names entries may refer to.
var Experiments = []string{"resnets-as-integrators", "rk-consistency", "incremental-training", "coarsening"}

// Directions of a comparison.
const (
	AtLeast = ">="     // measured ≥ value − tolerance
	AtMost  = "<="     // measured ≤ value + tolerance
	Within  = "within" // |measured − value| ≤ tolerance, or within a factor, or inside a range
	Finite  = "finite" // the metric is present and finite (smoke checks)
)

// Record statuses a Lookup reports. They match record.Status* and add
// StatusNoMetric for a record that exists but lacks the metric.
const (
	StatusOK       = "ok"
	StatusSkipped  = "skipped"
	StatusFailed   = "failed"
	StatusNoMetric = "no-metric"
	// StatusNoPoint: the record holds the series but not at the entry's X
	// (e.g. the sweep stopped at Nt = 8 and the paper reports Nt = 20).
	StatusNoPoint = "no-point"
)

// Verdicts.
const (
	Pass  = "PASS"
	Fail  = "FAIL"
	Mixed = "MIXED" // several seeds: the mean and the majority of seeds disagree, or no majority
	Skip  = "SKIP"
	Error = "ERROR"
)

// Entry is one reported number or pre-registered criterion.
type Entry struct {
	ID         string `yaml:"id"`
	Claim      string `yaml:"claim"`      // a, b, c or d (the claims in paper/README.md)
	Experiment string `yaml:"experiment"` // spec name
	Run        string `yaml:"run"`        // run name within the experiment
	// Metric is a metric name of the run's record, or a point of one of its
	// series written NAME{label=value,...}@X (see ParseSeriesRef).
	Metric string `yaml:"metric"`
	// Unit "%" means the record holds a fraction in [0,1] and Value is in
	// percent: the measured value is multiplied by 100 before comparing.
	Unit      string  `yaml:"unit,omitempty"`
	Direction string  `yaml:"direction"`
	Value     float64 `yaml:"value,omitempty"`
	AbsTol    float64 `yaml:"abs_tol,omitempty"`
	RelTol    float64 `yaml:"rel_tol,omitempty"` // relative to |Value|
	// Factor > 1 (Within only): value/Factor ≤ measured ≤ value·Factor,
	// for numbers read off log-scale plots.
	Factor float64 `yaml:"factor,omitempty"`
	// Range (Within only): [low, high] bounds for a number reported as a range.
	Range []float64 `yaml:"range,omitempty"`
	// Criterion is the text of a named pre-registered criterion; Value is then
	// its threshold.
	Criterion string   `yaml:"criterion,omitempty"`
	Source    string   `yaml:"source"`   // one of SourceLabels
	Location  string   `yaml:"location"` // notebook/cell, table or issue
	Profiles  []string `yaml:"profiles"`
	// Requires are guards on other metrics (the quality floor): when one is
	// violated the entry is ERROR ("profile too small"), never PASS or FAIL.
	Requires []Guard `yaml:"requires,omitempty"`
	// Skip, when set, makes the entry SKIP with this reason whatever is
	// measured (e.g. CIFAR-100, which these machines do not have).
	Skip string `yaml:"skip,omitempty"`
	Note string `yaml:"note,omitempty"`
}

// Guard is a precondition on another metric of a run of the entry's own
// experiment, such as a trained model's accuracy on the full test set being
// at least 45 %. It names no experiment: `-only EXPERIMENT` writes that
// experiment's records alone (its shared runs included, a record in each
// experiment that uses them), and its rows must be judged from them.
type Guard struct {
	Run       string  `yaml:"run"`
	Metric    string  `yaml:"metric"`
	Direction string  `yaml:"direction"` // >= or <=
	Value     float64 `yaml:"value"`
	Reason    string  `yaml:"reason,omitempty"` // default "profile too small"
}

// Figure says what a figure or table of the paper is and what this project
// draws for it.
type Figure struct {
	ID         string `yaml:"id"`
	PaperLabel string `yaml:"paper_label"` // e.g. "Figure 3"
	Content    string `yaml:"content"`
	Source     string `yaml:"source"`
	Location   string `yaml:"location"`
	// Reading is "decision" (what this project draws under that label) or
	// "alternative" (another reading of the same label, recorded as data).
	Reading    string `yaml:"reading"`
	Target     string `yaml:"target"` // e.g. "make figure3"; empty when nothing is drawn
	Experiment string `yaml:"experiment,omitempty"`
	Note       string `yaml:"note,omitempty"`
}

// Verdict is the judgement of one entry at one profile.
type Verdict struct {
	ID         string
	Claim      string
	Experiment string
	Run        string
	Metric     string
	Reported   string  // the reported number or the criterion text
	Measured   string  // formatted measured value; empty when none
	Value      float64 // measured value in the entry's unit; NaN when none
	Tolerance  string  // the tolerance or the criterion threshold
	Profile    string
	Verdict    string // PASS, FAIL, MIXED, SKIP or ERROR
	// Seeds is the number of seeds the row was judged on (1 for a run with
	// one seed), SeedsPass how many of them pass alone, PerSeed their
	// values in the entry's unit (NaN: no value), SD, Min and Max their
	// spread; Value is their mean.
	Seeds, SeedsPass int
	PerSeed          []float64
	SD, Min, Max     float64
	Reason           string
	Source           string
	Location         string
}

// Lookup returns the value of a metric of a run's record. ok is false when
// no record of that run exists. status is the record's status (StatusOK,
// StatusSkipped, StatusFailed), StatusNoMetric when the record lacks the
// metric, or StatusNoPoint when it holds the series but not that point; reason is the record's error for skipped and failed records and,
// for StatusOK, an optional note appended to the verdict (e.g. that the
// data were the JPEG copy of CIFAR-10).
type Lookup func(experiment, run, metric string) (value float64, status, reason string, ok bool)

var (
	loadOnce sync.Once
	entries  []Entry
	figures  []Figure
	loadErr  error
)

func load() {
	loadOnce.Do(func() {
		names, err := entryFiles.ReadDir(".")
		if err != nil {
			loadErr = err
			return
		}
		for _, n := range names {
			data, err := entryFiles.ReadFile(n.Name())
			if err != nil {
				loadErr = err
				return
			}
			es, err := parseEntries(n.Name(), data)
			if err != nil {
				loadErr = err
				return
			}
			entries = append(entries, es...)
		}
		if loadErr = checkUnique(entries); loadErr != nil {
			return
		}
		figures, loadErr = parseFigures("figures.yaml", figuresFile)
	})
	if loadErr != nil {
		panic("paper: invalid embedded data: " + loadErr.Error())
	}
}

// Entries returns every entry of the embedded data, in file order
// (criteria_quick, reported_paper, smoke). It panics if the embedded data are
// invalid, which the package's tests rule out.
func Entries() []Entry {
	load()
	return slices.Clone(entries)
}

// ForProfile returns the entries that apply to profile p, each narrowed to
// that one profile, in file order.
func ForProfile(p string) []Entry {
	var out []Entry
	for _, e := range Entries() {
		if slices.Contains(e.Profiles, p) {
			e.Profiles = []string{p}
			out = append(out, e)
		}
	}
	return out
}

// Figures returns what each paper figure and table is, including the
// alternative reading of Figure 3.
func Figures() []Figure {
	load()
	return slices.Clone(figures)
}

func decodeStrict(file string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: no entries", file)
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// parseEntries decodes and validates one data file.
func parseEntries(file string, data []byte) ([]Entry, error) {
	var es []Entry
	if err := decodeStrict(file, data, &es); err != nil {
		return nil, err
	}
	for i := range es {
		if err := es[i].validate(); err != nil {
			return nil, fmt.Errorf("%s: entry %d (%q): %w", file, i+1, es[i].ID, err)
		}
	}
	return es, nil
}

func checkUnique(es []Entry) error {
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.ID] {
			return fmt.Errorf("duplicate entry id %q", e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}

func parseFigures(file string, data []byte) ([]Figure, error) {
	var fs []Figure
	if err := decodeStrict(file, data, &fs); err != nil {
		return nil, err
	}
	for i, f := range fs {
		switch {
		case f.ID == "" || f.PaperLabel == "" || f.Content == "" || f.Location == "":
			return nil, fmt.Errorf("%s: figure %d: id, paper_label, content and location are required", file, i+1)
		case !slices.Contains(SourceLabels, f.Source):
			return nil, fmt.Errorf("%s: figure %q: source %q is not one of %v", file, f.ID, f.Source, SourceLabels)
		case f.Reading != "decision" && f.Reading != "alternative":
			return nil, fmt.Errorf("%s: figure %q: reading %q is not decision or alternative", file, f.ID, f.Reading)
		}
	}
	return fs, nil
}

func (e *Entry) validate() error {
	switch {
	case e.ID == "":
		return errors.New("id is required")
	case !slices.Contains([]string{"a", "b", "c", "d"}, e.Claim):
		return fmt.Errorf("claim %q is not one of a, b, c, d", e.Claim)
	case !slices.Contains(Experiments, e.Experiment):
		return fmt.Errorf("experiment %q is not one of %v", e.Experiment, Experiments)
	case e.Run == "":
		return errors.New("run is required")
	case e.Metric == "":
		return errors.New("metric is required")
	case !slices.Contains(SourceLabels, e.Source):
		return fmt.Errorf("source %q is not one of %v", e.Source, SourceLabels)
	case e.Location == "":
		return errors.New("location is required (notebook/cell, table or issue)")
	case len(e.Profiles) == 0:
		return fmt.Errorf("profiles are required (some of %v)", Profiles)
	case e.Unit != "" && e.Unit != "%":
		return fmt.Errorf("unit %q is not \"\" or \"%%\"", e.Unit)
	case e.AbsTol < 0 || e.RelTol < 0:
		return errors.New("abs_tol and rel_tol must be ≥ 0")
	}
	for _, p := range e.Profiles {
		if !slices.Contains(Profiles, p) {
			return fmt.Errorf("profile %q is not one of %v", p, Profiles)
		}
	}
	if _, _, err := ParseSeriesRef(e.Metric); err != nil {
		return err
	}
	switch e.Direction {
	case AtLeast, AtMost:
		if e.Factor != 0 || e.Range != nil {
			return fmt.Errorf("direction %q takes abs_tol/rel_tol, not factor or range", e.Direction)
		}
	case Within:
		n := 0
		if e.AbsTol > 0 || e.RelTol > 0 || (e.AbsTol == 0 && e.RelTol == 0 && e.Factor == 0 && e.Range == nil) {
			n++ // abs/rel tolerance (possibly exactly 0: an exact count)
		}
		if e.Factor != 0 {
			if e.Factor <= 1 {
				return fmt.Errorf("factor %g must be > 1", e.Factor)
			}
			if e.Value <= 0 {
				return errors.New("factor needs a positive value")
			}
			n++
		}
		if e.Range != nil {
			if len(e.Range) != 2 || !(e.Range[0] <= e.Range[1]) {
				return fmt.Errorf("range %v must be [low, high] with low ≤ high", e.Range)
			}
			n++
		}
		if n != 1 {
			return errors.New("direction within takes exactly one of abs_tol/rel_tol, factor, range")
		}
	case Finite:
		if e.Value != 0 || e.AbsTol != 0 || e.RelTol != 0 || e.Factor != 0 || e.Range != nil || e.Criterion != "" {
			return errors.New("direction finite takes no value, tolerance or criterion")
		}
	default:
		return fmt.Errorf("direction %q is not one of %s, %s, %s, %s", e.Direction, AtLeast, AtMost, Within, Finite)
	}
	if e.Criterion != "" && e.Direction != AtLeast && e.Direction != AtMost {
		return fmt.Errorf("a criterion needs direction %s or %s", AtLeast, AtMost)
	}
	for i, g := range e.Requires {
		switch {
		case g.Run == "" || g.Metric == "":
			return fmt.Errorf("requires[%d]: run and metric are required", i)
		case g.Direction != AtLeast && g.Direction != AtMost:
			return fmt.Errorf("requires[%d]: direction %q is not %s or %s", i, g.Direction, AtLeast, AtMost)
		}
		if _, _, err := ParseSeriesRef(g.Metric); err != nil {
			return fmt.Errorf("requires[%d]: %w", i, err)
		}
	}
	return nil
}

// SeriesRef is a point of a named series: the Y value at X of the first
// series called Name whose labels include every Labels pair.
type SeriesRef struct {
	Name   string
	Labels map[string]string
	X      float64
}

// ParseSeriesRef parses a metric written NAME{k=v,...}@X (labels optional,
// e.g. "accuracy{eval=rk4-38}@10" or "error{train=true,eval=euler}@0.02").
// isSeries is false, with no error, for a plain metric name.
func ParseSeriesRef(metric string) (ref SeriesRef, isSeries bool, err error) {
	at := strings.LastIndexByte(metric, '@')
	if at < 0 {
		if strings.ContainsAny(metric, "{}=, ") {
			return ref, false, fmt.Errorf("metric %q: a plain metric name has no braces, '=', ',' or spaces; a series point is NAME{k=v,...}@X", metric)
		}
		return ref, false, nil
	}
	bad := func(why string) (SeriesRef, bool, error) {
		return SeriesRef{}, true, fmt.Errorf("metric %q: %s (want NAME{k=v,...}@X)", metric, why)
	}
	x, perr := strconv.ParseFloat(metric[at+1:], 64)
	if perr != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return bad("X after '@' is not a finite number")
	}
	head := metric[:at]
	ref.X = x
	if i := strings.IndexByte(head, '{'); i >= 0 {
		if !strings.HasSuffix(head, "}") {
			return bad("labels must end with '}'")
		}
		ref.Name = head[:i]
		ref.Labels = map[string]string{}
		for _, kv := range strings.Split(head[i+1:len(head)-1], ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" || v == "" {
				return bad(fmt.Sprintf("label %q is not k=v", kv))
			}
			if _, dup := ref.Labels[k]; dup {
				return bad(fmt.Sprintf("label %q given twice", k))
			}
			ref.Labels[k] = v
		}
	} else {
		ref.Name = head
	}
	if ref.Name == "" || strings.ContainsAny(ref.Name, "{}=, ") {
		return bad("bad series name")
	}
	return ref, true, nil
}

// Judge applies each entry to the value lookup returns: JudgeSeeds with one
// measurement per run.
func Judge(es []Entry, lookup Lookup) []Verdict {
	return JudgeSeeds(es, func(experiment, run, metric string) ([]Measurement, bool) {
		v, status, reason, ok := lookup(experiment, run, metric)
		if !ok {
			return nil, false
		}
		return []Measurement{{Value: v, Status: status, Reason: reason}}, true
	})
}

// Measurement is what a run's record holds for one metric: its value, or
// the status (and reason) that explains why there is none.
type Measurement struct {
	Seed   uint64
	Value  float64
	Status string // StatusOK, StatusSkipped, …
	Reason string // the record's error, or a note for StatusOK
}

// SeedLookup returns the measurements of a metric of a run: one for a run
// with one seed, one per seed, in seed order, for a run that the spec
// repeats over seeds. ok is false when no record of the run exists.
type SeedLookup func(experiment, run, metric string) (ms []Measurement, ok bool)

// JudgeSeeds applies each entry to the measurements lookup returns, one
// verdict per entry, in the order given. With one measurement:
//
//   - an entry with Skip set, or whose record is missing or skipped, or
//     whose series was not measured at the entry's X: SKIP;
//   - a failed record, a record without the metric, a value that is not
//     finite, or a violated guard (quality floor): ERROR;
//   - otherwise PASS or FAIL by the entry's direction and tolerance.
//
// With several seeds (the rule pre-registered in paper/README.md before any
// multi-seed result existed), the row is judged on the seed mean against its
// unchanged threshold, and each seed alone against the same threshold: PASS
// when the mean passes and a majority of seeds pass, FAIL when the mean fails
// and a majority of seeds fail, MIXED otherwise. A seed without a finite
// value (it diverged, or its run failed or was skipped while other seeds
// ran) is a failing seed, never dropped; the mean is over the seeds with a
// value. Guards (the quality floor) apply to the mean of their metric.
func JudgeSeeds(es []Entry, lookup SeedLookup) []Verdict {
	out := make([]Verdict, 0, len(es))
	for _, e := range es {
		out = append(out, judgeOne(e, lookup))
	}
	return out
}

// firstUsable returns the measurements with status OK, or, when there is
// none, the first measurement (whose status then decides the verdict).
func firstUsable(ms []Measurement) (ok []Measurement, first Measurement) {
	for _, m := range ms {
		if m.Status == StatusOK {
			ok = append(ok, m)
		}
	}
	return ok, ms[0]
}

// statusVerdict is the verdict of a run none of whose seeds has a value.
func statusVerdict(m Measurement, e Entry) (verdict, reason string) {
	switch m.Status {
	case StatusSkipped:
		return Skip, orDefault(m.Reason, "run skipped")
	case StatusFailed:
		return Error, "run failed: " + orDefault(m.Reason, "no error recorded")
	case StatusNoMetric:
		return Error, orDefault(m.Reason, "the record of "+e.Run+" has no metric "+e.Metric)
	case StatusNoPoint:
		return Skip, orDefault(m.Reason, "not measured: the series has no such point")
	}
	return Error, fmt.Sprintf("unknown record status %q", m.Status)
}

func judgeOne(e Entry, lookup SeedLookup) Verdict {
	v := Verdict{
		ID: e.ID, Claim: e.Claim, Experiment: e.Experiment, Run: e.Run, Metric: e.Metric,
		Reported: e.ReportedText(), Tolerance: e.ToleranceText(), Profile: strings.Join(e.Profiles, ","),
		Value: math.NaN(), SD: math.NaN(), Min: math.NaN(), Max: math.NaN(), Source: e.Source, Location: e.Location,
	}
	if e.Skip != "" {
		v.Verdict, v.Reason = Skip, e.Skip
		return v
	}
	ms, ok := lookup(e.Experiment, e.Run, e.Metric)
	if !ok || len(ms) == 0 {
		v.Verdict, v.Reason = Skip, "not run: no record of "+e.Experiment+"/"+e.Run
		return v
	}
	usable, first := firstUsable(ms)
	if len(usable) == 0 {
		v.Verdict, v.Reason = statusVerdict(first, e)
		return v
	}
	var notes []string
	v.Seeds = len(ms)
	for _, m := range ms {
		x := math.NaN()
		if m.Status == StatusOK {
			x = m.Value
			if e.Unit == "%" {
				x *= 100
			}
			if len(ms) > 1 && math.IsInf(x, 0) {
				x = math.NaN() // a diverged seed: failing, out of the mean
			}
			if m.Reason != "" && !slices.Contains(notes, m.Reason) {
				notes = append(notes, m.Reason)
			}
		} else if len(ms) > 1 {
			notes = append(notes, fmt.Sprintf("seed %d has no value (%s: %s)", m.Seed, m.Status, orDefault(m.Reason, "no reason recorded")))
		}
		v.PerSeed = append(v.PerSeed, x)
	}
	st := Stats(v.PerSeed)
	v.Value, v.SD, v.Min, v.Max = st.Mean, st.SD, st.Min, st.Max
	v.Measured = formatValue(st.Mean, e.Unit)
	if len(ms) > 1 {
		v.Measured = spreadText(st, e.Unit)
	}
	if st.N == 0 || math.IsInf(st.Mean, 0) {
		v.Verdict, v.Reason = Error, "measured value is not finite"
		return v
	}
	// Guards: the quality floor, on the mean of the guard's metric. A
	// violated guard makes the row ERROR.
	for _, g := range e.Requires {
		gms, gok := lookup(e.Experiment, g.Run, g.Metric)
		where := e.Experiment + "/" + g.Run + " " + g.Metric
		if !gok || len(gms) == 0 {
			v.Verdict, v.Reason = Skip, "quality floor unverifiable: no record of "+e.Experiment+"/"+g.Run
			return v
		}
		gu, gfirst := firstUsable(gms)
		if len(gu) == 0 {
			if gfirst.Status == StatusSkipped {
				v.Verdict, v.Reason = Skip, "quality floor unverifiable: "+orDefault(gfirst.Reason, g.Run+" skipped")
			} else {
				v.Verdict, v.Reason = Error, "quality floor unverifiable: "+where+": "+orDefault(gfirst.Reason, gfirst.Status)
			}
			return v
		}
		gvals := make([]float64, len(gu))
		for i, m := range gu {
			gvals[i] = m.Value
			if m.Reason != "" && !slices.Contains(notes, m.Reason) {
				notes = append(notes, m.Reason) // e.g. the guard's model was trained on the JPEG copy
			}
		}
		gv := Stats(gvals).Mean
		if !(g.Direction == AtLeast && gv >= g.Value || g.Direction == AtMost && gv <= g.Value) {
			v.Verdict = Error
			v.Reason = fmt.Sprintf("%s: %s = %s, not %s %s", orDefault(g.Reason, "profile too small"), where, fmtNum(gv), g.Direction, fmtNum(g.Value))
			if len(gms) > 1 {
				v.Reason += " (mean of " + strconv.Itoa(len(gu)) + " seeds)"
			}
			return v
		}
	}
	pass, why := e.compare(st.Mean)
	for _, x := range v.PerSeed {
		if ok, _ := e.compare(x); ok && !math.IsNaN(x) {
			v.SeedsPass++
		}
	}
	switch {
	case len(ms) == 1 && pass, len(ms) > 1 && pass && 2*v.SeedsPass > v.Seeds:
		v.Verdict = Pass
	case len(ms) == 1, !pass && 2*(v.Seeds-v.SeedsPass) > v.Seeds:
		v.Verdict = Fail
	default:
		v.Verdict = Mixed
	}
	if len(ms) > 1 {
		why = joinNonEmpty(" ", orDefault(why, "mean passes"), fmt.Sprintf("(%d/%d seeds pass)", v.SeedsPass, v.Seeds))
	}
	v.Reason = joinNonEmpty("; ", append([]string{why}, notes...)...)
	return v
}

// Spread is the summary of a metric over seeds.
type Spread struct {
	N                  int // seeds with a finite value
	Mean, SD, Min, Max float64
}

// Stats summarises values over seeds: NaN values (seeds without a value)
// are left out of the mean, the sample standard deviation (n − 1; 0 for one
// value) and the range; with no finite value every field but N is NaN.
func Stats(values []float64) Spread {
	var xs []float64
	for _, x := range values {
		if !math.IsNaN(x) {
			xs = append(xs, x)
		}
	}
	s := Spread{N: len(xs), Mean: math.NaN(), SD: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	if len(xs) == 0 {
		return s
	}
	s.Mean, s.SD = stat.MeanStdDev(xs, nil)
	if len(xs) == 1 {
		s.SD = 0
	}
	s.Min, s.Max = slices.Min(xs), slices.Max(xs)
	return s
}

// FormatSpread writes a spread as "mean ± sd unit (n)", each number
// formatted by f.
func FormatSpread(s Spread, f func(float64) string, unit string) string {
	return f(s.Mean) + " ± " + f(s.SD) + unit + " (" + strconv.Itoa(s.N) + ")"
}

// spreadText is FormatSpread in an entry's unit: two decimals and " %" for
// percent, else 4 significant digits.
func spreadText(s Spread, unit string) string {
	if unit == "%" {
		return FormatSpread(s, func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }, " %")
	}
	return FormatSpread(s, fmtNum, "")
}

// compare applies the entry's direction and tolerance to a measured value in
// the entry's unit.
func (e Entry) compare(x float64) (bool, string) {
	tol := e.tol()
	switch e.Direction {
	case Finite:
		return true, ""
	case AtLeast:
		if x >= e.Value-tol {
			return true, ""
		}
		return false, fmt.Sprintf("below %s", fmtNum(e.Value-tol))
	case AtMost:
		if x <= e.Value+tol {
			return true, ""
		}
		return false, fmt.Sprintf("above %s", fmtNum(e.Value+tol))
	}
	lo, hi := e.bounds()
	switch {
	case x < lo:
		return false, fmt.Sprintf("below %s", fmtNum(lo))
	case x > hi:
		return false, fmt.Sprintf("above %s", fmtNum(hi))
	}
	return true, ""
}

func (e Entry) tol() float64 { return math.Max(e.AbsTol, e.RelTol*math.Abs(e.Value)) }

// bounds returns the accepted interval of a Within entry.
func (e Entry) bounds() (lo, hi float64) {
	switch {
	case e.Range != nil:
		return e.Range[0], e.Range[1]
	case e.Factor != 0:
		return e.Value / e.Factor, e.Value * e.Factor
	}
	t := e.tol()
	return e.Value - t, e.Value + t
}

// ReportedText is the reported number, or the criterion, as shown in tables.
func (e Entry) ReportedText() string {
	switch {
	case e.Criterion != "":
		return e.Criterion
	case e.Direction == Finite:
		return "present and finite"
	case e.Range != nil && e.Value == 0:
		return fmtNum(e.Range[0]) + " to " + fmtNum(e.Range[1])
	case e.Direction == AtMost && e.Factor == 0 && e.tol() == 0:
		return "< " + formatValue(e.Value, e.Unit)
	}
	return formatValue(e.Value, e.Unit)
}

// ToleranceText is the tolerance, or the criterion's threshold, as shown in
// tables.
func (e Entry) ToleranceText() string {
	unit := ""
	if e.Unit == "%" {
		unit = " pts"
	}
	switch e.Direction {
	case Finite:
		return "none"
	case AtLeast, AtMost:
		t := e.tol()
		if e.Direction == AtLeast {
			t = -t
		}
		return e.Direction + " " + formatValue(e.Value+t, e.Unit)
	}
	switch {
	case e.Range != nil:
		return fmt.Sprintf("in [%s, %s]", fmtNum(e.Range[0]), fmtNum(e.Range[1]))
	case e.Factor != 0:
		return "within ×" + fmtNum(e.Factor)
	case e.RelTol > 0 && e.AbsTol == 0:
		return fmt.Sprintf("±%s%%", fmtNum(100*e.RelTol))
	case e.tol() == 0:
		return "exact"
	}
	return "±" + fmtNum(e.tol()) + unit
}

func formatValue(v float64, unit string) string {
	if unit == "%" {
		return strconv.FormatFloat(v, 'f', 2, 64) + " %"
	}
	return fmtNum(v)
}

// fmtNum formats a number with 4 significant digits, without exponent for
// moderate magnitudes and as an integer when it is one.
func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// Count is the number of entries of one claim at one profile.
type Count struct {
	Claim, Profile string
	N              int
}

// Counts returns how many entries each (claim, profile) pair has, sorted by
// claim then profile; an entry with several profiles counts in each.
func Counts() []Count {
	m := map[[2]string]int{}
	for _, e := range Entries() {
		for _, p := range e.Profiles {
			m[[2]string{e.Claim, p}]++
		}
	}
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k[0], k[1], n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Claim != out[j].Claim {
			return out[i].Claim < out[j].Claim
		}
		return slices.Index(Profiles, out[i].Profile) < slices.Index(Profiles, out[j].Profile)
	})
	return out
}
