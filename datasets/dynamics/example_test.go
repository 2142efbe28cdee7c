package dynamics_test

import (
	"fmt"

	"github.com/continuousnet/repro/datasets/dynamics"
)

func ExamplePendulum_Exact() {
	p := dynamics.PaperPendulum()
	ts := dynamics.Linspace(0, 10, 1000)
	x := p.Trajectory(ts)
	fmt.Printf("Δt = %.6f, x(0) = (%.4f, %.4f), period %.4f\n", ts[1], x[0][0], x[0][1], p.Period())
	// Output: Δt = 0.010010, x(0) = (2.3562, 0.0000), period 3.0652
}
