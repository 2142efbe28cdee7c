package harness

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// The committed records are the reference of a reproduction, not a cache:
// every run a fresh clone computes is compared with the record it replaces
// under results/, when that record has the same key, and the comparison is
// reported (and written to results/reproduction.md by the command).

// Reproduction is the comparison of one recomputed record with the
// committed one.
type Reproduction struct {
	Target    string   // experiment/run
	Identical bool     // every metric and series point equal, timings aside
	Deltas    []string // what differs, one line each
	// Uncompared says why there was nothing to compare with ("no
	// committed record", "the committed record has another key: ..."),
	// empty when there was.
	Uncompared string
}

// isTiming reports whether a metric or series measures time
// ("train_seconds", "train_seconds/euler", "scratch_over_refined_time",
// "infer_ms_per_image"): those differ between any two runs and are left out
// of the comparison.
func isTiming(name string) bool {
	return strings.Contains(name, "_seconds") || strings.HasSuffix(name, "_time") || strings.Contains(name, "ms_per")
}

// compareCommitted compares rec, just computed for u, with the committed
// record of each of u's targets that has u's key, and says for each other
// target why it was not compared.
func (e *executor) compareCommitted(u *Unit, rec *record.Record) {
	for _, t := range u.Targets {
		r := Reproduction{Target: t.Name()}
		old, err := record.Read(RecordPath(e.opt.ResultsDir, t.Experiment, t.Run.Name))
		switch {
		case err != nil:
			r.Uncompared = "no committed record"
		case old.Key != u.Key:
			r.Uncompared = "the committed record has another key (its settings, data or code version differ)"
		case old.Status != record.StatusOK:
			r.Uncompared = "the committed record has status " + old.Status
		default:
			r.Deltas = diffRecords(old, rec)
			r.Identical = len(r.Deltas) == 0
		}
		e.mu.Lock()
		e.sum.Reproduced = append(e.sum.Reproduced, r)
		e.mu.Unlock()
	}
}

// diffRecords lists the metrics and series points in which b differs from
// a, timings aside.
func diffRecords(a, b *record.Record) []string {
	var out []string
	var names []string
	for n := range a.Metrics {
		names = append(names, n)
	}
	for n := range b.Metrics {
		if _, ok := a.Metrics[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if isTiming(n) {
			continue
		}
		x, okA := a.Metrics[n]
		y, okB := b.Metrics[n]
		switch {
		case !okA:
			out = append(out, fmt.Sprintf("metric %s: new (%g)", n, y))
		case !okB:
			out = append(out, fmt.Sprintf("metric %s: gone (was %g)", n, x))
		case x != y:
			out = append(out, fmt.Sprintf("metric %s: committed %g, now %g (Δ %+.3g)", n, x, y, y-x))
		}
	}
	for _, s := range a.Series {
		if isTiming(s.Name) {
			continue
		}
		q := findSeries(b, &s)
		if q == nil {
			out = append(out, "series "+seriesLabel(&s)+": gone")
			continue
		}
		if len(s.X) != len(q.X) || len(s.Y) != len(q.Y) {
			out = append(out, fmt.Sprintf("series %s: %d points committed, %d now", seriesLabel(&s), len(s.Y), len(q.Y)))
			continue
		}
		diff, maxAbs := 0, 0.0
		for i := range s.Y {
			switch {
			case i >= len(s.X) || s.X[i] != q.X[i]:
				diff++
				maxAbs = math.Inf(1)
			case s.Y[i] != q.Y[i]:
				diff++
				maxAbs = math.Max(maxAbs, math.Abs(s.Y[i]-q.Y[i]))
			}
		}
		switch {
		case diff > 0 && math.IsInf(maxAbs, 1):
			out = append(out, fmt.Sprintf("series %s: %d of %d points differ, at other x", seriesLabel(&s), diff, len(s.Y)))
		case diff > 0:
			out = append(out, fmt.Sprintf("series %s: %d of %d points differ, max |Δ| %.3g", seriesLabel(&s), diff, len(s.Y), maxAbs))
		}
	}
	for _, q := range b.Series {
		if !isTiming(q.Name) && findSeries(a, &q) == nil {
			out = append(out, fmt.Sprintf("series %s: new (%d points)", seriesLabel(&q), len(q.Y)))
		}
	}
	return out
}

func findSeries(r *record.Record, s *record.Series) *record.Series {
	for i := range r.Series {
		q := &r.Series[i]
		if q.Name == s.Name && fmt.Sprint(q.Labels) == fmt.Sprint(s.Labels) {
			return q
		}
	}
	return nil
}

// seriesLabel names a series with its labels in key order, e.g.
// "accuracy{eval=euler, train=rk4-classic}".
func seriesLabel(s *record.Series) string {
	if len(s.Labels) == 0 {
		return s.Name
	}
	keys := slices.Sorted(maps.Keys(s.Labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s.Labels[k]
	}
	return s.Name + "{" + strings.Join(parts, ", ") + "}"
}

// ReproductionReport is the Markdown of results/reproduction.md.
func ReproductionReport(rs []Reproduction) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Reproduction of the committed records\n\n%s\n", ReproductionLine(rs))
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(x, y Reproduction) int { return strings.Compare(x.Target, y.Target) })
	for _, r := range rs {
		switch {
		case r.Uncompared != "":
			fmt.Fprintf(&b, "\n- `%s`: not compared, %s\n", r.Target, r.Uncompared)
			continue
		case r.Identical:
			fmt.Fprintf(&b, "\n- `%s`: identical\n", r.Target)
			continue
		}
		fmt.Fprintf(&b, "\n- `%s`: differs\n", r.Target)
		for _, d := range r.Deltas {
			fmt.Fprintf(&b, "  - %s\n", d)
		}
	}
	b.WriteString("\nTimings (metrics named *_seconds* or *_time, ms-per series) are left out: they differ between any two runs.\n")
	return []byte(b.String())
}

// ReproductionLine is the one-line verdict of a reproduction.
func ReproductionLine(rs []Reproduction) string {
	same, uncompared := 0, 0
	for _, r := range rs {
		switch {
		case r.Uncompared != "":
			uncompared++
		case r.Identical:
			same++
		}
	}
	s := fmt.Sprintf("reproduction: %d of %d recomputed records identical to the committed ones (timings aside)", same, len(rs)-uncompared)
	if uncompared > 0 {
		s += fmt.Sprintf("; %d without a committed record of the same key", uncompared)
	}
	return s
}

// WriteReproduction writes results/reproduction.md atomically.
func WriteReproduction(resultsDir string, rs []Reproduction) error {
	return record.WriteFileAtomic(filepath.Join(resultsDir, "reproduction.md"), ReproductionReport(rs))
}
