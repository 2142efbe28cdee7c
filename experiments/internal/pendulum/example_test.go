package pendulum_test

import (
	"fmt"

	"github.com/continuousnet/repro/datasets/dynamics"
	"github.com/continuousnet/repro/experiments/internal/pendulum"
)

// The convergence test of the true pendulum field under forward Euler: the
// reference curve of the figure.
func ExampleConvergenceCurve() {
	cfg := pendulum.PaperConfig()
	cfg.Hs = []float64{0.1, 1, 10}
	p := dynamics.PaperPendulum()
	c, err := pendulum.ConvergenceCurve(cfg, pendulum.TrueField, p.Rate, "euler")
	if err != nil {
		panic(err)
	}
	for i, h := range c.H {
		fmt.Printf("h=%-4g nt=%-5d E=%.3g\n", h, c.Nt[i], c.E[i])
	}
	// Output:
	// h=0.1  nt=5000  E=0.00285
	// h=1    nt=500   E=0.0998
	// h=10   nt=50    E=1.99
}
