package odenet

// The PyTorch twin: testdata/torch_twin.py is an independent PyTorch
// implementation of the ContinuousNet (per-piece nn.BatchNorm2d modules, an
// explicit Runge-Kutta loop over a Butcher tableau, F.cross_entropy,
// torch.optim.SGD), written from the definition of the network rather than
// translated from this package. TestTorchTwin hands it the initial state of
// three nets and a fixed sequence of augmented batches, runs it, and compares
// what both implementations compute: evaluation logits under every
// manifestation, one training step (loss, every gradient, the running
// statistics), 20 SGD steps, a refinement K = 1 → 2 in the middle of
// training, and a step on a short last batch. A second framework catches what
// self-consistency tests cannot: a layer order, BatchNorm semantics, a
// padding, a tableau entry, the knot rule, the optimizer, refinement.

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
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// twinPython is the interpreter that has torch (the PATH python3 may be a
// shim without it).
const twinPython = "/usr/bin/python3"

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
	twinRefineAt = 10 // case 4 refines before this step
	twinLR       = 0.1
	twinMomentum = 0.9
	twinWD       = 5e-4
)

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

// twinTorch returns the interpreter, or skips t when it cannot import torch;
// with CI=true or CNET_REQUIRE_TORCH=1 that is a failure instead.
func twinTorch(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(twinPython, "-c", "import torch, numpy").CombinedOutput()
	if err == nil {
		return twinPython
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	reason := fmt.Sprintf("%s cannot import torch and numpy (%v: %s); install python3-torch", twinPython, err, lines[len(lines)-1])
	if os.Getenv("CI") == "true" || os.Getenv("CNET_REQUIRE_TORCH") == "1" {
		t.Fatalf("%s (CI=true or CNET_REQUIRE_TORCH=1 makes this a failure)", reason)
	}
	t.Skip(reason)
	return ""
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

func readTwin(path string) (map[string]twinTensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 16 || string(b[:8]) != twinMagic {
		return nil, fmt.Errorf("%s: not a twin file", path)
	}
	n := binary.LittleEndian.Uint64(b[8:16])
	if uint64(len(b)-16) < n {
		return nil, fmt.Errorf("%s: truncated header", path)
	}
	var head struct {
		Tensors []twinEntry `json:"tensors"`
	}
	if err := json.Unmarshal(b[16:16+n], &head); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	body := b[16+n:]
	out := map[string]twinTensor{}
	for _, e := range head.Tensors {
		k := shapeLen(e.Shape)
		if (e.Offset+k)*4 > len(body) {
			return nil, fmt.Errorf("%s: tensor %s runs past the end", path, e.Name)
		}
		d := make([]float32, k)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[(e.Offset+i)*4:]))
		}
		out[e.Name] = twinTensor{Name: e.Name, Shape: e.Shape, Data: d}
	}
	return out, nil
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

// twinMetric is how a comparison measures the difference of a tensor.
type twinMetric int

const (
	// relNorm is ‖Go − torch‖ / ‖torch‖.
	relNorm twinMetric = iota
	// maxOverMax is max|Go − torch| / max|torch|.
	maxOverMax
)

// twinCmp is one comparison: what Go computed for the twin output key.
type twinCmp struct {
	net, what, key string
	idx            int // element of the twin tensor to compare (−1: all of it)
	got            []float32
	metric         twinMetric
	tol            float64
	group          string
}

type twinCmps struct{ list []twinCmp }

func (c *twinCmps) add(net, group, what, key string, got []float32, metric twinMetric, tol float64) {
	c.list = append(c.list, twinCmp{net: net, what: what, key: key, idx: -1, got: slices.Clone(got), metric: metric, tol: tol, group: group})
}

// losses adds one comparison per step: 1e-3 for the first five, 1e-2 after.
func (c *twinCmps) losses(net, group, key string, got []float32) {
	for i, l := range got {
		tol, g := 1e-3, group+" loss, steps 1-5"
		if i >= 5 {
			tol, g = 1e-2, group+" loss, steps 6-20"
		}
		c.list = append(c.list, twinCmp{net: net, what: fmt.Sprintf("loss of SGD step %d", i+1), key: key, idx: i,
			got: []float32{l}, metric: relNorm, tol: tol, group: g})
	}
}

// params, grads and buffers add every parameter, gradient or running
// statistic of m.
func (c *twinCmps) params(net, group, what, key string, m *Net, tol float64) {
	for _, p := range m.Params.Params() {
		c.add(net, group+" parameters", p.Name+" "+what, key+"/param/"+p.Name, p.Data, relNorm, tol)
	}
}

func (c *twinCmps) grads(net, group, what, key string, m *Net, tol float64) {
	for _, p := range m.Params.Params() {
		c.add(net, group+" gradients", "gradient of "+p.Name+" "+what, key+"/grad/"+p.Name, p.Grad, relNorm, tol)
	}
}

func (c *twinCmps) buffers(net, group, what, key string, m *Net, tol float64) {
	for _, b := range m.Params.Buffers() {
		c.add(net, group+" running stats", b.Name+" "+what, key+"/buffer/"+b.Name, b.Data, relNorm, tol)
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

// twinGo computes, for net n, everything the script computes, as
// comparisons against the script's output keys.
func twinGo(t *testing.T, n twinNet, bs []twinBatchData, c *twinCmps) {
	pre := "net/" + n.name
	const evalBatch, stepBatch, shortBatch = 0, 0, 20

	// 1. Evaluation-mode logits under every manifestation.
	m := n.fresh(t)
	for _, s := range twinEvalSchemes {
		m.SetScheme(integrators.MustBuiltin(s))
		for _, nt := range twinEvalNts {
			m.SetSteps(nt)
			c.add(n.name, "1 eval logits", fmt.Sprintf("evaluation-mode logits under %s, Nt = %d", s, nt),
				fmt.Sprintf("%s/eval/%s/nt=%d/logits", pre, s, nt), twinEval(m, bs[evalBatch]), maxOverMax, 1e-4)
		}
	}

	// 2. One training-mode step: loss, every gradient, running statistics.
	m = n.fresh(t)
	l := twinStep(m, nil, bs[stepBatch])
	c.add(n.name, "2 step loss", "loss of one training step", pre+"/step/loss", []float32{l}, relNorm, 1e-3)
	c.grads(n.name, "2 step", "in one training step", pre+"/step", m, 1e-3)
	c.buffers(n.name, "2 step", "after one training step", pre+"/step", m, 1e-3)

	// 3. SGD steps.
	m = n.fresh(t)
	opt := nnlib.NewSGD(twinLR, twinMomentum, twinWD)
	var losses []float32
	for i := range twinSteps {
		losses = append(losses, twinStep(m, opt, bs[i]))
	}
	c.losses(n.name, "3 train", pre+"/train/loss", losses)
	what := fmt.Sprintf("after %d SGD steps", twinSteps)
	c.params(n.name, "3 train", what, pre+"/train", m, 1e-2)
	c.buffers(n.name, "3 train", what, pre+"/train", m, 1e-2)

	// 4. Refinement K → 2K before step twinRefineAt (noise 0, SGD re-created
	// at the same learning rate, as the quick profile does).
	if n.refine {
		m = n.fresh(t)
		opt = nnlib.NewSGD(twinLR, twinMomentum, twinWD)
		losses = losses[:0]
		for i := range twinSteps {
			if i == twinRefineAt {
				if err := m.Refine(opt, RefineOptions{}); err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("right after refinement K = %d → %d before step %d", n.k, 2*n.k, i+1)
				c.params(n.name, "4 refine (refined)", what, pre+"/refine/after", m, 1e-2)
				c.buffers(n.name, "4 refine (refined)", what, pre+"/refine/after", m, 1e-2)
			}
			losses = append(losses, twinStep(m, opt, bs[i]))
		}
		c.losses(n.name, "4 refine", pre+"/refine/loss", losses)
		what := fmt.Sprintf("after %d SGD steps with a refinement before step %d", twinSteps, twinRefineAt+1)
		c.params(n.name, "4 refine", what, pre+"/refine", m, 1e-2)
		c.buffers(n.name, "4 refine", what, pre+"/refine", m, 1e-2)
	}

	// 5. One step on the short last batch (8 images), then evaluation logits.
	m = n.fresh(t)
	opt = nnlib.NewSGD(twinLR, twinMomentum, twinWD)
	l = twinStep(m, opt, bs[shortBatch])
	c.add(n.name, "5 short loss", "loss of a step on the 8-image batch", pre+"/short/loss", []float32{l}, relNorm, 1e-3)
	c.grads(n.name, "5 short", "in a step on the 8-image batch", pre+"/short", m, 1e-3)
	c.params(n.name, "5 short", "after a step on the 8-image batch", pre+"/short", m, 1e-3)
	c.buffers(n.name, "5 short", "after a step on the 8-image batch", pre+"/short", m, 1e-3)
	c.add(n.name, "5 short logits", "evaluation-mode logits after a step on the 8-image batch", pre+"/short/logits",
		twinEval(m, bs[evalBatch]), maxOverMax, 1e-4)
}

// twinError returns the comparison's error against the twin's tensor ref.
func twinError(c twinCmp, ref []float32) float64 {
	if c.idx >= 0 {
		ref = ref[c.idx : c.idx+1]
	}
	var num, den, maxd, maxr float64
	for i, r := range ref {
		d := float64(c.got[i]) - float64(r)
		num += d * d
		den += float64(r) * float64(r)
		maxd = max(maxd, math.Abs(d))
		maxr = max(maxr, math.Abs(float64(r)))
	}
	if c.metric == maxOverMax {
		if maxr == 0 {
			return maxd
		}
		return maxd / maxr
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// twinInput returns the script's input: the configuration, the batches and
// every net's initial parameters and running statistics.
func twinInput(t *testing.T, bs []twinBatchData) (map[string]any, []twinTensor) {
	var ts []twinTensor
	for i, b := range bs {
		ys := make([]float32, b.n())
		for j, y := range b.y {
			ys[j] = float32(y)
		}
		ts = append(ts, twinTensor{fmt.Sprintf("batch/%d/x", i), []int{3, b.n(), twinHW, twinHW}, b.x},
			twinTensor{fmt.Sprintf("batch/%d/y", i), []int{b.n()}, ys})
	}
	type netMeta struct {
		Name   string `json:"name"`
		Scheme string `json:"scheme"`
		K      int    `json:"k"`
		Steps  int    `json:"steps"`
		Refine bool   `json:"refine"`
	}
	var nets []netMeta
	for _, n := range twinNets {
		m := n.fresh(t)
		for _, p := range m.Params.Params() {
			ts = append(ts, twinTensor{"net/" + n.name + "/init/" + p.Name, p.Shape, p.Data})
		}
		for _, b := range m.Params.Buffers() {
			ts = append(ts, twinTensor{"net/" + n.name + "/init/" + b.Name, b.Shape, b.Data})
		}
		nets = append(nets, netMeta{Name: n.name, Scheme: n.scheme, K: n.k, Steps: m.Steps(), Refine: n.refine})
	}
	cfg := twinNets[0].config()
	trainBatches := make([]int, twinSteps)
	for i := range trainBatches {
		trainBatches[i] = i
	}
	meta := map[string]any{
		"model": map[string]any{
			"width": cfg.Width, "classes": cfg.Classes, "in_channels": cfg.InChannels, "unit": cfg.Unit.String(),
			"stem": cfg.Stem.String(), "skip_init": cfg.SkipInit, "final_bn": cfg.FinalBN, "epsilon": cfg.Epsilon,
			"knot_rule": cfg.KnotRule.String(), "basis": cfg.Basis.String(), "bn_momentum": 0.1, "bn_eps": 1e-5,
		},
		"nets":    nets,
		"batches": len(bs),
		"eval":    map[string]any{"batch": 0, "schemes": twinEvalSchemes, "nts": twinEvalNts},
		"step":    map[string]any{"batch": 0},
		"sgd":     map[string]any{"lr": twinLR, "momentum": twinMomentum, "weight_decay": twinWD},
		"train":   map[string]any{"batches": trainBatches},
		"refine":  map[string]any{"batches": trainBatches, "at": twinRefineAt},
		"short":   map[string]any{"batch": 20},
	}
	return meta, ts
}

// TestTorchTwin compares the ContinuousNet with its PyTorch twin,
// testdata/torch_twin.py (see the top of this file), for the quick
// profile's Euler K = 1, RK4-classic K = 1 and RK4-classic K = 4 nets at
// width 4 on batches of 16 synthetic 32×32 images:
//
//  1. evaluation-mode logits of the same weights and running statistics
//     under euler, midpoint, rk4-classic and rk4-38 at Nt = 1, 2, 3, 4, 8:
//     max|Δ| ≤ 1e-4·max|logit|;
//  2. the loss and every gradient of one training-mode step, and the
//     running statistics after it: ‖Δ‖/‖ref‖ ≤ 1e-3 per tensor;
//  3. 20 SGD steps (lr 0.1, momentum 0.9, weight decay 5e-4): each loss
//     within 1e-3 relative for the first 5 steps and 1e-2 up to step 20;
//     every parameter and running statistic after them within 1e-2;
//  4. the same steps with a refinement K = 1 → 2 (noise 0, SGD re-created)
//     before step 11: the refined state, the losses and the final state;
//  5. one step on the 8-image last batch: loss, gradients, parameters and
//     running statistics (1e-3), then evaluation logits (1e-4·max|logit|).
//
// It skips when /usr/bin/python3 cannot import torch, and fails then
// instead when CI=true or CNET_REQUIRE_TORCH=1.
func TestTorchTwin(t *testing.T) {
	py := twinTorch(t)
	start := time.Now()
	bs := twinBatches(t)

	meta, ts := twinInput(t, bs)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.twin"), filepath.Join(dir, "out.twin")
	if err := writeTwin(in, meta, ts); err != nil {
		t.Fatal(err)
	}

	// The twin runs while Go computes its side.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "torch_twin.py"), in, out)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the twin: %v", err)
	}
	var cmps twinCmps
	for _, n := range twinNets {
		twinGo(t, n, bs, &cmps)
	}
	goDone := time.Since(start)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the twin failed: %v\n%s", err, stderr.String())
	}
	ref, err := readTwin(out)
	if err != nil {
		t.Fatal(err)
	}

	type worst struct {
		err    float64
		where  string
		tol    float64
		checks int
	}
	groups := map[string]*worst{}
	for _, c := range cmps.list {
		r, ok := ref[c.key]
		if !ok {
			t.Errorf("%s: %s: the twin has no tensor %s", c.net, c.what, c.key)
			continue
		}
		want := len(r.Data)
		if c.idx >= 0 {
			want = 1
		}
		if len(c.got) != want {
			t.Errorf("%s: %s: Go has %d values, the twin %d (%s, shape %v)", c.net, c.what, len(c.got), want, c.key, r.Shape)
			continue
		}
		e := twinError(c, r.Data)
		w := groups[c.group]
		if w == nil {
			w = &worst{err: -1}
			groups[c.group] = w
		}
		w.checks++
		if e > w.err || math.IsNaN(e) {
			w.err, w.where, w.tol = e, c.net+": "+c.what, c.tol
		}
		if !(e <= c.tol) {
			m := "‖Δ‖/‖ref‖"
			if c.metric == maxOverMax {
				m = "max|Δ|/max|ref|"
			}
			t.Errorf("%s: %s: %s = %.3g exceeds %.0e", c.net, c.what, m, e, c.tol)
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		w := groups[g]
		t.Logf("%-34s %4d checks, max error %.2e (tolerance %.0e) at %s", g, w.checks, w.err, w.tol, w.where)
	}
	t.Logf("Go side %.1fs, total %.1fs", goDone.Seconds(), time.Since(start).Seconds())
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
