package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// Work is an amount of one class of work. It costs
// Items × PerItem + Units × PerUnit seconds, with the two costs taken from
// the cost model for the class, the kernel level and the thread count.
type Work struct {
	// Class is what the costs are measured for, e.g. "cifar-train" (SGD
	// steps) or "cifar-eval" (forward passes).
	Class string
	// Items is the images (or samples) processed: the part of the cost that
	// does not grow with the network's depth.
	Items float64
	// Units is items × the unit evaluations each one costs (for a
	// ContinuousNet: blocks × stages × steps).
	Units float64
	// Metric names the record metric that holds this part's measured
	// seconds (e.g. "train_seconds"); "" means the run's wall time less the
	// other parts' metrics.
	Metric string
	// KernelFree says the work does not run on nnlib's kernels (e.g. a
	// pure-Go float64 model): neither the kernel level nor nnlib's thread
	// count changes its cost, so its costs carry over unscaled.
	KernelFree bool
}

// WorkCounter is implemented by kinds whose work splits into classes whose
// per-unit costs are the same whatever the profile, so a cost model fitted
// on the runs of record of one profile estimates every profile. A kind that
// returns no parts does no work worth estimating.
type WorkCounter interface {
	WorkParts(p Params) []Work
}

// CostModel is the committed cost model of -plan: the seconds per item and
// per unit of each work class, fitted from the records of the runs of
// record, one entry per kernel level and thread count they ran with.
type CostModel struct {
	About string `json:"about"`
	// Records is the folder the model was fitted from, relative to the
	// repository root.
	Records  string         `json:"records"`
	Machines []*CostMachine `json:"machines"`
	// LevelFactors are run times relative to the avx512 level, each with
	// where the factor comes from. Fitting keeps them: they are written by
	// hand from a measurement.
	LevelFactors map[string]LevelFactor `json:"level_factors,omitempty"`
	// CPUNotes say more about a CPU than its model name does, keyed by
	// "<cpu model>/<kernel level>" (e.g. its family). Fitting keeps them.
	CPUNotes map[string]string `json:"cpu_notes,omitempty"`
}

// LevelFactor is a kernel level's run time relative to the avx512 level.
type LevelFactor struct {
	Factor float64 `json:"factor"`
	Source string  `json:"source"`
}

// CostMachine is the costs measured at one kernel level and thread count.
type CostMachine struct {
	Kernels   string                `json:"kernels"`
	Threads   int                   `json:"threads"`
	CPUModels []string              `json:"cpu_models"`
	Conv      []string              `json:"conv,omitempty"` // convolution algorithms recorded (older records name none)
	Commits   []string              `json:"commits"`
	From      string                `json:"from"` // dates (UTC) of the first and last record
	To        string                `json:"to"`
	Records   int                   `json:"records"`
	Classes   map[string]*ClassCost `json:"classes"`
}

// ClassCost is the fitted cost of one class of work.
type ClassCost struct {
	PerItem float64 `json:"seconds_per_item"`
	PerUnit float64 `json:"seconds_per_unit"`
	Samples int     `json:"samples"`   // measured parts it was fitted from
	MaxErr  float64 `json:"max_error"` // largest relative error of the fit on them
}

// ParseCostModel decodes a cost model file; name is for errors.
func ParseCostModel(name string, data []byte) (*CostModel, error) {
	var m CostModel
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v (refit it with `make costmodel`)", name, err)
	}
	for i, mc := range m.Machines {
		if mc == nil || mc.Kernels == "" || mc.Threads < 1 {
			return nil, fmt.Errorf("%s: machines[%d]: want a kernel level and threads ≥ 1 (refit it with `make costmodel`)", name, i)
		}
	}
	for lvl, f := range m.LevelFactors {
		if !(f.Factor > 0) || math.IsInf(f.Factor, 0) {
			return nil, fmt.Errorf("%s: level_factors.%s.factor: want a finite factor > 0, got %v", name, lvl, f.Factor)
		}
	}
	return &m, nil
}

// Marshal encodes the model as its committed file (indented, sorted keys,
// a final newline).
func (m *CostModel) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// costSample is one measured part of a record.
type costSample struct{ items, units, seconds float64 }

// FitCostModel fits a cost model to the records of kinds that count their
// work (WorkCounter): per kernel level and thread count and per class, the
// seconds per item and per unit that minimise the squared relative errors
// (both ≥ 0; when the two-term fit gives a negative one, the better of the
// one-term fits). The record's parameters are decoded leniently (fields
// added since it was written take their zero values), so records whose keys
// no longer match the specs still count. A run shared by several
// experiments counts once. prev's level factors and CPU notes are kept.
func FitCostModel(recs []*record.Record, recordsDir string, prev *CostModel) (*CostModel, error) {
	type group struct {
		m       *CostMachine
		samples map[string][]costSample
		cpus    map[string]bool
		conv    map[string]bool
		commits map[string]bool
	}
	groups := map[string]*group{}
	seen := map[string]bool{}
	for _, rec := range recs {
		pv := rec.Provenance
		if rec.Status != record.StatusOK || pv.Kernels == "" || pv.Threads < 1 || !(pv.WallSeconds > 0) {
			continue
		}
		id := rec.Key + "@" + pv.Start.String()
		if seen[id] {
			continue
		}
		k, ok := Lookup(rec.Kind)
		if !ok {
			continue
		}
		wc, ok := k.(WorkCounter)
		if !ok {
			continue
		}
		params := k.NewParams()
		raw, err := json.Marshal(rec.Config["params"])
		if err == nil {
			err = json.Unmarshal(raw, params)
		}
		if err != nil {
			return nil, fmt.Errorf("%s/%s: config.params: %v", rec.Experiment, rec.Run, err)
		}
		parts := wc.WorkParts(params)
		if len(parts) == 0 {
			continue
		}
		secs, ok := partSeconds(parts, rec)
		if !ok {
			continue
		}
		seen[id] = true
		gk := fmt.Sprintf("%s/%d", pv.Kernels, pv.Threads)
		g := groups[gk]
		if g == nil {
			g = &group{m: &CostMachine{Kernels: pv.Kernels, Threads: pv.Threads, Classes: map[string]*ClassCost{}},
				samples: map[string][]costSample{}, cpus: map[string]bool{}, conv: map[string]bool{}, commits: map[string]bool{}}
			groups[gk] = g
		}
		g.m.Records++
		g.cpus[pv.CPUModel] = true
		if pv.Conv != "" {
			g.conv[pv.Conv] = true
		}
		g.commits[short(pv.Commit)] = true
		day := pv.End.UTC().Format(time.DateOnly)
		if g.m.From == "" || day < g.m.From {
			g.m.From = day
		}
		if day > g.m.To {
			g.m.To = day
		}
		for i, p := range parts {
			if secs[i] > 0 && (p.Items > 0 || p.Units > 0) {
				g.samples[p.Class] = append(g.samples[p.Class], costSample{p.Items, p.Units, secs[i]})
			}
		}
	}
	m := &CostModel{
		About: "Seconds per item and per unit of work of each class, per kernel level and thread count, fitted from the " +
			"records of the runs of record by `make costmodel` (go run ./experiments -fit-costs); -plan estimates every " +
			"profile from it. See experiments/README.md, Estimates.",
		Records: recordsDir,
	}
	if prev != nil {
		m.LevelFactors, m.CPUNotes = prev.LevelFactors, prev.CPUNotes
	}
	for _, g := range groups {
		for class, s := range g.samples {
			g.m.Classes[class] = fitClass(s)
		}
		if len(g.m.Classes) == 0 {
			continue
		}
		g.m.CPUModels = sortedKeys(g.cpus)
		g.m.Conv = sortedKeys(g.conv)
		g.m.Commits = sortedKeys(g.commits)
		m.Machines = append(m.Machines, g.m)
	}
	sort.Slice(m.Machines, func(i, j int) bool {
		a, b := m.Machines[i], m.Machines[j]
		if a.Kernels != b.Kernels {
			return a.Kernels < b.Kernels
		}
		return a.Threads < b.Threads
	})
	return m, nil
}

// partSeconds splits a record's time over its work parts: a part with a
// Metric takes that metric, the part without one the wall time left.
func partSeconds(parts []Work, rec *record.Record) ([]float64, bool) {
	out := make([]float64, len(parts))
	rest, restAt := rec.Provenance.WallSeconds, -1
	for i, p := range parts {
		if p.Metric == "" {
			if restAt >= 0 {
				return nil, false // two parts without a metric cannot be told apart
			}
			restAt = i
			continue
		}
		v, ok := rec.Metrics[p.Metric]
		if !ok {
			return nil, false
		}
		out[i] = v
		rest -= v
	}
	if restAt >= 0 {
		out[restAt] = rest
	}
	return out, true
}

// fitClass fits seconds ≈ items·a + units·b minimising Σ((pred − t)/t)².
func fitClass(s []costSample) *ClassCost {
	var s11, s12, s22, r1, r2 float64
	for _, x := range s {
		x1, x2 := x.items/x.seconds, x.units/x.seconds
		s11, s12, s22 = s11+x1*x1, s12+x1*x2, s22+x2*x2
		r1, r2 = r1+x1, r2+x2
	}
	var a, b float64
	det := s11*s22 - s12*s12
	two := false
	if det > 1e-12*s11*s22 {
		a, b = (r1*s22-r2*s12)/det, (s11*r2-s12*r1)/det
		two = a >= 0 && b >= 0
	}
	if !two {
		// One term: the units alone, or the items alone, whichever fits better.
		a, b = 0, 0
		if s22 > 0 {
			b = r2 / s22
		}
		if s11 > 0 && (s22 == 0 || relSSE(s, r1/s11, 0) < relSSE(s, 0, b)) {
			a, b = r1/s11, 0
		}
	}
	c := &ClassCost{PerItem: a, PerUnit: b, Samples: len(s)}
	for _, x := range s {
		c.MaxErr = math.Max(c.MaxErr, math.Abs(x.items*a+x.units*b-x.seconds)/x.seconds)
	}
	c.PerItem, c.PerUnit, c.MaxErr = round6(c.PerItem), round6(c.PerUnit), math.Round(c.MaxErr*1000)/1000
	return c
}

func relSSE(s []costSample, a, b float64) float64 {
	sum := 0.0
	for _, x := range s {
		d := (x.items*a + x.units*b - x.seconds) / x.seconds
		sum += d * d
	}
	return sum
}

// round6 keeps 6 significant digits, so a refit from the same records
// writes the same file.
func round6(v float64) float64 {
	if v == 0 {
		return 0
	}
	e := math.Pow(10, 5-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*e) / e
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ModelEstimate is the cost model's estimate of one run.
type ModelEstimate struct {
	Seconds float64
	Machine *CostMachine // the entry it used; nil for a run without work
	// Note says how the entry's costs were carried over to this machine
	// ("" when measured at its kernel level and thread count).
	Note string
}

// Estimate returns the time of work run with threads nnlib threads at
// kernel level level, and false when no entry of the model has every
// class of work. It prefers an entry of the same level, then the nearest
// thread count. Costs measured on more threads are scaled up linearly,
// costs measured on fewer are not scaled down (both are upper bounds, safe
// for a scheduler's time limit). Costs of another level are scaled by the
// ratio of the two levels' factors when both are known; otherwise they are
// used as they are and the note says so. Work that is all KernelFree takes
// the first entry that measured its classes, unscaled.
func (m *CostModel) Estimate(work []Work, level string, threads int) (ModelEstimate, bool) {
	if m == nil {
		return ModelEstimate{}, false
	}
	threads = max(1, threads)
	need := []string{}
	free := true
	for _, w := range work {
		if w.Items > 0 || w.Units > 0 {
			need = append(need, w.Class)
			free = free && w.KernelFree
		}
	}
	if len(need) == 0 {
		return ModelEstimate{}, true
	}
	var best *CostMachine
	score := func(mc *CostMachine) float64 {
		if free {
			return 0 // any entry measures it: the first one
		}
		s := math.Abs(math.Log(float64(mc.Threads) / float64(threads)))
		if mc.Kernels != level {
			s += 1000
		}
		return s
	}
	for _, mc := range m.Machines {
		ok := true
		for _, c := range need {
			if mc.Classes[c] == nil {
				ok = false
				break
			}
		}
		if ok && (best == nil || score(mc) < score(best)) {
			best = mc
		}
	}
	if best == nil {
		return ModelEstimate{}, false
	}
	e := ModelEstimate{Machine: best}
	for _, w := range work {
		if c := best.Classes[w.Class]; c != nil {
			e.Seconds += w.Items*c.PerItem + w.Units*c.PerUnit
		}
	}
	if free {
		return e, true
	}
	var notes []string
	switch {
	case threads < best.Threads:
		e.Seconds *= float64(best.Threads) / float64(threads)
		notes = append(notes, fmt.Sprintf("measured on %d threads, scaled ×%d/%d to %d", best.Threads, best.Threads, threads, threads))
	case threads > best.Threads:
		notes = append(notes, fmt.Sprintf("measured on %d threads, no speed-up credited for %d", best.Threads, threads))
	}
	if best.Kernels != level {
		to, okTo := m.factor(level)
		from, okFrom := m.factor(best.Kernels)
		if okTo && okFrom {
			e.Seconds *= to.Factor / from.Factor
			notes = append(notes, fmt.Sprintf("measured with kernels %s, scaled ×%.2g for this machine's %s (%s)", best.Kernels, to.Factor/from.Factor, level, to.Source))
		} else {
			notes = append(notes, fmt.Sprintf("measured with kernels %s; this machine runs %s, for which no factor is known: not scaled", best.Kernels, level))
		}
	}
	e.Note = strings.Join(notes, "; ")
	return e, true
}

// factor is a level's factor; avx512 is the reference (1) unless written.
func (m *CostModel) factor(level string) (LevelFactor, bool) {
	if f, ok := m.LevelFactors[level]; ok {
		return f, true
	}
	if level == "avx512" {
		return LevelFactor{Factor: 1, Source: "the reference"}, true
	}
	return LevelFactor{}, false
}

// Describe says where a machine entry was measured: "AMD EPYC (Zen 5),
// kernels avx512, 2 threads, 11 records, commit 9fd107b, 2026-11-29".
func (m *CostModel) Describe(mc *CostMachine) string {
	var cpus []string
	for _, c := range mc.CPUModels {
		if n := m.CPUNotes[c+"/"+mc.Kernels]; n != "" {
			c += " (" + n + ")"
		}
		cpus = append(cpus, c)
	}
	s := fmt.Sprintf("%s, kernels %s", strings.Join(cpus, " + "), mc.Kernels)
	if len(mc.Conv) > 0 {
		s += ", conv " + strings.Join(mc.Conv, " + ")
	}
	threads := "threads"
	if mc.Threads == 1 {
		threads = "thread"
	}
	commits := "commit"
	if len(mc.Commits) > 1 {
		commits += "s"
	}
	var short7 []string
	for _, c := range mc.Commits {
		short7 = append(short7, c[:min(7, len(c))])
	}
	days := mc.From
	if mc.To != mc.From {
		days += "–" + mc.To
	}
	records := "records"
	if mc.Records == 1 {
		records = "record"
	}
	return fmt.Sprintf("%s, %d %s, %d %s, %s %s, %s", s, mc.Threads, threads, mc.Records, records, commits, strings.Join(short7, " "), days)
}

// FormatEstimate writes a duration as a plan shows it: "< 1 s", "≈ 45 s",
// "≈ 12 min", "≈ 3.4 h", "≈ 30 h", "≈ 250 h (10.4 days)".
func FormatEstimate(d time.Duration) string {
	switch {
	case d < time.Second:
		return "< 1 s"
	case d < 90*time.Second:
		return fmt.Sprintf("≈ %.0f s", d.Seconds())
	case d < 90*time.Minute:
		return fmt.Sprintf("≈ %.0f min", d.Minutes())
	case d < 10*time.Hour:
		return fmt.Sprintf("≈ %.1f h", d.Hours())
	case d < 48*time.Hour:
		return fmt.Sprintf("≈ %.0f h", d.Hours())
	}
	return fmt.Sprintf("≈ %.0f h (%.1f days)", d.Hours(), d.Hours()/24)
}
