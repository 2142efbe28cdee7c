package odenet

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/internal/kernels"
	"github.com/continuousnet/repro/nnlib/rng"
)

// benchConfig parses a model name of nnlib/testdata/bench/torch_reference.py,
// "<scheme>-<K>[x<Nt>]", into exactly that script's network: 3×3 stem
// without bias, pre-activation unit with conv bias, per-piece BN,
// stitches, final BN-ReLU, ε = 1, the NextPiece knot rule, and SkipInit
// scalars (blocks and stitches) starting at 0.1 so every path carries
// gradient.
func benchConfig(name string) (Config, error) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return Config{}, fmt.Errorf("model %q: want <scheme>-<K>[x<Nt>]", name)
	}
	tab, err := integrators.Builtin(name[:i])
	if err != nil {
		return Config{}, fmt.Errorf("model %q: %w", name, err)
	}
	ks, nts, _ := strings.Cut(name[i+1:], "x")
	k, err := strconv.Atoi(ks)
	if err != nil {
		return Config{}, fmt.Errorf("model %q: K: %w", name, err)
	}
	nt := k
	if nts != "" {
		if nt, err = strconv.Atoi(nts); err != nil {
			return Config{}, fmt.Errorf("model %q: Nt: %w", name, err)
		}
	}
	c := DefaultConfig()
	c.Pieces, c.Steps, c.Scheme, c.SkipInitValue = k, nt, tab, 0.1
	return c, c.Validate()
}

// BenchmarkContinuousNetStep times one training step (forward,
// cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4) at
// batch 128 on random 3×32×32 inputs, as torch_reference.py does.
func BenchmarkContinuousNetStep(b *testing.B) {
	const batch = 128
	for _, model := range []string{"euler-3", "rk4-classic-1", "rk4-classic-4"} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", model, threads), func(b *testing.B) {
				cfg, err := benchConfig(model)
				if err != nil {
					b.Fatal(err)
				}
				defer kernels.SetThreads(kernels.SetThreads(threads))
				r := rng.New(1, "bench")
				m, err := New(cfg, r)
				if err != nil {
					b.Fatal(err)
				}
				x := make([]float32, batch*3*32*32)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				y := make([]int, batch)
				for i := range y {
					y[i] = r.IntN(cfg.Classes)
				}
				opt := nnlib.NewSGD(0.01, 0.9, 5e-4)
				g := nnlib.NewGraph(true)
				step := func() {
					g.Reset()
					m.Params.ZeroGrad()
					g.Backward(g.SoftmaxCrossEntropy(m.Forward(g, g.InputNCHW(x, batch, 3, 32, 32)), y))
					opt.Step(m.Params.Params())
				}
				step() // sizes the tape's buffers
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for range b.N {
					step()
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/1e3/float64(b.N), "ms/step")
			})
		}
	}
}

func TestBenchConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scheme string
		k, nt  int
		ok     bool
	}{
		{"euler-3", "euler", 3, 3, true},
		{"rk4-classic-4", "rk4-classic", 4, 4, true},
		{"rk4-38-2x5", "rk4-38", 2, 5, true},
		{"euler", "", 0, 0, false},
		{"bogus-3", "", 0, 0, false},
		{"euler-x", "", 0, 0, false},
	} {
		c, err := benchConfig(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if tc.ok && (c.Scheme.ID() != tc.scheme || c.Pieces != tc.k || c.Steps != tc.nt) {
			t.Errorf("%s: %s K=%d Nt=%d", tc.name, c.Scheme.ID(), c.Pieces, c.Steps)
		}
	}
}
