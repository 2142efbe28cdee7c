package odenet

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// explicitForward is the network written out as a plain residual stack:
// every ODE block is K residual units x ← x + (ε/K)·α_k·h(x; θ_k), with no
// integrator involved.
func explicitForward(m *Net, g *nnlib.Graph, x *nnlib.Value) *nnlib.Value {
	h := g.Relu(m.stemBN.Forward(g, m.stem.Forward(g, x)))
	for i, b := range m.blocks {
		k := b.Pieces()
		for p := range k {
			var r *nnlib.Value
			if b.unit == PreActivation {
				r = g.Relu(b.bn1.ForwardPiece(g, h, p))
				r = b.conv1.ForwardPiece(g, r, p)
				r = g.Relu(b.bn2.ForwardPiece(g, r, p))
				r = b.conv2.ForwardPiece(g, r, p)
			} else {
				r = b.conv1.ForwardPiece(g, h, p)
				r = b.bn1.ForwardPiece(g, g.Relu(r), p)
				r = b.conv2.ForwardPiece(g, r, p)
				r = b.bn2.ForwardPiece(g, g.Relu(r), p)
			}
			r = g.ScaleParam(r, b.skip.Piece(p))
			h = g.LinComb([]*nnlib.Value{h, r}, []float32{1, float32(m.cfg.Epsilon / float64(k))})
		}
		if i < 2 {
			h = m.stitches[i].Forward(g, h)
		}
	}
	h = g.Relu(m.finalBN.Forward(g, h))
	return m.head.Forward(g, g.GlobalAvgPool(h))
}

func TestEulerIsResidualStack(t *testing.T) {
	x, _ := tinyBatch(1)
	for _, unit := range []Unit{PreActivation, ConvReLUBN} {
		for _, k := range []int{1, 3} {
			for _, training := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/K=%d/training=%v", unit, k, training), func(t *testing.T) {
					m := newTiny(t, tinyConfig(k, unit), 2)
					snap := snapshot(t, m)
					got := logits(m, training, x)
					restore(t, m, snap)
					g := nnlib.NewGraph(training)
					want := explicitForward(m, g, g.Input(x, 3, tinyN, tinyHW, tinyHW)).Data
					if !bitEqual(got, want) {
						t.Fatalf("Euler, Nt = K = %d: %v, explicit residual stack %v", k, got, want)
					}
					if n := m.Evaluations(); n != int64(3*k) {
						t.Errorf("Evaluations = %d after one forward, want 3·K = %d", n, 3*k)
					}
				})
			}
		}
	}
}

// TestRefineIsExact: with no noise, the refined net computes bit for bit
// what the original computes, at every manifestation.
func TestRefineIsExact(t *testing.T) {
	x, _ := tinyBatch(3)
	for _, unit := range []Unit{PreActivation, ConvReLUBN} {
		m := newTiny(t, tinyConfig(2, unit), 4)
		r := newTiny(t, tinyConfig(2, unit), 4)
		if err := r.Refine(nil, RefineOptions{}); err != nil {
			t.Fatal(err)
		}
		if r.Pieces() != 4 || r.Steps() != 4 {
			t.Fatalf("refined K = %d, Nt = %d, want 4 and 4", r.Pieces(), r.Steps())
		}
		snapM, snapR := snapshot(t, m), snapshot(t, r)
		for _, id := range integrators.BuiltinIDs() {
			tab := integrators.MustBuiltin(id)
			for _, rule := range knotRules {
				for _, nt := range []int{1, 2, 4, 7} {
					for _, training := range []bool{false, true} {
						for _, net := range []*Net{m, r} {
							net.SetScheme(tab)
							net.SetKnotRule(rule)
							net.SetSteps(nt)
						}
						restore(t, m, snapM)
						restore(t, r, snapR)
						a, b := logits(m, training, x), logits(r, training, x)
						if !bitEqual(a, b) {
							t.Errorf("%v %s %v Nt=%d training=%v: original %v, refined %v", unit, id, rule, nt, training, a, b)
						}
					}
				}
			}
		}
	}
}

func TestCoarsenInvertsRefine(t *testing.T) {
	for _, basis := range []Basis{PiecewiseConstant, PiecewiseLinear} {
		for _, mode := range []CoarsenMode{AveragePairs, SampleEven} {
			for _, k := range []int{1, 3} {
				t.Run(fmt.Sprintf("%v/%v/K=%d", basis, mode, k), func(t *testing.T) {
					cfg := tinyConfig(k, PreActivation)
					cfg.Basis = basis
					m := newTiny(t, cfg, 5)
					m.SetSteps(2*k + 1) // an odd Nt: refine doubles it, coarsen halves it back
					before := snapshot(t, m)
					cfg = m.Config()
					if err := m.Refine(nil, RefineOptions{}); err != nil {
						t.Fatal(err)
					}
					if err := m.Coarsen(nil, CoarsenOptions{Mode: mode}); err != nil {
						t.Fatal(err)
					}
					after := snapshot(t, m)
					sameCheckpoint(t, before, after)
					if got := m.Config(); got.Pieces != cfg.Pieces || got.Steps != cfg.Steps {
						t.Errorf("K, Nt = %d, %d after refine+coarsen, want %d, %d", got.Pieces, got.Steps, cfg.Pieces, cfg.Steps)
					}
				})
			}
		}
	}
}

// TestLinearRefine: refining the piecewise-linear basis inserts midpoints
// (θ(t) unchanged up to their rounding) and copies BatchNorm pieces, so the
// refined net computes the original's outputs up to float32 rounding.
func TestLinearRefine(t *testing.T) {
	x, _ := tinyBatch(40)
	cfg := tinyConfig(2, PreActivation)
	cfg.Basis = PiecewiseLinear
	m := newTiny(t, cfg, 41)
	r := newTiny(t, cfg, 41)
	w := slices.Clone(m.blocks[1].conv2.B.Data) // [3 nodes][4 channels]
	if err := r.Refine(nil, RefineOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := r.blocks[1].conv2.B.Shape; !slices.Equal(got, []int{5, 4}) {
		t.Fatalf("refined bias shape %v, want [5 4]", got)
	}
	rb := r.blocks[1].conv2.B.Data
	for i := range 4 {
		if mid := float32((float64(w[i]) + float64(w[4+i])) / 2); rb[4+i] != mid || rb[i] != w[i] || rb[8+i] != w[4+i] {
			t.Fatalf("channel %d: refined nodes %v, %v, %v from %v, %v", i, rb[i], rb[4+i], rb[8+i], w[i], w[4+i])
		}
	}
	if r.NumParams() != r.Config().NumParams() {
		t.Errorf("refined: %d params, formula %d", r.NumParams(), r.Config().NumParams())
	}
	snapM, snapR := snapshot(t, m), snapshot(t, r)
	worst := 0.0
	for _, id := range []string{"euler", "midpoint", "rk4-classic", "rk4-38", "kutta3"} {
		for _, nt := range []int{1, 2, 3, 4, 7} {
			for _, training := range []bool{false, true} {
				for _, net := range []*Net{m, r} {
					net.SetScheme(integrators.MustBuiltin(id))
					net.SetSteps(nt)
				}
				restore(t, m, snapM)
				restore(t, r, snapR)
				a, b := logits(m, training, x), logits(r, training, x)
				var top, diff float64
				for i := range a {
					top = max(top, math.Abs(float64(a[i])))
					diff = max(diff, math.Abs(float64(a[i]-b[i])))
				}
				worst = max(worst, diff/top)
			}
		}
	}
	t.Logf("piecewise-linear refine: max relative change of the logits %.3g", worst)
	if worst > 1e-4 {
		t.Errorf("refined piecewise-linear net differs from the original by %.3g (relative), want rounding only", worst)
	}
}

func TestLinearNode(t *testing.T) {
	for _, tc := range []struct {
		n, nt, k int
		c        string
		j        int
		w        float64
	}{
		{0, 1, 1, "0", 0, 0},
		{0, 1, 1, "1", 0, 1},
		{0, 1, 1, "1/3", 0, 1.0 / 3},
		{1, 3, 2, "1/2", 1, 0},       // t = 1/2 → node 1 exactly
		{2, 3, 2, "1", 1, 1},         // t = 1 → last node
		{0, 3, 2, "2/3", 0, 4.0 / 9}, // t = 2/9, x = 4/9
		{1, 2, 4, "1/2", 3, 0},       // t = 3/4
		{0, 1, 2, "-1/2", 0, 0},      // clamped to t = 0
		{0, 1, 2, "3/2", 1, 1},       // clamped to t = 1
	} {
		c, _ := new(big.Rat).SetString(tc.c)
		j, w := linearNode(tc.n, tc.nt, tc.k, c)
		if j != tc.j || w != tc.w {
			t.Errorf("step %d of %d, K=%d, c=%s: node %d w=%v, want %d, %v", tc.n, tc.nt, tc.k, tc.c, j, w, tc.j, tc.w)
		}
	}
}

func sameCheckpoint(t *testing.T, a, b *nnlib.Checkpoint) {
	t.Helper()
	for i, p := range a.Params {
		q := b.Params[i]
		if p.Name != q.Name || !slices.Equal(p.Shape, q.Shape) || !bitEqual(p.Data, q.Data) {
			t.Errorf("parameter %s %v differs from %s %v", p.Name, p.Shape, q.Name, q.Shape)
		}
	}
	for i, p := range a.Buffers {
		q := b.Buffers[i]
		if p.Name != q.Name || !slices.Equal(p.Shape, q.Shape) || !bitEqual(p.Data, q.Data) {
			t.Errorf("buffer %s %v differs from %s %v", p.Name, p.Shape, q.Name, q.Shape)
		}
	}
}

func TestCoarsenModes(t *testing.T) {
	m := newTiny(t, tinyConfig(2, PreActivation), 6)
	w := m.blocks[0].conv1.W
	n := len(w.Data) / 2
	p0, p1 := slices.Clone(w.Data[:n]), slices.Clone(w.Data[n:])
	sampled := newTiny(t, tinyConfig(2, PreActivation), 6)
	if err := sampled.Coarsen(nil, CoarsenOptions{Mode: SampleEven}); err != nil {
		t.Fatal(err)
	}
	if err := m.Coarsen(nil, CoarsenOptions{Mode: AveragePairs}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if want := float32((float64(p0[i]) + float64(p1[i])) / 2); m.blocks[0].conv1.W.Data[i] != want {
			t.Fatalf("average: element %d = %v, want %v", i, m.blocks[0].conv1.W.Data[i], want)
		}
	}
	if !bitEqual(sampled.blocks[0].conv1.W.Data, p0) {
		t.Fatal("sample: coarse piece 0 is not fine piece 0")
	}
	if m.Pieces() != 1 || m.Steps() != 1 || m.NumParams() != m.Config().NumParams() {
		t.Errorf("after coarsening: K = %d, Nt = %d, %d params (formula %d)", m.Pieces(), m.Steps(), m.NumParams(), m.Config().NumParams())
	}
	if err := m.Coarsen(nil, CoarsenOptions{}); err == nil || !strings.Contains(err.Error(), "even") {
		t.Errorf("coarsening K = 1: error %v, want one saying K must be even", err)
	}
}

// TestRefineNoise: noise multiplies exactly the ODE blocks' conv weights
// and biases, and is reproducible from the stream.
func TestRefineNoise(t *testing.T) {
	a := newTiny(t, tinyConfig(1, PreActivation), 7)
	b := newTiny(t, tinyConfig(1, PreActivation), 7)
	ref := newTiny(t, tinyConfig(1, PreActivation), 7)
	for _, m := range []*Net{a, b} {
		if err := m.Refine(nil, RefineOptions{Noise: 0.1, Rand: rng.New(1, "refine")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ref.Refine(nil, RefineOptions{}); err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, snapshot(t, a), snapshot(t, b))
	for i, p := range a.Params.Params() {
		q := ref.Params.Params()[i]
		noisy := strings.HasPrefix(p.Name, "block") && strings.Contains(p.Name, ".conv")
		if differs := !bitEqual(p.Data, q.Data); differs != noisy {
			t.Errorf("%s: changed by noise = %v, want %v", p.Name, differs, noisy)
		}
		if noisy {
			var num, den float64
			for j := range p.Data {
				if q.Data[j] != 0 {
					d := float64(p.Data[j]/q.Data[j]) - 1
					num += d * d
					den++
				}
			}
			if sd := math.Sqrt(num / den); sd < 0.05 || sd > 0.2 {
				t.Errorf("%s: relative perturbation has rms %.3f, want about v = 0.1", p.Name, sd)
			}
		}
	}
}

func TestRefineOptimizerState(t *testing.T) {
	x, y := tinyBatch(8)
	for _, keep := range []bool{false, true} {
		m := newTiny(t, tinyConfig(1, PreActivation), 9)
		opt := nnlib.NewSGD(0.01, 0.9, 5e-4)
		g := nnlib.NewGraph(true)
		m.Params.ZeroGrad()
		g.Backward(g.SoftmaxCrossEntropy(m.Forward(g, g.Input(x, 3, tinyN, tinyHW, tinyHW)), y))
		opt.Step(m.Params.Params())
		before := opt.State()
		if err := m.Refine(opt, RefineOptions{KeepOptimizerState: keep}); err != nil {
			t.Fatal(err)
		}
		after := opt.State()
		if !keep {
			if len(after.Slots) != 0 {
				t.Errorf("default refine kept %d optimizer slots, want a reset", len(after.Slots))
			}
			continue
		}
		if len(after.Slots) != len(before.Slots) {
			t.Fatalf("kept state has %d slots, had %d", len(after.Slots), len(before.Slots))
		}
		for i, s := range after.Slots {
			old := before.Slots[i].Data
			if strings.HasPrefix(s.Name, "block") {
				old = refinePieces(old, 1)
			}
			if !bitEqual(s.Data, old) {
				t.Errorf("slot %s not refined like its parameter", s.Name)
			}
		}
		// The kept state must fit the refined parameters.
		m.Params.ZeroGrad()
		g.Reset()
		g.Backward(g.SoftmaxCrossEntropy(m.Forward(g, g.Input(x, 3, tinyN, tinyHW, tinyHW)), y))
		opt.Step(m.Params.Params())
	}
}

// TestStepDoubling reports how much the logits change when Nt doubles from
// its default K, per scheme, for a random (untrained) net in evaluation
// mode. With K = 1 the vector field is autonomous and smooth, so a 4th-order
// scheme must change less than Euler.
func TestStepDoubling(t *testing.T) {
	x, _ := tinyBatch(10)
	for _, k := range []int{1, 4} {
		change := map[string]float64{}
		for _, id := range []string{"euler", "midpoint", "rk4-classic", "rk4-38"} {
			m := newTiny(t, tinyConfig(k, PreActivation), 11)
			m.SetScheme(integrators.MustBuiltin(id))
			a := logits(m, false, x)
			m.SetSteps(2 * k)
			b := logits(m, false, x)
			var num, den float64
			for i := range a {
				num += float64(a[i]-b[i]) * float64(a[i]-b[i])
				den += float64(a[i]) * float64(a[i])
			}
			change[id] = math.Sqrt(num / den)
			t.Logf("K=%d %-11s Nt %d→%d: relative change of the logits %.3g", k, id, k, 2*k, change[id])
		}
		if k == 1 && !(change["rk4-classic"] < change["euler"]) {
			t.Errorf("K=1: RK4 changes by %.3g when Nt doubles, Euler by %.3g: want RK4 smaller", change["rk4-classic"], change["euler"])
		}
	}
}

func TestNumParams(t *testing.T) {
	// The authors' arXiv-v1 CIFAR-10 net (α = 16, 7×7 stem, final BN): paper/README.md, The model.
	// The 3×3 stem has (49−9)·3·16 = 1920 weights fewer.
	for _, tc := range []struct {
		stem Stem
		k    int
		want int
	}{
		{Stem7x7, 1, 172863}, {Stem7x7, 2, 270306}, {Stem7x7, 4, 465192},
		{Stem3x3, 1, 170943}, {Stem3x3, 2, 268386}, {Stem3x3, 4, 463272},
	} {
		for _, unit := range []Unit{PreActivation, ConvReLUBN} {
			cfg := V1Config()
			cfg.Stem, cfg.Pieces, cfg.Unit = tc.stem, tc.k, unit
			m, err := New(cfg, rng.New(1, "init"))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.NumParams(); got != tc.want || cfg.NumParams() != tc.want {
				t.Errorf("%v stem, %v, K=%d: built %d, formula %d, want %d", tc.stem, unit, tc.k, got, cfg.NumParams(), tc.want)
			}
		}
	}
	// Other variants: the formula still matches the model.
	for _, edit := range []func(*Config){
		func(c *Config) { c.SkipInit, c.FinalBN = false, false },
		func(c *Config) { c.Basis = PiecewiseLinear },
		func(c *Config) { c.Basis, c.SkipInit, c.Stem = PiecewiseLinear, false, Stem7x7 },
	} {
		cfg := tinyConfig(3, ConvReLUBN)
		edit(&cfg)
		m, err := New(cfg, rng.New(1, "init"))
		if err != nil {
			t.Fatal(err)
		}
		if m.NumParams() != cfg.NumParams() {
			t.Errorf("%+v: built %d, formula %d", cfg, m.NumParams(), cfg.NumParams())
		}
	}
}

func TestPieceSchedule(t *testing.T) {
	for _, tc := range []struct {
		scheme string
		rule   integrators.KnotRule
		k, nt  int
		want   [][]int
	}{
		{"rk4-classic", integrators.NextPiece, 2, 2, [][]int{{0, 0, 0, 1}, {1, 1, 1, 1}}},
		{"rk4-classic", integrators.OwnPiece, 2, 2, [][]int{{0, 0, 0, 0}, {1, 1, 1, 1}}},
		{"euler", integrators.NextPiece, 4, 2, [][]int{{0}, {2}}},
		{"midpoint", integrators.NextPiece, 2, 1, [][]int{{0, 1}}},
	} {
		cfg := tinyConfig(tc.k, PreActivation)
		cfg.Scheme, cfg.KnotRule, cfg.Steps = integrators.MustBuiltin(tc.scheme), tc.rule, tc.nt
		m, err := New(cfg, rng.New(1, "init"))
		if err != nil {
			t.Fatal(err)
		}
		got := m.Blocks()[1].PieceSchedule()
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s %v K=%d Nt=%d: schedule %v, want %v", tc.scheme, tc.rule, tc.k, tc.nt, got, tc.want)
		}
		if m.UnitsPerForward() != 3*cfg.Scheme.Stages()*tc.nt {
			t.Errorf("UnitsPerForward = %d", m.UnitsPerForward())
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Width = 0 }, "Width"},
		{func(c *Config) { c.Classes = 0 }, "Classes"},
		{func(c *Config) { c.InChannels = -1 }, "InChannels"},
		{func(c *Config) { c.Pieces = 0 }, "Pieces"},
		{func(c *Config) { c.Steps = -2 }, "Steps"},
		{func(c *Config) { c.Epsilon = 0 }, "Epsilon"},
		{func(c *Config) { c.Epsilon = math.NaN() }, "Epsilon"},
		{func(c *Config) { c.Unit = 7 }, "Unit"},
		{func(c *Config) { c.Basis = 3 }, "Basis"},
		{func(c *Config) { c.Stem = 7 }, "Stem"},
		{func(c *Config) { c.KnotRule = 9 }, "KnotRule"},
		{func(c *Config) { c.SkipInitValue = float32(math.Inf(1)) }, "SkipInitValue"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		_, err := New(c, rng.New(1, "init"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %s", err, tc.want)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	c := V1Config()
	c.Pieces, c.Steps, c.Unit, c.KnotRule, c.Basis = 4, 6, ConvReLUBN, integrators.OwnPiece, PiecewiseLinear
	c.Scheme = integrators.MustBuiltin("rk4-38")
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var d Config
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Scheme.ID() != "rk4-38" || fmt.Sprint(d.Scheme.Spec()) != fmt.Sprint(c.Scheme.Spec()) {
		t.Errorf("scheme %v after round trip, want %v", d.Scheme, c.Scheme)
	}
	d.Scheme, c.Scheme = nil, nil
	if d != c {
		t.Errorf("round trip: %+v, want %+v", d, c)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`"unit":"conv-relu-bn"`, `"unit":"bogus"`, "unit"},
		{`"stem":"7x7"`, `"stem":"5x5"`, "stem"},
		{`"basis":"piecewise-linear"`, `"basis":"cubic"`, "basis"},
		{`"knot_rule":"own-piece"`, `"knot_rule":"bogus"`, "knot_rule"},
		{`"width":16`, `"wdth":16`, "unknown field"},
		{`"width":16`, `"width":0`, "Width"},
		{`"order":4`, `"order":5`, "scheme"},
	} {
		bad := strings.Replace(string(data), tc.from, tc.to, 1)
		if bad == string(data) {
			t.Fatalf("%s not found in %s", tc.from, data)
		}
		if err := json.Unmarshal([]byte(bad), &d); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.to, err, tc.want)
		}
	}
}

// TestTrainingReducesLoss: a few SGD steps on one batch lower the loss
// through every part of the network (stitches, blocks, head).
func TestTrainingReducesLoss(t *testing.T) {
	x, y := tinyBatch(12)
	cfg := tinyConfig(2, PreActivation)
	cfg.Scheme = integrators.MustBuiltin("rk4-classic")
	m, err := New(cfg, rng.New(13, "init"))
	if err != nil {
		t.Fatal(err)
	}
	fitOneBatch(t, m.Params, m.Forward, x, y, 3)
	for _, name := range []string{"block0.skip", "block2.skip", "stitch0.skip", "stitch1.skip"} {
		if p := m.Params.Param(name); slices.Equal(p.Data, make([]float32, len(p.Data))) {
			t.Errorf("SkipInit scalar %s did not move from 0", name)
		}
	}
}

// fitOneBatch takes 30 SGD steps of forward on the tiny batch (x, y) and
// fails t unless the loss at least halves; it checks the logits' shape
// [tinyN, classes] once.
func fitOneBatch(t *testing.T, ps *nnlib.ParamSet, forward func(*nnlib.Graph, *nnlib.Value) *nnlib.Value, x []float32, y []int, classes int) {
	t.Helper()
	opt := nnlib.NewSGD(0.05, 0.9, 0)
	g := nnlib.NewGraph(true)
	var first, last float32
	for step := range 30 {
		g.Reset()
		ps.ZeroGrad()
		out := forward(g, g.Input(x, 3, tinyN, tinyHW, tinyHW))
		if step == 0 && (out.Shape[0] != tinyN || out.Shape[1] != classes) {
			t.Fatalf("logits shape %v, want [%d %d]", out.Shape, tinyN, classes)
		}
		loss := g.SoftmaxCrossEntropy(out, y)
		g.Backward(loss)
		opt.Step(ps.Params())
		if step == 0 {
			first = loss.Data[0]
		}
		last = loss.Data[0]
	}
	if !(last < 0.5*first) {
		t.Errorf("loss %.4f → %.4f after 30 steps on one batch, want at least halved", first, last)
	}
}
