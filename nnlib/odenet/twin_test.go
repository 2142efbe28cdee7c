package odenet

// The PyTorch twin: testdata/torch_twin.py is an independent PyTorch
// implementation of the ContinuousNet (per-piece nn.BatchNorm2d modules, an
// explicit Runge-Kutta loop over a Butcher tableau, F.cross_entropy,
// torch.optim.SGD, refinement by duplicating pieces), written from the
// definition of the network rather than translated from this package. A
// second framework catches what self-consistency tests cannot: a layer
// order, BatchNorm semantics, a padding, a tableau entry, the knot rule, the
// optimizer, refinement. TestTorchTwin writes the nets' initial states and a
// fixed sequence of augmented batches for it, runs it twice (cases 1–2 while
// Go trains, then the shadowed training steps and case 5), and compares
// what both implementations compute, tensor by tensor.
//
// Two facts of float32 training shape the comparisons (the script's
// documentation has the details): a gradient of a ReLU network is only
// defined up to the ReLU decisions that rounding may flip (the twin measures
// how far those can move each gradient: the "kink allowance"), and SGD at
// lr 0.1 with momentum 0.9 on 16-image batches is chaotic (float32 and
// float64 runs of the twin itself part by 1e-2 in the loss within 5 steps),
// so training steps are compared one at a time, the twin starting each from
// the Go model's state.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/datasets/datatest"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// twinMagic starts both interchange files; see the script's doc string.
const twinMagic = "CNTWIN01"

// twinNet is one of the compared networks: the quick profile's net
// (conv-ReLU-BN unit, per-piece BN, 3×3 stem, no SkipInit, ε = 1, no final
// BN, next-piece knot rule) at width 4.
type twinNet struct {
	name   string
	scheme string
	k      int
	refine bool // case 4: refine K → 2K in the middle of the SGD steps
	seed   uint64
}

var twinNets = []twinNet{
	{name: "euler-K1", scheme: "euler", k: 1, refine: true, seed: 21},
	{name: "rk4-classic-K1", scheme: "rk4-classic", k: 1, refine: true, seed: 22},
	{name: "rk4-classic-K4", scheme: "rk4-classic", k: 4, seed: 23},
}

const (
	twinBatch    = 16
	twinImages   = 20*twinBatch + 8 // 20 full batches and a short last one of 8 images
	twinHW       = 32
	twinSteps    = 20 // SGD steps of cases 3 and 4
	twinRefineAt = 10 // case 4 refines before this (0-based) step, i.e. before step 11
	twinLR       = 0.1
	twinMomentum = 0.9
	twinWD       = 5e-4
)

// twinFull lists the (1-based) SGD steps the twin shadows in full
// (gradients, momentum, parameters) in cases 3 and 4; every step is
// shadowed at least in its forward pass (loss, running statistics). Case 4
// forks case 3 before step 11.
var twinFull = map[string][]int{"train": {1, 2, 3, 5, 10, 20}, "refine": {11, 12, 20}}

var (
	twinEvalSchemes = []string{"euler", "midpoint", "rk4-classic", "rk4-38"}
	twinEvalNts     = []int{1, 2, 3, 4, 8}
)

func (n twinNet) config() Config {
	return Config{Width: 4, Classes: 10, InChannels: 3, Pieces: n.k, Steps: n.k,
		Scheme: integrators.MustBuiltin(n.scheme), KnotRule: integrators.NextPiece, Unit: ConvReLUBN, Stem: Stem3x3,
		SkipInit: false, Epsilon: 1, FinalBN: false}
}

// fresh builds the net's initial state: its init, then randomize (biases,
// BN affine parameters and running statistics away from their trivial
// values, so that all of them matter).
func (n twinNet) fresh(t testing.TB) *Net {
	t.Helper()
	m, err := New(n.config(), rng.New(n.seed, "twin/init"))
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, rng.New(n.seed, "twin/randomize"))
	return m
}

// twinTensor is a named float32 tensor of the interchange.
type twinTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

type twinEntry struct {
	Name   string `json:"name"`
	Shape  []int  `json:"shape"`
	Offset int    `json:"offset"`
}

func writeTwin(path string, meta any, ts []twinTensor) error {
	var body bytes.Buffer
	entries := make([]twinEntry, len(ts))
	off := 0
	for i, x := range ts {
		if n := shapeLen(x.Shape); n != len(x.Data) {
			return fmt.Errorf("twin tensor %s: shape %v but %d values", x.Name, x.Shape, len(x.Data))
		}
		entries[i] = twinEntry{Name: x.Name, Shape: x.Shape, Offset: off}
		if err := binary.Write(&body, binary.LittleEndian, x.Data); err != nil {
			return err
		}
		off += len(x.Data)
	}
	head, err := json.Marshal(map[string]any{"meta": meta, "tensors": entries})
	if err != nil {
		return err
	}
	var f bytes.Buffer
	f.WriteString(twinMagic)
	_ = binary.Write(&f, binary.LittleEndian, uint64(len(head)))
	f.Write(head)
	f.Write(body.Bytes())
	return os.WriteFile(path, f.Bytes(), 0o644)
}

func readTwin(path string) (json.RawMessage, map[string]twinTensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 16 || string(b[:8]) != twinMagic {
		return nil, nil, fmt.Errorf("%s: not a twin file", path)
	}
	n := binary.LittleEndian.Uint64(b[8:16])
	if uint64(len(b)-16) < n {
		return nil, nil, fmt.Errorf("%s: truncated header", path)
	}
	var head struct {
		Meta    json.RawMessage `json:"meta"`
		Tensors []twinEntry     `json:"tensors"`
	}
	if err := json.Unmarshal(b[16:16+n], &head); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	body := b[16+n:]
	out := map[string]twinTensor{}
	for _, e := range head.Tensors {
		k := shapeLen(e.Shape)
		if (e.Offset+k)*4 > len(body) {
			return nil, nil, fmt.Errorf("%s: tensor %s runs past the end", path, e.Name)
		}
		d := make([]float32, k)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[(e.Offset+i)*4:]))
		}
		out[e.Name] = twinTensor{Name: e.Name, Shape: e.Shape, Data: d}
	}
	return head.Meta, out, nil
}

func shapeLen(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// twinDataset is a synthetic CIFAR-like set: 32×32 RGB images whose pattern
// depends on the class, plus noise.
func twinDataset() *datasets.Dataset {
	r := rng.New(1, "twin/dataset")
	d := &datasets.Dataset{Name: "twin/synthetic", C: 3, H: twinHW, W: twinHW,
		Pixels: make([]uint8, twinImages*3*twinHW*twinHW), Labels: make([]int, twinImages)}
	for c := range 10 {
		d.Classes = append(d.Classes, fmt.Sprintf("class%d", c))
	}
	for i := range twinImages {
		y := r.IntN(10)
		d.Labels[i] = y
		img := d.Image(i)
		for c := range 3 {
			for py := range twinHW {
				for px := range twinHW {
					v := 40 + 20*((y*(c+1)+px*(y%3+1)+py*(y%4+1))%8) + r.IntN(60)
					img[(c*twinHW+py)*twinHW+px] = uint8(min(v, 255))
				}
			}
		}
	}
	return d
}

// twinBatchData is one augmented batch, channel-major as the iterator
// serves it.
type twinBatchData struct {
	x []float32
	y []int
}

func (b twinBatchData) n() int { return len(b.y) }

// twinBatches is epoch 0 of the training iterator of the CIFAR runs (crop
// with 4 pixels of padding, flip, CIFAR-10 mean and std, channel-major):
// 20 batches of 16 and a last one of 8.
func twinBatches(t *testing.T) []twinBatchData {
	d := twinDataset()
	it := datasets.NewIterator(d, datasets.BatchConfig{BatchSize: twinBatch, Shuffle: true, Pad: 4, Flip: true,
		Mean: datasets.CIFAR10Mean, Std: datasets.CIFAR10Std, Layout: datasets.ChannelMajor, Seed: 1})
	defer it.Close()
	x := make([]float32, it.BatchFloats())
	y := make([]int, twinBatch)
	var out []twinBatchData
	for {
		n := it.Next(x, y)
		if n == 0 {
			break
		}
		out = append(out, twinBatchData{x: slices.Clone(x[:n*d.ImageSize()]), y: slices.Clone(y[:n])})
	}
	if len(out) != 21 || out[20].n() != 8 {
		t.Fatalf("iterator gave %d batches, the last of %d images; want 21, the last of 8", len(out), out[len(out)-1].n())
	}
	return out
}

// twinCmp is one comparison: what Go computed against the twin's tensor
// key. It passes when
//
//	‖Go − twin‖ ≤ tol·‖twin‖ + kinkScale·σ          (maxAbs false)
//	max|Go − twin| ≤ tol·max|twin|                   (maxAbs true)
//
// σ being the twin's kink spread under kink (see the script): how far the
// ReLU decisions that float32 rounding may flip can move this tensor.
type twinCmp struct {
	net, what, key string
	got            []float32
	maxAbs         bool
	tol            float64
	kink           string
	kinkScale      float64
	group          string
}

type twinCmps struct{ list []twinCmp }

func (c *twinCmps) add(x twinCmp) {
	x.got = slices.Clone(x.got)
	c.list = append(c.list, x)
}

// Tolerances (relative): forward quantities are tight (float32 forward
// passes agree to ~1e-6); gradients and momentum get 1e-3 plus 4 kink
// spreads.
const (
	tolLogits = 1e-4 // max|Δ| / max|logit|
	tolLoss   = 1e-5
	tolStats  = 2e-5 // a biased running variance would be off by ≥ 2e-4 per step in the stage-3 BNs here
	tolGrad   = 1e-3
	tolParam  = 1e-5 // parameters after a step from the same state: plus lr × the gradient's kink allowance
	kinkSigma = 4
	// twinKinkTau: a ReLU input within twinKinkTau·max|x| of 0 may fall on
	// either side in float32 (the largest forward differences between Go and
	// the twin are ≈ 1.5e-6·max|x|).
	twinKinkTau = 3e-6
)

// twinOut collects what Go writes for the twin and what it compares.
type twinOut struct {
	in   []twinTensor
	cmps *twinCmps
}

func (o *twinOut) export(name string, shape []int, data []float32) {
	o.in = append(o.in, twinTensor{name, slices.Clone(shape), slices.Clone(data)})
}

// exportState writes m's parameters and running statistics under prefix.
func (o *twinOut) exportState(prefix string, m *Net) {
	for _, p := range m.Params.Params() {
		o.export(prefix+p.Name, p.Shape, p.Data)
	}
	for _, b := range m.Params.Buffers() {
		o.export(prefix+b.Name, b.Shape, b.Data)
	}
}

// sgdMomentum returns the SGD momentum buffers of m's parameters by name.
func sgdMomentum(t *testing.T, m *Net, opt nnlib.Optimizer) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, s := range opt.State().Slots {
		name, ok := strings.CutSuffix(s.Name, "/momentum")
		if !ok {
			t.Fatalf("unexpected optimizer slot %s", s.Name)
		}
		out[name] = s.Data
	}
	if len(out) != len(m.Params.Params()) {
		t.Fatalf("optimizer has momentum for %d parameters, the net has %d", len(out), len(m.Params.Params()))
	}
	return out
}

// stepChecks adds the comparisons of a training step written by the twin
// under prefix: loss, running statistics, and (whatever of them is not
// nil) gradients, momentum and parameters after the optimizer step.
func (o *twinOut) stepChecks(net, group, what, prefix string, m *Net, loss float32, grads bool, mom map[string][]float32, params bool) {
	o.cmps.add(twinCmp{net: net, group: group + " loss", what: "loss of " + what, key: prefix + "loss", got: []float32{loss}, tol: tolLoss})
	for _, b := range m.Params.Buffers() {
		o.cmps.add(twinCmp{net: net, group: group + " running stats", what: b.Name + " after " + what, key: prefix + "buffer/" + b.Name,
			got: b.Data, tol: tolStats})
	}
	for _, p := range m.Params.Params() {
		kink := prefix + "kink/" + p.Name
		if grads {
			o.cmps.add(twinCmp{net: net, group: group + " gradients", what: "gradient of " + p.Name + " in " + what,
				key: prefix + "grad/" + p.Name, got: p.Grad, tol: tolGrad, kink: kink, kinkScale: kinkSigma})
		}
		if mom != nil {
			o.cmps.add(twinCmp{net: net, group: group + " momentum", what: "SGD momentum of " + p.Name + " after " + what,
				key: prefix + "momentum/" + p.Name, got: mom[p.Name], tol: tolGrad, kink: kink, kinkScale: kinkSigma})
		}
		if params {
			o.cmps.add(twinCmp{net: net, group: group + " parameters", what: p.Name + " after " + what,
				key: prefix + "param/" + p.Name, got: p.Data, tol: tolParam, kink: kink, kinkScale: kinkSigma * twinLR})
		}
	}
}

// twinStep runs one training-mode step on b (and the optimizer step, if
// any) and returns the loss; the gradients stay in the parameters.
func twinStep(m *Net, opt nnlib.Optimizer, b twinBatchData) float32 {
	g := nnlib.NewGraph(true)
	m.Params.ZeroGrad()
	loss := g.SoftmaxCrossEntropy(m.Forward(g, g.Input(b.x, 3, b.n(), twinHW, twinHW)), b.y)
	g.Backward(loss)
	if opt != nil {
		opt.Step(m.Params.Params())
	}
	return loss.Data[0]
}

func twinEval(m *Net, b twinBatchData) []float32 {
	g := nnlib.NewGraph(false)
	return slices.Clone(m.Forward(g, g.Input(b.x, 3, b.n(), twinHW, twinHW)).Data)
}

func manifestation(m *Net) string {
	return fmt.Sprintf("[%s, K = %d, Nt = %d]", m.Scheme().ID(), m.Pieces(), m.Steps())
}

const (
	twinEvalBatch  = 0
	twinStepBatch  = 0
	twinShortBatch = 20
)

// trajectories runs twinSteps SGD steps (batch s at step s) from n's
// initial state ("train") and, for a net with refine, forks that run before
// step twinRefineAt to refine K → 2K and take the remaining steps
// ("refine"). It returns the twin's instructions to shadow the steps.
func (o *twinOut) trajectories(t *testing.T, n twinNet, bs []twinBatchData) []map[string]any {
	m, opt := n.fresh(t), nnlib.NewSGD(twinLR, twinMomentum, twinWD)
	var shadows []map[string]any
	for s := range twinSteps {
		if n.refine && s == twinRefineAt {
			r, ropt := n.fresh(t), nnlib.NewSGD(twinLR, twinMomentum, twinWD)
			restore(t, r, snapshot(t, m))
			if err := ropt.SetState(opt.State()); err != nil {
				t.Fatal(err)
			}
			for s2 := s; s2 < twinSteps; s2++ {
				shadows = append(shadows, o.shadowedStep(t, n, r, ropt, bs[s2], "refine", s2, s2 == twinRefineAt))
			}
		}
		shadows = append(shadows, o.shadowedStep(t, n, m, opt, bs[s], "train", s, false))
	}
	return shadows
}

// shadowedStep takes SGD step s (0-based) of run on b, refining K → 2K
// first if refine. It exports the state before the step for the twin to
// shadow the step from, adds the comparisons of the state after it, and
// returns the twin's instruction.
func (o *twinOut) shadowedStep(t *testing.T, n twinNet, m *Net, opt nnlib.Optimizer, b twinBatchData, run string, s int, refine bool) map[string]any {
	pre := "net/" + n.name + "/" + run + "/"
	full := slices.Contains(twinFull[run], s+1)
	state, momentum, out := fmt.Sprintf("%sstate%d/", pre, s), "", fmt.Sprintf("%sstep%d/", pre, s+1)
	o.exportState(state, m)
	if full && s > 0 && !refine {
		momentum = fmt.Sprintf("%smomentum%d/", pre, s)
		for name, d := range sgdMomentum(t, m, opt) {
			o.export(momentum+name, m.Params.Param(name).Shape, d)
		}
	}
	sh := map[string]any{"batch": s, "k": m.Pieces(), "nt": m.Steps(), "state": state, "out": out,
		"refine": refine, "full": full, "momentum": momentum}
	if refine {
		k := m.Pieces()
		if err := m.Refine(opt, RefineOptions{}); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("right after refinement K = %d → %d before step %d %s", k, m.Pieces(), s+1, manifestation(m))
		for _, p := range m.Params.Params() {
			o.cmps.add(twinCmp{net: n.name, group: "4 refine: refined state", what: p.Name + " " + what, key: out + "refined/" + p.Name, got: p.Data})
		}
		for _, b := range m.Params.Buffers() {
			o.cmps.add(twinCmp{net: n.name, group: "4 refine: refined state", what: b.Name + " " + what, key: out + "refined/" + b.Name, got: b.Data})
		}
	}
	loss := twinStep(m, opt, b)
	var mom map[string][]float32
	if full {
		mom = sgdMomentum(t, m, opt)
	}
	group := "3 train"
	if run == "refine" {
		group = "4 refine"
	}
	o.stepChecks(n.name, group, fmt.Sprintf("SGD step %d %s", s+1, manifestation(m)), out, m, loss, false, mom, full)
	return sh
}

// twinError returns ‖Δ‖/‖ref‖ (max|Δ|/max|ref|) and the effective relative
// tolerance of the comparison; sigma is the kink spread (0 if none).
func twinError(c twinCmp, ref []float32, sigma float64) (e, tol float64) {
	var num, den, maxd, maxr float64
	for i, r := range ref {
		d := float64(c.got[i]) - float64(r)
		num += d * d
		den += float64(r) * float64(r)
		maxd = max(maxd, math.Abs(d))
		maxr = max(maxr, math.Abs(float64(r)))
	}
	if c.maxAbs {
		num, den = maxd, maxr
	} else {
		num, den = math.Sqrt(num), math.Sqrt(den)
	}
	if den == 0 {
		return num, c.tol + c.kinkScale*sigma
	}
	tol = c.tol
	if c.kinkScale > 0 {
		tol += c.kinkScale * sigma / den
	}
	return num / den, tol
}

// twinInput returns the twin's configuration, with an entry per net to
// which the caller adds the cases to run, and exports what every run needs:
// the batches and every net's initial state.
func twinInput(t *testing.T, bs []twinBatchData, o *twinOut) (meta map[string]any, nets []map[string]any) {
	for i, b := range bs {
		ys := make([]float32, b.n())
		for j, y := range b.y {
			ys[j] = float32(y)
		}
		o.export(fmt.Sprintf("batch/%d/x", i), []int{3, b.n(), twinHW, twinHW}, b.x)
		o.export(fmt.Sprintf("batch/%d/y", i), []int{b.n()}, ys)
	}
	cfg := twinNets[0].config()
	for _, n := range twinNets {
		m := n.fresh(t)
		o.exportState("net/"+n.name+"/init/", m)
		nets = append(nets, map[string]any{"name": n.name, "scheme": n.scheme, "k": n.k, "steps": m.Steps()})
	}
	return map[string]any{
		"model": map[string]any{
			"width": cfg.Width, "classes": cfg.Classes, "in_channels": cfg.InChannels, "unit": cfg.Unit.String(),
			"stem": cfg.Stem.String(), "skip_init": cfg.SkipInit, "final_bn": cfg.FinalBN, "epsilon": cfg.Epsilon,
			"knot_rule": cfg.KnotRule.String(), "basis": cfg.Basis.String(), "bn_momentum": 0.1, "bn_eps": 1e-5,
		},
		"nets":    nets,
		"batches": len(bs),
		"sgd":     map[string]any{"lr": twinLR, "momentum": twinMomentum, "weight_decay": twinWD},
		"kinks":   map[string]any{"tau": twinKinkTau, "rounds": 2, "seed": 1},
	}, nets
}

// twinRun is a running twin process.
type twinRun struct {
	cmd    *exec.Cmd
	out    string
	stderr bytes.Buffer
	start  time.Time
}

// startTwin writes the input to dir/name.in and starts the script on it.
func startTwin(ctx context.Context, t *testing.T, py, dir, name string, meta map[string]any, in []twinTensor) *twinRun {
	t.Helper()
	r := &twinRun{out: filepath.Join(dir, name+".out")}
	if err := writeTwin(filepath.Join(dir, name+".in"), meta, in); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.CommandContext(ctx, py, filepath.Join("testdata", "torch_twin.py"), filepath.Join(dir, name+".in"), r.out)
	r.cmd.Stdout, r.cmd.Stderr = &r.stderr, &r.stderr
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting the twin: %v", err)
	}
	return r
}

// wait waits for the twin and adds its tensors to ref.
func (r *twinRun) wait(t *testing.T, ref map[string]twinTensor) string {
	t.Helper()
	if err := r.cmd.Wait(); err != nil {
		msg := r.stderr.String()
		if strings.Contains(msg, "\n    import torch") || strings.Contains(msg, "\n    import numpy") {
			lines := strings.Split(strings.TrimSpace(msg), "\n")
			datatest.TorchSkipOrFail(t, fmt.Sprintf("%s cannot import torch: %s", r.cmd.Path, lines[len(lines)-1]))
		}
		t.Fatalf("the twin failed: %v\n%s", err, msg)
	}
	took := time.Since(r.start)
	meta, ts, err := readTwin(r.out)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ts {
		ref[k] = v
	}
	return fmt.Sprintf("%.1fs %s", took.Seconds(), meta)
}

// TestTorchTwin compares the ContinuousNet with its PyTorch twin,
// testdata/torch_twin.py, for the quick profile's Euler K = 1, RK4-classic
// K = 1 and RK4-classic K = 4 nets at width 4, on batches of 16 synthetic
// 32×32 images served by the CIFAR training iterator:
//
//  1. evaluation-mode logits of the same weights and running statistics
//     under euler, midpoint, rk4-classic and rk4-38 at Nt = 1, 2, 3, 4, 8:
//     max|Δ| ≤ 1e-4·max|logit|;
//  2. one training-mode step: the loss (1e-5), the running statistics after
//     it (2e-5) and every gradient (1e-3, plus the kink allowance);
//  3. 20 SGD steps (lr 0.1, momentum 0.9, weight decay 5e-4), each shadowed
//     by the twin from the Go model's state before it: loss, running
//     statistics, momentum and parameters after the step;
//  4. the same with a refinement K → 2K (noise 0, SGD re-created, as the
//     quick profile does) before step 11, done by the twin itself from the
//     unrefined state: the refined state must be equal, then the steps;
//  5. one step on the 8-image last batch (loss, running statistics,
//     gradients, parameters), then the evaluation logits of the state after
//     it (1e-4·max|logit|).
//
// Relative errors are ‖Go − twin‖/‖twin‖ per tensor. Gradients (and what
// follows from them) may also differ by 4 kink spreads: see the script's
// documentation for why a float32 gradient of a ReLU network is only defined
// up to that, and why free-running training cannot be compared for 20 steps.
//
// It skips with -short, and when /usr/bin/python3 cannot import torch (it
// fails then instead when CI=true or CNET_REQUIRE_TORCH=1).
func TestTorchTwin(t *testing.T) {
	if testing.Short() {
		t.Skip("the PyTorch twin takes about 30 s on 2 cores; it runs without -short")
	}
	py := datatest.TorchPython(t, "torch", "numpy")
	start := time.Now()
	bs := twinBatches(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var cmps twinCmps

	// Run A (cases 1 and 2) needs only the initial states: it runs while Go
	// computes the training trajectories that run B shadows.
	a := twinOut{cmps: &cmps}
	metaA, netsA := twinInput(t, bs, &a)
	for _, spec := range netsA {
		spec["eval"] = map[string]any{"batch": twinEvalBatch, "schemes": twinEvalSchemes, "nts": twinEvalNts}
		spec["step"] = map[string]any{"batch": twinStepBatch}
	}
	runA := startTwin(ctx, t, py, dir, "a", metaA, a.in)

	b := twinOut{cmps: &cmps}
	metaB, netsB := twinInput(t, bs, &b)
	for i, n := range twinNets {
		netsB[i]["shadow"] = b.trajectories(t, n, bs)

		m := n.fresh(t)
		loss := twinStep(m, nnlib.NewSGD(twinLR, twinMomentum, twinWD), bs[twinShortBatch])
		b.stepChecks(n.name, "5 short", "a step on the 8-image batch "+manifestation(m), "net/"+n.name+"/short/", m, loss, true, nil, true)
		b.exportState("net/"+n.name+"/short/after/", m)
		cmps.add(twinCmp{net: n.name, group: "5 short: eval logits after", maxAbs: true, tol: tolLogits,
			what: "evaluation-mode logits after a step on the 8-image batch " + manifestation(m), key: "net/" + n.name + "/short/logits",
			got: twinEval(m, bs[twinEvalBatch])})
		netsB[i]["short"] = map[string]any{"batch": twinShortBatch, "after": "net/" + n.name + "/short/after/", "eval_batch": twinEvalBatch}
	}
	runB := startTwin(ctx, t, py, dir, "b", metaB, b.in)
	b.in = nil

	for _, n := range twinNets {
		m := n.fresh(t)
		for _, s := range twinEvalSchemes {
			m.SetScheme(integrators.MustBuiltin(s))
			for _, nt := range twinEvalNts {
				m.SetSteps(nt)
				cmps.add(twinCmp{net: n.name, group: "1 eval logits", maxAbs: true, tol: tolLogits,
					what: fmt.Sprintf("evaluation-mode logits under %s, Nt = %d", s, nt),
					key:  fmt.Sprintf("net/%s/eval/%s/nt=%d/logits", n.name, s, nt), got: twinEval(m, bs[twinEvalBatch])})
			}
		}
		m = n.fresh(t)
		loss := twinStep(m, nil, bs[twinStepBatch])
		a.stepChecks(n.name, "2 step", "one training step "+manifestation(m), "net/"+n.name+"/step/", m, loss, true, nil, false)
	}
	goDone := time.Since(start)
	ref := map[string]twinTensor{}
	timeA := runA.wait(t, ref)
	timeB := runB.wait(t, ref)

	type worst struct {
		err, tol, kink float64
		ratio          float64 // largest error / tolerance
		where          string
		checks, loose  int // loose: kink allowance > 1e-2
	}
	groups := map[string]*worst{}
	for _, c := range cmps.list {
		r, ok := ref[c.key]
		if !ok {
			t.Errorf("%s: %s: the twin wrote no tensor %s", c.net, c.what, c.key)
			continue
		}
		if len(c.got) != len(r.Data) {
			t.Errorf("%s: %s: Go has %d values, the twin %d (%s, shape %v)", c.net, c.what, len(c.got), len(r.Data), c.key, r.Shape)
			continue
		}
		var sigma float64
		if c.kink != "" {
			s, ok := ref[c.kink]
			if !ok || len(s.Data) != 1 {
				t.Errorf("%s: %s: the twin wrote no kink spread %s", c.net, c.what, c.kink)
				continue
			}
			sigma = float64(s.Data[0])
		}
		e, tol := twinError(c, r.Data, sigma)
		w := groups[c.group]
		if w == nil {
			w = &worst{err: -1}
			groups[c.group] = w
		}
		w.checks++
		if e > w.err || math.IsNaN(e) {
			w.err, w.tol, w.where = e, tol, c.net+": "+c.what
		}
		w.kink = max(w.kink, tol-c.tol)
		if tol > 0 {
			w.ratio = max(w.ratio, e/tol)
		}
		if tol-c.tol > 1e-2 {
			w.loose++
		}
		if !(e <= tol) {
			m := "‖Δ‖/‖twin‖"
			if c.maxAbs {
				m = "max|Δ|/max|twin|"
			}
			kink := ""
			if tol > c.tol {
				kink = fmt.Sprintf(" (%.0e + kink allowance %.2g)", c.tol, tol-c.tol)
			}
			t.Errorf("%s: %s: %s = %.3g exceeds %.3g%s", c.net, c.what, m, e, tol, kink)
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		w := groups[g]
		kink := ""
		if w.kink > 0 {
			kink = fmt.Sprintf("; kink allowance up to %.2e, > 1e-2 in %d", w.kink, w.loose)
		}
		t.Logf("%-30s %4d checks, max error %.2e (tolerance there %.2e%s; max error/tolerance %.2f) at %s",
			g, w.checks, w.err, w.tol, kink, w.ratio, w.where)
	}
	t.Logf("kernels %s; Go %.1fs; twin run A %s; run B %s; total %.1fs", nnlib.KernelLevel(), goDone.Seconds(), timeA, timeB, time.Since(start).Seconds())
}

// TestTwinRefineNoise checks the distribution of refinement noise (Go
// only; the twin refines without noise): with v = 0.1 every conv weight and
// bias entry of the ODE blocks is multiplied by 1 + v·z. The implied draws
// z = (θ'/θ − 1)/v must look like independent N(0,1) draws — mean, standard
// deviation and a Kolmogorov-Smirnov distance within strict bounds, no
// correlation between the two children of a piece — and be the documented
// stream's draws in the documented order; everything else must equal the
// noise-free refinement bit for bit.
func TestTwinRefineNoise(t *testing.T) {
	const v = 0.1
	n := twinNet{name: "rk4-classic-K2", scheme: "rk4-classic", k: 2, seed: 31}
	noisy, plain := n.fresh(t), n.fresh(t)
	before := n.fresh(t)
	if err := noisy.Refine(nil, RefineOptions{Noise: v, Rand: rng.New(5, "twin/refine")}); err != nil {
		t.Fatal(err)
	}
	if err := plain.Refine(nil, RefineOptions{}); err != nil {
		t.Fatal(err)
	}
	replay := rng.New(5, "twin/refine")
	var all []float64
	var childA, childB []float64
	for i, p := range noisy.Params.Params() {
		q := plain.Params.Params()[i]
		isNoisy := strings.HasPrefix(p.Name, "block") && strings.Contains(p.Name, ".conv")
		if !isNoisy {
			if !bitEqual(p.Data, q.Data) {
				t.Errorf("%s changed by refinement noise; only ODE-block conv weights and biases may", p.Name)
			}
			continue
		}
		if before.Params.Param(p.Name).Pieces() != n.k || p.Pieces() != 2*n.k {
			t.Fatalf("%s: %d pieces after refining %d", p.Name, p.Pieces(), n.k)
		}
		z := make([]float64, len(p.Data))
		var zs []float64
		for j, x := range p.Data {
			want := replay.NormFloat64()
			if q.Data[j] == 0 {
				t.Fatalf("%s[%d] is 0 before noise: the draw cannot be recovered", p.Name, j)
			}
			z[j] = (float64(x)/float64(q.Data[j]) - 1) / v
			if math.Abs(z[j]-want) > 1e-4*(1+math.Abs(want)) {
				t.Errorf("%s[%d]: implied draw %.6f, the stream's next draw %.6f (order block by block, conv1.weight, conv1.bias, conv2.weight, conv2.bias)",
					p.Name, j, z[j], want)
				break
			}
			zs = append(zs, z[j])
		}
		all = append(all, zs...)
		per := len(z) / p.Pieces()
		for k := 0; k < p.Pieces(); k += 2 {
			childA = append(childA, z[k*per:(k+1)*per]...)
			childB = append(childB, z[(k+1)*per:(k+2)*per]...)
		}
		checkStdNormal(t, p.Name, zs, 5)
	}
	for _, b := range noisy.Params.Buffers() {
		if !bitEqual(b.Data, plain.Params.Buffer(b.Name).Data) {
			t.Errorf("buffer %s changed by refinement noise", b.Name)
		}
	}
	checkStdNormal(t, "all ODE-block convs", all, 4.5)
	// The two children of a piece get independent draws.
	var sab, saa, sbb float64
	for i := range childA {
		sab += childA[i] * childB[i]
		saa += childA[i] * childA[i]
		sbb += childB[i] * childB[i]
	}
	r := sab / math.Sqrt(saa*sbb)
	if lim := 4.5 / math.Sqrt(float64(len(childA))); math.Abs(r) > lim {
		t.Errorf("draws of the two children of a piece correlate: r = %.4f over %d pairs (|r| ≤ %.4f expected)", r, len(childA), lim)
	}
	t.Logf("%d draws: correlation of siblings r = %.4f", len(all), r)
}

// checkStdNormal checks that zs look like N(0,1) draws: the mean within
// s/√n of 0, the standard deviation within s/√(2n) of 1 (s standard errors
// each) and the Kolmogorov-Smirnov distance below 2.2/√n (a level of about
// 1e-4). Fewer than 20 draws are not checked.
func checkStdNormal(t *testing.T, what string, zs []float64, s float64) {
	t.Helper()
	n := float64(len(zs))
	if n < 20 {
		return
	}
	var sum, sq float64
	for _, z := range zs {
		sum += z
	}
	mean := sum / n
	for _, z := range zs {
		sq += (z - mean) * (z - mean)
	}
	sd := math.Sqrt(sq / (n - 1))
	sorted := slices.Clone(zs)
	slices.Sort(sorted)
	var ks float64
	for i, z := range sorted {
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		ks = max(ks, math.Abs(cdf-float64(i)/n), math.Abs(cdf-float64(i+1)/n))
	}
	if lim := s / math.Sqrt(n); math.Abs(mean) > lim {
		t.Errorf("%s: %d implied N(0,1) draws have mean %.4f (|mean| ≤ %.4f expected)", what, len(zs), mean, lim)
	}
	if lim := s / math.Sqrt(2*n); math.Abs(sd-1) > lim {
		t.Errorf("%s: %d implied N(0,1) draws have standard deviation %.4f (1 ± %.4f expected)", what, len(zs), sd, lim)
	}
	if lim := 2.2 / math.Sqrt(n); ks > lim {
		t.Errorf("%s: %d implied draws are %.4f from N(0,1) in Kolmogorov-Smirnov distance (≤ %.4f expected)", what, len(zs), ks, lim)
	}
	if n > 5000 {
		t.Logf("%s: %d draws, mean %.4f, sd %.4f, KS %.4f", what, len(zs), mean, sd, ks)
	}
}
