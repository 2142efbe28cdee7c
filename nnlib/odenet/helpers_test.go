package odenet

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// tinyConfig is a network small enough for exhaustive tests: α = 2,
// 3 classes, 8×8 images.
func tinyConfig(k int, unit Unit) Config {
	c := DefaultConfig()
	c.Width, c.Classes, c.Pieces, c.Unit = 2, 3, k, unit
	c.Epsilon = 1.5
	return c
}

const tinyN, tinyHW = 2, 8

// newTiny builds a tiny net and moves every parameter and buffer away from
// its (often trivial) initial value, so that SkipInit scalars, biases and
// BatchNorm state all matter.
func newTiny(t testing.TB, cfg Config, seed uint64) *Net {
	t.Helper()
	m, err := New(cfg, rng.New(seed, "init"))
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, rng.New(seed, "randomize"))
	return m
}

func randomize(m *Net, r *rng.Stream) {
	for _, p := range m.Params.Params() {
		for i := range p.Data {
			switch {
			case strings.HasSuffix(p.Name, ".skip"):
				p.Data[i] = float32(0.3 + 0.5*r.Float64())
			case strings.Contains(p.Name, "bn") && strings.HasSuffix(p.Name, ".weight"):
				p.Data[i] = float32(1 + 0.2*r.NormFloat64())
			case strings.HasSuffix(p.Name, ".bias"):
				p.Data[i] = float32(0.1 * r.NormFloat64())
			}
		}
	}
	for _, b := range m.Params.Buffers() {
		for i := range b.Data {
			if strings.HasSuffix(b.Name, "running_var") {
				b.Data[i] = float32(0.5 + r.Float64())
			} else {
				b.Data[i] = float32(0.1 * r.NormFloat64())
			}
		}
	}
}

// tinyBatch returns a channel-major batch [3, tinyN, tinyHW, tinyHW] and labels.
func tinyBatch(seed uint64) ([]float32, []int) {
	r := rng.New(seed, "batch")
	x := make([]float32, 3*tinyN*tinyHW*tinyHW)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]int, tinyN)
	for i := range y {
		y[i] = r.IntN(3)
	}
	return x, y
}

// logits runs one forward pass and returns a copy of the logits.
func logits(m *Net, training bool, x []float32) []float32 {
	g := nnlib.NewGraph(training)
	out := m.Forward(g, g.Input(x, 3, tinyN, tinyHW, tinyHW))
	return append([]float32(nil), out.Data...)
}

func bitEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// snapshot captures parameters and buffers (no optimizer, no streams).
func snapshot(t testing.TB, m *Net) *nnlib.Checkpoint {
	t.Helper()
	c, err := nnlib.Capture(m.Params, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func restore(t testing.TB, m *Net, c *nnlib.Checkpoint) {
	t.Helper()
	if err := c.Restore(m.Params, nil, nil); err != nil {
		t.Fatal(err)
	}
}

var knotRules = []integrators.KnotRule{integrators.NextPiece, integrators.OwnPiece}
