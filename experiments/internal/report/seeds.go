package report

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/paper"
)

// A run that the spec repeats over seeds has one record per seed, each with
// record.Group set. Tables and figures show a group as one record whose
// metrics and series points are the means over the seeds that ran (status
// ok), with the spread beside them: metric NAME has NAME.sd, NAME.min,
// NAME.max and NAME.n (the seeds averaged), and series NAME has NAME.min and
// NAME.max with the same labels and X. A metric or point missing from a
// seed is averaged over the others (NAME.n says how many).

// Suffixes of the spread of a metric or series in an aggregated record.
const (
	sfxSD  = ".sd"
	sfxMin = ".min"
	sfxMax = ".max"
	sfxN   = ".n"
)

// aggregate returns one record standing for members (the ok records of one
// group, in seed order): Run is the group, Config and Kind are the first
// member's, Provenance lists every seed.
func aggregate(group string, members []*record.Record) *record.Record {
	first := members[0]
	out := &record.Record{Schema: first.Schema, Experiment: first.Experiment, Run: group, Group: group, Kind: first.Kind,
		Key: first.Key, Profile: first.Profile, Config: first.Config, Status: record.StatusOK, Metrics: map[string]float64{},
		Provenance: first.Provenance}
	out.Provenance.Seeds = nil
	var names []string
	for _, m := range members {
		out.Provenance.Seeds = append(out.Provenance.Seeds, m.Provenance.Seeds...)
		for k := range m.Metrics {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	for _, k := range names {
		vals := make([]float64, 0, len(members))
		for _, m := range members {
			if v, ok := m.Metrics[k]; ok {
				vals = append(vals, v)
			}
		}
		s := paper.Stats(vals)
		out.Metrics[k], out.Metrics[k+sfxSD], out.Metrics[k+sfxMin], out.Metrics[k+sfxMax], out.Metrics[k+sfxN] =
			s.Mean, s.SD, s.Min, s.Max, float64(s.N)
	}
	for _, s := range first.Series {
		mean, lo, hi := s, s, s
		mean.X, mean.Y, lo.X, lo.Y, hi.X, hi.Y = nil, nil, nil, nil, nil, nil
		lo.Name, hi.Name = s.Name+sfxMin, s.Name+sfxMax
		for i, x := range s.X {
			var ys []float64
			for _, m := range members {
				if y, ok := pointOf(m, &s, x, i); ok {
					ys = append(ys, y)
				}
			}
			st := paper.Stats(ys)
			mean.X, mean.Y = append(mean.X, x), append(mean.Y, st.Mean)
			lo.X, lo.Y = append(lo.X, x), append(lo.Y, st.Min)
			hi.X, hi.Y = append(hi.X, x), append(hi.Y, st.Max)
		}
		out.Series = append(out.Series, mean)
		if len(members) > 1 {
			out.Series = append(out.Series, lo, hi)
		}
	}
	return out
}

// pointOf returns the Y of m's series like s (name and labels) at x; i is
// where s holds x, tried first (members usually share their X).
func pointOf(m *record.Record, s *record.Series, x float64, i int) (float64, bool) {
	for _, q := range m.Series {
		if q.Name != s.Name || !sameLabels(q.Labels, s.Labels) {
			continue
		}
		if i < len(q.X) && i < len(q.Y) && q.X[i] == x {
			return q.Y[i], true
		}
		for j := range q.X {
			if q.X[j] == x && j < len(q.Y) {
				return q.Y[j], true
			}
		}
	}
	return 0, false
}

// sameLabels reports whether two series carry exactly the same labels.
func sameLabels(a, b map[string]string) bool { return len(a) == len(b) && labelsMatch(a, b) }

// band returns the min and max series beside series s of an aggregated
// record (nil when r is not one, or has one seed).
func band(r *record.Record, s *record.Series) (lo, hi []float64) {
	for _, q := range r.Series {
		if !sameLabels(q.Labels, s.Labels) {
			continue
		}
		switch q.Name {
		case s.Name + sfxMin:
			lo = q.Y
		case s.Name + sfxMax:
			hi = q.Y
		}
	}
	if len(lo) != len(s.Y) || len(hi) != len(s.Y) {
		return nil, nil
	}
	return lo, hi
}

// spreadText formats metric name of r with f, as "mean ± sd (n)" when r
// aggregates several seeds.
func spreadText(r *record.Record, name string, f func(float64) string) string {
	v := metricOr(r.Metrics, name)
	n, ok := r.Metrics[name+sfxN]
	if !ok || n < 2 {
		return f(v)
	}
	return paper.FormatSpread(paper.Spread{N: int(n), Mean: v, SD: r.Metrics[name+sfxSD]}, f, "")
}

// seedMembers groups the records of runs repeated over seeds: key
// experiment + "\x00" + group, members in seed order.
func seedMembers(recs []*record.Record) map[string][]*record.Record {
	out := map[string][]*record.Record{}
	for _, r := range recs {
		if r.Group != "" {
			k := r.Experiment + "\x00" + r.Group
			out[k] = append(out[k], r)
		}
	}
	for _, ms := range out {
		slices.SortStableFunc(ms, func(a, b *record.Record) int { return cmp.Compare(seedOf(a), seedOf(b)) })
	}
	return out
}

// seedOf is the seed a record was computed with.
func seedOf(r *record.Record) uint64 {
	if len(r.Provenance.Seeds) > 0 {
		return r.Provenance.Seeds[0]
	}
	return 0
}

// perSeedTable lists every metric of every seed of every group: the
// per-seed values behind the tables' means.
func perSeedTable(groups map[string][]*record.Record) *table {
	t := &table{header: []string{"experiment", "run", "seed", "status", "metric", "value"}}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, r := range groups[k] {
			names := make([]string, 0, len(r.Metrics))
			for n := range r.Metrics {
				names = append(names, n)
			}
			slices.Sort(names)
			seed := strconv.FormatUint(seedOf(r), 10)
			if len(names) == 0 {
				t.add(r.Experiment, r.Group, seed, r.Status, "", "")
			}
			for _, n := range names {
				t.add(r.Experiment, r.Group, seed, r.Status, n, strconv.FormatFloat(r.Metrics[n], 'g', -1, 64))
			}
		}
	}
	return t
}
