package odenet_test

import (
	"fmt"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/odenet"
	"github.com/continuousnet/repro/nnlib/rng"
)

// Build a ContinuousNet, train it one step with RK4, refine it K → 2K and
// evaluate it under another manifestation.
func Example() {
	cfg := odenet.DefaultConfig()
	cfg.Width, cfg.Pieces = 4, 2
	cfg.Scheme = integrators.MustBuiltin("rk4-classic")
	m, err := odenet.New(cfg, rng.New(1, "init"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("K=%d Nt=%d %s: %d parameters, %d evaluations of R per forward\n",
		m.Pieces(), m.Steps(), m.Scheme().Label(), m.NumParams(), m.UnitsPerForward())

	const n = 4
	images := make([]float32, n*3*32*32) // NCHW
	labels := []int{0, 1, 2, 3}
	opt := nnlib.NewSGD(0.1, 0.9, 5e-4)
	g := nnlib.NewGraph(true)
	m.Params.ZeroGrad()
	loss := g.SoftmaxCrossEntropy(m.Forward(g, g.InputNCHW(images, n, 3, 32, 32)), labels)
	g.Backward(loss)
	opt.Step(m.Params.Params())

	// Refine: every piece copied into two, conv weights perturbed, Nt doubled,
	// optimizer state reset (the default).
	if err := m.Refine(opt, odenet.RefineOptions{Noise: 0.1, Rand: rng.New(1, "refine")}); err != nil {
		panic(err)
	}
	fmt.Printf("refined: K=%d Nt=%d, %d parameters\n", m.Pieces(), m.Steps(), m.NumParams())

	// A new manifestation touches no parameter.
	m.SetScheme(integrators.MustBuiltin("euler"))
	m.SetSteps(2)
	eval := nnlib.NewGraph(false)
	logits := m.Forward(eval, eval.InputNCHW(images, n, 3, 32, 32))
	fmt.Printf("Euler, Nt=2: logits %v, %d evaluations of R per forward\n", logits.Shape, m.UnitsPerForward())
	// Output:
	// K=2 Nt=2 RK4-classic: 17382 parameters, 24 evaluations of R per forward
	// refined: K=4 Nt=4, 29820 parameters
	// Euler, Nt=2: logits [4 10], 6 evaluations of R per forward
}
