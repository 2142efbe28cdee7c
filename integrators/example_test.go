package integrators_test

import (
	"fmt"
	"math"

	"github.com/continuousnet/repro/integrators"
)

// Integrate the harmonic oscillator x” = −x over one period with the 3/8
// rule and 100 steps.
func Example() {
	tab, err := integrators.Builtin("rk4-38")
	if err != nil {
		panic(err)
	}
	st := integrators.NewStepper(tab, integrators.Float64s{})
	x := []float64{1, 0}
	f := func(step, stage int, t float64, x, dxdt []float64) {
		dxdt[0], dxdt[1] = x[1], -x[0]
	}
	st.Integrate(f, integrators.Grid{T0: 0, T1: 2 * math.Pi, N: 100}, x, nil)
	fmt.Printf("%s: x(2π) = (%.6f, %.6f) after %d evaluations\n", tab.Label(), x[0], x[1], st.Evals)
	// Output: RK4-3/8: x(2π) = (1.000000, 0.000001) after 400 evaluations
}

func ExampleParse() {
	_, err := integrators.Parse("bad-midpoint", "", [][]string{{}, {"1/2"}},
		[]string{"1/2", "1/2"}, []string{"0", "1/2"}, 2)
	fmt.Println(err)
	// Output: integrators: tableau "bad-midpoint": order condition "Σ b_i c_i = 1/2" fails by -1/4 (it is 1/4): the tableau is not of the declared order 2
}

func ExampleTableau_Piece() {
	tab := integrators.MustBuiltin("rk4-classic")
	// K = 2 pieces, Nt = 2 steps: which piece does each stage of step 0 read?
	for _, rule := range []integrators.KnotRule{integrators.NextPiece, integrators.OwnPiece} {
		fmt.Print(rule, ":")
		for i := 0; i < tab.Stages(); i++ {
			fmt.Print(" ", tab.Piece(0, i, 2, 2, rule))
		}
		fmt.Println()
	}
	// Output:
	// next-piece: 0 0 0 1
	// own-piece: 0 0 0 0
}
