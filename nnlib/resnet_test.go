package nnlib

import (
	"fmt"
	"testing"
	"time"

	"github.com/continuousnet/repro/nnlib/internal/kernels"
	"github.com/continuousnet/repro/nnlib/rng"
)

func TestResNet20Shape(t *testing.T) {
	m := newResNet20(10, rng.New(1, "init"))
	// 272,474 = the parameter count of torch_reference.py's resnet20()
	// (3×3 stem, 18 3×3 convs, two 1×1+BN projections, 19+2 BNs, 64→10 head).
	if got := m.Params.NumParams(); got != 272474 {
		t.Errorf("ResNet-20 has %d parameters, want 272474", got)
	}
	g := NewGraph(true)
	x := make([]float32, 2*3*32*32)
	r := rng.New(1, "x")
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	logits := m.Forward(g, g.InputNCHW(x, 2, 3, 32, 32))
	if len(logits.Shape) != 2 || logits.Shape[0] != 2 || logits.Shape[1] != 10 {
		t.Fatalf("logits shape %v, want [2 10]", logits.Shape)
	}
}

// BenchmarkResNet20Step times one training step of ResNet-20 at batch 128
// (forward, cross-entropy, backward, SGD with momentum and weight decay) on
// random 3×32×32 inputs, as nnlib/testdata/bench/torch_reference.py does.
func BenchmarkResNet20Step(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			prev := kernels.SetThreads(threads)
			defer kernels.SetThreads(prev)
			const batch = 128
			r := rng.New(0, "bench")
			m := newResNet20(10, r)
			x := make([]float32, batch*3*32*32)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			y := make([]int, batch)
			for i := range y {
				y[i] = r.IntN(10)
			}
			opt := NewSGD(0.01, 0.9, 5e-4)
			g := NewGraph(true)
			step := func() {
				g.Reset()
				m.Params.ZeroGrad()
				loss := g.SoftmaxCrossEntropy(m.Forward(g, g.InputNCHW(x, batch, 3, 32, 32)), y)
				g.Backward(loss)
				opt.Step(m.Params.Params())
			}
			step() // warm-up: buffers are allocated here
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU()
			for b.Loop() {
				step()
			}
			b.ReportMetric(time.Since(start).Seconds()*1e3/float64(b.N), "ms/step")
			b.ReportMetric((processCPU()-cpu0).Seconds()*1e3/float64(b.N), "cpu-ms/step")
		})
	}
}

// resNet20 is the CIFAR ResNet-20 of He et al. (2016) exactly as
// nnlib/testdata/bench/torch_reference.py defines it: a 3×3 stem (no bias) with
// BN-ReLU, three stages of three basic blocks (16, 32, 64 channels; the
// first block of stages 2 and 3 has stride 2 and a 1×1 conv + BN projection
// shortcut), global average pooling and a linear head. It is test code:
// no experiment trains it; BenchmarkResNet20Step times it against
// torch_reference.py's resnet20, the yardstick of nnlib's speed.
type resNet20 struct {
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

// newResNet20 builds the network with weights drawn from r (He-normal
// fan-out convs, Xavier-normal head, BN weight 1 bias 0).
func newResNet20(classes int, r *rng.Stream) *resNet20 {
	s := NewParamSet()
	m := &resNet20{Params: s}
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
func (m *resNet20) Forward(g *Graph, x *Value) *Value {
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
