package claims

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/odenet"
)

// EvalSet is the test subset read by the kinds that evaluate a trained
// model (cifar-sweep, cifar-theta-coarsen): a stratified subset of the test
// split of the dataset the model was trained on, read in batches of
// EvalBatch. Embedded inline, its keys are its kind's own parameters.
type EvalSet struct {
	Dataset      string `yaml:"dataset" json:"dataset"`               // the dataset the model was trained on
	EvalPerClass int    `yaml:"eval_per_class" json:"eval_per_class"` // stratified test subset; 0: the whole test set
	SubsetSeed   uint64 `yaml:"subset_seed" json:"subset_seed"`
	EvalBatch    int    `yaml:"eval_batch" json:"eval_batch"`
}

// validate checks a known dataset, eval_per_class within its test set (0:
// all of it) and eval_batch ≥ 1.
func (e EvalSet) validate() error {
	ds, ok := imageDatasets[e.Dataset]
	if !ok {
		return spec.Invalid("dataset", datasetNames(), "unknown dataset %q", e.Dataset)
	}
	switch {
	case e.EvalPerClass < 0 || e.EvalPerClass > ds.testPerClass:
		return spec.Invalid("eval_per_class", nil, "want 0 (all) or 1..%d, got %d", ds.testPerClass, e.EvalPerClass)
	case e.EvalBatch < 1:
		return spec.Invalid("eval_batch", nil, "want ≥ 1, got %d", e.EvalBatch)
	}
	return nil
}

// images is the size of the subset.
func (e EvalSet) images() int { return testImages(e.Dataset, e.EvalPerClass) }

// load reads the subset.
func (e EvalSet) load() (*datasets.Dataset, error) {
	split, err := loadDataset(e.Dataset)
	if err != nil {
		return nil, err
	}
	return subset(split.Test, e.EvalPerClass, e.SubsetSeed)
}

// Timing is how an evaluation kind times inference: the network's forward
// pass alone over the first TimeImages images of its subset, in batches of
// EvalBatch, one untimed warm-up pass, then TimeRepeats (≥ 5) timed passes;
// the result is the median pass, with the fastest and slowest as its
// spread.
type Timing struct {
	TimeImages  int `yaml:"time_images" json:"time_images"`
	TimeRepeats int `yaml:"time_repeats" json:"time_repeats"`
}

// validate checks 1 ≤ time_images ≤ images and time_repeats ≥
// minTimeRepeats; off names the parameter that turns timing off, if any.
func (t Timing) validate(images int, off string) error {
	hint := ""
	if off != "" {
		hint = ", or " + off
	}
	switch {
	case t.TimeImages < 1 || t.TimeImages > images:
		return spec.Invalid("time_images", nil, "want 1..%d (the images of the evaluation subset), got %d (set time_images%s)", images, t.TimeImages, hint)
	case t.TimeRepeats < minTimeRepeats:
		return spec.Invalid("time_repeats", nil, "timing takes the median of the timed passes and needs time_repeats ≥ %d, got %d (set time_repeats: %d or more%s)",
			minTimeRepeats, t.TimeRepeats, minTimeRepeats, hint)
	}
	return nil
}

// SweepParams are the parameters of the "cifar-sweep" kind. The model is
// the artifact of the one cifar-train run the sweep needs.
type SweepParams struct {
	EvalSet `yaml:",inline"`
	Schemes []string `yaml:"schemes" json:"schemes"` // evaluation tableaus
	Nts     []int    `yaml:"nts" json:"nts"`         // steps per block
	// Time: measure the inference time per image for every (scheme, Nt),
	// as Timing says.
	Time   bool `yaml:"time" json:"time"`
	Timing `yaml:",inline"`

	// tableaus are Schemes parsed, once, by Validate (the ids stay the
	// spec and key form).
	tableaus []*integrators.Tableau
}

// Tableaus returns the evaluation schemes' tableaus, in Schemes' order.
func (p *SweepParams) Tableaus() []*integrators.Tableau {
	if p.tableaus == nil {
		for _, s := range p.Schemes {
			tab, err := builtinScheme(s)
			if err != nil {
				panic(fmt.Sprintf("claims: SweepParams used without Validate: %v", err))
			}
			p.tableaus = append(p.tableaus, tab)
		}
	}
	return p.tableaus
}

// Validate checks every value and name, and keeps the schemes' tableaus.
func (p *SweepParams) Validate() error {
	if err := p.EvalSet.validate(); err != nil {
		return err
	}
	switch {
	case len(p.Schemes) == 0:
		return spec.Invalid("schemes", integrators.BuiltinIDs(), "want at least one scheme")
	case len(p.Nts) == 0:
		return spec.Invalid("nts", nil, "want at least one Nt")
	}
	if p.Time {
		if err := p.Timing.validate(p.images(), "time: false"); err != nil {
			return err
		}
	}
	tabs := make([]*integrators.Tableau, len(p.Schemes))
	for i, s := range p.Schemes {
		tab, err := builtinScheme(s)
		if err != nil {
			return spec.Invalid("schemes", integrators.BuiltinIDs(), "%v", err)
		}
		tabs[i] = tab
	}
	p.tableaus = tabs
	for _, nt := range p.Nts {
		if nt < 1 {
			return spec.Invalid("nts", nil, "want Nt ≥ 1, got %d", nt)
		}
	}
	return nil
}

// minTimeRepeats is the fewest timed passes a timed sweep accepts: the
// median of fewer says little about the spread it is meant to resist.
const minTimeRepeats = 5

// sweepKind evaluates a trained model under other manifestations. Its
// record holds the series "accuracy", one per evaluation scheme, Labels
// {"train": the training scheme, "k": the K schedule ("1", or "1-2-4" for
// a refined model), "eval": scheme}, X = Nt, Y = accuracy on the evaluation
// subset in eval mode; with timing, "infer_ms_per_image", Labels {"eval"},
// X = Nt, Y = the median over the timed passes of milliseconds per image,
// and "infer_ms_per_image_min" and "infer_ms_per_image_max" (same labels
// and X), the fastest and slowest pass; and the metrics final_k and
// eval_images.
//
// A timed pass is the network's forward pass alone (eval mode, batches of
// eval_batch, the evaluator's graph reset per batch, as in an accuracy
// pass): the batches are read, normalised and laid out once before any
// timing, and nothing is reduced from the logits. The ratio of claim (d)
// (time at Nt = 4 over Nt = 2) is a ratio of network costs; fixed costs
// per pass (the data iterator, normalisation, argmax) would pull it
// towards 1.
type sweepKind struct{}

func (sweepKind) Name() string { return "cifar-sweep" }

// Version 2: the timing measures the forward pass alone over batches
// prepared beforehand (version 1 timed whole accuracy passes: iterator,
// normalisation and argmax included), after an untimed warm-up pass, and
// records the median of time_repeats (≥ 5) passes as infer_ms_per_image,
// with infer_ms_per_image_min and _max (version 1: the best of
// time_repeats passes, no spread). Version 3: stride-1 3×3 convolutions
// run as Winograd F(2×2, 3×3) in nnlib (other rounding, other timings).
func (sweepKind) Version() int              { return 3 }
func (sweepKind) NewParams() harness.Params { return &SweepParams{} }

// Exclusive: the sweeps of the Nt-coarsening study (claim d) time inference. (A kind's
// exclusivity cannot depend on its parameters, so every sweep runs alone;
// on 2 cores it loses little.)
func (sweepKind) Exclusive() bool { return true }

func (sweepKind) Dataset(p harness.Params) (string, string) {
	return fingerprint(p.(*SweepParams).Dataset)
}

// Work counts residual-unit evaluations per image (stages × Nt) times the
// images evaluated and timed (the warm-up pass included).
func (sweepKind) Work(p harness.Params) (string, float64) {
	s := p.(*SweepParams)
	n := testImages(s.Dataset, s.EvalPerClass)
	if s.Time {
		n += s.TimeImages * (s.TimeRepeats + 1)
	}
	units := 0.0
	for _, sc := range s.Schemes {
		tab, err := integrators.Builtin(sc)
		if err != nil {
			continue
		}
		for _, nt := range s.Nts {
			units += float64(tab.Stages() * nt * n)
		}
	}
	return "cifar-sweep " + s.Dataset, units
}

func (sweepKind) Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	p := env.Params.(*SweepParams)
	dep, err := trainedModel(env, "cifar-sweep")
	if err != nil {
		return nil, err
	}
	evalSet, err := p.load()
	if err != nil {
		return nil, err
	}
	net, _, err := odenet.LoadCheckpoint(filepath.Join(dep.ArtifactDir, ModelArtifact), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("cifar-sweep: the model of %s: %w", dep.Run, err)
	}
	trainScheme := net.Scheme().ID()
	kLabel := kSchedule(dep.Record, net.Pieces())
	// The timing inputs are prepared once, before any timing.
	var timing *timingBatches
	var passMs []float64 // ms per image of each timed pass of one (scheme, Nt)
	if p.Time {
		idx := make([]int, p.TimeImages)
		for i := range idx {
			idx[i] = i
		}
		timing = prepareTimingBatches(evalSet.Subset(evalSet.Name+"[timing]", idx), p.EvalBatch)
		passMs = make([]float64, p.TimeRepeats)
	}

	ev := newEvaluator(p.EvalBatch)
	res := &harness.Result{Metrics: map[string]float64{"final_k": float64(net.Pieces()), "eval_images": float64(evalSet.Len())}}
	done, total := 0, len(p.Schemes)*len(p.Nts)
	for _, tab := range p.Tableaus() {
		net.SetScheme(tab)
		acc := record.Series{Name: "accuracy", Labels: map[string]string{"train": trainScheme, "k": kLabel, "eval": tab.ID()},
			XName: "Nt", YName: "accuracy"}
		msSeries := func(name string) record.Series {
			return record.Series{Name: name, Labels: map[string]string{"eval": tab.ID()}, XName: "Nt", YName: "ms/image"}
		}
		ms, msMin, msMax := msSeries("infer_ms_per_image"), msSeries("infer_ms_per_image_min"), msSeries("infer_ms_per_image_max")
		for _, nt := range p.Nts {
			net.SetSteps(nt)
			a, err := ev.accuracy(ctx, net, evalSet)
			if err != nil {
				return nil, err
			}
			acc.X, acc.Y = append(acc.X, float64(nt)), append(acc.Y, a)
			if p.Time {
				if err := ev.timeForward(ctx, net, timing, passMs); err != nil {
					return nil, err
				}
				x := float64(nt)
				ms.X, ms.Y = append(ms.X, x), append(ms.Y, median(passMs))
				msMin.X, msMin.Y = append(msMin.X, x), append(msMin.Y, slices.Min(passMs))
				msMax.X, msMax.Y = append(msMax.X, x), append(msMax.Y, slices.Max(passMs))
			}
			done++
			env.Report(harness.Progress{Done: float64(done), Total: float64(total), Acc: a, Note: fmt.Sprintf("%s Nt=%d", tab.ID(), nt)})
		}
		res.Series = append(res.Series, acc)
		if p.Time {
			res.Series = append(res.Series, ms, msMin, msMax)
		}
	}
	return res, nil
}

// timingBatches are the inputs of the timed passes: the images read,
// normalised and laid out exactly as evaluator.accuracy feeds them to the
// net (the same datasets.Iterator configuration), once, so that a timed
// pass does nothing but run the net.
type timingBatches struct {
	c, h, w int
	x       [][]float32 // batch i, channel-major [C][n[i]][H][W]
	n       []int       // images of batch i
	images  int         // Σ n
}

// prepareTimingBatches reads d in batches of batch images.
func prepareTimingBatches(d *datasets.Dataset, batch int) *timingBatches {
	it := datasets.NewIterator(d, datasets.BatchConfig{BatchSize: batch, Mean: datasets.CIFAR10Mean, Std: datasets.CIFAR10Std, Layout: datasets.ChannelMajor})
	defer it.Close()
	buf, labels := make([]float32, it.BatchFloats()), make([]int, batch)
	tb := &timingBatches{c: d.C, h: d.H, w: d.W}
	for {
		b := it.Next(buf, labels)
		if b == 0 {
			break
		}
		tb.x = append(tb.x, slices.Clone(buf[:b*d.ImageSize()]))
		tb.n = append(tb.n, b)
		tb.images += b
	}
	return tb
}

// forwardPass runs net in eval mode over every batch of tb on the
// evaluator's graph, reset per batch as in an accuracy pass; the logits
// are discarded. Once the graph has seen the pass (same manifestation,
// same batches) it allocates no activations.
func (ev *evaluator) forwardPass(ctx context.Context, net *odenet.Net, tb *timingBatches) error {
	for i, x := range tb.x {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev.g.Reset()
		net.Forward(ev.g, ev.g.Input(x, tb.c, tb.n[i], tb.h, tb.w))
	}
	return nil
}

// timeForward runs one untimed warm-up forwardPass of net over tb (it
// sizes the graph for the current manifestation and warms the caches),
// then len(ms) timed ones: ms[r] = milliseconds per image of pass r.
func (ev *evaluator) timeForward(ctx context.Context, net *odenet.Net, tb *timingBatches, ms []float64) error {
	if tb.images == 0 {
		return errors.New("cifar-sweep: no images to time")
	}
	if err := ev.forwardPass(ctx, net, tb); err != nil {
		return err
	}
	for r := range ms {
		t0 := time.Now()
		err := ev.forwardPass(ctx, net, tb)
		d := time.Since(t0)
		if err != nil {
			return err
		}
		ms[r] = 1000 * d.Seconds() / float64(tb.images)
	}
	return nil
}

// median returns the median of x (the mean of the two middle values when
// len(x) is even; NaN when x is empty), leaving x as it is. gonum's
// stat.Quantile(0.5, …) does not fit: stat.Empirical gives the lower
// middle value for an even count and stat.LinInterp gives 1.5 for
// {1, 2, 3}.
func median(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// kSchedule is the K label of a trained model: its final K, or the K
// schedule "k0-…-K" joined by '-' when it was refined (from its
// refine_epochs series).
func kSchedule(r *record.Record, finalK int) string {
	s := r.FindSeries("refine_epochs")
	if s == nil || len(s.Y) == 0 {
		return strconv.Itoa(finalK)
	}
	ks := []string{strconv.Itoa(max(1, int(s.Y[0])/2))}
	for _, k := range s.Y {
		ks = append(ks, strconv.Itoa(int(k)))
	}
	return strings.Join(ks, "-")
}
