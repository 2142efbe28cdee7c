package odenet

import (
	"fmt"
	"os"
	"testing"

	"github.com/continuousnet/repro/nnlib"
)

// scratch: dump the twin input and Go's step-case gradients.
func TestScratchDump(t *testing.T) {
	os.MkdirAll("/tmp/twin", 0o755)
	bs := twinBatches(t)
	var ts []twinTensor
	for _, b := range bs[:1] {
		ys := make([]float32, b.n())
		for j, y := range b.y {
			ys[j] = float32(y)
		}
		ts = append(ts, twinTensor{"x", []int{3, b.n(), twinHW, twinHW}, b.x}, twinTensor{"y", []int{b.n()}, ys})
	}
	for _, n := range twinNets {
		m := n.fresh(t)
		for _, p := range m.Params.Params() {
			ts = append(ts, twinTensor{n.name + "/init/" + p.Name, p.Shape, append([]float32(nil), p.Data...)})
		}
		for _, b := range m.Params.Buffers() {
			ts = append(ts, twinTensor{n.name + "/init/" + b.Name, b.Shape, append([]float32(nil), b.Data...)})
		}
		for _, th := range []int{1, 2} {
			old := nnlib.SetThreads(th)
			m := n.fresh(t)
			l := twinStep(m, nil, bs[0])
			nnlib.SetThreads(old)
			ts = append(ts, twinTensor{fmt.Sprintf("%s/th%d/loss", n.name, th), []int{1}, []float32{l}})
			for _, p := range m.Params.Params() {
				ts = append(ts, twinTensor{fmt.Sprintf("%s/th%d/grad/%s", n.name, th, p.Name), p.Shape, p.Grad})
			}
		}
	}
	if err := writeTwin("/tmp/twin/dump.twin", map[string]any{}, ts); err != nil {
		t.Fatal(err)
	}
}
