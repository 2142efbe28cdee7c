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
		if op.name == "conv3x3" {
			continue // BenchmarkConv3x3 covers it on every stage's shape
		}
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
			benchSteps(b, step)
		})
	}
}

// benchSteps runs step once untimed (the tape's buffers are then
// allocated), then b.N times, and reports ms per step.
func benchSteps(b *testing.B, step func()) {
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
}

// BenchmarkConv3x3 times a stride-1 3×3 convolution forward + backward at
// the shapes of the three stages of ResNet-20 and the ContinuousNets (batch
// 128), on the Winograd and on the im2col path. Metric: ms per
// forward+backward.
func BenchmarkConv3x3(b *testing.B) {
	const n = 128
	for _, sh := range []struct{ c, hw int }{{16, 32}, {32, 16}, {64, 8}} {
		r := rng.New(0, "bench-conv")
		s := NewParamSet()
		conv := NewConv2d(s, "conv", 0, sh.c, sh.c, 3, 1, 1, false, r)
		x := make([]float32, sh.c*n*sh.hw*sh.hw)
		dy := make([]float32, len(x))
		for i := range x {
			x[i], dy[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		for _, wino := range []bool{true, false} {
			prev := SetWinograd(wino)
			b.Run(fmt.Sprintf("%dx%dx%dx%d/%s", sh.c, n, sh.hw, sh.hw, ConvAlgorithm()), func(b *testing.B) {
				g := NewGraph(true)
				step := func() {
					g.Reset()
					v := g.Input(x, sh.c, n, sh.hw, sh.hw)
					v.SetRequiresGrad(true)
					g.BackwardWithGrad(conv.Forward(g, v), dy)
				}
				benchSteps(b, step)
			})
			SetWinograd(prev)
		}
	}
}
