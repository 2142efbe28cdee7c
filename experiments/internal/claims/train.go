package claims

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/odenet"
	"github.com/continuousnet/repro/nnlib/rng"
)

// TrainParams are the parameters of the "cifar-train" kind. Every
// hyper-parameter of the model, the data and the optimizer is here; the
// run's seed draws the initial weights, the batch order, the augmentation
// and the refinement noise.
type TrainParams struct {
	// Data.
	Dataset       string `yaml:"dataset" json:"dataset"`                 // "cifar10" (or "cifar100")
	TrainPerClass int    `yaml:"train_per_class" json:"train_per_class"` // stratified training subset; 0: the whole training set
	EvalPerClass  int    `yaml:"eval_per_class" json:"eval_per_class"`   // stratified test subset of the periodic evaluations; 0: the whole test set
	FinalPerClass int    `yaml:"final_per_class" json:"final_per_class"` // test images per class of the final evaluation (acc_full_test); 0: the whole test set
	SubsetSeed    uint64 `yaml:"subset_seed" json:"subset_seed"`         // seed of both subsets (fixed across runs so they compare)
	CropPad       int    `yaml:"crop_pad" json:"crop_pad"`               // random crop after zero padding by this many pixels; 0: none
	Flip          bool   `yaml:"flip" json:"flip"`                       // random horizontal flip

	// Model (nnlib/odenet.Config).
	Width         int     `yaml:"width" json:"width"`                     // α
	Stem          string  `yaml:"stem" json:"stem"`                       // "3x3" or "7x7"
	Unit          string  `yaml:"unit" json:"unit"`                       // "pre-activation" or "conv-relu-bn"
	BN            string  `yaml:"bn" json:"bn"`                           // BatchNorm in the ODE blocks: "per-piece" (the only mode implemented)
	FinalBN       bool    `yaml:"final_bn" json:"final_bn"`               // BN-ReLU after the last block
	SkipInit      bool    `yaml:"skip_init" json:"skip_init"`             // learnable per-piece residual scalars
	SkipInitValue float64 `yaml:"skip_init_value" json:"skip_init_value"` // their initial value (0 in the paper)
	Epsilon       float64 `yaml:"epsilon" json:"epsilon"`                 // ε
	Scheme        string  `yaml:"scheme" json:"scheme"`                   // training tableau
	K0            int     `yaml:"k0" json:"k0"`                           // initial pieces (and steps) per block
	KnotRule      string  `yaml:"knot_rule" json:"knot_rule"`             // "next-piece" (the authors' runs) or "own-piece"
	// Basis of θ(t): left out (the zero value) for the paper's
	// piecewise-constant basis, or "piecewise-linear" (odenet.PiecewiseLinear).
	// Optional and omitted from the key when empty, so the runs written
	// before it existed keep their keys.
	Basis string `yaml:"basis" json:"basis,omitempty" spec:"optional"`

	// Refinement (incremental-in-depth training).
	RefineEpochs   []int   `yaml:"refine_epochs" json:"refine_epochs"`       // K → 2K at the start of these 0-based epochs
	RefineNoise    float64 `yaml:"refine_noise" json:"refine_noise"`         // v: conv weights × (1 + v·N(0,1)) after copying
	RefineResetOpt bool    `yaml:"refine_reset_opt" json:"refine_reset_opt"` // drop the optimizer state at refinement (the authors' runs)

	// Optimization.
	Epochs      int     `yaml:"epochs" json:"epochs"`
	Batch       int     `yaml:"batch" json:"batch"`
	DropLast    bool    `yaml:"drop_last" json:"drop_last"` // skip an epoch's last batch when it is smaller than batch (PyTorch's DataLoader keeps it)
	LR          float64 `yaml:"lr" json:"lr"`
	Momentum    float64 `yaml:"momentum" json:"momentum"`
	WeightDecay float64 `yaml:"weight_decay" json:"weight_decay"`
	LRSteps     []int   `yaml:"lr_steps" json:"lr_steps"` // lr × lr_gamma after each of these 0-based epochs completes
	LRGamma     float64 `yaml:"lr_gamma" json:"lr_gamma"`

	// Evaluation.
	EvalEvery int `yaml:"eval_every" json:"eval_every"` // evaluate after epoch 0, after every eval_every-th epoch, after the last and right after each refinement
	EvalBatch int `yaml:"eval_batch" json:"eval_batch"`

	// model holds Stem, Unit, Scheme, KnotRule and Basis parsed, once, by Validate;
	// the names above stay the parameters' spec and key form.
	model *modelChoice
}

// modelChoice is the model's named choices as the values odenet takes.
type modelChoice struct {
	stem   odenet.Stem
	unit   odenet.Unit
	scheme *integrators.Tableau
	rule   integrators.KnotRule
	basis  odenet.Basis
}

// parseModel parses the model's named choices, each error a
// *spec.FieldError naming the parameter and its valid values.
func (p *TrainParams) parseModel() (*modelChoice, error) {
	var m modelChoice
	var err error
	if m.stem, err = odenet.ParseStem(p.Stem); err != nil {
		return nil, spec.Invalid("stem", odenet.StemNames(), "unknown stem %q", p.Stem)
	}
	if m.unit, err = odenet.ParseUnit(p.Unit); err != nil {
		return nil, spec.Invalid("unit", odenet.UnitNames(), "unknown residual unit %q", p.Unit)
	}
	if m.scheme, err = builtinScheme(p.Scheme); err != nil {
		return nil, spec.Invalid("scheme", integrators.BuiltinIDs(), "%v", err)
	}
	if m.rule, err = integrators.ParseKnotRule(p.KnotRule); err != nil {
		return nil, spec.Invalid("knot_rule", integrators.KnotRuleNames(), "unknown knot rule %q", p.KnotRule)
	}
	if m.basis, err = parseBasis(p.Basis); err != nil {
		return nil, err
	}
	return &m, nil
}

// parseBasis parses the basis parameter: empty for the paper's
// piecewise-constant basis, else the name of another one. Written out,
// "piecewise-constant" is rejected: the same net would get a second key.
func parseBasis(name string) (odenet.Basis, error) {
	if name == "" {
		return odenet.PiecewiseConstant, nil
	}
	b, err := odenet.ParseBasis(name)
	if err != nil {
		return 0, spec.Invalid("basis", odenet.BasisNames(), "unknown basis %q (leave basis out for the paper's piecewise-constant one)", name)
	}
	if b == odenet.PiecewiseConstant {
		return 0, spec.Invalid("basis", []string{odenet.PiecewiseLinear.String()}, "leave basis out for the paper's %s basis: written out, the same net would get a second run key", name)
	}
	return b, nil
}

// choices returns the parsed model choices: Validate's, or (for parameters
// built in code and never validated) parsed now; invalid names there are a
// programming error.
func (p *TrainParams) choices() *modelChoice {
	if p.model == nil {
		m, err := p.parseModel()
		if err != nil {
			panic(fmt.Sprintf("claims: TrainParams used without Validate: %v", err))
		}
		p.model = m
	}
	return p.model
}

// Tableau returns the training scheme's tableau.
func (p *TrainParams) Tableau() *integrators.Tableau { return p.choices().scheme }

// Validate checks every value and name, and keeps the model's parsed
// choices for ModelConfig and Tableau.
func (p *TrainParams) Validate() error {
	if _, ok := imageDatasets[p.Dataset]; !ok {
		return spec.Invalid("dataset", datasetNames(), "unknown dataset %q", p.Dataset)
	}
	ds := imageDatasets[p.Dataset]
	switch {
	case p.TrainPerClass < 0 || p.TrainPerClass > ds.trainPerClass:
		return spec.Invalid("train_per_class", nil, "want 0 (all) or 1..%d, got %d", ds.trainPerClass, p.TrainPerClass)
	case p.EvalPerClass < 0 || p.EvalPerClass > ds.testPerClass:
		return spec.Invalid("eval_per_class", nil, "want 0 (all) or 1..%d, got %d", ds.testPerClass, p.EvalPerClass)
	case p.FinalPerClass < 0 || p.FinalPerClass > ds.testPerClass:
		return spec.Invalid("final_per_class", nil, "want 0 (all) or 1..%d, got %d", ds.testPerClass, p.FinalPerClass)
	case p.CropPad < 0:
		return spec.Invalid("crop_pad", nil, "want ≥ 0, got %d", p.CropPad)
	case p.Width < 1:
		return spec.Invalid("width", nil, "want ≥ 1, got %d", p.Width)
	case p.BN != "per-piece":
		return spec.Invalid("bn", []string{"per-piece"}, "unknown BatchNorm mode %q", p.BN)
	case !(p.Epsilon > 0) || math.IsInf(p.Epsilon, 0):
		return spec.Invalid("epsilon", nil, "want a finite ε > 0, got %v", p.Epsilon)
	case p.K0 < 1:
		return spec.Invalid("k0", nil, "want ≥ 1, got %d", p.K0)
	case p.RefineNoise < 0 || math.IsNaN(p.RefineNoise):
		return spec.Invalid("refine_noise", nil, "want ≥ 0, got %v", p.RefineNoise)
	case p.Epochs < 1:
		return spec.Invalid("epochs", nil, "want ≥ 1, got %d", p.Epochs)
	case p.Batch < 1:
		return spec.Invalid("batch", nil, "want ≥ 1, got %d", p.Batch)
	case p.DropLast && p.trainImages() < p.Batch:
		return spec.Invalid("drop_last", nil, "the %d training images make no whole batch of %d: set drop_last: false or a smaller batch", p.trainImages(), p.Batch)
	case !(p.LR > 0):
		return spec.Invalid("lr", nil, "want > 0, got %v", p.LR)
	case p.Momentum < 0 || p.Momentum >= 1:
		return spec.Invalid("momentum", nil, "want 0 ≤ momentum < 1, got %v", p.Momentum)
	case p.WeightDecay < 0:
		return spec.Invalid("weight_decay", nil, "want ≥ 0, got %v", p.WeightDecay)
	case !(p.LRGamma > 0):
		return spec.Invalid("lr_gamma", nil, "want > 0, got %v", p.LRGamma)
	case p.EvalEvery < 1:
		return spec.Invalid("eval_every", nil, "want ≥ 1, got %d", p.EvalEvery)
	case p.EvalBatch < 1:
		return spec.Invalid("eval_batch", nil, "want ≥ 1, got %d", p.EvalBatch)
	}
	m, err := p.parseModel()
	if err != nil {
		return err
	}
	p.model = m
	for i, e := range p.RefineEpochs {
		if e < 1 || e >= p.Epochs || (i > 0 && e <= p.RefineEpochs[i-1]) {
			return spec.Invalid("refine_epochs", nil, "want increasing epochs in 1..%d (refinement at the start of a 0-based epoch), got %v", p.Epochs-1, p.RefineEpochs)
		}
	}
	for i, e := range p.LRSteps {
		if e < 0 || (i > 0 && e <= p.LRSteps[i-1]) {
			return spec.Invalid("lr_steps", nil, "want increasing 0-based epochs, got %v", p.LRSteps)
		}
	}
	return nil
}

// builtinScheme returns the built-in tableau whose id is name, and rejects
// its aliases (torchdiffeq's "rk4" is "rk4-38"): two spellings of one
// computation would give two run keys.
func builtinScheme(name string) (*integrators.Tableau, error) {
	tab, err := integrators.Builtin(name)
	if err != nil {
		return nil, fmt.Errorf("unknown scheme %q", name)
	}
	if tab.ID() != name {
		return nil, fmt.Errorf("write the scheme's id %q instead of its alias %q", tab.ID(), name)
	}
	return tab, nil
}

// ModelConfig returns the network's initial configuration, from the
// choices Validate parsed.
func (p *TrainParams) ModelConfig() odenet.Config {
	m := p.choices()
	return odenet.Config{
		Width: p.Width, Classes: imageDatasets[p.Dataset].classes, InChannels: 3, Pieces: p.K0, Steps: p.K0,
		Basis: m.basis, Scheme: m.scheme, KnotRule: m.rule, Unit: m.unit, Stem: m.stem,
		SkipInit: p.SkipInit, SkipInitValue: float32(p.SkipInitValue), Epsilon: p.Epsilon, FinalBN: p.FinalBN,
	}
}

// trainImages is the number of training images the run uses.
func (p *TrainParams) trainImages() int {
	ds := imageDatasets[p.Dataset]
	if p.TrainPerClass == 0 {
		return ds.classes * ds.trainPerClass
	}
	return ds.classes * p.TrainPerClass
}

// StepsPerEpoch is the number of SGD steps of an epoch: whole batches, and
// the last, smaller one unless DropLast.
func (p *TrainParams) StepsPerEpoch() int {
	if p.DropLast {
		return p.trainImages() / p.Batch
	}
	return (p.trainImages() + p.Batch - 1) / p.Batch
}

// evalAfter reports whether the run evaluates after 0-based epoch e.
func (p *TrainParams) evalAfter(e int) bool {
	return e == 0 || (e+1)%p.EvalEvery == 0 || e == p.Epochs-1
}

// trainKind trains a ContinuousNet on CIFAR. Its record holds the metrics
// acc_max (the best periodic evaluation, as the authors' tables report),
// acc_final (the evaluation after the last epoch), acc_full_test (the final
// model on the whole test set, or on final_per_class images per class when
// that is not 0: the smoke profile), train_seconds (the training loop only:
// no evaluation, no checkpoint), unit_evals (residual-unit evaluations in
// training forward passes: 3 blocks × stages × Nt per batch), params,
// final_k, steps_per_epoch and steps; and the series train_loss (X = SGD
// step, 0-based; Y = batch loss; averaged over groups of steps when there
// are more than maxLossPoints steps), test_acc (X = epochs completed, Y =
// accuracy on the evaluation subset; an evaluation right after a
// refinement at the start of epoch e has X = e) and refine_epochs (X =
// 0-based epoch of each refinement, Y = the new K). The trained model is
// the artifact "model.ckpt" (odenet.SaveCheckpoint, no optimizer).
//
// It checkpoints at every epoch end (model, optimizer, refinement RNG
// stream, epoch and the series so far) and resumes from there with the
// same batches (the iterator's order and augmentation are a function of
// the seed and the epoch), so an interrupted run ends with the same
// numbers, train_seconds excepted.
type trainKind struct{}

func (trainKind) Name() string { return "cifar-train" }

// Version 2: the drop_last parameter. Version 3: stride-1 3×3
// convolutions run as Winograd F(2×2, 3×3) in nnlib (other rounding). The
// optional basis parameter came later without a new version: left out, it
// changes neither the key nor the computation.
func (trainKind) Version() int              { return 3 }
func (trainKind) NewParams() harness.Params { return &TrainParams{} }

// Exclusive: the training time is a result (claim c).
func (trainKind) Exclusive() bool { return true }

func (trainKind) Dataset(p harness.Params) (string, string) {
	return fingerprint(p.(*TrainParams).Dataset)
}

// Work is the SGD steps; the class is everything that sets a step's cost.
func (trainKind) Work(p harness.Params) (string, float64) {
	t := p.(*TrainParams)
	class := fmt.Sprintf("cifar-train %s a=%d stem=%s unit=%s %s k0=%d refine=%v/%d batch=%d",
		t.Dataset, t.Width, t.Stem, t.Unit, t.Scheme, t.K0, t.RefineEpochs, t.Epochs, t.Batch)
	if t.Basis != "" { // the piecewise-constant class keeps its name (and its measured costs)
		class += " basis=" + t.Basis
	}
	return class, float64(t.Epochs * t.StepsPerEpoch())
}

// maxLossPoints bounds the points of the train_loss series.
const maxLossPoints = 4000

// trainState is what a checkpoint holds besides the model and optimizer.
type trainState struct {
	Epoch        int       `json:"epoch"` // next epoch to run
	Step         int       `json:"step"`
	TrainSeconds float64   `json:"train_seconds"`
	UnitEvals    int64     `json:"unit_evals"`
	Loss         []float64 `json:"loss"`
	AccX         []float64 `json:"acc_x"`
	AccY         []float64 `json:"acc_y"`
	RefX         []float64 `json:"ref_x"`
	RefY         []float64 `json:"ref_y"`
}

const stateKey = "claims.train.state"

func (trainKind) Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	p := env.Params.(*TrainParams)
	split, err := loadDataset(p.Dataset)
	if err != nil {
		return nil, err
	}
	train, err := subset(split.Train, p.TrainPerClass, p.SubsetSeed)
	if err != nil {
		return nil, err
	}
	evalSet, err := subset(split.Test, p.EvalPerClass, p.SubsetSeed)
	if err != nil {
		return nil, err
	}

	refineRNG := rng.New(env.Seed, "cifar-train/refine")
	opt := nnlib.NewSGD(p.LR, p.Momentum, p.WeightDecay)
	var net *odenet.Net
	var st trainState
	data, resumed, err := env.LoadCheckpoint()
	if err != nil {
		return nil, err
	}
	if resumed {
		var meta map[string]string
		if net, meta, err = odenet.ReadCheckpoint(bytes.NewReader(data), opt, []*rng.Stream{refineRNG}); err != nil {
			return nil, fmt.Errorf("cifar-train: resuming: %w", err)
		}
		if err := json.Unmarshal([]byte(meta[stateKey]), &st); err != nil {
			return nil, fmt.Errorf("cifar-train: resuming: checkpoint state: %w", err)
		}
		env.Logf("resuming at epoch %d (K = %d)", st.Epoch, net.Pieces())
	} else if net, err = odenet.New(p.ModelConfig(), rng.New(env.Seed, "cifar-train/init")); err != nil {
		return nil, err
	}

	sched := nnlib.MultiStep(p.LR, p.LRGamma, p.LRSteps...)
	// The authors normalise CIFAR-100 with the CIFAR-10 constants too (paper/README.md E3).
	it := datasets.NewIterator(train, datasets.BatchConfig{BatchSize: p.Batch, DropLast: p.DropLast, Shuffle: true, Pad: p.CropPad, Flip: p.Flip,
		Mean: datasets.CIFAR10Mean, Std: datasets.CIFAR10Std, Layout: datasets.ChannelMajor, Seed: env.Seed, Prefetch: true})
	defer it.Close()
	x := make([]float32, it.BatchFloats())
	labels := make([]int, p.Batch)
	size := train.ImageSize()
	g := nnlib.NewGraph(true)
	ev := newEvaluator(p.EvalBatch)
	total := float64(p.Epochs * p.StepsPerEpoch())
	for e := st.Epoch; e < p.Epochs; e++ {
		if slices.Contains(p.RefineEpochs, e) {
			if err := net.Refine(opt, odenet.RefineOptions{Noise: p.RefineNoise, Rand: refineRNG, KeepOptimizerState: !p.RefineResetOpt}); err != nil {
				return nil, err
			}
			g = nnlib.NewGraph(true)
			st.RefX, st.RefY = append(st.RefX, float64(e)), append(st.RefY, float64(net.Pieces()))
			acc, err := ev.accuracy(ctx, net, evalSet)
			if err != nil {
				return nil, err
			}
			st.AccX, st.AccY = append(st.AccX, float64(e)), append(st.AccY, acc)
			env.Logf("refined to K = %d at the start of epoch %d: accuracy %.2f%%", net.Pieces(), e, 100*acc)
		}
		opt.SetLR(sched.LR(e))
		it.StartEpoch(e)
		var sum float64
		var n int
		t0 := time.Now()
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b := it.Next(x, labels)
			if b == 0 {
				break
			}
			g.Reset()
			net.Params.ZeroGrad()
			loss := g.SoftmaxCrossEntropy(net.Forward(g, g.Input(x[:b*size], train.C, b, train.H, train.W)), labels[:b])
			g.Backward(loss)
			opt.Step(net.Params.Params())
			l := float64(loss.Data[0])
			if !isFinite(l) {
				return nil, fmt.Errorf("cifar-train: the loss is %v at epoch %d, step %d (diverged)", l, e, st.Step)
			}
			st.Loss = append(st.Loss, l)
			st.UnitEvals += int64(net.UnitsPerForward())
			st.Step++
			sum += l
			n++
			env.Report(harness.Progress{Done: float64(st.Step), Total: total, Epoch: e + 1, Epochs: p.Epochs, Loss: sum / float64(n), Acc: last(st.AccY)})
		}
		st.TrainSeconds += time.Since(t0).Seconds()
		if p.evalAfter(e) {
			acc, err := ev.accuracy(ctx, net, evalSet)
			if err != nil {
				return nil, err
			}
			st.AccX, st.AccY = append(st.AccX, float64(e+1)), append(st.AccY, acc)
		}
		st.Epoch = e + 1
		env.Report(harness.Progress{Done: float64(st.Step), Total: total, Epoch: e + 1, Epochs: p.Epochs, Loss: sum / float64(max(n, 1)), Acc: last(st.AccY)})
		if err := saveTrainCheckpoint(env, net, opt, refineRNG, &st); err != nil {
			return nil, err
		}
	}

	finalSet, err := subset(split.Test, p.FinalPerClass, p.SubsetSeed)
	if err != nil {
		return nil, err
	}
	full, err := ev.accuracy(ctx, net, finalSet)
	if err != nil {
		return nil, err
	}
	if err := odenet.SaveCheckpoint(filepath.Join(env.ArtifactDir, ModelArtifact), net, nil, nil,
		map[string]string{"run": env.Run, "key": env.Key}); err != nil {
		return nil, err
	}
	lossX, lossY := groupMeans(st.Loss, maxLossPoints)
	return &harness.Result{
		Metrics: map[string]float64{
			"acc_max":         slices.Max(st.AccY),
			"acc_final":       last(st.AccY),
			"acc_full_test":   full,
			"train_seconds":   st.TrainSeconds,
			"unit_evals":      float64(st.UnitEvals),
			"params":          float64(net.NumParams()),
			"final_k":         float64(net.Pieces()),
			"steps_per_epoch": float64(p.StepsPerEpoch()),
			"steps":           float64(st.Step),
		},
		Series: []record.Series{
			{Name: "train_loss", XName: "step", YName: "loss", X: lossX, Y: lossY},
			{Name: "test_acc", XName: "epoch", YName: "accuracy", X: st.AccX, Y: st.AccY},
			{Name: "refine_epochs", XName: "epoch", YName: "K", X: orEmpty(st.RefX), Y: orEmpty(st.RefY)},
		},
	}, nil
}

// ModelArtifact is the file name of a cifar-train run's trained model in
// its artifact folder.
const ModelArtifact = "model.ckpt"

func last(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

func orEmpty(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return v
}

// groupMeans returns y (X = index) when it has at most maxPoints values,
// else the means of consecutive groups of ⌈len/maxPoints⌉ values with X
// the index of each group's first value.
func groupMeans(y []float64, maxPoints int) (xs, ys []float64) {
	k := max(1, (len(y)+maxPoints-1)/maxPoints)
	for i := 0; i < len(y); i += k {
		j := min(i+k, len(y))
		s := 0.0
		for _, v := range y[i:j] {
			s += v
		}
		xs, ys = append(xs, float64(i)), append(ys, s/float64(j-i))
	}
	return orEmpty(xs), orEmpty(ys)
}

// evaluator measures accuracies in eval mode (BatchNorm running
// statistics). It keeps its tape and batch buffers between calls, so a pass
// after the first allocates no activations (what the timed passes of a
// sweep must not measure).
type evaluator struct {
	batch  int
	g      *nnlib.Graph
	x      []float32
	labels []int
}

func newEvaluator(batch int) *evaluator {
	return &evaluator{batch: batch, g: nnlib.NewGraph(false), labels: make([]int, batch)}
}

// accuracy returns the accuracy of net on d with its current manifestation.
func (ev *evaluator) accuracy(ctx context.Context, net *odenet.Net, d *datasets.Dataset) (float64, error) {
	it := datasets.NewIterator(d, datasets.BatchConfig{BatchSize: ev.batch, Mean: datasets.CIFAR10Mean, Std: datasets.CIFAR10Std, Layout: datasets.ChannelMajor})
	defer it.Close()
	if len(ev.x) < it.BatchFloats() {
		ev.x = make([]float32, it.BatchFloats())
	}
	correct, total := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		b := it.Next(ev.x, ev.labels)
		if b == 0 {
			break
		}
		ev.g.Reset()
		logits := net.Forward(ev.g, ev.g.Input(ev.x[:b*d.ImageSize()], d.C, b, d.H, d.W))
		k := logits.Shape[1]
		for i := range b {
			if nnlib.Argmax(logits.Data[i*k:(i+1)*k]) == ev.labels[i] {
				correct++
			}
		}
		total += b
	}
	if total == 0 {
		return 0, fmt.Errorf("evaluate: %s is empty", d.Name)
	}
	return float64(correct) / float64(total), nil
}

// saveTrainCheckpoint stores the model, optimizer, stream and state as the
// run's checkpoint (nnlib's format).
func saveTrainCheckpoint(env *harness.Env, net *odenet.Net, opt nnlib.Optimizer, r *rng.Stream, st *trainState) error {
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := odenet.WriteCheckpoint(&buf, net, opt, []*rng.Stream{r}, map[string]string{stateKey: string(js)}); err != nil {
		return err
	}
	return env.SaveCheckpoint(buf.Bytes())
}
