package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// ---- extensions (opt-in, beyond the paper's claims: no verdicts) ----

// noVerdicts opens the notes of every extensions table.
const noVerdicts = "No verdict criteria: the paper reports no numbers for this, so the table describes and judges nothing."

// genExtensions writes the tables of the extensions experiment:
// extensions-coarsening (θ-coarsening against Nt-coarsening) and
// extensions-basis (piecewise-linear against piecewise-constant θ(t)).
func genExtensions(ix *index, w *writer, o Options) {
	recs := ix.ok(expExtensions)
	if t := thetaCoarseningTable(recs); t != nil {
		w.table(o.ResultsDir, "extensions-coarsening", t)
	}
	if t := basisTable(recs); t != nil {
		w.table(o.ResultsDir, "extensions-basis", t)
	}
}

// thetaLabel is the "theta" label of a cifar-theta-coarsen series for
// tables: the trained θ(t), or θ-coarsened by a mode.
func thetaLabel(theta string) string {
	if theta == "trained" {
		return "trained"
	}
	return "θ-coarsened (" + theta + ")"
}

// coarseningKind names what a row of the θ-coarsening table does to the
// trained net: θ(t) of k pieces (trainedK when not θ-coarsened) at nt steps.
func coarseningKind(thetaCoarsened bool, k, nt, trainedK float64) string {
	var parts []string
	if thetaCoarsened {
		parts = append(parts, "θ-coarsening")
	}
	switch {
	case nt < k:
		parts = append(parts, "Nt-coarsening")
	case nt > k:
		parts = append(parts, "finer Nt")
	}
	if len(parts) == 0 {
		if k == trainedK {
			return "none (training manifestation)"
		}
		return "none"
	}
	return strings.Join(parts, " + ")
}

// thetaCoarseningTable compares, Nt by Nt, the trained net with its
// θ-coarsened copies, from the record of the experiment's
// cifar-theta-coarsen run; nil when there is none.
func thetaCoarseningTable(recs []*record.Record) *table {
	i := slices.IndexFunc(recs, func(r *record.Record) bool { return r.Kind == "cifar-theta-coarsen" })
	if i < 0 {
		return nil
	}
	rec := recs[i]
	acc := seriesNamed([]*record.Record{rec}, "accuracy")
	if len(acc) == 0 {
		return nil
	}
	ms := seriesNamed([]*record.Record{rec}, "infer_ms_per_image")
	msOf := func(l labelled, x float64) float64 {
		for _, m := range ms {
			if sameLabels(m.s.Labels, l.s.Labels) {
				if j := slices.Index(m.s.X, x); j >= 0 && j < len(m.s.Y) {
					return m.s.Y[j]
				}
			}
		}
		return math.NaN()
	}
	trainedK := metricOr(rec.Metrics, "final_k")
	// Reference: the trained net at its training manifestation, Nt = K.
	refAcc, refMs := math.NaN(), math.NaN()
	for _, l := range acc {
		if j := slices.Index(l.s.X, trainedK); l.s.Labels["theta"] == "trained" && j >= 0 {
			refAcc, refMs = l.s.Y[j], msOf(l, trainedK)
		}
	}
	type row struct {
		l  labelled
		nt float64
		y  float64
	}
	var rows []row
	for _, l := range acc {
		for j, x := range l.s.X {
			rows = append(rows, row{l, x, l.s.Y[j]})
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.nt, b.nt) })
	eval := acc[0].s.Labels["eval"]
	t := &table{title: "Extensions: θ-coarsening vs Nt-coarsening (" + strings.TrimPrefix(rec.Run, "theta-coarsen/") + ", " + schemeLabel(eval) + ")",
		header: []string{"Nt", "θ(t)", "K", "coarsening", "units per block", "params", "accuracy (%)", "Δ accuracy (pts)", "ms / image", "speed-up"}}
	for _, r := range rows {
		theta := r.l.s.Labels["theta"]
		coarsened := theta != "trained"
		k := lastNumber(r.l.s.Labels["k"])
		params := metricOr(rec.Metrics, "params")
		if coarsened {
			params = metricOr(rec.Metrics, "coarse_params")
		}
		m := msOf(r.l, r.nt)
		t.add(num(r.nt), thetaLabel(theta), num(k), coarseningKind(coarsened, k, r.nt, trainedK),
			num(float64(schemeStages(eval))*r.nt), num(params), pct(r.y), fixed(100*(r.y-refAcc), 2), fixed(m, 3), fixed(refMs/m, 2)+"×")
	}
	t.notes = []string{noVerdicts,
		"θ-coarsening: odenet's Net.Coarsen projects the trained θ(t) from K to K/2 pieces (average: θ_k = (θ_2k + θ_2k+1)/2;",
		"sample: θ_k = θ_2k). Nt-coarsening: the same θ(t) integrated with fewer steps (what the coarsening experiment measures).",
		fmt.Sprintf("Reference: the trained net at Nt = K = %s (accuracy %s %%, %s ms / image); Δ accuracy and speed-up are relative to it;",
			num(trainedK), pct(refAcc), fixed(refMs, 3)),
		"units per block = stages × Nt residual-unit evaluations.",
	}
	if n := seedCount(rec); n > 1 {
		t.notes = append(t.notes, fmt.Sprintf("Means over %d seeds.", n))
	}
	if note := dataNote(rec); note != "" {
		t.notes = append(t.notes, "Accuracies "+note+".")
	}
	return t
}

// runBasis is the basis of θ(t) of a cifar-train record: its parameter
// "basis", absent for the paper's piecewise-constant one.
func runBasis(r *record.Record) string {
	if b, _ := param(r, "basis").(string); b != "" {
		return b
	}
	return "piecewise-constant"
}

// basisTable compares the experiment's nets trained at a fixed K by their
// basis of θ(t), piecewise-constant first; nil unless a piecewise-linear one
// is among them.
func basisTable(recs []*record.Record) *table {
	var runs []*record.Record
	for _, r := range recs {
		if r.Kind == "cifar-train" && !isRefined(r) {
			runs = append(runs, r)
		}
	}
	if !slices.ContainsFunc(runs, func(r *record.Record) bool { return runBasis(r) == "piecewise-linear" }) {
		return nil
	}
	slices.SortStableFunc(runs, func(a, b *record.Record) int { return cmp.Compare(runBasis(a), runBasis(b)) })
	var ref *record.Record
	if runBasis(runs[0]) == "piecewise-constant" {
		ref = runs[0]
	}
	t := &table{title: "Extensions: the piecewise-linear basis of θ(t) (CIFAR-10)",
		header: []string{"model", "scheme", "basis", "K", "params", "acc max (%)", "acc final (%)", "acc full test (%)",
			"train time (min)", "unit evaluations", "time vs piecewise-constant"}}
	for _, r := range runs {
		m := r.Metrics
		rel := "–"
		if r == ref {
			rel = "reference"
		} else if ref != nil {
			rel = fixed(metricOr(m, "train_seconds")/metricOr(ref.Metrics, "train_seconds"), 2) + "×"
		}
		t.add(append([]string{strings.TrimPrefix(r.Run, "train/"), schemeLabel(runScheme(r)), runBasis(r), num(metricOr(m, "final_k")), num(metricOr(m, "params"))},
			append(trainingCells(r), rel)...)...)
	}
	t.notes = append([]string{noVerdicts,
		"piecewise-linear: K + 1 nodal values of the convolutions and SkipInit scalars, θ(t) linear in between (a stage between",
		"two nodes evaluates its convolutions at both); BatchNorm stays piecewise-constant. Every other setting is the same.",
		"Unit evaluations: residual-unit evaluations during training, whatever each one's convolutions cost.",
	}, trainingNotes(runs[0], "the time ratio")...)
	return t
}
