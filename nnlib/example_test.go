package nnlib_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// A training step: build the forward pass on a Graph, backpropagate the
// loss, update the parameters. The graph's buffers are reused by the next
// step.
func Example() {
	init := rng.New(1, "init")
	set := nnlib.NewParamSet()
	conv := nnlib.NewConv2d(set, "conv", 0, 3, 4, 3, 1, 1, true, init)
	bn := nnlib.NewBatchNorm2d(set, "bn", 0, 4)
	fc := nnlib.NewLinear(set, "fc", 4, 2, true, init)
	opt := nnlib.NewSGD(0.1, 0.9, 5e-4)

	// two 3×4×4 images in NCHW order
	x := make([]float32, 2*3*4*4)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	labels := []int{0, 1}

	g := nnlib.NewGraph(true)
	for range 3 {
		g.Reset()
		set.ZeroGrad()
		h := g.Relu(bn.Forward(g, conv.Forward(g, g.InputNCHW(x, 2, 3, 4, 4))))
		loss := g.SoftmaxCrossEntropy(fc.Forward(g, g.GlobalAvgPool(h)), labels)
		g.Backward(loss)
		opt.Step(set.Params())
	}
	fmt.Println(set.NumParams(), "parameters")
	// Output: 130 parameters
}

// A per-piece parameter: a [K][Cout][Cin][3][3] conv weight used one piece at
// a time, twice in one pass. Gradients of both uses add up in the piece.
func ExampleParam_Piece() {
	set := nnlib.NewParamSet()
	w := set.NewParam("ode.conv.weight", 2, 1, 1, 3, 3) // K = 2 pieces
	nnlib.InitConst(w, 0.1)
	g := nnlib.NewGraph(true)
	x := g.Input([]float32{1, 2, 3, 4}, 1, 1, 2, 2) // [C N H W]
	k1 := g.Conv2d(x, w.Piece(1), nnlib.ParamRef{}, 1, 1)
	k2 := g.Conv2d(g.LinComb([]*nnlib.Value{x, k1}, []float32{1, 0.5}), w.Piece(1), nnlib.ParamRef{}, 1, 1)
	y := g.LinComb([]*nnlib.Value{x, k1, k2}, []float32{1, 0.5, 0.5})
	g.BackwardWithGrad(y, []float32{1, 1, 1, 1})
	fmt.Printf("piece 0 grad %.1f, piece 1 grad %.3f\n", w.Piece(0).Grad()[4], w.Piece(1).Grad()[4])
	// Output: piece 0 grad 0.0, piece 1 grad 12.000
}

// Saving and restoring everything a resumed run needs.
func ExampleSaveCheckpoint() {
	set := nnlib.NewParamSet()
	nnlib.InitConst(set.NewParam("w", 3), 0.5)
	opt := nnlib.NewSGD(0.1, 0.9, 0)
	data := rng.New(7, "data")
	dir, _ := os.MkdirTemp("", "ckpt")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.ckpt")
	if err := nnlib.SaveCheckpoint(path, set, opt, []*rng.Stream{data}, map[string]string{"epoch": "12"}); err != nil {
		fmt.Println(err)
		return
	}
	meta, err := nnlib.LoadCheckpoint(path, set, opt, []*rng.Stream{data})
	fmt.Println(meta["epoch"], err)
	// Output: 12 <nil>
}

// The CIFAR learning-rate schedule: ×0.1 after epochs 80, 120 and 140.
func ExampleMultiStep() {
	s := nnlib.MultiStep(0.1, 0.1, 80, 120, 140)
	fmt.Printf("%.3g %.3g %.3g\n", s.LR(80), s.LR(81), s.LR(149))
	// Output: 0.1 0.01 0.0001
}

// Fused ops: BatchNorm followed by ReLU, and a residual sum followed by
// ReLU, each as one op. They give the same numbers as the separate ops and
// save a pass over memory in each direction.
func ExampleGraph_BatchNormReLU() {
	set := nnlib.NewParamSet()
	bn := nnlib.NewBatchNorm2d(set, "bn", 0, 1)
	g := nnlib.NewGraph(true)
	x := g.Input([]float32{1, 2, 3, 4}, 1, 1, 2, 2) // [C N H W]
	h := bn.ForwardReLU(g, x)                       // = g.Relu(bn.Forward(g, x))
	y := g.AddReLU(h, x)                            // = g.Relu(g.Add(h, x))
	fmt.Printf("%.2f\n%.2f\n", h.Data, y.Data)
	// Output:
	// [0.00 0.00 0.45 1.34]
	// [1.00 2.00 3.45 5.34]
}
