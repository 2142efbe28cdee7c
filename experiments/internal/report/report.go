// Package report regenerates the harness's outputs from result records alone:
// the verdict table (paper.Judge over the profile's entries), each
// experiment's tables (Markdown through tablewriter, and CSV) and figures
// (PNG and SVG through gonum/plot). It computes nothing that a record does
// not hold, so `make tables` and `make figures` work from a clean clone.
//
// Outputs of an experiment are written only when that experiment has usable
// records: a run without data (CIFAR-10 missing) leaves committed tables and
// figures untouched. Every file is written atomically (temporary file, then
// rename).
package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/paper"
)

// Options says which profile the records belong to and where its outputs go.
type Options struct {
	Profile    string // smoke, quick or paper
	ResultsDir string // tables and verdicts
	FiguresDir string // figures
}

// Summary is what Regenerate produced.
type Summary struct {
	Verdicts []paper.Verdict
	Files    []string // paths written, in the order written
	// Tables lists, per experiment, the Markdown tables written for it:
	// what an experiment without verdict rows (the opt-in extensions)
	// shows a reader instead.
	Tables map[string][]string
}

// Experiment names (spec names) whose records the report reads.
const (
	expIntegrators = "resnets-as-integrators"
	expConsistency = "rk-consistency"
	expIncremental = "incremental-training"
	expCoarsening  = "coarsening"
	expExtensions  = "extensions" // opt-in, beyond the paper: tables, no verdicts
)

// Regenerate writes verdicts.md and verdicts.csv into opts.ResultsDir, and
// each experiment's tables and figures, from recs. Records of another
// profile than opts.Profile are ignored (records without a profile are
// kept). The verdicts are always written; an experiment's tables and figures
// only when it has records with status ok that hold what they need.
func Regenerate(opts Options, recs []*record.Record) (*Summary, error) {
	if !slices.Contains(paper.Profiles, opts.Profile) {
		return nil, fmt.Errorf("report: profile %q is not one of %v", opts.Profile, paper.Profiles)
	}
	if opts.ResultsDir == "" || opts.FiguresDir == "" {
		return nil, fmt.Errorf("report: ResultsDir and FiguresDir are required (got %q, %q)", opts.ResultsDir, opts.FiguresDir)
	}
	ix := newIndex(opts.Profile, recs)
	s := &Summary{Verdicts: paper.JudgeSeeds(sortEntries(paper.ForProfile(opts.Profile)), ix.lookup), Tables: map[string][]string{}}
	w := &writer{sum: s}

	md, csvb, err := verdictTables(opts.Profile, s.Verdicts)
	if err != nil {
		return nil, err
	}
	w.file(filepath.Join(opts.ResultsDir, "verdicts.md"), md)
	w.file(filepath.Join(opts.ResultsDir, "verdicts.csv"), csvb)
	if len(ix.groups) > 0 {
		w.file(filepath.Join(opts.ResultsDir, "seeds.csv"), perSeedTable(ix.groups).csv())
	}

	for _, g := range []struct {
		exp string
		gen func(*index, *writer, Options)
	}{{expIntegrators, genFigure3}, {expConsistency, genFigure4}, {expIncremental, genTable1}, {expCoarsening, genCoarsening}, {expExtensions, genExtensions}} {
		w.exp = g.exp
		g.gen(ix, w, opts)
		if w.err != nil {
			return s, w.err
		}
	}
	return s, w.err
}

// sortEntries orders entries by claim, keeping file order within a claim.
func sortEntries(es []paper.Entry) []paper.Entry {
	slices.SortStableFunc(es, func(a, b paper.Entry) int { return cmp.Compare(a.Claim, b.Claim) })
	return es
}

// writer writes files atomically and remembers the first error; exp is the
// experiment whose outputs it writes.
type writer struct {
	sum *Summary
	err error
	exp string
}

func (w *writer) file(path string, data []byte) {
	if w.err != nil {
		return
	}
	if err := record.WriteFileAtomic(path, data); err != nil {
		w.err = fmt.Errorf("report: %w", err)
		return
	}
	w.sum.Files = append(w.sum.Files, path)
}

// table writes name.md and name.csv into dir.
func (w *writer) table(dir, name string, t *table) {
	if w.err != nil {
		return
	}
	md, err := t.markdown()
	if err != nil {
		w.err = fmt.Errorf("report: %s: %w", name, err)
		return
	}
	w.file(filepath.Join(dir, name+".md"), md)
	w.file(filepath.Join(dir, name+".csv"), t.csv())
	if w.err == nil {
		w.sum.Tables[w.exp] = append(w.sum.Tables[w.exp], filepath.Join(dir, name+".md"))
	}
}

// index gives access to the records of one profile. exp lists, per
// experiment, the records of runs with one seed and one aggregated record
// (see aggregate) per run repeated over seeds; groups holds the members.
type index struct {
	byKey  map[string]*record.Record // experiment + "\x00" + run
	exp    map[string][]*record.Record
	groups map[string][]*record.Record // experiment + "\x00" + group → records in seed order
}

func newIndex(profile string, recs []*record.Record) *index {
	ix := &index{byKey: map[string]*record.Record{}, exp: map[string][]*record.Record{}}
	var keep []*record.Record
	for _, r := range recs {
		if r == nil || (r.Profile != "" && r.Profile != profile) {
			continue
		}
		keep = append(keep, r)
	}
	// Deterministic order whatever the caller's: by experiment, run, end time.
	slices.SortStableFunc(keep, func(a, b *record.Record) int {
		return cmp.Or(cmp.Compare(a.Experiment, b.Experiment), cmp.Compare(a.Run, b.Run), a.Provenance.End.Compare(b.Provenance.End))
	})
	for _, r := range keep {
		k := r.Experiment + "\x00" + r.Run
		if old, ok := ix.byKey[k]; ok {
			// Two records of one run: the later one wins.
			ix.exp[r.Experiment] = slices.DeleteFunc(ix.exp[r.Experiment], func(x *record.Record) bool { return x == old })
		}
		ix.byKey[k] = r
		ix.exp[r.Experiment] = append(ix.exp[r.Experiment], r)
	}
	var latest []*record.Record
	for _, e := range slices.Sorted(maps.Keys(ix.exp)) {
		latest = append(latest, ix.exp[e]...)
	}
	ix.groups = seedMembers(latest)
	for _, k := range slices.Sorted(maps.Keys(ix.groups)) {
		ms := ix.groups[k]
		var ok []*record.Record
		for _, m := range ms {
			if m.Status == record.StatusOK {
				ok = append(ok, m)
			}
		}
		e := ms[0].Experiment
		at := slices.Index(ix.exp[e], ms[0])
		ix.exp[e] = slices.DeleteFunc(ix.exp[e], func(r *record.Record) bool { return slices.Contains(ms, r) })
		if len(ok) > 0 {
			ix.exp[e] = slices.Insert(ix.exp[e], min(at, len(ix.exp[e])), aggregate(ms[0].Group, ok))
		}
	}
	return ix
}

// ok returns the experiment's records with status ok, in run-name order.
func (ix *index) ok(experiment string) []*record.Record {
	var out []*record.Record
	for _, r := range ix.exp[experiment] {
		if r.Status == record.StatusOK {
			out = append(out, r)
		}
	}
	return out
}

// lookup implements paper.SeedLookup over the index: one measurement for
// a run with one seed, one per seed for a run repeated over seeds. A run an
// experiment shares with others (`- use:`) is found under each of them: the
// harness writes its record into every experiment that uses it.
func (ix *index) lookup(experiment, run, metric string) ([]paper.Measurement, bool) {
	k := experiment + "\x00" + run
	if r := ix.byKey[k]; r != nil {
		return []paper.Measurement{measure(r, metric)}, true
	}
	ms := ix.groups[k]
	if len(ms) == 0 {
		return nil, false
	}
	out := make([]paper.Measurement, len(ms))
	for i, r := range ms {
		out[i] = measure(r, metric)
	}
	return out, true
}

// measure reads metric from one record.
func measure(r *record.Record, metric string) paper.Measurement {
	m := paper.Measurement{Seed: seedOf(r)}
	if r.Status != record.StatusOK { // paper's statuses are record's (skipped, failed)
		m.Status, m.Reason = r.Status, r.Error
		return m
	}
	v, err := metricValue(r, metric)
	switch {
	case errors.Is(err, errNoPoint):
		m.Status, m.Reason = paper.StatusNoPoint, err.Error()
	case err != nil:
		m.Status, m.Reason = paper.StatusNoMetric, err.Error()
	default:
		m.Value, m.Status, m.Reason = v, paper.StatusOK, dataNote(r)
	}
	return m
}

// errNoPoint: the series exists but was not measured at the requested x.
var errNoPoint = errors.New("not measured")

// metricValue resolves a plain metric or a series point (paper.SeriesRef).
func metricValue(r *record.Record, metric string) (float64, error) {
	ref, isSeries, err := paper.ParseSeriesRef(metric)
	if err != nil {
		return 0, err
	}
	if !isSeries {
		v, ok := r.Metric(metric)
		if !ok {
			return 0, fmt.Errorf("the record of %s/%s has no metric %s", r.Experiment, r.Run, metric)
		}
		return v, nil
	}
	found := false
	for _, s := range r.Series {
		if s.Name != ref.Name || !labelsMatch(s.Labels, ref.Labels) {
			continue
		}
		found = true
		for i, x := range s.X {
			if i < len(s.Y) && math.Abs(x-ref.X) <= 1e-9*math.Max(1, math.Abs(ref.X)) {
				return s.Y[i], nil
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("the record of %s/%s has no series %s with labels %v", r.Experiment, r.Run, ref.Name, ref.Labels)
	}
	return 0, fmt.Errorf("%w: the record of %s/%s: series %s %v has no point at x = %g", errNoPoint, r.Experiment, r.Run, ref.Name, ref.Labels, ref.X)
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// dataNote says when a record's data were the JPEG copy of CIFAR-10, as its
// dataset fingerprint or configuration records it.
func dataNote(r *record.Record) string {
	if strings.Contains(strings.ToLower(r.Provenance.Dataset), "jpeg") {
		return "measured on the JPEG copy of CIFAR-10"
	}
	if b, err := json.Marshal(r.Config); err == nil && strings.Contains(strings.ToLower(string(b)), "jpeg") {
		return "measured on the JPEG copy of CIFAR-10"
	}
	return ""
}

// trueField is the pendulum study's exact vector field, drawn next to the
// schemes; it is no tableau.
const trueField = "true"

// schemeLabel is a scheme's label in figures and tables: its tableau's
// (integrators is the one source of labels), the id of an unknown one.
func schemeLabel(id string) string {
	if id == trueField {
		return "True field"
	}
	if tab, err := integrators.Builtin(id); err == nil {
		return tab.Label()
	}
	return id
}

// schemeStages is the number of residual-unit evaluations per step of a
// scheme (its tableau's stages), 0 for an unknown one.
func schemeStages(id string) int {
	if tab, err := integrators.Builtin(id); err == nil {
		return tab.Stages()
	}
	return 0
}

// schemeOrder is the order of schemes in legends and tables.
var schemeOrder = []string{trueField, "euler", "midpoint", "rk4-classic", "rk4-38"}

func schemeRank(id string) int {
	if i := slices.Index(schemeOrder, id); i >= 0 {
		return i
	}
	return len(schemeOrder)
}

// runScheme returns the training scheme of a cifar-train record: its
// parameter "scheme" (config.params.scheme, as the harness writes it).
func runScheme(r *record.Record) string {
	s, _ := param(r, "scheme").(string)
	return s
}

// param returns the run parameter name of a record (config.params.name),
// nil when absent.
func param(r *record.Record, name string) any {
	params, _ := r.Config["params"].(map[string]any)
	return params[name]
}
