package nnlib

import (
	"fmt"
)

// Value is a tensor produced on a Graph, with its gradient. Grad is valid
// after Graph.Backward when HasGrad reports true. A Value is owned by its
// Graph and reused after the next Graph.Reset.
type Value struct {
	Tensor
	Grad []float32

	requiresGrad bool
	gradSet      bool
}

// RequiresGrad reports whether Backward computes this value's gradient
// (false for inputs).
func (v *Value) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad marks an input value (from Graph.Input) as one whose
// gradient Backward must compute, e.g. to check gradients with respect to
// the input. Call it before recording ops on v.
func (v *Value) SetRequiresGrad(b bool) { v.requiresGrad = b }

// HasGrad reports whether Backward wrote v.Grad (false for values the loss
// does not depend on).
func (v *Value) HasGrad() bool { return v.gradSet }

type opKind uint8

const (
	opConv opKind = iota
	opBN
	opRelu
	opAdd
	opLinComb
	opScaleParam
	opPool
	opLinear
	opCE
)

// node is one recorded op. Nodes are reused in call order; their slices
// keep their capacity across steps.
type node struct {
	op           opKind
	x, y, out    *Value
	xs           []*Value
	coefs        []float32
	w, b         ParamRef
	stride, pad  int
	train        bool
	relu         bool // BatchNorm, Add: fused ReLU (BatchNormReLU, AddReLU)
	mean, invstd []float32
	labels       []int
	probs        []float32
}

// Graph is a tape of ops for one forward pass and its backward pass.
//
// A training loop calls Reset, builds the forward pass with the op methods,
// then Backward(loss). Because the ops of every step come in the same order
// with the same shapes, the buffers of step t are reused at step t+1: after
// the first step, nothing activation-sized is allocated. Without Reset the
// tape keeps growing. Keep one Graph per kind of pass (training, evaluation):
// buffers are matched by position in the op sequence.
type Graph struct {
	training bool

	vals  []*Value
	nv    int
	nodes []node
	nn    int

	ones, wt, gwt, gparts []float32
	scr                   [][]float32 // per-worker scratch (Graph.scratch)
	lcGrads               [][]float32 // linCombBackward's targets, reused
	lcFresh               []bool
}

// NewGraph returns an empty graph in training (true) or evaluation mode.
func NewGraph(training bool) *Graph { return &Graph{training: training} }

// Training reports the mode: BatchNorm uses batch statistics and updates its
// running statistics in training mode, and uses the running statistics in
// evaluation mode.
func (g *Graph) Training() bool { return g.training }

// SetTraining switches mode; it takes effect at the next op.
func (g *Graph) SetTraining(training bool) { g.training = training }

// Reset starts a new forward pass. Values from the previous pass become
// invalid (their buffers are reused).
func (g *Graph) Reset() {
	g.nv, g.nn = 0, 0
}

// value returns the next pooled value, shaped and uncleared.
func (g *Graph) value(req bool, shape ...int) *Value {
	n := numel("Graph", shape)
	if g.nv == len(g.vals) {
		g.vals = append(g.vals, &Value{})
	}
	v := g.vals[g.nv]
	g.nv++
	v.Shape = append(v.Shape[:0], shape...)
	if cap(v.Data) < n {
		v.Data = make([]float32, n)
	}
	v.Data = v.Data[:n]
	v.requiresGrad, v.gradSet = req, false
	return v
}

func (g *Graph) push(op opKind) *node {
	if g.nn == len(g.nodes) {
		g.nodes = append(g.nodes, node{})
	}
	nd := &g.nodes[g.nn]
	g.nn++
	*nd = node{op: op, xs: nd.xs[:0], coefs: nd.coefs[:0], mean: nd.mean[:0], invstd: nd.invstd[:0],
		labels: nd.labels[:0], probs: nd.probs[:0]}
	return nd
}

// grad returns v's gradient buffer and whether this is its first
// contribution in this backward pass (then the caller must overwrite all of
// it instead of adding).
func (g *Graph) grad(v *Value) ([]float32, bool) {
	n := len(v.Data)
	if cap(v.Grad) < n {
		v.Grad = make([]float32, n)
	}
	v.Grad = v.Grad[:n]
	fresh := !v.gradSet
	v.gradSet = true
	return v.Grad, fresh
}

// grow sets *buf to n elements, reusing its storage when large enough
// (contents are then left as they were), and returns it.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// onesN returns a slice of n ones (used as the x of Axpy to add a scalar).
func (g *Graph) onesN(n int) []float32 {
	if len(g.ones) < n {
		g.ones = make([]float32, n)
		for i := range g.ones {
			g.ones[i] = 1
		}
	}
	return g.ones[:n]
}

// Input returns a value holding a copy of data with the given shape (no
// gradient). Feature maps must already be channel-major [C, N, H, W].
func (g *Graph) Input(data []float32, shape ...int) *Value {
	v := g.value(false, shape...)
	if len(data) != len(v.Data) {
		panic(fmt.Sprintf("nnlib.Graph.Input: len(data)=%d != %d for shape %v", len(data), len(v.Data), shape))
	}
	copy(v.Data, data)
	return v
}

// InputNCHW converts an NCHW batch (n images of c×h×w) into a channel-major
// feature map [c, n, h, w] (no gradient).
func (g *Graph) InputNCHW(data []float32, n, c, h, w int) *Value {
	v := g.value(false, c, n, h, w)
	NCHWToChannelMajor(v.Data, data, n, c, h, w)
	return v
}

// Backward computes the gradients of the scalar loss with respect to every
// value recorded since Reset and adds the parameter gradients into
// Param.Grad. Values' gradients are recomputed from scratch on each call;
// parameter gradients accumulate until ParamSet.ZeroGrad.
func (g *Graph) Backward(loss *Value) {
	if len(loss.Data) != 1 {
		panic(fmt.Sprintf("nnlib.Graph.Backward: loss has shape %v, want a scalar", loss.Shape))
	}
	g.BackwardWithGrad(loss, []float32{1})
}

// BackwardWithGrad is Backward for a non-scalar output y whose gradient dy
// (the vector in the vector-Jacobian product, len(dy) = len(y.Data)) is
// given.
func (g *Graph) BackwardWithGrad(y *Value, dy []float32) {
	if len(dy) != len(y.Data) {
		panic(fmt.Sprintf("nnlib.Graph.BackwardWithGrad: len(dy)=%d for output shape %v", len(dy), y.Shape))
	}
	for _, v := range g.vals[:g.nv] {
		v.gradSet = false
	}
	gy, _ := g.grad(y)
	copy(gy, dy)
	for i := g.nn - 1; i >= 0; i-- {
		nd := &g.nodes[i]
		if !nd.out.gradSet {
			continue
		}
		switch nd.op {
		case opConv:
			g.convBackward(nd)
		case opBN:
			g.bnBackward(nd)
		case opRelu:
			g.reluBackward(nd)
		case opAdd:
			g.addBackward(nd)
		case opLinComb:
			g.linCombBackward(nd)
		case opScaleParam:
			g.scaleParamBackward(nd)
		case opPool:
			g.poolBackward(nd)
		case opLinear:
			g.linearBackward(nd)
		case opCE:
			g.ceBackward(nd)
		}
	}
}
