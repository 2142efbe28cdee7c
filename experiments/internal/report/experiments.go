package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/paper"
)

// trainedColor is the colour of a pendulum model by the scheme it was
// trained in ("true" is the exact vector field).
var trainedColor = map[string]color.Color{"true": colBlack, "euler": colVerm, "rk4-38": colBlue}

// runPalette colours training runs in the loss figure.
var runPalette = []color.Color{colVerm, colBlue, colOrange, colGreen, colPurple, colSky, colBlack}

// labelled is a series with the record it came from.
type labelled struct {
	rec *record.Record
	s   *record.Series
}

// seriesNamed returns every series called name in recs, in record order.
func seriesNamed(recs []*record.Record, name string) []labelled {
	var out []labelled
	for _, r := range recs {
		for i := range r.Series {
			if r.Series[i].Name == name && len(r.Series[i].X) > 0 {
				out = append(out, labelled{r, &r.Series[i]})
			}
		}
	}
	return out
}

// ---- figure3: the pendulum convergence test (claim a) ----

func genFigure3(ix *index, w *writer, o Options) {
	recs := ix.ok(expIntegrators)
	if errs := seriesNamed(recs, "error"); len(errs) > 0 {
		w.figure(o.FiguresDir, "figure3", [][]*plot.Plot{{convergencePlot(w, errs,
			"Figure 3: pendulum convergence test", "error ‖X − X_exact‖_F / n_t (rad, rad/s)")}}, 9.5*vg.Inch, 6*vg.Inch, 2.4*vg.Inch, nil)
	}
	if errs := seriesNamed(recs, "error_unbiased"); len(errs) > 0 {
		w.figure(o.FiguresDir, "figure3-unbiased", [][]*plot.Plot{{convergencePlot(w, errs,
			"Pendulum convergence test, bias-free error", "error ‖X − X_exact‖_F / √n_t (rad, rad/s)")}}, 9.5*vg.Inch, 6*vg.Inch, 2.4*vg.Inch, nil)
	}
	if trajs := seriesNamed(recs, "trajectory"); len(trajs) > 0 {
		if grid := trajectoryGrid(w, trajs, seriesNamed(recs, "exact")); grid != nil {
			head := grid[0][0].Legend
			grid[0][0].Legend = plot.NewLegend()
			w.figure(o.FiguresDir, "figure3-trajectories", grid, vg.Length(len(grid[0]))*3.3*vg.Inch, vg.Length(len(grid))*2.6*vg.Inch+0.7*vg.Inch, 0, &head)
		}
	}
	if t := oscillatorTable(recs); t != nil {
		w.table(o.ResultsDir, "oscillator", t)
	}
}

// convergencePlot draws error vs h on log-log axes: one curve per (trained
// model, inference scheme), the true field in black, and a dashed marker at
// the training step h = 1.
func convergencePlot(w *writer, errs []labelled, title, ylabel string) *plot.Plot {
	slices.SortStableFunc(errs, func(a, b labelled) int {
		return cmp.Or(cmp.Compare(schemeRank(a.s.Labels["train"]), schemeRank(b.s.Labels["train"])),
			cmp.Compare(schemeRank(a.s.Labels["eval"]), schemeRank(b.s.Labels["eval"])))
	})
	p := newPlot(title, "step scaling h = Δt / Δt_train (Δt_train ≈ 0.01 s)", ylabel, true, true)
	p.Legend.Left = true
	var cs []curve
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, l := range errs {
		tr, ev := l.s.Labels["train"], l.s.Labels["eval"]
		c := curve{label: trainedName(tr) + " → " + schemeLabel(ev), xs: l.s.X, ys: l.s.Y,
			color: trainedColor[tr], dashes: schemeDash[ev], glyph: schemeGlyph[ev]}
		if c.color == nil {
			c.color = colPurple
		}
		if tr == "true" {
			c.width = vg.Points(1)
		}
		cs = append(cs, c)
		for _, y := range l.s.Y {
			if y > 0 && !math.IsInf(y, 0) {
				ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
			}
		}
	}
	if err := addCurves(p, true, true, cs); err != nil && w.err == nil {
		w.err = fmt.Errorf("report: figure3: %w", err)
	}
	if ymin < ymax {
		if _, err := vline(p, 0, math.Log10(ymin), math.Log10(ymax), nil, "training step (h = 1)"); err != nil && w.err == nil {
			w.err = err
		}
	}
	return p
}

func trainedName(id string) string {
	if id == "true" {
		return "true field"
	}
	return schemeLabel(id) + "-trained"
}

// trajectoryGrid draws θ(t) of each trained model against the exact
// solution: one row per step scaling h, one column per inference scheme.
func trajectoryGrid(w *writer, trajs, exact []labelled) [][]*plot.Plot {
	comp := "theta"
	if !slices.ContainsFunc(trajs, func(l labelled) bool { return l.s.Labels["component"] == comp }) {
		comp = trajs[0].s.Labels["component"]
	}
	var hs []float64
	var evals []string
	hText := map[float64]string{}
	for _, l := range trajs {
		if l.s.Labels["component"] != comp {
			continue
		}
		h, err := strconv.ParseFloat(l.s.Labels["h"], 64)
		if err != nil {
			continue
		}
		if !slices.Contains(hs, h) {
			hs = append(hs, h)
			hText[h] = l.s.Labels["h"]
		}
		if ev := l.s.Labels["eval"]; !slices.Contains(evals, ev) {
			evals = append(evals, ev)
		}
	}
	if len(hs) == 0 {
		return nil
	}
	slices.Sort(hs)
	slices.SortFunc(evals, func(a, b string) int { return cmp.Compare(schemeRank(a), schemeRank(b)) })
	unit := map[string]string{"theta": "θ (rad)", "v": "v (rad/s)"}[comp]
	if unit == "" {
		unit = comp
	}
	grid := make([][]*plot.Plot, len(hs))
	for r, h := range hs {
		grid[r] = make([]*plot.Plot, len(evals))
		for k, ev := range evals {
			p := newPlot(fmt.Sprintf("%s inference, h = %s", schemeLabel(ev), hText[h]), "t (s)", unit, false, false)
			p.Legend.Top = false
			var cs []curve
			for _, e := range exact {
				if e.s.Labels["component"] == comp {
					cs = append(cs, curve{label: "exact", xs: e.s.X, ys: e.s.Y, color: colBlack, width: vg.Points(2.5)})
					break
				}
			}
			for _, l := range trajs {
				if l.s.Labels["component"] != comp || l.s.Labels["eval"] != ev || l.s.Labels["h"] != hText[h] {
					continue
				}
				tr := l.s.Labels["train"]
				c := curve{label: trainedName(tr), xs: l.s.X, ys: l.s.Y, color: trainedColor[tr], dashes: schemeDash["midpoint"]}
				if c.color == nil {
					c.color = colPurple
				}
				cs = append(cs, c)
			}
			if r != 0 || k != 0 {
				for i := range cs {
					cs[i].label = "" // one legend, in the first panel
				}
			}
			if err := addCurves(p, false, false, cs); err != nil && w.err == nil {
				w.err = fmt.Errorf("report: figure3-trajectories: %w", err)
			}
			grid[r][k] = p
		}
	}
	return grid
}

// oscillatorMeaning explains the oscillator study's metrics.
var oscillatorMeaning = map[string]string{
	"osc_omega_vs_euler":  "‖Ω − (I + ΔtΛ)‖ / ‖I + ΔtΛ‖: learned one-step map vs forward Euler's",
	"osc_omega_vs_exact":  "‖Ω − exp(ΛΔt)‖ / ‖exp(ΛΔt)‖: learned one-step map vs the exact flow map",
	"osc_omega_vs_dmd":    "‖Ω − Ω_DMD‖ / ‖Ω_DMD‖: learned one-step map vs DMD",
	"osc_omega_vs_rk4":    "‖Ω − Ω_RK4‖ / ‖Ω_RK4‖: learned one-step map vs RK4's",
	"osc_lambda_err_fe":   "‖Λ_learned − Λ‖ / ‖Λ‖, Λ learned inside forward Euler",
	"osc_lambda_err_be":   "‖Λ_learned − Λ‖ / ‖Λ‖, Λ learned inside backward Euler",
	"osc_lambda_err_tr":   "‖Λ_learned − Λ‖ / ‖Λ‖, Λ learned inside the trapezoid rule",
	"osc_lambda_err_mix":  "‖Λ_learned − Λ‖ / ‖Λ‖, Λ learned with the FW + BW + TR loss",
	"osc_lambda_err_fwbw": "‖Λ_learned − Λ‖ / ‖Λ‖, Λ learned with the FW + BW loss",
}

// oscillatorTable lists the osc_ metrics of the experiment's records beside
// the numbers the authors' notebook reports, where paper/ has them.
func oscillatorTable(recs []*record.Record) *table {
	reported := map[string]paper.Entry{}
	for _, e := range paper.Entries() {
		if strings.HasPrefix(e.Metric, "osc_") && e.Direction != paper.Finite {
			reported[e.Metric] = e
		}
	}
	t := &table{title: "Linear oscillator: operator learning (E1b in paper/README.md)",
		header: []string{"quantity", "meaning", "measured", "reported", "source"}}
	seen := map[string]bool{}
	for _, r := range recs {
		var names []string
		for k := range r.Metrics {
			if strings.HasPrefix(k, "osc_") && !seen[k] {
				names = append(names, k)
				seen[k] = true
			}
		}
		slices.Sort(names)
		for _, k := range names {
			rep, src := "–", "–"
			if e, ok := reported[k]; ok {
				rep, src = e.ReportedText(), e.Source+" "+e.Location
			}
			t.add(k, cmp.Or(oscillatorMeaning[k], k), num(r.Metrics[k]), rep, src)
		}
	}
	if len(t.rows) == 0 {
		return nil
	}
	t.notes = []string{"Reported values are means over 30 repeats in the authors' notebook; whether this study is in the paper is UNCONFIRMED."}
	return t
}

// ---- figure4: manifestation invariance (claims a, b) ----

func genFigure4(ix *index, w *writer, o Options) {
	acc := seriesNamed(ix.ok(expConsistency), "accuracy")
	if len(acc) == 0 {
		return
	}
	// Models: a train scheme with several K values gets "(K=k)" in labels.
	ks := map[string][]string{}
	for _, l := range acc {
		tr, k := seriesTrain(l), l.s.Labels["k"]
		if !slices.Contains(ks[tr], k) {
			ks[tr] = append(ks[tr], k)
		}
	}
	slices.SortStableFunc(acc, func(a, b labelled) int {
		return cmp.Or(cmp.Compare(schemeRank(seriesTrain(a)), schemeRank(seriesTrain(b))),
			cmp.Compare(a.s.Labels["k"], b.s.Labels["k"]),
			cmp.Compare(schemeRank(a.s.Labels["eval"]), schemeRank(b.s.Labels["eval"])))
	})
	same := newPlot("Figure 4 (left): evaluated with the training scheme", "Nt (steps per block = 1/Δt)", "test accuracy (%)", false, false)
	other := newPlot("Figure 4 (right): evaluated with another scheme", "Nt (steps per block = 1/Δt)", "test accuracy (%)", false, false)
	for _, p := range []*plot.Plot{same, other} {
		// Inside the data area, bottom right: accuracies of this figure sit
		// high, so the lower half is empty from Nt = 2 on.
		p.Legend.Top, p.Legend.Left = false, false
		p.Legend.TextStyle.Font.Size = vg.Points(8)
		p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*2, vg.Millimeter*2
		p.X.Tick.Marker = countTicks{}
		percentAxis(&p.Y)
	}
	t := &table{title: "Figure 4: test accuracy (%) vs Nt", header: []string{"model", "train→eval"}}
	var nts []float64
	for _, l := range acc {
		for _, x := range l.s.X {
			if !slices.Contains(nts, x) {
				nts = append(nts, x)
			}
		}
	}
	slices.Sort(nts)
	for _, x := range nts {
		t.header = append(t.header, "Nt="+num(x))
	}
	for _, l := range acc {
		tr, ev := seriesTrain(l), l.s.Labels["eval"]
		label := schemeLabel(tr) + "→" + schemeLabel(ev)
		if len(ks[tr]) > 1 {
			label += " (K=" + l.s.Labels["k"] + ")"
		}
		lo, hi := band(l.rec, l.s)
		c := curve{label: label, xs: l.s.X, ys: scaled(l.s.Y, 100), lo: scaled(lo, 100), hi: scaled(hi, 100),
			color: schemeColor[ev], dashes: schemeDash[tr], glyph: schemeGlyph[ev]}
		// Colour and marker say the evaluation scheme, the dash pattern the
		// training scheme; nets of one training scheme with different K are
		// told apart by line width (thicker for the later K).
		c.width = vg.Points(1.5 + 1.5*float64(slices.Index(ks[tr], l.s.Labels["k"])))
		if c.color == nil {
			c.color = colPurple
		}
		p := other
		if tr == ev {
			p = same
		}
		if err := addCurves(p, false, false, []curve{c}); err != nil && w.err == nil {
			w.err = fmt.Errorf("report: figure4: %w", err)
		}
		row := []string{strings.TrimPrefix(l.rec.Run, "sweep/"), label}
		for _, x := range nts {
			cell := "–"
			for i := range l.s.X {
				if l.s.X[i] == x && i < len(l.s.Y) {
					cell = pct(l.s.Y[i])
					if lo != nil {
						cell += " [" + pct(lo[i]) + ", " + pct(hi[i]) + "]"
					}
				}
			}
			row = append(row, cell)
		}
		t.add(row...)
	}
	w.figure(o.FiguresDir, "figure4", [][]*plot.Plot{{same, other}}, 13*vg.Inch, 6*vg.Inch, 0, nil)
	t.notes = []string{"Curves are labelled train→eval (the scheme the net was trained with → the scheme it is evaluated with)."}
	if n := seedCount(acc[0].rec); n > 1 {
		t.notes = append(t.notes, fmt.Sprintf("Each cell: the mean over %d seeds [min, max]; the figure draws the mean with a min–max band.", n))
	}
	w.table(o.ResultsDir, "figure4", t)
}

// seriesTrain is the training scheme of an accuracy series: its "train"
// label (every sweep writes it).
func seriesTrain(l labelled) string { return l.s.Labels["train"] }

// ---- table1: incremental-in-depth training (claim c) ----

func genTable1(ix *index, w *writer, o Options) {
	var runs []*record.Record
	for _, r := range ix.ok(expIncremental) {
		if r.Kind == "cifar-train" {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return
	}
	// Table 1's order: by training scheme, each scheme's nets trained at a
	// fixed K before its refined ones.
	slices.SortStableFunc(runs, func(a, b *record.Record) int {
		return cmp.Or(cmp.Compare(schemeRank(runScheme(a)), schemeRank(runScheme(b))),
			cmp.Compare(b2i(isRefined(a)), b2i(isRefined(b))))
	})
	t := &table{title: "Table 1: incremental-in-depth training (CIFAR-10)",
		header: []string{"model", "scheme", "K schedule", "params", "acc max (%)", "acc final (%)", "acc full test (%)",
			"train time (min)", "unit evaluations", "speed-up"}}
	for _, r := range runs {
		m := r.Metrics
		sp := "–"
		if ref := scratchTwin(runs, r); ref == r {
			sp = "reference"
		} else if ref != nil {
			sp = fixed(metricOr(ref.Metrics, "train_seconds")/metricOr(m, "train_seconds"), 2) + "×"
		}
		t.add(append([]string{strings.TrimPrefix(r.Run, "train/"), schemeLabel(runScheme(r)), kSchedule(r), num(metricOr(m, "params"))},
			append(trainingCells(r), sp)...)...)
	}
	t.notes = append([]string{
		"acc max: the best periodic test evaluation (the authors' tables report this); acc final: after the last epoch;",
		"acc full test: the final model on all 10,000 test images. Speed-up: training time of the same scheme trained at the",
		"final K from scratch divided by this run's. Unit evaluations: residual-unit evaluations during training.",
	}, trainingNotes(runs[0], "the speed-up")...)
	w.table(o.ResultsDir, "table1", t)
	if p := lossPlot(w, runs); p != nil {
		w.figure(o.FiguresDir, "table1-loss", [][]*plot.Plot{{p}}, 10*vg.Inch, 5*vg.Inch, 0, nil)
	}
}

// trainingCells are the columns every table of training runs ends with:
// accuracies (best periodic, final, full test) and training time, each the
// mean ± sd over seeds, then the unit evaluations.
func trainingCells(r *record.Record) []string {
	minutes := func(v float64) string { return fixed(v/60, 1) }
	return []string{spreadText(r, "acc_max", pct), spreadText(r, "acc_final", pct), spreadText(r, "acc_full_test", pct),
		spreadText(r, "train_seconds", minutes), num(metricOr(r.Metrics, "unit_evals"))}
}

// trainingNotes are the notes of a table of training runs on their seeds
// (ratio names its column of time ratios) and data copy.
func trainingNotes(r *record.Record, ratio string) []string {
	var notes []string
	if n := seedCount(r); n > 1 {
		notes = append(notes, fmt.Sprintf("Runs repeated over %d seeds: mean ± sample sd (seeds); %s is the ratio of the mean times.", n, ratio))
	}
	if note := dataNote(r); note != "" {
		notes = append(notes, "Accuracies "+note+".")
	}
	return notes
}

// isRefined says whether a training run refined its model: its parameters
// list refinement epochs.
func isRefined(r *record.Record) bool {
	eps, _ := param(r, "refine_epochs").([]any)
	return len(eps) > 0
}

// scratchTwin returns the run of the same scheme trained at r's final K
// without refinement, or nil.
func scratchTwin(runs []*record.Record, r *record.Record) *record.Record {
	k, ok := r.Metrics["final_k"]
	if !ok {
		return nil
	}
	for _, q := range runs {
		if qk, ok := q.Metrics["final_k"]; ok && qk == k && !isRefined(q) && runScheme(q) == runScheme(r) {
			return q
		}
	}
	return nil
}

// kSchedule describes the K schedule: "K=4" or "1→2→4 (epochs 5, 10)".
func kSchedule(r *record.Record) string {
	s := r.FindSeries("refine_epochs")
	if s == nil || len(s.X) == 0 {
		if k, ok := r.Metrics["final_k"]; ok {
			return "K=" + num(k)
		}
		return "–"
	}
	ks := []string{num(math.Max(1, s.Y[0]/2))}
	var eps []string
	for i := range s.X {
		ks = append(ks, num(s.Y[i]))
		eps = append(eps, num(s.X[i]))
	}
	return strings.Join(ks, "→") + " (epochs " + strings.Join(eps, ", ") + ")"
}

// lossPlot draws the training loss per step (moving average) of each run,
// with dashed markers at the refinement steps.
func lossPlot(w *writer, runs []*record.Record) *plot.Plot {
	p := newPlot("Training loss (moving average over 1 % of the steps)", "SGD step", "training loss (cross-entropy)", false, false)
	p.X.Tick.Marker = countTicks{}
	p.Legend.Top, p.Legend.Left = true, false // inside, top right: the loss falls away from it
	p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*2, -vg.Millimeter*2
	drawn := false
	for i, r := range runs {
		s := r.FindSeries("train_loss")
		if s == nil || len(s.X) == 0 {
			continue
		}
		drawn = true
		col := runPalette[i%len(runPalette)]
		win := max(1, len(s.Y)/100)
		ys := movingAverage(s.Y, win)
		c := curve{label: strings.TrimPrefix(r.Run, "train/"), xs: s.X, ys: ys, color: col, width: vg.Points(1.2)}
		if lo, hi := band(r, s); lo != nil {
			c.lo, c.hi = movingAverage(lo, win), movingAverage(hi, win)
		}
		if err := addCurves(p, false, false, []curve{c}); err != nil && w.err == nil {
			w.err = fmt.Errorf("report: table1-loss: %w", err)
		}
		ref := r.FindSeries("refine_epochs")
		if ref == nil || len(ref.X) == 0 {
			continue
		}
		spe := stepsPerEpoch(r)
		lo, hi := minMax(ys)
		for j, e := range ref.X {
			l, err := vline(p, e*spe, lo, hi, col, "")
			if err == nil && j == 0 {
				p.Legend.Add("refinement of "+strings.TrimPrefix(r.Run, "train/"), l)
			}
		}
	}
	if !drawn {
		return nil
	}
	return p
}

// stepsPerEpoch is the number of SGD steps per epoch of a cifar-train
// run: its metric steps_per_epoch (1 when absent, as in a record that
// failed before training).
func stepsPerEpoch(r *record.Record) float64 {
	if v, ok := r.Metrics["steps_per_epoch"]; ok && v > 0 {
		return v
	}
	return 1
}

func movingAverage(y []float64, n int) []float64 {
	out := make([]float64, len(y))
	sum := 0.0
	for i := range y {
		sum += y[i]
		if i >= n {
			sum -= y[i-n]
		}
		out[i] = sum / float64(min(i+1, n))
	}
	return out
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi
}

// ---- coarsening (claim d): Nt-coarsening, the trained θ(t) at fewer steps ----

func genCoarsening(ix *index, w *writer, o Options) {
	var rec *record.Record
	for _, r := range ix.ok(expCoarsening) {
		if r.Kind == "cifar-sweep" && r.FindSeries("accuracy") != nil {
			rec = r
			break
		}
	}
	if rec == nil {
		return
	}
	acc := seriesNamed([]*record.Record{rec}, "accuracy")
	ms := seriesNamed([]*record.Record{rec}, "infer_ms_per_image")
	msBand := func(ev string, tx []float64) (lo, hi []float64) {
		for _, l := range ms {
			if l.s.Labels["eval"] != ev {
				continue
			}
			blo, bhi := band(rec, l.s)
			if blo == nil {
				return nil, nil
			}
			for _, x := range tx {
				i := slices.Index(l.s.X, x)
				if i < 0 {
					return nil, nil
				}
				lo, hi = append(lo, blo[i]), append(hi, bhi[i])
			}
		}
		return lo, hi
	}
	slices.SortStableFunc(acc, func(a, b labelled) int {
		return cmp.Compare(schemeRank(a.s.Labels["eval"]), schemeRank(b.s.Labels["eval"]))
	})
	msOf := func(ev string, x float64) float64 {
		for _, l := range ms {
			if l.s.Labels["eval"] == ev {
				for i := range l.s.X {
					if l.s.X[i] == x && i < len(l.s.Y) {
						return l.s.Y[i]
					}
				}
			}
		}
		return math.NaN()
	}
	// Reference: the training manifestation (train scheme at Nt = final K),
	// else the finest Nt of the training scheme.
	refEval, refNt := seriesTrain(acc[0]), math.NaN()
	if k := lastNumber(acc[0].s.Labels["k"]); !math.IsNaN(k) {
		refNt = k
	} else if k, ok := rec.Metrics["final_k"]; ok {
		refNt = k
	}
	refAcc := math.NaN()
	for _, l := range acc {
		if l.s.Labels["eval"] != refEval {
			continue
		}
		for i, x := range l.s.X {
			if x == refNt {
				refAcc = l.s.Y[i]
			}
		}
		if math.IsNaN(refAcc) { // no point at K: take the finest Nt
			_, refNt = minMax(l.s.X)
			refAcc = l.s.Y[slices.Index(l.s.X, refNt)]
		}
	}
	refMs := msOf(refEval, refNt)
	t := &table{title: "Coarsening: accuracy and inference time vs Nt (" + strings.TrimPrefix(rec.Run, "sweep/") + ")",
		header: []string{"eval scheme", "Nt", "units per block", "accuracy (%)", "Δ accuracy (pts)", "ms / image", "speed-up"}}
	accP := newPlot("Coarsening: accuracy vs Nt", "Nt (steps per block)", "test accuracy (%)", false, false)
	timeP := newPlot("Coarsening: inference time vs Nt", "Nt (steps per block)", "inference time (ms / image)", false, false)
	accP.Legend.Top, accP.Legend.Left = false, false // inside, bottom right; times rise from the bottom left
	timeP.Legend.Top, timeP.Legend.Left = true, true
	for _, p := range []*plot.Plot{accP, timeP} {
		p.Legend.XOffs, p.Legend.YOffs = vg.Millimeter*2, -vg.Millimeter*2
	}
	accP.Legend.XOffs, accP.Legend.YOffs = -vg.Millimeter*2, vg.Millimeter*2
	timeP.Y.Min = 0
	accP.X.Tick.Marker, timeP.X.Tick.Marker = countTicks{}, countTicks{}
	percentAxis(&accP.Y)
	for _, l := range acc {
		ev := l.s.Labels["eval"]
		ys := make([]float64, len(l.s.Y))
		var tx, ty []float64
		for i, x := range l.s.X {
			ys[i] = 100 * l.s.Y[i]
			m := msOf(ev, x)
			t.add(schemeLabel(ev), num(x), num(float64(schemeStages(ev))*x), pct(l.s.Y[i]),
				fixed(100*(l.s.Y[i]-refAcc), 2), fixed(m, 3), fixed(refMs/m, 2)+"×")
			if !math.IsNaN(m) {
				tx, ty = append(tx, x), append(ty, m)
			}
		}
		col := schemeColor[ev]
		if col == nil {
			col = colPurple
		}
		lo, hi := band(rec, l.s)
		err := addCurves(accP, false, false, []curve{{label: schemeLabel(ev), xs: l.s.X, ys: ys, lo: scaled(lo, 100), hi: scaled(hi, 100),
			color: col, dashes: schemeDash[ev], glyph: schemeGlyph[ev]}})
		if err == nil {
			tlo, thi := msBand(ev, tx)
			err = addCurves(timeP, false, false, []curve{{label: schemeLabel(ev), xs: tx, ys: ty, lo: tlo, hi: thi,
				color: col, dashes: schemeDash[ev], glyph: schemeGlyph[ev]}})
		}
		if err != nil && w.err == nil {
			w.err = fmt.Errorf("report: coarsening: %w", err)
		}
	}
	if !math.IsNaN(refNt) {
		_, _ = vline(accP, refNt, 0, 100, nil, "training manifestation (Nt = "+num(refNt)+")")
	}
	t.notes = []string{fmt.Sprintf("Reference: %s at Nt = %s (accuracy %s %%, %s ms / image). Δ accuracy and speed-up are relative to it;",
		schemeLabel(refEval), num(refNt), pct(refAcc), fixed(refMs, 3)),
		"units per block = stages × Nt residual-unit evaluations."}
	if note := dataNote(rec); note != "" {
		t.notes = append(t.notes, "Accuracies "+note+".")
	}
	w.table(o.ResultsDir, "coarsening", t)
	w.figure(o.FiguresDir, "coarsening", [][]*plot.Plot{{accP, timeP}}, 13*vg.Inch, 5*vg.Inch, 0, nil)
}

// lastNumber parses the last '-'-separated field of s ("4", "1-2-4").
func lastNumber(s string) float64 {
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		s = s[i+1:]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// scaled returns v × f (nil for nil).
func scaled(v []float64, f float64) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f * x
	}
	return out
}

// seedCount is the number of seeds an aggregated record averages (1 for a
// run with one seed).
func seedCount(r *record.Record) int { return max(1, len(r.Provenance.Seeds)) }

// b2i is 1 for true, 0 for false (for sort keys).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
