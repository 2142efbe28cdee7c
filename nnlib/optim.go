package nnlib

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/continuousnet/repro/nnlib/internal/kernels"
)

// Optimizer updates parameters from their gradients. Its per-parameter
// state is keyed by parameter name, so it follows a model whose Params are
// resized in place only if Reset is called (or the state transformed via
// State/SetState).
type Optimizer interface {
	// Step updates every parameter in ps from its Grad.
	Step(ps []*Param)
	// Reset drops all per-parameter state (momentum, moments, step count).
	Reset()
	LR() float64
	SetLR(lr float64)
	// State returns a deep copy of the optimizer's state for checkpoints.
	State() OptimizerState
	// SetState restores a state returned by State of the same kind.
	SetState(OptimizerState) error
}

// OptimizerState is the serializable state of an Optimizer.
type OptimizerState struct {
	Kind  string // "sgd" or "adam"
	LR    float64
	Step  int64
	Slots []NamedTensor // per-parameter buffers, named "<param>/<slot>"
}

// NamedTensor is a named float32 array with a shape.
type NamedTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// SGD is stochastic gradient descent with momentum and weight decay, with
// PyTorch's semantics (dampening 0, no Nesterov):
//
//	d = g + wd·p;  buf = d on the first step, else buf = μ·buf + d;  p -= lr·buf
type SGD struct {
	lr, Momentum, WeightDecay float64
	bufs                      map[string][]float32
	tmp                       []float32
	steps                     int64
}

// NewSGD returns an SGD optimizer.
func NewSGD(lr, momentum, weightDecay float64) *SGD {
	return &SGD{lr: lr, Momentum: momentum, WeightDecay: weightDecay, bufs: map[string][]float32{}}
}

// LR returns the learning rate.
func (o *SGD) LR() float64 { return o.lr }

// SetLR sets the learning rate.
func (o *SGD) SetLR(lr float64) { o.lr = lr }

// Reset drops the momentum buffers.
func (o *SGD) Reset() { o.bufs = map[string][]float32{}; o.steps = 0 }

// Step applies one update.
func (o *SGD) Step(ps []*Param) {
	lr, mu, wd := float32(o.lr), float32(o.Momentum), float32(o.WeightDecay)
	for _, p := range ps {
		d := grow(&o.tmp, len(p.Data))
		copy(d, p.Grad)
		if wd != 0 {
			kernels.Axpy(wd, p.Data, d)
		}
		if mu != 0 {
			buf, ok := o.bufs[p.Name]
			if ok && len(buf) != len(p.Data) {
				panic(fmt.Sprintf("nnlib.SGD.Step: momentum buffer of %s has %d elements, parameter %d (call Reset after resizing)", p.Name, len(buf), len(p.Data)))
			}
			if !ok {
				buf = slices.Clone(d)
				o.bufs[p.Name] = buf
			} else {
				kernels.Scale(buf, mu, buf)
				kernels.Add(buf, buf, d)
			}
			d = buf
		}
		kernels.Axpy(-lr, d, p.Data)
	}
	o.steps++
}

// State returns the momentum buffers as slots "<param>/momentum".
func (o *SGD) State() OptimizerState {
	st := OptimizerState{Kind: "sgd", LR: o.lr, Step: o.steps}
	for _, name := range slices.Sorted(maps.Keys(o.bufs)) {
		b := o.bufs[name]
		st.Slots = append(st.Slots, NamedTensor{Name: name + "/momentum", Shape: []int{len(b)}, Data: slices.Clone(b)})
	}
	return st
}

// SetState restores a state from State.
func (o *SGD) SetState(st OptimizerState) error {
	if st.Kind != "sgd" {
		return fmt.Errorf("nnlib: SGD cannot restore optimizer state of kind %q", st.Kind)
	}
	o.Reset()
	o.lr, o.steps = st.LR, st.Step
	for _, s := range st.Slots {
		name, ok := strings.CutSuffix(s.Name, "/momentum")
		if !ok || name == "" {
			return fmt.Errorf("nnlib: SGD state has unknown slot %q", s.Name)
		}
		o.bufs[name] = slices.Clone(s.Data)
	}
	return nil
}

// LRStep multiplies the learning rate by Factor once epoch AfterEpoch
// (0-based) has completed.
type LRStep struct {
	AfterEpoch int
	Factor     float64
}

// StepSchedule is a piecewise-constant learning-rate schedule: Base times
// the factors of every step whose epoch has completed. The paper's CIFAR
// schedule "×0.1 after epochs 80, 120, 140" is
// MultiStep(0.1, 0.1, 80, 120, 140): epochs 0…80 run at 0.1, 81…120 at 0.01.
type StepSchedule struct {
	Base  float64
	Steps []LRStep
}

// MultiStep returns a schedule multiplying by gamma after each listed epoch.
func MultiStep(base, gamma float64, afterEpochs ...int) StepSchedule {
	s := StepSchedule{Base: base}
	for _, e := range afterEpochs {
		s.Steps = append(s.Steps, LRStep{AfterEpoch: e, Factor: gamma})
	}
	return s
}

// LR returns the learning rate for (0-based) epoch e: the steps with
// AfterEpoch < e have been applied.
func (s StepSchedule) LR(e int) float64 {
	lr := s.Base
	for _, st := range s.Steps {
		if st.AfterEpoch < e {
			lr *= st.Factor
		}
	}
	return lr
}
