package nnlib

import (
	"fmt"
	"testing"
	"time"

	"github.com/continuousnet/repro/nnlib/internal/kernels"
	"github.com/continuousnet/repro/nnlib/rng"
)

func TestResNet20Shape(t *testing.T) {
	m := NewResNet20(10, rng.New(1, "init"))
	// 272,474 = the parameter count of torch_reference.py's resnet20()
	// (3×3 stem, 18 3×3 convs, two 1×1+BN projections, 19+2 BNs, 64→10 head).
	if got := m.Params.NumParams(); got != 272474 {
		t.Errorf("ResNet-20 has %d parameters, want 272474", got)
	}
	g := NewGraph(true)
	x := make([]float32, 2*3*32*32)
	r := rng.New(1, "x")
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	logits := m.Forward(g, g.InputNCHW(x, 2, 3, 32, 32))
	if len(logits.Shape) != 2 || logits.Shape[0] != 2 || logits.Shape[1] != 10 {
		t.Fatalf("logits shape %v, want [2 10]", logits.Shape)
	}
}

// BenchmarkResNet20Step times one training step of ResNet-20 at batch 128
// (forward, cross-entropy, backward, SGD with momentum and weight decay) on
// random 3×32×32 inputs, as nnlib/testdata/bench/torch_reference.py does.
func BenchmarkResNet20Step(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			prev := kernels.SetThreads(threads)
			defer kernels.SetThreads(prev)
			const batch = 128
			r := rng.New(0, "bench")
			m := NewResNet20(10, r)
			x := make([]float32, batch*3*32*32)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			y := make([]int, batch)
			for i := range y {
				y[i] = r.IntN(10)
			}
			opt := NewSGD(0.01, 0.9, 5e-4)
			g := NewGraph(true)
			step := func() {
				g.Reset()
				m.Params.ZeroGrad()
				loss := g.SoftmaxCrossEntropy(m.Forward(g, g.InputNCHW(x, batch, 3, 32, 32)), y)
				g.Backward(loss)
				opt.Step(m.Params.Params())
			}
			step() // warm-up: buffers are allocated here
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU()
			for b.Loop() {
				step()
			}
			b.ReportMetric(time.Since(start).Seconds()*1e3/float64(b.N), "ms/step")
			b.ReportMetric((processCPU()-cpu0).Seconds()*1e3/float64(b.N), "cpu-ms/step")
		})
	}
}
