package claims

import (
	"fmt"
	"testing"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/odenet"
	"github.com/continuousnet/repro/nnlib/rng"
)

// quickModel returns the quick profile's model configuration (fixed before its first run):
// α = 16, 3×3 stem, ReLU-before-BN unit, per-piece BN, no SkipInit, ε = 1.
func quickModel(scheme string, k int) odenet.Config {
	p := TrainParams{Dataset: "cifar10", Width: 16, Stem: "3x3", Unit: "conv-relu-bn", BN: "per-piece",
		FinalBN: false, Epsilon: 1, Scheme: scheme, K0: k, KnotRule: integrators.NextPiece.String()}
	return p.ModelConfig()
}

// BenchmarkTrainStep measures one SGD step (batch 128, 32×32 random images)
// of each model of the quick profile; multiply by the steps of a run for
// its training time.
func BenchmarkTrainStep(b *testing.B) {
	for _, m := range []struct {
		scheme string
		k      int
	}{{"euler", 1}, {"rk4-classic", 1}, {"rk4-classic", 2}, {"euler", 4}, {"rk4-classic", 4}} {
		b.Run(fmt.Sprintf("%s-k%d", m.scheme, m.k), func(b *testing.B) {
			net, err := odenet.New(quickModel(m.scheme, m.k), rng.New(1, "init"))
			if err != nil {
				b.Fatal(err)
			}
			const n = 128
			r := rng.New(1, "data")
			x := make([]float32, n*3*32*32)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			labels := make([]int, n)
			for i := range labels {
				labels[i] = r.IntN(10)
			}
			opt := nnlib.NewSGD(0.1, 0.9, 5e-4)
			g := nnlib.NewGraph(true)
			step := func() {
				g.Reset()
				net.Params.ZeroGrad()
				loss := g.SoftmaxCrossEntropy(net.Forward(g, g.Input(x, 3, n, 32, 32)), labels)
				g.Backward(loss)
				opt.Step(net.Params.Params())
			}
			step() // the first step allocates the tape's buffers
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
			b.ReportMetric(float64(net.UnitsPerForward()), "units/step")
		})
	}
}

// BenchmarkEvalBatch measures one eval-mode forward pass of a 128-image
// batch of the quick K = 1 net under a scheme and Nt, the unit of a sweep's
// cost.
func BenchmarkEvalBatch(b *testing.B) {
	for _, m := range []struct {
		scheme string
		nt     int
	}{{"euler", 1}, {"rk4-38", 1}, {"rk4-38", 8}} {
		b.Run(fmt.Sprintf("%s-nt%d", m.scheme, m.nt), func(b *testing.B) {
			net, err := odenet.New(quickModel("rk4-classic", 1), rng.New(1, "init"))
			if err != nil {
				b.Fatal(err)
			}
			net.SetScheme(integrators.MustBuiltin(m.scheme))
			net.SetSteps(m.nt)
			const n = 128
			x := make([]float32, n*3*32*32)
			r := rng.New(1, "data")
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			g := nnlib.NewGraph(false)
			pass := func() {
				g.Reset()
				net.Forward(g, g.Input(x, 3, n, 32, 32))
			}
			pass()
			for b.Loop() {
				pass()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
			b.ReportMetric(float64(net.UnitsPerForward()), "units/batch")
		})
	}
}
