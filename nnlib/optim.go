package nnlib

import (
	"fmt"
	"math"
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
	for _, name := range sortedKeys(o.bufs) {
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

// Adam is the Adam optimizer with PyTorch's semantics (L2 weight decay added
// to the gradient, bias-corrected moments, eps outside the square root):
//
//	g += wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²
//	p -= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps)
type Adam struct {
	lr, Beta1, Beta2, Eps, WeightDecay float64
	m, v                               map[string][]float32
	steps                              int64
}

// NewAdam returns Adam with β = (0.9, 0.999), eps 1e-8 and the given weight
// decay.
func NewAdam(lr, weightDecay float64) *Adam {
	a := &Adam{lr: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}
	a.Reset()
	return a
}

// LR returns the learning rate.
func (o *Adam) LR() float64 { return o.lr }

// SetLR sets the learning rate.
func (o *Adam) SetLR(lr float64) { o.lr = lr }

// Reset drops the moments and the step count.
func (o *Adam) Reset() { o.m, o.v, o.steps = map[string][]float32{}, map[string][]float32{}, 0 }

// Step applies one update.
func (o *Adam) Step(ps []*Param) {
	o.steps++
	t := float64(o.steps)
	bc1 := 1 - math.Pow(o.Beta1, t)
	bc2 := math.Sqrt(1 - math.Pow(o.Beta2, t))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	step := float32(o.lr / bc1)
	sb2, eps, wd := float32(bc2), float32(o.Eps), float32(o.WeightDecay)
	for _, p := range ps {
		m, ok := o.m[p.Name]
		if !ok {
			m = make([]float32, len(p.Data))
			o.m[p.Name] = m
			o.v[p.Name] = make([]float32, len(p.Data))
		}
		if len(m) != len(p.Data) {
			panic(fmt.Sprintf("nnlib.Adam.Step: moments of %s have %d elements, parameter %d (call Reset after resizing)", p.Name, len(m), len(p.Data)))
		}
		v := o.v[p.Name]
		for i, g := range p.Grad {
			g += wd * p.Data[i]
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
			p.Data[i] -= step * m[i] / (float32(math.Sqrt(float64(v[i])))/sb2 + eps)
		}
	}
}

// State returns the moments as slots "<param>/m" and "<param>/v".
func (o *Adam) State() OptimizerState {
	st := OptimizerState{Kind: "adam", LR: o.lr, Step: o.steps}
	for _, name := range sortedKeys(o.m) {
		st.Slots = append(st.Slots,
			NamedTensor{Name: name + "/m", Shape: []int{len(o.m[name])}, Data: slices.Clone(o.m[name])},
			NamedTensor{Name: name + "/v", Shape: []int{len(o.v[name])}, Data: slices.Clone(o.v[name])})
	}
	return st
}

// SetState restores a state from State.
func (o *Adam) SetState(st OptimizerState) error {
	if st.Kind != "adam" {
		return fmt.Errorf("nnlib: Adam cannot restore optimizer state of kind %q", st.Kind)
	}
	o.Reset()
	o.lr, o.steps = st.LR, st.Step
	for _, s := range st.Slots {
		if name, ok := strings.CutSuffix(s.Name, "/m"); ok && name != "" {
			o.m[name] = slices.Clone(s.Data)
		} else if name, ok := strings.CutSuffix(s.Name, "/v"); ok && name != "" {
			o.v[name] = slices.Clone(s.Data)
		} else {
			return fmt.Errorf("nnlib: Adam state has unknown slot %q", s.Name)
		}
	}
	for name := range o.m {
		if len(o.v[name]) != len(o.m[name]) {
			return fmt.Errorf("nnlib: Adam state for %q has mismatched m and v", name)
		}
	}
	return nil
}

func sortedKeys(m map[string][]float32) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
