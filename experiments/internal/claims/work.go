package claims

import (
	"slices"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/integrators"
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
	ds := imageDatasets[p.Dataset]
	perImage := func(k int) float64 { return float64(odeBlocks*tab.Stages()*k) * widthScale(p.Width) }
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
	ds := imageDatasets[s.Dataset]
	n := float64(ds.classes * s.EvalPerClass)
	if s.EvalPerClass == 0 {
		n = float64(ds.classes * ds.testPerClass)
	}
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

// The summaries read their needs' records: no work worth estimating.

func (summaryB) WorkParts(harness.Params) []harness.Work { return nil }
func (summaryC) WorkParts(harness.Params) []harness.Work { return nil }
func (summaryD) WorkParts(harness.Params) []harness.Work { return nil }
