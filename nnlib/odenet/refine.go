package odenet

import (
	"fmt"
	"strings"

	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/internal/enum"
	"github.com/continuousnet/repro/nnlib/rng"
)

// RefineOptions control Net.Refine.
type RefineOptions struct {
	// Noise is v: after copying, every conv weight and bias entry of the ODE
	// blocks is multiplied by 1 + v·N(0,1) (BatchNorm, SkipInit, stem,
	// stitches and head are copied exactly). The paper's runs used 0.1.
	Noise float64
	// Rand supplies the N(0,1) draws; required when Noise ≠ 0. Draws are
	// taken block by block, in the order conv1.weight, conv1.bias,
	// conv2.weight, conv2.bias, element by element of the refined tensor.
	Rand *rng.Stream
	// KeepOptimizerState keeps the optimizer's per-parameter state, each
	// piece's state copied into its two children. By default (false) the
	// optimizer is Reset, as the authors' runs re-created SGD at refinement
	// (momentum lost, learning rate kept).
	KeepOptimizerState bool
}

// CoarsenMode is how Net.Coarsen (θ-coarsening) maps two pieces to one.
type CoarsenMode int

const (
	// AveragePairs sets θ_k = (θ_2k + θ_2k+1)/2 for every per-piece tensor,
	// BatchNorm running statistics included: the L2 projection of a
	// piecewise-constant function onto the coarser grid.
	AveragePairs CoarsenMode = iota
	// SampleEven keeps θ_2k (samples θ at the start of each coarse piece).
	SampleEven
)

// String returns the mode's name as used in specs.
func (c CoarsenMode) String() string { return coarsenModeNames.String(c) }

// ParseCoarsenMode returns the mode named "average" or "sample".
func ParseCoarsenMode(name string) (CoarsenMode, error) {
	v, err := coarsenModeNames.Parse(name)
	if err != nil {
		return 0, fmt.Errorf("odenet: %w", err)
	}
	return v, nil
}

// CoarsenModeNames returns the valid names of a θ-coarsening mode, in value order.
func CoarsenModeNames() []string { return coarsenModeNames.All() }

// coarsenModeNames names the θ-coarsening modes (in value order).
var coarsenModeNames = enum.New[CoarsenMode]("θ-coarsening mode", "average", "sample")

// CoarsenOptions control Net.Coarsen.
type CoarsenOptions struct {
	Mode CoarsenMode
	// KeepOptimizerState maps the optimizer's per-piece state like the
	// parameters (by the same mode); by default the optimizer is Reset.
	KeepOptimizerState bool
}

// Refine maps θ from K to 2K pieces in every ODE block and doubles Nt; ε
// is unchanged, so Δt halves.
//
// Piecewise-constant basis: θ'_2k = θ'_2k+1 = θ_k for conv weights and
// biases, BatchNorm parameters and running statistics and SkipInit
// scalars. With Noise = 0 the refined net then computes bit for bit what
// the original did at every (scheme, Nt, knot rule), since each stage reads
// a copy of the piece it read before.
//
// Piecewise-linear basis: the 2K+1 nodes are θ'_2j = θ_j and the inserted
// midpoints θ'_2j+1 = (θ_j + θ_j+1)/2 (the same function of t up to the
// rounding of the midpoints); BatchNorm pieces are copied as above.
//
// Then the optional noise (see RefineOptions) is applied. opt (nil for
// none) is Reset unless o.KeepOptimizerState; a kept state is mapped like
// the parameters (without noise).
func (m *Net) Refine(opt nnlib.Optimizer, o RefineOptions) error {
	if o.Noise != 0 && o.Rand == nil {
		panic("odenet.Net.Refine: Noise ≠ 0 needs RefineOptions.Rand")
	}
	wOp := refinePieces
	if m.cfg.Basis == PiecewiseLinear {
		wOp = refineNodes
	}
	if err := m.remap(opt, o.KeepOptimizerState, wOp, refinePieces); err != nil {
		return err
	}
	if o.Noise != 0 {
		for _, b := range m.blocks {
			for _, p := range b.weightParams()[:4] {
				for i, x := range p.Data {
					p.Data[i] = float32(float64(x) * (1 + o.Noise*o.Rand.NormFloat64()))
				}
			}
		}
	}
	m.setPieces(2*m.cfg.Pieces, 2*m.cfg.Steps)
	return nil
}

// Coarsen is θ-coarsening: it maps θ from K to K/2 pieces in every ODE
// block (K must be even) and halves Nt (rounding up). Piecewise-constant
// basis: pairs of pieces are averaged or every other piece is sampled
// (o.Mode). Piecewise-linear
// basis: every other node is dropped (θ'_j = θ_2j) whatever the mode;
// BatchNorm pieces follow o.Mode. Coarsen after Refine with Noise = 0
// restores θ exactly. Nt-coarsening (Nt < K with the same θ, fewer steps
// at inference) needs no call here: use SetSteps.
//
// opt (nil for none) is Reset unless o.KeepOptimizerState.
func (m *Net) Coarsen(opt nnlib.Optimizer, o CoarsenOptions) error {
	k := m.cfg.Pieces
	if k%2 != 0 {
		return fmt.Errorf("odenet: Coarsen needs an even number of pieces, the net has K = %d", k)
	}
	if o.Mode != AveragePairs && o.Mode != SampleEven {
		return fmt.Errorf("odenet: Coarsen: unknown mode %d (average or sample)", int(o.Mode))
	}
	pOp := func(d []float32, lead int) []float32 { return coarsenPieces(d, lead, o.Mode) }
	wOp := pOp
	if m.cfg.Basis == PiecewiseLinear {
		wOp = sampleNodes
	}
	if err := m.remap(opt, o.KeepOptimizerState, wOp, pOp); err != nil {
		return err
	}
	m.setPieces(k/2, (m.cfg.Steps+1)/2)
	return nil
}

// pieceOp maps a tensor whose leading axis has length lead to its new
// basis.
type pieceOp func(data []float32, lead int) []float32

// remap applies wOp to every basis tensor (conv weights, biases, SkipInit)
// and pOp to every BatchNorm parameter and buffer of the ODE blocks, and
// maps or resets the optimizer state accordingly.
func (m *Net) remap(opt nnlib.Optimizer, keep bool, wOp, pOp pieceOp) error {
	ops := map[string]pieceOp{}
	params := map[string]*nnlib.Param{}
	for _, b := range m.blocks {
		for _, p := range b.weightParams() {
			ops[p.Name], params[p.Name] = wOp, p
		}
		for _, p := range b.bnParams() {
			ops[p.Name], params[p.Name] = pOp, p
		}
	}
	var st *nnlib.OptimizerState
	if opt != nil && keep {
		s := opt.State()
		for i, slot := range s.Slots {
			cut := strings.LastIndexByte(slot.Name, '/')
			if cut < 0 {
				continue
			}
			p, ok := params[slot.Name[:cut]]
			if !ok {
				continue
			}
			if len(slot.Data) != len(p.Data) {
				return fmt.Errorf("odenet: optimizer slot %q has %d elements, its parameter %d", slot.Name, len(slot.Data), len(p.Data))
			}
			d := ops[p.Name](slot.Data, p.Pieces())
			s.Slots[i].Data, s.Slots[i].Shape = d, []int{len(d)}
		}
		st = &s
	}
	for _, b := range m.blocks {
		for _, p := range append(b.weightParams(), b.bnParams()...) {
			d := ops[p.Name](p.Data, p.Pieces())
			p.Set(pieceShape(p.Shape, len(d)/(len(p.Data)/p.Pieces())), d)
		}
		for _, buf := range b.pieceBuffers() {
			d := pOp(buf.Data, buf.Shape[0])
			buf.Set(pieceShape(buf.Shape, len(d)/(len(buf.Data)/buf.Shape[0])), d)
		}
	}
	if opt == nil {
		return nil
	}
	if st == nil {
		opt.Reset()
		return nil
	}
	return opt.SetState(*st)
}

// setPieces records the new K and Nt and rebuilds every block's plan.
func (m *Net) setPieces(k, nt int) {
	m.cfg.Pieces, m.cfg.Steps = k, nt
	for _, b := range m.blocks {
		b.k = k
	}
	m.replan()
}

func pieceShape(shape []int, k int) []int {
	s := append([]int(nil), shape...)
	s[0] = k
	return s
}

// refinePieces returns the 2k pieces [p0 p0 p1 p1 ...] of data (k pieces).
func refinePieces(data []float32, k int) []float32 {
	n := len(data) / k
	out := make([]float32, 2*len(data))
	for p := range k {
		src := data[p*n : (p+1)*n]
		copy(out[2*p*n:], src)
		copy(out[(2*p+1)*n:], src)
	}
	return out
}

// refineNodes returns the 2n−1 nodes [v0 (v0+v1)/2 v1 (v1+v2)/2 ... ] of
// data (n nodes); midpoints are computed in float64 and rounded once.
func refineNodes(data []float32, n int) []float32 {
	sz := len(data) / n
	out := make([]float32, (2*n-1)*sz)
	for j := range n {
		copy(out[2*j*sz:], data[j*sz:(j+1)*sz])
		if j == n-1 {
			break
		}
		a, b := data[j*sz:(j+1)*sz], data[(j+1)*sz:(j+2)*sz]
		mid := out[(2*j+1)*sz : (2*j+2)*sz]
		for i := range mid {
			mid[i] = float32((float64(a[i]) + float64(b[i])) / 2)
		}
	}
	return out
}

// sampleNodes returns the (n+1)/2 even nodes of data (n nodes, n odd).
func sampleNodes(data []float32, n int) []float32 {
	sz := len(data) / n
	out := make([]float32, (n+1)/2*sz)
	for j := range (n + 1) / 2 {
		copy(out[j*sz:], data[2*j*sz:(2*j+1)*sz])
	}
	return out
}

// coarsenPieces returns the k/2 pieces of data (k pieces): pairwise means
// (computed as (a+b)/2 in float64, exact for a = b) or the even pieces.
func coarsenPieces(data []float32, k int, mode CoarsenMode) []float32 {
	n := len(data) / k
	out := make([]float32, len(data)/2)
	for p := range k / 2 {
		a, b := data[2*p*n:(2*p+1)*n], data[(2*p+1)*n:(2*p+2)*n]
		dst := out[p*n : (p+1)*n]
		if mode == SampleEven {
			copy(dst, a)
			continue
		}
		for i := range dst {
			dst[i] = float32((float64(a[i]) + float64(b[i])) / 2)
		}
	}
	return out
}
