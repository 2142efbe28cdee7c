package nnlib

import (
	"fmt"
	"testing"

	"github.com/continuousnet/repro/nnlib/rng"
)

// BenchmarkOps times single ops forward + backward at the shapes of
// ResNet-20's first stage (batch 128, 16×32×32), to see where a step's time
// goes. Metric: ms per forward+backward.
func BenchmarkOps(b *testing.B) {
	const n, c, hw = 128, 16, 32
	r := rng.New(0, "bench-ops")
	s := NewParamSet()
	conv := NewConv2d(s, "conv", 0, c, c, 3, 1, 1, false, r)
	down := NewConv2d(s, "down", 0, c, 2*c, 3, 2, 1, false, r)
	bn := NewBatchNorm2d(s, "bn", 0, c)
	x := make([]float32, c*n*hw*hw)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	ops := []struct {
		name string
		f    func(g *Graph, v *Value) *Value
	}{
		{"conv3x3", func(g *Graph, v *Value) *Value { return conv.Forward(g, v) }},
		{"conv3x3-stride2", func(g *Graph, v *Value) *Value { return down.Forward(g, v) }},
		{"batchnorm-train", func(g *Graph, v *Value) *Value { return bn.Forward(g, v) }},
		{"relu", func(g *Graph, v *Value) *Value { return g.Relu(v) }},
		{"add", func(g *Graph, v *Value) *Value { return g.Add(v, v) }},
	}
	for _, op := range ops {
		b.Run(fmt.Sprintf("%s/%dx%dx%dx%d", op.name, c, n, hw, hw), func(b *testing.B) {
			g := NewGraph(true)
			var dy []float32
			step := func() {
				g.Reset()
				v := g.Input(x, c, n, hw, hw)
				v.SetRequiresGrad(true)
				y := op.f(g, v)
				if dy == nil {
					dy = make([]float32, len(y.Data))
					for i := range dy {
						dy[i] = float32(r.NormFloat64())
					}
				}
				g.BackwardWithGrad(y, dy)
			}
			step()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
		})
	}
}
