package odenet

import (
	"fmt"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// Stitch is the non-ODE downsampling block between ODE blocks (the
// authors' ODEStitch):
//
//	out = Down(x) + s·h(x)
//	Down = conv1×1, stride 2, no bias
//	h    = conv3×3 stride 2 (bias) → ReLU → BN → conv3×3 (bias) → ReLU → BN
//
// s is a learnable SkipInit scalar (p.skip, shape [1]) or, without
// SkipInit, 1.
type Stitch struct {
	Name         string
	down         *nnlib.Conv2d
	conv1, conv2 *nnlib.Conv2d
	bn1, bn2     *nnlib.BatchNorm2d
	skip         *nnlib.Param
}

func newStitch(s *nnlib.ParamSet, name string, cin, cout int, cfg Config, r *rng.Stream) *Stitch {
	st := &Stitch{Name: name}
	st.down = nnlib.NewConv2d(s, name+".down", 0, cin, cout, 1, 2, 0, false, r)
	st.conv1 = nnlib.NewConv2d(s, name+".conv1", 0, cin, cout, 3, 2, 1, true, r)
	st.bn1 = nnlib.NewBatchNorm2d(s, name+".bn1", 0, cout)
	st.conv2 = nnlib.NewConv2d(s, name+".conv2", 0, cout, cout, 3, 1, 1, true, r)
	st.bn2 = nnlib.NewBatchNorm2d(s, name+".bn2", 0, cout)
	if cfg.SkipInit {
		st.skip = s.NewParam(name+".skip", 1)
		nnlib.InitConst(st.skip, cfg.SkipInitValue)
	}
	return st
}

// Forward maps x [Cin, N, H, W] to [Cout, N, ⌈H/2⌉, ⌈W/2⌉].
func (st *Stitch) Forward(g *nnlib.Graph, x *nnlib.Value) *nnlib.Value {
	h := st.bn1.Forward(g, g.Relu(st.conv1.Forward(g, x)))
	h = st.bn2.Forward(g, g.Relu(st.conv2.Forward(g, h)))
	if st.skip != nil {
		h = g.ScaleParam(h, st.skip.All())
	}
	return g.Add(st.down.Forward(g, x), h)
}

// Net is the ContinuousNet image classifier (see the package
// documentation). Its parameters and BatchNorm state live in Params; the
// manifestation (scheme, Nt, knot rule) is shared by the three ODE blocks.
//
// A Net is not safe for concurrent use, except that several graphs may run
// Forward concurrently in evaluation mode while nothing changes the net.
type Net struct {
	Params *nnlib.ParamSet

	cfg      Config
	stem     *nnlib.Conv2d
	stemBN   *nnlib.BatchNorm2d
	blocks   [3]*OdeBlock
	stitches [2]*Stitch
	finalBN  *nnlib.BatchNorm2d // nil without FinalBN
	head     *nnlib.Linear
}

// New builds the network with weights drawn from r: He-normal (fan-out)
// convs, drawn independently for every piece, zero biases, BN weight 1 and
// bias 0, SkipInit scalars at cfg.SkipInitValue, a Xavier-normal head. An
// invalid configuration is an error naming the field.
func New(cfg Config, r *rng.Stream) (*Net, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := nnlib.NewParamSet()
	m := &Net{Params: s, cfg: cfg}
	a := cfg.Width
	k := cfg.Stem.kernel()
	m.stem = nnlib.NewConv2d(s, "stem.conv", 0, cfg.InChannels, a, k, 1, 1, false, r)
	m.stemBN = nnlib.NewBatchNorm2d(s, "stem.bn", 0, a)
	widths := [3]int{a, 2 * a, 4 * a}
	for i := range 3 {
		m.blocks[i] = newOdeBlock(s, fmt.Sprintf("block%d", i), widths[i], cfg, r)
		if i < 2 {
			m.stitches[i] = newStitch(s, fmt.Sprintf("stitch%d", i), widths[i], widths[i+1], cfg, r)
		}
	}
	if cfg.FinalBN {
		m.finalBN = nnlib.NewBatchNorm2d(s, "final.bn", 0, 4*a)
	}
	m.head = nnlib.NewLinear(s, "fc", 4*a, cfg.Classes, true, r)
	return m, nil
}

// Config returns the current configuration: Pieces, Steps, Scheme and
// KnotRule follow refinement, θ-coarsening and manifestation changes.
func (m *Net) Config() Config { return m.cfg }

// Blocks returns the three ODE blocks.
func (m *Net) Blocks() [3]*OdeBlock { return m.blocks }

// Stitches returns the two stitches.
func (m *Net) Stitches() [2]*Stitch { return m.stitches }

// Pieces returns K.
func (m *Net) Pieces() int { return m.cfg.Pieces }

// Steps returns Nt.
func (m *Net) Steps() int { return m.cfg.Steps }

// Scheme returns the tableau.
func (m *Net) Scheme() *integrators.Tableau { return m.cfg.Scheme }

// SetScheme changes the tableau of every ODE block (a new manifestation:
// no parameter is touched).
func (m *Net) SetScheme(tab *integrators.Tableau) {
	if tab == nil {
		panic("odenet.Net.SetScheme: nil tableau")
	}
	m.cfg.Scheme = tab
	m.replan()
}

// SetSteps changes Nt (≥ 1) of every ODE block; Nt < K is Nt-coarsening:
// fewer steps, θ(t) untouched (θ-coarsening is Coarsen).
func (m *Net) SetSteps(nt int) {
	if nt < 1 {
		panic(fmt.Sprintf("odenet.Net.SetSteps: Nt = %d, want ≥ 1", nt))
	}
	m.cfg.Steps = nt
	m.replan()
}

// SetKnotRule changes which piece a stage on a knot reads.
func (m *Net) SetKnotRule(rule integrators.KnotRule) {
	if rule != integrators.NextPiece && rule != integrators.OwnPiece {
		panic(fmt.Sprintf("odenet.Net.SetKnotRule: unknown rule %d", int(rule)))
	}
	m.cfg.KnotRule = rule
	m.replan()
}

func (m *Net) replan() {
	for _, b := range m.blocks {
		b.setManifestation(m.cfg.Scheme, m.cfg.Steps, m.cfg.KnotRule)
	}
}

// Evaluations returns the evaluations of R by all ODE blocks since the net
// was built.
func (m *Net) Evaluations() int64 {
	var n int64
	for _, b := range m.blocks {
		n += b.Evaluations()
	}
	return n
}

// UnitsPerForward returns the evaluations of R one Forward makes (3 blocks
// × stages × Nt).
func (m *Net) UnitsPerForward() int { return 3 * m.cfg.Scheme.Stages() * m.cfg.Steps }

// NumParams returns the number of trainable scalars.
func (m *Net) NumParams() int { return m.Params.NumParams() }

// Forward maps a channel-major batch x [InChannels, N, H, W] to logits
// [N, Classes]. The graph's mode decides BatchNorm's behaviour.
func (m *Net) Forward(g *nnlib.Graph, x *nnlib.Value) *nnlib.Value {
	h := m.stemBN.ForwardReLU(g, m.stem.Forward(g, x))
	for i, b := range m.blocks {
		h = b.Forward(g, h)
		if i < 2 {
			h = m.stitches[i].Forward(g, h)
		}
	}
	if m.finalBN != nil {
		h = m.finalBN.ForwardReLU(g, h)
	}
	return m.head.Forward(g, g.GlobalAvgPool(h))
}
