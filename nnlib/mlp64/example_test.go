package mlp64_test

import (
	"fmt"

	"github.com/continuousnet/repro/nnlib/mlp64"
	"github.com/continuousnet/repro/nnlib/rng"
)

// Fit f(x) to a constant target with MSE and Adam.
func Example() {
	m := mlp64.New(2, 50, 2, mlp64.XavierNormal, rng.New(0, "example"))
	opt := mlp64.NewAdam(len(m.P), 1e-2)
	x := []float64{0.5, -0.5, 1, 2}
	target := []float64{1, 0, 1, 0}
	y, dy, grad := make([]float64, 4), make([]float64, 4), make([]float64, len(m.P))
	var c mlp64.Cache
	var loss float64
	for it := 0; it < 500; it++ {
		m.Forward(x, 2, y, &c)
		loss = mlp64.MSE(y, target, dy)
		clear(grad)
		m.Backward(&c, dy, nil, grad)
		opt.Step(m.P, grad)
	}
	fmt.Printf("loss after 500 steps < 1e-4: %v\n", loss < 1e-4)
	// Output: loss after 500 steps < 1e-4: true
}
