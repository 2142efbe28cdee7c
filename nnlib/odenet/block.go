package odenet

import (
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// OdeBlock integrates dx/dt = ε·R(x; θ(t)) over t ∈ [0, 1] for feature maps
// of C channels (shape preserved). With the piecewise-constant basis every
// tensor below has a leading piece axis of length K; with the
// piecewise-linear basis conv weights, biases and SkipInit scalars hold
// K+1 nodal values (θ at t = j/K) and BatchNorm stays piecewise-constant
// with K pieces.
//
// Parameter names, with prefix p (e.g. "block0") and W = K (constant) or
// K+1 (linear):
//
//	p.conv1.weight [W][C][C][3][3], p.conv1.bias [W][C], p.conv2.*
//	p.bn1.weight/bias/running_mean/running_var [K][C], p.bn2.*
//	p.skip [W]  (with SkipInit)
type OdeBlock struct {
	Name     string
	Channels int

	unit         Unit
	conv1, conv2 *nnlib.Conv2d
	bn1, bn2     *nnlib.BatchNorm2d
	skip         *nnlib.Param // nil without SkipInit
	eps          float64

	basis Basis
	k     int // pieces (BatchNorm always has K pieces; linear weights K+1 nodes)
	tab   *integrators.Tableau
	steps int
	rule  integrators.KnotRule

	// plan, rebuilt whenever the scheme, Nt, rule or K changes.
	stages [][]stagePlan // [step][stage]
	aCoef  [][]float32   // [stage][j]: ε·Δt·a_ij (0 = skipped)
	bCoef  []float32     // [stage]: ε·Δt·b_i
	evals  atomic.Int64  // evaluations of R since creation
}

// stagePlan is what one stage of one step reads: the BatchNorm piece, and
// the weights θ(t) = (1−w)·θ_node + w·θ_node+1 (piecewise-constant basis:
// node = piece, w = 0).
type stagePlan struct {
	piece, node int
	w           float64
}

func newOdeBlock(s *nnlib.ParamSet, name string, c int, cfg Config, r *rng.Stream) *OdeBlock {
	k := cfg.Pieces
	b := &OdeBlock{Name: name, Channels: c, unit: cfg.Unit, eps: cfg.Epsilon, basis: cfg.Basis, k: k}
	nw := cfg.Basis.weightPieces(k)
	b.conv1 = nnlib.NewConv2d(s, name+".conv1", nw, c, c, 3, 1, 1, true, r)
	b.bn1 = nnlib.NewBatchNorm2d(s, name+".bn1", k, c)
	b.conv2 = nnlib.NewConv2d(s, name+".conv2", nw, c, c, 3, 1, 1, true, r)
	b.bn2 = nnlib.NewBatchNorm2d(s, name+".bn2", k, c)
	if cfg.SkipInit {
		b.skip = s.NewParam(name+".skip", nw)
		nnlib.InitConst(b.skip, cfg.SkipInitValue)
	}
	b.tab, b.steps, b.rule = cfg.Scheme, cfg.Steps, cfg.KnotRule
	b.plan()
	return b
}

// Pieces returns K.
func (b *OdeBlock) Pieces() int { return b.k }

// Basis returns the basis of θ(t).
func (b *OdeBlock) Basis() Basis { return b.basis }

// Steps returns Nt.
func (b *OdeBlock) Steps() int { return b.steps }

// Scheme returns the tableau.
func (b *OdeBlock) Scheme() *integrators.Tableau { return b.tab }

// KnotRule returns the knot convention.
func (b *OdeBlock) KnotRule() integrators.KnotRule { return b.rule }

// Evaluations returns the number of evaluations of R since the block was
// built (every stage of every step of every Forward).
func (b *OdeBlock) Evaluations() int64 { return b.evals.Load() }

// UnitsPerForward returns the evaluations of R one Forward makes:
// stages × Nt.
func (b *OdeBlock) UnitsPerForward() int { return b.tab.Stages() * b.steps }

// PieceSchedule returns, for each step n and stage i, the piece the stage
// reads (its BatchNorm piece, and its weight piece for the
// piecewise-constant basis).
func (b *OdeBlock) PieceSchedule() [][]int {
	out := make([][]int, len(b.stages))
	for n, row := range b.stages {
		out[n] = make([]int, len(row))
		for i, st := range row {
			out[n][i] = st.piece
		}
	}
	return out
}

// weightParams returns the tensors on the basis of θ(t) (K pieces or K+1
// nodes), conv weights and biases first (those get refinement noise), in a
// fixed order; the SkipInit scalars last, if any.
func (b *OdeBlock) weightParams() []*nnlib.Param {
	ps := []*nnlib.Param{b.conv1.W, b.conv1.B, b.conv2.W, b.conv2.B}
	if b.skip != nil {
		ps = append(ps, b.skip)
	}
	return ps
}

// bnParams returns the per-piece BatchNorm parameters (always K pieces).
func (b *OdeBlock) bnParams() []*nnlib.Param {
	return []*nnlib.Param{b.bn1.Weight, b.bn1.Bias, b.bn2.Weight, b.bn2.Bias}
}

func (b *OdeBlock) pieceBuffers() []*nnlib.Buffer {
	return []*nnlib.Buffer{b.bn1.RunningMean, b.bn1.RunningVar, b.bn2.RunningMean, b.bn2.RunningVar}
}

// plan precomputes what every (step, stage) reads and the float32
// coefficients ε·Δt·a_ij and ε·Δt·b_i (computed in float64, rounded once).
func (b *OdeBlock) plan() {
	s, nt, k := b.tab.Stages(), b.steps, b.k
	b.stages = make([][]stagePlan, nt)
	for n := range nt {
		b.stages[n] = make([]stagePlan, s)
		for i := range s {
			p := b.tab.Piece(n, i, nt, k, b.rule)
			st := stagePlan{piece: p, node: p}
			if b.basis == PiecewiseLinear {
				st.node, st.w = linearNode(n, nt, k, b.tab.CRat(i))
			}
			b.stages[n][i] = st
		}
	}
	scale := b.eps / float64(nt)
	b.aCoef = make([][]float32, s)
	b.bCoef = make([]float32, s)
	for i := range s {
		b.aCoef[i] = make([]float32, i)
		for j := range i {
			b.aCoef[i][j] = float32(scale * b.tab.A(i, j))
		}
		b.bCoef[i] = float32(scale * b.tab.B(i))
	}
}

func (b *OdeBlock) setManifestation(tab *integrators.Tableau, steps int, rule integrators.KnotRule) {
	b.tab, b.steps, b.rule = tab, steps, rule
	b.plan()
}

// linearNode returns the node j and weight w with t = (n + c)/nt =
// (j + w)/k, j ∈ [0, k−1], w ∈ [0, 1], computed exactly from the rational
// node c (t is clamped to [0, 1]).
func linearNode(n, nt, k int, c *big.Rat) (int, float64) {
	x := new(big.Rat).Add(big.NewRat(int64(n), 1), c)
	x.Mul(x, big.NewRat(int64(k), int64(nt)))
	if x.Sign() < 0 {
		x.SetInt64(0)
	}
	if x.Cmp(big.NewRat(int64(k), 1)) > 0 {
		x.SetInt64(int64(k))
	}
	j := new(big.Int).Quo(x.Num(), x.Denom()) // floor: x ≥ 0
	if j.Int64() > int64(k-1) {
		j.SetInt64(int64(k - 1))
	}
	w, _ := new(big.Rat).Sub(x, new(big.Rat).SetInt(j)).Float64()
	return int(j.Int64()), w
}

// blend evaluates f at θ(t) = (1−w)·θ_j + w·θ_j+1 for an f affine in θ
// with coefficients summing to one: f(θ(t)) = (1−w)·f(θ_j) + w·f(θ_j+1).
// At a node (w = 0 or 1) it is a single evaluation.
func blend(g *nnlib.Graph, st stagePlan, f func(node int) *nnlib.Value) *nnlib.Value {
	switch st.w {
	case 0:
		return f(st.node)
	case 1:
		return f(st.node + 1)
	}
	return g.LinComb([]*nnlib.Value{f(st.node), f(st.node + 1)}, []float32{float32(1 - st.w), float32(st.w)})
}

// residual evaluates α(t)·h(x; θ(t)) (ε is applied by the caller's
// coefficients).
func (b *OdeBlock) residual(g *nnlib.Graph, x *nnlib.Value, st stagePlan) *nnlib.Value {
	k := st.piece
	conv := func(c *nnlib.Conv2d, x *nnlib.Value) *nnlib.Value {
		return blend(g, st, func(j int) *nnlib.Value { return c.ForwardPiece(g, x, j) })
	}
	var h *nnlib.Value
	switch b.unit {
	case PreActivation:
		h = conv(b.conv1, b.bn1.ForwardPieceReLU(g, x, k))
		h = conv(b.conv2, b.bn2.ForwardPieceReLU(g, h, k))
	case ConvReLUBN:
		h = b.bn1.ForwardPiece(g, g.Relu(conv(b.conv1, x)), k)
		h = b.bn2.ForwardPiece(g, g.Relu(conv(b.conv2, h)), k)
	default:
		panic(fmt.Sprintf("odenet.OdeBlock(%s): unknown unit %d", b.Name, int(b.unit)))
	}
	if b.skip != nil {
		h = blend(g, st, func(j int) *nnlib.Value { return g.ScaleParam(h, b.skip.Piece(j)) })
	}
	return h
}

// Forward integrates x [C, N, H, W] from t = 0 to 1 with the block's
// scheme and Nt and returns x(1). Stage inputs x_n + Δt·Σ a_ij·k_j and the
// update x_n + Δt·Σ b_i·k_i are single LinComb ops over the non-zero
// coefficients; a stage whose row of A is zero reads x_n itself.
//
// Forward only reads the block's plan, so several graphs may evaluate a
// block concurrently in evaluation mode (training mode updates the
// BatchNorm running statistics and must not run concurrently).
func (b *OdeBlock) Forward(g *nnlib.Graph, x *nnlib.Value) *nnlib.Value {
	if len(x.Shape) != 4 || x.Shape[0] != b.Channels {
		panic(fmt.Sprintf("odenet.OdeBlock.Forward(%s): input shape %v, want [%d N H W]", b.Name, x.Shape, b.Channels))
	}
	s := b.tab.Stages()
	ks := make([]*nnlib.Value, 0, s)
	xs, cs := make([]*nnlib.Value, 0, s+1), make([]float32, 0, s+1)
	for n := range b.steps {
		ks = ks[:0]
		for i := range s {
			xi := x
			xs, cs = append(xs[:0], x), append(cs[:0], 1)
			for j, a := range b.aCoef[i] {
				if a != 0 {
					xs, cs = append(xs, ks[j]), append(cs, a)
				}
			}
			if len(xs) > 1 {
				xi = g.LinComb(xs, cs)
			}
			ks = append(ks, b.residual(g, xi, b.stages[n][i]))
		}
		xs, cs = append(xs[:0], x), append(cs[:0], 1)
		for i, c := range b.bCoef {
			if c != 0 {
				xs, cs = append(xs, ks[i]), append(cs, c)
			}
		}
		x = g.LinComb(xs, cs)
	}
	b.evals.Add(int64(s * b.steps))
	return x
}
