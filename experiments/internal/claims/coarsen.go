package claims

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/odenet"
)

// Two ways to make a trained ContinuousNet cheaper at inference, named
// apart everywhere:
//
//   - Nt-coarsening: fewer integration steps (SetSteps with Nt < K), θ(t)
//     untouched. The coarsening experiment (claim d) measures it with
//     cifar-sweep.
//   - θ-coarsening: the parameters projected onto a coarser basis, 2K → K
//     pieces (odenet's Net.Coarsen: pairs of pieces averaged, or the even
//     pieces kept), Nt halved with them. The cifar-theta-coarsen kind below
//     measures it against Nt-coarsening, in the extensions experiment.

// ThetaCoarsenParams are the parameters of the "cifar-theta-coarsen" kind.
// The model is the artifact of the one cifar-train run it needs; its K must
// be even.
type ThetaCoarsenParams struct {
	EvalSet `yaml:",inline"`
	// Scheme is the tableau of every evaluation (write the training
	// scheme's id to compare the nets in their training scheme).
	Scheme string `yaml:"scheme" json:"scheme"`
	// Modes are the θ-coarsenings, each applied to a fresh copy of the
	// trained net: "average" (θ_k = (θ_2k + θ_2k+1)/2, the L2 projection)
	// or "sample" (θ_k = θ_2k), odenet's coarsening modes.
	Modes []string `yaml:"modes" json:"modes"`
	// Nts are the steps per block at which the trained net and every
	// θ-coarsened net are evaluated and timed: the trained net at Nt < K is
	// Nt-coarsening.
	Nts []int `yaml:"nts" json:"nts"`
	// Timing: always on, inference time is half of the comparison.
	Timing `yaml:",inline"`

	// tab and modes are Scheme and Modes parsed, once, by Validate.
	tab   *integrators.Tableau
	modes []odenet.CoarsenMode
}

// Validate checks every value and name, and keeps the parsed scheme and
// modes.
func (p *ThetaCoarsenParams) Validate() error {
	if err := p.EvalSet.validate(); err != nil {
		return err
	}
	switch {
	case len(p.Modes) == 0:
		return spec.Invalid("modes", odenet.CoarsenModeNames(), "want at least one θ-coarsening mode")
	case len(p.Nts) == 0:
		return spec.Invalid("nts", nil, "want at least one Nt")
	}
	if err := p.Timing.validate(p.images(), ""); err != nil {
		return err
	}
	tab, err := builtinScheme(p.Scheme)
	if err != nil {
		return spec.Invalid("scheme", integrators.BuiltinIDs(), "%v", err)
	}
	modes := make([]odenet.CoarsenMode, len(p.Modes))
	for i, name := range p.Modes {
		if modes[i], err = odenet.ParseCoarsenMode(name); err != nil {
			return spec.Invalid("modes", odenet.CoarsenModeNames(), "unknown θ-coarsening mode %q", name)
		}
		if slices.Index(p.Modes, name) != i {
			return spec.Invalid("modes", nil, "mode %q is listed twice", name)
		}
	}
	for i, nt := range p.Nts {
		if nt < 1 {
			return spec.Invalid("nts", nil, "want Nt ≥ 1, got %d", nt)
		}
		if slices.Index(p.Nts, nt) != i {
			return spec.Invalid("nts", nil, "Nt = %d is listed twice", nt)
		}
	}
	p.tab, p.modes = tab, modes
	return nil
}

// parsed returns the scheme's tableau and the modes as Validate parsed
// them; parameters never validated are a programming error.
func (p *ThetaCoarsenParams) parsed() (*integrators.Tableau, []odenet.CoarsenMode) {
	if p.tab == nil {
		panic("claims: ThetaCoarsenParams used without Validate")
	}
	return p.tab, p.modes
}

// testImages is the number of test images of a stratified subset of
// perClass images per class of dataset (0: the whole test set).
func testImages(dataset string, perClass int) int {
	ds := imageDatasets[dataset]
	if perClass == 0 {
		return ds.classes * ds.testPerClass
	}
	return ds.classes * perClass
}

// thetaTrained is the "theta" label of the trained net's series (the θ
// it was trained with, K pieces); a θ-coarsened net's label is its mode.
const thetaTrained = "trained"

// thetaCoarsenKind compares θ-coarsening with Nt-coarsening on the model
// of one cifar-train run. It evaluates the trained net (K pieces) and, for
// every mode, a copy θ-coarsened to K/2 pieces, each at every Nt of nts
// under scheme, and times each forward pass. Its record holds the series
// "accuracy" (Labels {"theta": "trained" or the mode, "k": the net's K,
// "eval": scheme}, X = Nt, Y = accuracy on the evaluation subset in eval
// mode), "infer_ms_per_image", "infer_ms_per_image_min" and
// "infer_ms_per_image_max" (same labels and X; the median, fastest and
// slowest timed pass, as cifar-sweep's), and the metrics final_k (the
// trained K), coarse_k (K/2), params, coarse_params (the θ-coarsened net's
// trainable scalars) and eval_images.
//
// The nets are timed Nt by Nt, all of them at one Nt before the next, so
// that the pairs the comparison reads (the trained net and a θ-coarsened
// one at the same Nt) are timed close together.
type thetaCoarsenKind struct{}

func (thetaCoarsenKind) Name() string              { return "cifar-theta-coarsen" }
func (thetaCoarsenKind) Version() int              { return 1 }
func (thetaCoarsenKind) NewParams() harness.Params { return &ThetaCoarsenParams{} }

// Exclusive: inference time is a result.
func (thetaCoarsenKind) Exclusive() bool { return true }

func (thetaCoarsenKind) Dataset(p harness.Params) (string, string) {
	return fingerprint(p.(*ThetaCoarsenParams).Dataset)
}

// Work counts residual-unit evaluations per image (see WorkParts) times
// the images evaluated and timed.
func (k thetaCoarsenKind) Work(p harness.Params) (string, float64) {
	w := k.WorkParts(p)
	if len(w) == 0 {
		return "cifar-theta-coarsen", 0
	}
	return "cifar-theta-coarsen " + p.(*ThetaCoarsenParams).Dataset, w[0].Units
}

func (thetaCoarsenKind) Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	p := env.Params.(*ThetaCoarsenParams)
	_, modes := p.parsed()
	dep, err := trainedModel(env, "cifar-theta-coarsen")
	if err != nil {
		return nil, err
	}
	evalSet, err := p.load()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dep.ArtifactDir, ModelArtifact)
	load := func() (*odenet.Net, error) {
		net, _, err := odenet.LoadCheckpoint(path, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("cifar-theta-coarsen: the model of %s: %w", dep.Run, err)
		}
		return net, nil
	}
	trained, err := load()
	if err != nil {
		return nil, err
	}
	if k := trained.Pieces(); k%2 != 0 {
		return nil, fmt.Errorf("cifar-theta-coarsen: θ-coarsening maps 2K → K pieces, and the model of %s has K = %d: need a cifar-train run that ends at an even K", dep.Run, k)
	}
	nets := []thetaNet{{theta: thetaTrained, net: trained}}
	for _, m := range modes {
		net, err := load()
		if err != nil {
			return nil, err
		}
		if err := net.Coarsen(nil, odenet.CoarsenOptions{Mode: m}); err != nil {
			return nil, fmt.Errorf("cifar-theta-coarsen: θ-coarsening the model of %s (%s): %w", dep.Run, m, err)
		}
		nets = append(nets, thetaNet{theta: m.String(), net: net})
	}
	series, err := compareCoarsenings(ctx, nets, evalSet, p, env.Report)
	if err != nil {
		return nil, err
	}
	return &harness.Result{
		Metrics: map[string]float64{
			"final_k": float64(trained.Pieces()), "coarse_k": float64(nets[1].net.Pieces()),
			"params": float64(trained.NumParams()), "coarse_params": float64(nets[1].net.NumParams()),
			"eval_images": float64(evalSet.Len()),
		},
		Series: series,
	}, nil
}

// thetaNet is a net to evaluate and the "theta" label of its series.
type thetaNet struct {
	theta string
	net   *odenet.Net
}

// compareCoarsenings evaluates and times every net at every Nt of p under
// p's scheme (see thetaCoarsenKind) and returns, per net in order, its
// accuracy series and its three timing series. It reports progress after
// each (net, Nt).
func compareCoarsenings(ctx context.Context, nets []thetaNet, evalSet *datasets.Dataset, p *ThetaCoarsenParams,
	report func(harness.Progress)) ([]record.Series, error) {
	tab, _ := p.parsed()
	if evalSet.Len() < p.TimeImages {
		return nil, fmt.Errorf("cifar-theta-coarsen: %d images to time, the evaluation subset has %d", p.TimeImages, evalSet.Len())
	}
	idx := make([]int, p.TimeImages)
	for i := range idx {
		idx[i] = i
	}
	timing := prepareTimingBatches(evalSet.Subset(evalSet.Name+"[timing]", idx), p.EvalBatch)
	passMs := make([]float64, p.TimeRepeats)
	ev := newEvaluator(p.EvalBatch)

	// Per net: accuracy, median, min, max.
	out := make([][4]record.Series, len(nets))
	for i, n := range nets {
		n.net.SetScheme(tab)
		for j, name := range []string{"accuracy", "infer_ms_per_image", "infer_ms_per_image_min", "infer_ms_per_image_max"} {
			y := "ms/image"
			if j == 0 {
				y = "accuracy"
			}
			out[i][j] = record.Series{Name: name, XName: "Nt", YName: y,
				Labels: map[string]string{"theta": n.theta, "k": strconv.Itoa(n.net.Pieces()), "eval": tab.ID()}}
		}
	}
	done, total := 0, len(nets)*len(p.Nts)
	for _, nt := range p.Nts {
		x := float64(nt)
		for i, n := range nets {
			n.net.SetSteps(nt)
			a, err := ev.accuracy(ctx, n.net, evalSet)
			if err != nil {
				return nil, err
			}
			if err := ev.timeForward(ctx, n.net, timing, passMs); err != nil {
				return nil, err
			}
			for j, y := range []float64{a, median(passMs), slices.Min(passMs), slices.Max(passMs)} {
				s := &out[i][j]
				s.X, s.Y = append(s.X, x), append(s.Y, y)
			}
			done++
			report(harness.Progress{Done: float64(done), Total: float64(total), Acc: a,
				Note: fmt.Sprintf("θ %s K=%d Nt=%d", n.theta, n.net.Pieces(), nt)})
		}
	}
	var series []record.Series
	for i := range out {
		series = append(series, out[i][:]...)
	}
	return series, nil
}

// trainedModel returns the one cifar-train run that a run of kind needs
// (whose artifact is the model it reads).
func trainedModel(env *harness.Env, kind string) (*harness.Dep, error) {
	if len(env.Needs) != 1 {
		return nil, fmt.Errorf("%s: run %q must need exactly one cifar-train run, it needs %d", kind, env.Run, len(env.Needs))
	}
	dep := &env.Needs[0]
	if dep.Record.Kind != "cifar-train" {
		return nil, fmt.Errorf("%s: run %q needs %q of kind %q, want a cifar-train run", kind, env.Run, dep.Run, dep.Record.Kind)
	}
	return dep, nil
}
