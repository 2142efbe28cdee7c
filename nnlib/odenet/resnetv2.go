package odenet

import (
	"fmt"

	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// ResNetV2 is the baseline of the authors' post-v1 code
// (residual_net/ResNetv2.py, "ResNetv2", adapted there from
// bearpaw/pytorch-classification), used for their ResNet-20 and ResNet-52
// comparison rows (paper/README.md E8). Depth 6n+2:
//
//	stem: conv3×3 (no bias, padding 1) → BN → ReLU
//	3 stages of n basic blocks, widths α, 2α, 4α (stride 2 at the first block of stages 2 and 3):
//	  y = BN(ReLU(conv3×3(BN(ReLU(conv3×3(x)))))) + shortcut(x)   (convs without bias, no ReLU after the sum)
//	  shortcut = identity, or conv1×1 stride s (no bias) → BN when the shape changes
//	global average pooling → linear head
//
// Convs are He-normal fan-out, BN weight 1 and bias 0, the head
// Xavier-normal (the authors' head kept PyTorch's default uniform init).
// Unlike the ContinuousNet with Euler and Nt = K (also a ResNet), it has
// no SkipInit, no ε/K residual scale, no conv bias and no final BN.
type ResNetV2 struct {
	Params *nnlib.ParamSet

	depth  int
	stem   *nnlib.Conv2d
	stemBN *nnlib.BatchNorm2d
	blocks []v2Block
	head   *nnlib.Linear
}

type v2Block struct {
	c1, c2 *nnlib.Conv2d
	b1, b2 *nnlib.BatchNorm2d
	sc     *nnlib.Conv2d // nil for the identity shortcut
	scBN   *nnlib.BatchNorm2d
}

// NewResNetV2 builds the network of the given depth (6n+2, n ≥ 1), width
// α (16 in the paper) and number of classes for inputs of inChannels
// channels, with weights drawn from r.
func NewResNetV2(depth, width, inChannels, classes int, r *rng.Stream) (*ResNetV2, error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return nil, fmt.Errorf("odenet: ResNetV2 depth %d: want 6n+2 with n ≥ 1 (8, 14, 20, ..., 56)", depth)
	}
	if width < 1 || inChannels < 1 || classes < 1 {
		return nil, fmt.Errorf("odenet: ResNetV2 width %d, %d input channels, %d classes: want all ≥ 1", width, inChannels, classes)
	}
	s := nnlib.NewParamSet()
	m := &ResNetV2{Params: s, depth: depth}
	m.stem = nnlib.NewConv2d(s, "stem.conv", 0, inChannels, width, 3, 1, 1, false, r)
	m.stemBN = nnlib.NewBatchNorm2d(s, "stem.bn", 0, width)
	n := (depth - 2) / 6
	in := width
	for stage, out := range []int{width, 2 * width, 4 * width} {
		for j := range n {
			stride := 1
			if j == 0 && stage > 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", stage+1, j)
			b := v2Block{
				c1: nnlib.NewConv2d(s, name+".conv1", 0, in, out, 3, stride, 1, false, r),
				b1: nnlib.NewBatchNorm2d(s, name+".bn1", 0, out),
				c2: nnlib.NewConv2d(s, name+".conv2", 0, out, out, 3, 1, 1, false, r),
				b2: nnlib.NewBatchNorm2d(s, name+".bn2", 0, out),
			}
			if stride != 1 || in != out {
				b.sc = nnlib.NewConv2d(s, name+".downsample.conv", 0, in, out, 1, stride, 0, false, r)
				b.scBN = nnlib.NewBatchNorm2d(s, name+".downsample.bn", 0, out)
			}
			m.blocks = append(m.blocks, b)
			in = out
		}
	}
	m.head = nnlib.NewLinear(s, "fc", 4*width, classes, true, r)
	return m, nil
}

// Depth returns 6n+2.
func (m *ResNetV2) Depth() int { return m.depth }

// NumParams returns the number of trainable scalars.
func (m *ResNetV2) NumParams() int { return m.Params.NumParams() }

// Forward maps a channel-major batch x [InChannels, N, H, W] to logits
// [N, classes].
func (m *ResNetV2) Forward(g *nnlib.Graph, x *nnlib.Value) *nnlib.Value {
	h := m.stemBN.ForwardReLU(g, m.stem.Forward(g, x))
	for i := range m.blocks {
		b := &m.blocks[i]
		y := b.b1.Forward(g, g.Relu(b.c1.Forward(g, h)))
		y = b.b2.Forward(g, g.Relu(b.c2.Forward(g, y)))
		sc := h
		if b.sc != nil {
			sc = b.scBN.Forward(g, b.sc.Forward(g, h))
		}
		h = g.Add(y, sc)
	}
	return m.head.Forward(g, g.GlobalAvgPool(h))
}
