package nnlib

import (
	"fmt"

	"github.com/continuousnet/repro/nnlib/rng"
)

// ResNet20 is the CIFAR ResNet-20 of He et al. (2016) exactly as
// nnlib/testdata/bench/torch_reference.py defines it: a 3×3 stem (no bias) with
// BN-ReLU, three stages of three basic blocks (16, 32, 64 channels; the
// first block of stages 2 and 3 has stride 2 and a 1×1 conv + BN projection
// shortcut), global average pooling and a linear head.
type ResNet20 struct {
	Params *ParamSet
	stem   *Conv2d
	stemBN *BatchNorm2d
	blocks []basicBlock
	head   *Linear
}

// basicBlock: y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
type basicBlock struct {
	c1, c2 *Conv2d
	b1, b2 *BatchNorm2d
	sc     *Conv2d // nil for the identity shortcut
	scBN   *BatchNorm2d
}

// NewResNet20 builds the network with weights drawn from r (He-normal
// fan-out convs, Xavier-normal head, BN weight 1 bias 0).
func NewResNet20(classes int, r *rng.Stream) *ResNet20 {
	s := NewParamSet()
	m := &ResNet20{Params: s}
	m.stem = NewConv2d(s, "stem.conv", 0, 3, 16, 3, 1, 1, false, r)
	m.stemBN = NewBatchNorm2d(s, "stem.bn", 0, 16)
	i := 0
	for _, st := range []struct{ ci, co, stride int }{{16, 16, 1}, {16, 32, 2}, {32, 64, 2}} {
		for j := range 3 {
			ci, stride := st.co, 1
			if j == 0 {
				ci, stride = st.ci, st.stride
			}
			name := fmt.Sprintf("block%d", i)
			b := basicBlock{
				c1: NewConv2d(s, name+".conv1", 0, ci, st.co, 3, stride, 1, false, r),
				b1: NewBatchNorm2d(s, name+".bn1", 0, st.co),
				c2: NewConv2d(s, name+".conv2", 0, st.co, st.co, 3, 1, 1, false, r),
				b2: NewBatchNorm2d(s, name+".bn2", 0, st.co),
			}
			if stride != 1 || ci != st.co {
				b.sc = NewConv2d(s, name+".shortcut.conv", 0, ci, st.co, 1, stride, 0, false, r)
				b.scBN = NewBatchNorm2d(s, name+".shortcut.bn", 0, st.co)
			}
			m.blocks = append(m.blocks, b)
			i++
		}
	}
	m.head = NewLinear(s, "fc", 64, classes, true, r)
	return m
}

// Forward maps a channel-major batch x [3, N, 32, 32] to logits [N, classes].
func (m *ResNet20) Forward(g *Graph, x *Value) *Value {
	h := m.stemBN.ForwardReLU(g, m.stem.Forward(g, x))
	for i := range m.blocks {
		b := &m.blocks[i]
		y := b.b1.ForwardReLU(g, b.c1.Forward(g, h))
		y = b.b2.Forward(g, b.c2.Forward(g, y))
		sc := h
		if b.sc != nil {
			sc = b.scBN.Forward(g, b.sc.Forward(g, h))
		}
		h = g.AddReLU(y, sc)
	}
	return m.head.Forward(g, g.GlobalAvgPool(h))
}
