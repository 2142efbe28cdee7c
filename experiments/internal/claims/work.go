package claims

import (
	"math/big"
	"slices"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/odenet"
)

// The work of a run, for -plan's cost model (harness.WorkCounter). A CIFAR
// run's cost is counted in images and in image × residual-unit evaluations:
// a network of K pieces trained or evaluated with an s-stage scheme runs
// 3 blocks × s × K unit evaluations per image, and everything else an image
// costs (data, stem, stitches, head) does not grow with depth. Two classes
// are measured apart because a training step (forward and backward) costs
// about three forward passes: "cifar-train" (the SGD steps, timed by the
// record's train_seconds) and "cifar-eval" (forward passes in eval mode:
// a training run's periodic and final evaluations, which take the rest of
// its wall time, and every pass of a sweep). Counted this way, the quick and
// paper profiles differ only in how much work they do, not in its kind, so
// costs measured on the quick runs of record estimate the paper runs.

// odeBlocks is the number of ODE blocks of a ContinuousNet (nnlib/odenet).
const odeBlocks = 3

// referenceWidth is the α at which a unit evaluation counts as one: the
// quick and paper profiles' 16. A unit's convolutions cost α², so other
// widths (smoke's 4) count (α/16)².
const referenceWidth = 16

func widthScale(width int) float64 {
	r := float64(width) / referenceWidth
	return r * r
}

// WorkParts: the SGD steps over the training images of every epoch at the
// K of that epoch, and the evaluations (after epoch 1, every eval_every-th
// epoch, the last and each refinement, on the evaluation subset; the final
// one on the final subset).
func (trainKind) WorkParts(hp harness.Params) []harness.Work {
	p := hp.(*TrainParams)
	tab, err := integrators.Builtin(p.Scheme)
	if err != nil {
		return nil
	}
	basis, _ := parseBasis(p.Basis) // Validate has checked it; the zero value is the paper's basis
	ds := imageDatasets[p.Dataset]
	// Training runs at Nt = K.
	perImage := func(k int) float64 { return odeBlocks * blockUnits(tab, basis, k, k) * widthScale(p.Width) }
	images := func(perClass, all int) float64 {
		if perClass == 0 {
			return float64(ds.classes * all)
		}
		return float64(ds.classes * perClass)
	}
	trained := float64(p.trainImages())
	if p.DropLast {
		trained = float64(p.StepsPerEpoch() * p.Batch)
	}
	evalN := images(p.EvalPerClass, ds.testPerClass)
	train := harness.Work{Class: "cifar-train", Metric: "train_seconds"}
	eval := harness.Work{Class: "cifar-eval"}
	add := func(w *harness.Work, n float64, k int) {
		w.Items += n
		w.Units += n * perImage(k)
	}
	k := p.K0
	for e := range p.Epochs {
		if slices.Contains(p.RefineEpochs, e) {
			k *= 2
			add(&eval, evalN, k)
		}
		add(&train, trained, k)
		if p.evalAfter(e) {
			add(&eval, evalN, k)
		}
	}
	add(&eval, images(p.FinalPerClass, ds.testPerClass), k)
	return []harness.Work{train, eval}
}

// WorkParts: one pass over the evaluation subset per (scheme, Nt), plus the
// timed passes (a warm-up and time_repeats) over time_images. The sweep
// does not know its model's width; it counts the reference width's.
func (sweepKind) WorkParts(hp harness.Params) []harness.Work {
	s := hp.(*SweepParams)
	n := float64(testImages(s.Dataset, s.EvalPerClass))
	if s.Time {
		n += float64(s.TimeImages * (s.TimeRepeats + 1))
	}
	w := harness.Work{Class: "cifar-eval"}
	for _, sc := range s.Schemes {
		tab, err := integrators.Builtin(sc)
		if err != nil {
			continue
		}
		for _, nt := range s.Nts {
			w.Items += n
			w.Units += n * float64(odeBlocks*tab.Stages()*nt)
		}
	}
	return []harness.Work{w}
}

// blockUnits is the work, in unit evaluations, of one forward pass of an
// image through one ODE block of K pieces integrated with Nt steps of tab:
// stages × Nt with the piecewise-constant basis. With the piecewise-linear
// basis a stage whose time t = (n + c_i)/Nt falls between two nodes j/K
// evaluates its convolutions at both nodes and blends them (odenet's
// blend), so it counts twice; a stage on a node counts once. (RK4-classic
// at Nt = K: stages at c = 0 and 1 sit on nodes, the two at c = ½ do not,
// so 6 where the piecewise-constant basis counts 4.) Computed exactly from
// the tableau's rational nodes, as odenet places the stages.
func blockUnits(tab *integrators.Tableau, basis odenet.Basis, k, nt int) float64 {
	if basis != odenet.PiecewiseLinear {
		return float64(tab.Stages() * nt)
	}
	end := big.NewRat(int64(k), 1)
	n := 0
	for step := range nt {
		for i := range tab.Stages() {
			x := new(big.Rat).Add(big.NewRat(int64(step), 1), tab.CRat(i))
			x.Mul(x, big.NewRat(int64(k), int64(nt))) // t·K: node j at j
			if x.IsInt() || x.Cmp(end) >= 0 {
				n++
			} else {
				n += 2
			}
		}
	}
	return float64(n)
}

// WorkParts: per net (the trained one and one per mode) and Nt, one pass
// over the evaluation subset and the timed passes (a warm-up and
// time_repeats) over time_images. The kind does not know its model's
// width, basis or K: it counts the reference width's piecewise-constant
// units (stages × Nt per block), as the sweep does.
func (thetaCoarsenKind) WorkParts(hp harness.Params) []harness.Work {
	p := hp.(*ThetaCoarsenParams)
	tab, err := integrators.Builtin(p.Scheme)
	if err != nil {
		return nil
	}
	n := float64(testImages(p.Dataset, p.EvalPerClass) + p.TimeImages*(p.TimeRepeats+1))
	w := harness.Work{Class: "cifar-eval"}
	for range 1 + len(p.Modes) {
		for _, nt := range p.Nts {
			w.Items += n
			w.Units += n * odeBlocks * blockUnits(tab, odenet.PiecewiseConstant, 1, nt)
		}
	}
	return []harness.Work{w}
}

// WorkParts: the training iterations of every model, in samples (items)
// and sample × stage evaluations of the MLP (units); the convergence test
// and the oscillator study, whose size does not change between profiles,
// ride on them. The study's float64 MLP (nnlib/mlp64) is pure Go: its cost
// depends on neither the kernel level nor nnlib's threads.
func (pendulumKind) WorkParts(hp harness.Params) []harness.Work {
	p := hp.(*PendulumParams)
	w := harness.Work{Class: "pendulum", KernelFree: true}
	samples := float64(p.Iters * p.Batch)
	for _, tr := range p.Trainings {
		tab, err := integrators.Builtin(tr.Scheme)
		if err != nil {
			continue
		}
		w.Items += samples
		w.Units += samples * float64(tab.Stages())
	}
	return []harness.Work{w}
}
