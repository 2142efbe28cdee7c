package report

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// Each row of the θ-coarsening table names what was done to the trained
// net, so the two coarsenings are never confused.
func TestCoarseningKind(t *testing.T) {
	tests := []struct {
		theta     bool
		k, nt, k0 float64
		want      string
	}{
		{false, 4, 4, 4, "none (training manifestation)"},
		{false, 4, 2, 4, "Nt-coarsening"},
		{false, 4, 8, 4, "finer Nt"},
		{true, 2, 2, 4, "θ-coarsening"},
		{true, 2, 1, 4, "θ-coarsening + Nt-coarsening"},
		{true, 2, 4, 4, "θ-coarsening + finer Nt"},
	}
	for _, tt := range tests {
		if got := coarseningKind(tt.theta, tt.k, tt.nt, tt.k0); got != tt.want {
			t.Errorf("coarseningKind(%v, K=%v, Nt=%v) = %q, want %q", tt.theta, tt.k, tt.nt, got, tt.want)
		}
	}
}

// The extensions tables appear only with the records they compare: no
// θ-coarsening record, no θ-coarsening table; no piecewise-linear net, no
// basis table. Summary.Tables lists each experiment's Markdown tables, and
// the extensions tables' notes say there are no verdicts.
func TestExtensionsTablesNeedTheirRecords(t *testing.T) {
	all := readRecords(t)
	drop := func(group string) []*record.Record {
		return slices.DeleteFunc(slices.Clone(all), func(r *record.Record) bool { return r.Experiment == expExtensions && r.Group == group })
	}
	tests := []struct {
		name string
		recs []*record.Record
		want []string
	}{
		{"all", all, []string{"extensions-basis.md", "extensions-coarsening.md"}},
		{"no θ-coarsening", drop("theta-coarsen/rk4-classic-refined"), []string{"extensions-basis.md"}},
		{"no linear net", drop("train/rk4-classic-linear"), []string{"extensions-coarsening.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := regenerate(t, "quick", tt.recs)
			var got []string
			for _, f := range s.Tables[expExtensions] {
				if !slices.Contains(s.Files, f) {
					t.Errorf("%s: in Summary.Tables, not in Summary.Files", f)
				}
				got = append(got, filepath.Base(f))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("tables %v, want %v", got, tt.want)
			}
			if got := s.Tables[expCoarsening]; len(got) != 1 || filepath.Base(got[0]) != "coarsening.md" {
				t.Errorf("coarsening tables %v, want coarsening.md", got)
			}
		})
	}
	for _, tab := range []*table{thetaCoarseningTable(newIndex("quick", all).ok(expExtensions)), basisTable(newIndex("quick", all).ok(expExtensions))} {
		if tab == nil || len(tab.notes) == 0 || tab.notes[0] != noVerdicts {
			t.Errorf("table %v: notes do not open with %q", tab, noVerdicts)
		}
	}
}
