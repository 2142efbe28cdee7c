package claims

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/odenet"
)

// SweepParams are the parameters of the "cifar-sweep" kind. The model is
// the artifact of the one cifar-train run the sweep needs.
type SweepParams struct {
	Dataset      string   `yaml:"dataset" json:"dataset"`               // the dataset the model was trained on
	EvalPerClass int      `yaml:"eval_per_class" json:"eval_per_class"` // stratified test subset; 0: the whole test set
	SubsetSeed   uint64   `yaml:"subset_seed" json:"subset_seed"`
	EvalBatch    int      `yaml:"eval_batch" json:"eval_batch"`
	Schemes      []string `yaml:"schemes" json:"schemes"` // evaluation tableaus
	Nts          []int    `yaml:"nts" json:"nts"`         // steps per block
	// Timing: when Time is set, the inference time per image is measured
	// for every (scheme, Nt) on the first TimeImages images of the subset
	// in batches of EvalBatch, best of TimeRepeats passes.
	Time        bool `yaml:"time" json:"time"`
	TimeImages  int  `yaml:"time_images" json:"time_images"`
	TimeRepeats int  `yaml:"time_repeats" json:"time_repeats"`
}

// Validate checks every value and name.
func (p *SweepParams) Validate() error {
	ds, ok := imageDatasets[p.Dataset]
	if !ok {
		return spec.Invalid("dataset", datasetNames(), "unknown dataset %q", p.Dataset)
	}
	switch {
	case p.EvalPerClass < 0 || p.EvalPerClass > ds.testPerClass:
		return spec.Invalid("eval_per_class", nil, "want 0 (all) or 1..%d, got %d", ds.testPerClass, p.EvalPerClass)
	case p.EvalBatch < 1:
		return spec.Invalid("eval_batch", nil, "want ≥ 1, got %d", p.EvalBatch)
	case len(p.Schemes) == 0:
		return spec.Invalid("schemes", integrators.BuiltinIDs(), "want at least one scheme")
	case len(p.Nts) == 0:
		return spec.Invalid("nts", nil, "want at least one Nt")
	case p.Time && (p.TimeImages < 1 || p.TimeRepeats < 1):
		return spec.Invalid("time_images", nil, "timing needs time_images ≥ 1 and time_repeats ≥ 1, got %d and %d", p.TimeImages, p.TimeRepeats)
	}
	n := ds.classes * p.EvalPerClass
	if p.EvalPerClass == 0 {
		n = ds.classes * ds.testPerClass
	}
	if p.Time && p.TimeImages > n {
		return spec.Invalid("time_images", nil, "want at most the %d images of the evaluation subset, got %d", n, p.TimeImages)
	}
	for _, s := range p.Schemes {
		if err := canonicalScheme(s); err != nil {
			return spec.Invalid("schemes", integrators.BuiltinIDs(), "%v", err)
		}
	}
	for _, nt := range p.Nts {
		if nt < 1 {
			return spec.Invalid("nts", nil, "want Nt ≥ 1, got %d", nt)
		}
	}
	return nil
}

// sweepKind evaluates a trained model under other manifestations. Its
// record holds the series "accuracy", one per evaluation scheme, Labels
// {"train": the training scheme, "k": the K schedule ("1", or "1-2-4" for
// a refined model), "eval": scheme}, X = Nt, Y = accuracy on the evaluation
// subset in eval mode; with timing, "infer_ms_per_image", Labels {"eval"},
// X = Nt, Y = milliseconds per image; and the metrics final_k and
// eval_images.
type sweepKind struct{}

func (sweepKind) Name() string              { return "cifar-sweep" }
func (sweepKind) Version() int              { return 1 }
func (sweepKind) NewParams() harness.Params { return &SweepParams{} }

// Exclusive: the sweeps of the coarsening study time inference. (A kind's
// exclusivity cannot depend on its parameters, so every sweep runs alone;
// on 2 cores it loses little.)
func (sweepKind) Exclusive() bool { return true }

func (sweepKind) Dataset(p harness.Params) string { return fingerprint(p.(*SweepParams).Dataset) }

// Work counts residual-unit evaluations per image (stages × Nt) times the
// images evaluated and timed.
func (sweepKind) Work(p harness.Params) (string, float64) {
	s := p.(*SweepParams)
	ds := imageDatasets[s.Dataset]
	n := ds.classes * s.EvalPerClass
	if s.EvalPerClass == 0 {
		n = ds.classes * ds.testPerClass
	}
	if s.Time {
		n += s.TimeImages * s.TimeRepeats
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
	if len(env.Needs) != 1 {
		return nil, fmt.Errorf("cifar-sweep: run %q must need exactly one cifar-train run, it needs %d", env.Run, len(env.Needs))
	}
	dep := env.Needs[0]
	if dep.Record.Kind != "cifar-train" {
		return nil, fmt.Errorf("cifar-sweep: run %q needs %q of kind %q, want a cifar-train run", env.Run, dep.Run, dep.Record.Kind)
	}
	split, err := loadDataset(p.Dataset)
	if err != nil {
		return nil, err
	}
	evalSet, err := subset(split.Test, p.EvalPerClass, p.SubsetSeed)
	if err != nil {
		return nil, err
	}
	net, _, err := odenet.LoadCheckpoint(filepath.Join(dep.ArtifactDir, ModelArtifact), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("cifar-sweep: the model of %s: %w", dep.Run, err)
	}
	trainScheme := net.Scheme().ID()
	kLabel := kSchedule(dep.Record, net.Pieces())
	timeSet := evalSet
	if p.Time {
		idx := make([]int, p.TimeImages)
		for i := range idx {
			idx[i] = i
		}
		timeSet = evalSet.Subset(evalSet.Name+"[timing]", idx)
	}

	ev := newEvaluator(p.EvalBatch)
	res := &harness.Result{Metrics: map[string]float64{"final_k": float64(net.Pieces()), "eval_images": float64(evalSet.Len())}}
	done, total := 0, len(p.Schemes)*len(p.Nts)
	for _, sc := range p.Schemes {
		tab := integrators.MustBuiltin(sc)
		net.SetScheme(tab)
		acc := record.Series{Name: "accuracy", Labels: map[string]string{"train": trainScheme, "k": kLabel, "eval": tab.ID()},
			XName: "Nt", YName: "accuracy"}
		ms := record.Series{Name: "infer_ms_per_image", Labels: map[string]string{"eval": tab.ID()}, XName: "Nt", YName: "ms/image"}
		for _, nt := range p.Nts {
			net.SetSteps(nt)
			a, err := ev.accuracy(ctx, net, evalSet)
			if err != nil {
				return nil, err
			}
			acc.X, acc.Y = append(acc.X, float64(nt)), append(acc.Y, a)
			if p.Time {
				// Best of TimeRepeats passes over the same images; the
				// evaluator's buffers are warm from the accuracy pass.
				best := 0.0
				for r := 0; r < p.TimeRepeats; r++ {
					t0 := time.Now()
					if _, err := ev.accuracy(ctx, net, timeSet); err != nil {
						return nil, err
					}
					if d := time.Since(t0).Seconds(); r == 0 || d < best {
						best = d
					}
				}
				ms.X, ms.Y = append(ms.X, float64(nt)), append(ms.Y, 1000*best/float64(timeSet.Len()))
			}
			done++
			env.Report(harness.Progress{Done: float64(done), Total: float64(total), Acc: a, Note: fmt.Sprintf("%s Nt=%d", tab.ID(), nt)})
		}
		res.Series = append(res.Series, acc)
		if p.Time {
			res.Series = append(res.Series, ms)
		}
	}
	return res, nil
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
