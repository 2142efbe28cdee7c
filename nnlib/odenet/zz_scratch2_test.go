package odenet

import (
	"testing"

	"github.com/continuousnet/repro/nnlib"
)

func TestScratchInter(t *testing.T) {
	bs := twinBatches(t)
	n := twinNets[0]
	m := n.fresh(t)
	g := nnlib.NewGraph(true)
	x := g.Input(bs[0].x, 3, bs[0].n(), twinHW, twinHW)
	h := m.stemBN.ForwardReLU(g, m.stem.Forward(g, x))
	h0 := m.stem.Forward(g, x)
	h = m.blocks[0].Forward(g, h)
	h1 := h
	h = m.stitches[0].Forward(g, h)
	h = m.blocks[1].Forward(g, h)
	h2 := h
	c := m.stitches[1].conv1.Forward(g, h)
	ts := []twinTensor{{"stemconv", h0.Shape, h0.Data}, {"block0", h1.Shape, h1.Data}, {"block1", h2.Shape, h2.Data}, {"s1c1", c.Shape, c.Data}}
	if err := writeTwin("/tmp/twin/inter.twin", map[string]any{}, ts); err != nil {
		t.Fatal(err)
	}
}
