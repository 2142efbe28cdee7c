package nnlib

import (
	"fmt"
	"math"

	"github.com/continuousnet/repro/nnlib/rng"
)

// InitHeNormalFanOut fills a conv weight with N(0, 2/(k²·Cout)) draws from r
// (He et al. with fan-out, as the authors' code does). The weight's last
// four dims are [Cout][Cin][k][k]; any leading piece axis is filled piece
// after piece.
func InitHeNormalFanOut(p *Param, r *rng.Stream) {
	if len(p.Shape) < 4 {
		panic(fmt.Sprintf("nnlib.InitHeNormalFanOut(%s): shape %v, want [.. Cout Cin k k]", p.Name, p.Shape))
	}
	d := len(p.Shape)
	cout, k := p.Shape[d-4], p.Shape[d-1]
	fillNormal(p.Data, math.Sqrt(2/float64(k*k*cout)), r)
}

// InitXavierNormal fills a linear weight [.. Out][In] with N(0, 2/(In+Out))
// draws from r (Glorot normal).
func InitXavierNormal(p *Param, r *rng.Stream) {
	if len(p.Shape) < 2 {
		panic(fmt.Sprintf("nnlib.InitXavierNormal(%s): shape %v, want [.. Out In]", p.Name, p.Shape))
	}
	d := len(p.Shape)
	fillNormal(p.Data, math.Sqrt(2/float64(p.Shape[d-1]+p.Shape[d-2])), r)
}

// InitConst sets every element of p to v.
func InitConst(p *Param, v float32) {
	for i := range p.Data {
		p.Data[i] = v
	}
}

func fillNormal(x []float32, std float64, r *rng.Stream) {
	for i := range x {
		x[i] = float32(r.NormFloat64() * std)
	}
}

// Conv2d is a square-kernel convolution layer. With pieces > 0 its weight
// has a leading piece axis, [pieces][Cout][Cin][k][k] (bias [pieces][Cout]),
// and ForwardPiece selects one.
type Conv2d struct {
	W, B        *Param // B is nil without bias
	Stride, Pad int
}

// NewConv2d creates name+".weight" (He-normal fan-out from r) and, with bias,
// name+".bias" (zeros) in s. pieces = 0 gives an ordinary layer, pieces ≥ 1
// a per-piece one.
func NewConv2d(s *ParamSet, name string, pieces, cin, cout, k, stride, pad int, bias bool, r *rng.Stream) *Conv2d {
	c := &Conv2d{Stride: stride, Pad: pad}
	c.W = s.NewParam(name+".weight", withPieces(pieces, cout, cin, k, k)...)
	InitHeNormalFanOut(c.W, r)
	if bias {
		c.B = s.NewParam(name+".bias", withPieces(pieces, cout)...)
	}
	return c
}

func withPieces(pieces int, dims ...int) []int {
	if pieces > 0 {
		return append([]int{pieces}, dims...)
	}
	return dims
}

// ref returns the whole parameter or piece k of it.
func ref(p *Param, perPiece bool, k int) ParamRef {
	if p == nil {
		return ParamRef{}
	}
	if perPiece {
		return p.Piece(k)
	}
	return p.All()
}

// Forward applies the layer (piece 0 for a per-piece layer).
func (c *Conv2d) Forward(g *Graph, x *Value) *Value { return c.ForwardPiece(g, x, 0) }

// ForwardPiece applies piece k of a per-piece layer (k is ignored otherwise).
func (c *Conv2d) ForwardPiece(g *Graph, x *Value, k int) *Value {
	pp := len(c.W.Shape) == 5
	return g.Conv2d(x, ref(c.W, pp, k), ref(c.B, pp, k), c.Stride, c.Pad)
}

// BatchNorm2d holds the parameters and running statistics of a BatchNorm
// (weight 1, bias 0, running mean 0, running var 1). With pieces > 0 every
// tensor has a leading piece axis: one BatchNorm per piece.
type BatchNorm2d struct {
	Weight, Bias            *Param
	RunningMean, RunningVar *Buffer
	Momentum, Eps           float32
}

// NewBatchNorm2d creates name+".weight", ".bias", ".running_mean" and
// ".running_var" in s, with PyTorch's momentum 0.1 and eps 1e-5.
func NewBatchNorm2d(s *ParamSet, name string, pieces, c int) *BatchNorm2d {
	b := &BatchNorm2d{Momentum: 0.1, Eps: 1e-5}
	b.Weight = s.NewParam(name+".weight", withPieces(pieces, c)...)
	b.Bias = s.NewParam(name+".bias", withPieces(pieces, c)...)
	b.RunningMean = s.NewBuffer(name+".running_mean", withPieces(pieces, c)...)
	b.RunningVar = s.NewBuffer(name+".running_var", withPieces(pieces, c)...)
	InitConst(b.Weight, 1)
	for i := range b.RunningVar.Data {
		b.RunningVar.Data[i] = 1
	}
	return b
}

// Forward applies the layer (piece 0 for a per-piece layer).
func (b *BatchNorm2d) Forward(g *Graph, x *Value) *Value { return b.ForwardPiece(g, x, 0) }

// ForwardPiece applies the BatchNorm of piece k.
func (b *BatchNorm2d) ForwardPiece(g *Graph, x *Value, k int) *Value {
	pp := len(b.Weight.Shape) == 2
	rm, rv := b.RunningMean.Data, b.RunningVar.Data
	if pp {
		rm, rv = b.RunningMean.Piece(k), b.RunningVar.Piece(k)
	}
	return g.BatchNorm(x, ref(b.Weight, pp, k), ref(b.Bias, pp, k), rm, rv, b.Momentum, b.Eps)
}

// ForwardReLU applies the layer followed by a ReLU, fused
// (Graph.BatchNormReLU; piece 0 for a per-piece layer).
func (b *BatchNorm2d) ForwardReLU(g *Graph, x *Value) *Value { return b.ForwardPieceReLU(g, x, 0) }

// ForwardPieceReLU applies the BatchNorm of piece k followed by a ReLU,
// fused: the same numbers as g.Relu(b.ForwardPiece(g, x, k)), faster.
func (b *BatchNorm2d) ForwardPieceReLU(g *Graph, x *Value, k int) *Value {
	pp := len(b.Weight.Shape) == 2
	rm, rv := b.RunningMean.Data, b.RunningVar.Data
	if pp {
		rm, rv = b.RunningMean.Piece(k), b.RunningVar.Piece(k)
	}
	return g.BatchNormReLU(x, ref(b.Weight, pp, k), ref(b.Bias, pp, k), rm, rv, b.Momentum, b.Eps)
}

// Linear is a fully connected layer, weight [Out][In], bias [Out].
type Linear struct {
	W, B *Param
}

// NewLinear creates name+".weight" (Xavier-normal from r) and, with bias,
// name+".bias" (zeros) in s.
func NewLinear(s *ParamSet, name string, in, out int, bias bool, r *rng.Stream) *Linear {
	l := &Linear{W: s.NewParam(name+".weight", out, in)}
	InitXavierNormal(l.W, r)
	if bias {
		l.B = s.NewParam(name+".bias", out)
	}
	return l
}

// Forward applies the layer to x [N, In].
func (l *Linear) Forward(g *Graph, x *Value) *Value {
	return g.Linear(x, l.W.All(), ref(l.B, false, 0))
}
