package integrators

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"
)

// fitSlope returns the least-squares slope of log(y) against log(x).
func fitSlope(x, y []float64) float64 {
	var sx, sy, sxx, sxy float64
	n := float64(len(x))
	for i := range x {
		lx, ly := math.Log(x[i]), math.Log(y[i])
		sx += lx
		sy += ly
		sxx += lx * lx
		sxy += lx * ly
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// TestConvergenceOrder fits the empirical order of every built-in on
// y' = −2t·y², y(0) = 1, whose solution is 1/(1+t²): nonlinear and
// non-autonomous, so every order condition (including those on c) matters.
func TestConvergenceOrder(t *testing.T) {
	f := func(_, _ int, tt float64, x, dxdt []float64) { dxdt[0] = -2 * tt * x[0] * x[0] }
	const t1 = 2.0
	exact := 1 / (1 + t1*t1)
	for _, id := range BuiltinIDs() {
		t.Run(id, func(t *testing.T) {
			tab := MustBuiltin(id)
			var hs, errs []float64
			for _, n := range []int{20, 40, 80, 160} {
				st := NewStepper(tab, Float64s{})
				x := []float64{1}
				st.Integrate(f, Grid{T0: 0, T1: t1, N: n}, x, nil)
				hs = append(hs, t1/float64(n))
				errs = append(errs, math.Abs(x[0]-exact))
			}
			p := fitSlope(hs, errs)
			if math.Abs(p-float64(tab.Order())) > 0.2 {
				t.Errorf("%s: empirical order %.3f, declared %d (errors %v)", id, p, tab.Order(), errs)
			}
		})
	}
}

// TestStepCounts checks, for every Nt from 1 to 1000 and every built-in,
// that exactly Nt steps are taken (Nt·stages evaluations), that grid times
// are t0 + k·h from the integer k, and that the last time is t1 exactly.
func TestStepCounts(t *testing.T) {
	for _, id := range BuiltinIDs() {
		tab := MustBuiltin(id)
		for nt := 1; nt <= 1000; nt++ {
			st := NewStepper(tab, Float64s{})
			x := []float64{0}
			steps := 0
			lastT := math.NaN()
			g := Grid{T0: 0, T1: 1, N: nt}
			st.Integrate(func(step, stage int, tt float64, _, dxdt []float64) {
				want := float64(step)/float64(nt) + tab.C(stage)/float64(nt)
				if math.Abs(tt-want) > 1e-14 {
					t.Fatalf("%s nt=%d: step %d stage %d at t=%v, want %v", id, nt, step, stage, tt, want)
				}
				dxdt[0] = 1
			}, g, x, func(k int, tt float64, _ []float64) {
				if k != steps {
					t.Fatalf("%s nt=%d: observed point %d, want %d", id, nt, k, steps)
				}
				steps++
				lastT = tt
			})
			if steps != nt+1 || st.Evals != int64(nt*tab.Stages()) || lastT != 1 {
				t.Fatalf("%s nt=%d: %d points, %d evals, last t=%v; want %d, %d, 1", id, nt, steps, st.Evals, lastT, nt+1, nt*tab.Stages())
			}
			if math.Abs(x[0]-1) > 1e-12 {
				t.Fatalf("%s nt=%d: ∫1 dt = %v, want 1", id, nt, x[0])
			}
		}
	}
}

func TestExactOnLinear(t *testing.T) {
	// For y' = y every s-stage method of order s = p ≤ 4 reproduces the
	// Taylor polynomial of e^h of degree p.
	for _, id := range BuiltinIDs() {
		tab := MustBuiltin(id)
		const h = 0.1
		x := []float64{1}
		NewStepper(tab, Float64s{}).Step(func(_, _ int, _ float64, x, d []float64) { d[0] = x[0] }, 0, 0, h, x)
		want, term := 0.0, 1.0
		for k := 0; k <= tab.Order(); k++ {
			want += term
			term *= h / float64(k+1)
		}
		if math.Abs(x[0]-want) > 1e-15 {
			t.Errorf("%s: one step of y'=y gives %.17g, want %.17g", id, x[0], want)
		}
	}
}

func TestBuiltinAlias(t *testing.T) {
	tab, err := Builtin("rk4")
	if err != nil || tab.ID() != "rk4-38" || tab.Label() != "RK4-3/8" {
		t.Fatalf("Builtin(rk4) = %v, %v; want rk4-38", tab, err)
	}
	_, err = Builtin("rk45")
	if err == nil || !strings.Contains(err.Error(), "rk4-classic") {
		t.Fatalf("Builtin(rk45) error %v should list the valid ids", err)
	}
	ids := BuiltinIDs()
	want := []string{"euler", "heun", "kutta3", "midpoint", "rk4-38", "rk4-classic", "ssprk3"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("BuiltinIDs() = %v, want %v", ids, want)
	}
}

func TestSpecRoundTrip(t *testing.T) {
	for _, id := range BuiltinIDs() {
		tab := MustBuiltin(id)
		back, err := tab.Spec().Tableau()
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for i := 0; i < tab.Stages(); i++ {
			if back.CRat(i).Cmp(tab.CRat(i)) != 0 || back.BRat(i).Cmp(tab.BRat(i)) != 0 {
				t.Fatalf("%s: round trip changed stage %d", id, i)
			}
			for j := 0; j < tab.Stages(); j++ {
				if back.ARat(i, j).Cmp(tab.ARat(i, j)) != 0 {
					t.Fatalf("%s: round trip changed a[%d][%d]", id, i, j)
				}
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	rk38a := [][]string{{}, {"1/3"}, {"-1/3", "1"}, {"1", "-1", "1"}}
	cases := []struct {
		name  string
		a     [][]string
		b, c  []string
		order int
		want  string
	}{
		{"row sum", [][]string{{}, {"1/3"}}, []string{"0", "1"}, []string{"0", "1/2"}, 1, "row 2 of A sums to 1/3, not c[2] = 1/2"},
		{"b sum", [][]string{{}, {"1/2"}}, []string{"1/2", "1"}, []string{"0", "1/2"}, 1, "b sums to 3/2, not 1"},
		{"order 2", [][]string{{}, {"1/2"}}, []string{"1/2", "1/2"}, []string{"0", "1/2"}, 2, `order condition "Σ b_i c_i = 1/2" fails by -1/4`},
		{"order 3", [][]string{{}, {"1/2"}}, []string{"0", "1"}, []string{"0", "1/2"}, 3, `order condition "Σ b_i c_i² = 1/3" fails by -1/12`},
		{"order 4", [][]string{{}, {"1/2"}, {"-1", "2"}}, []string{"1/6", "2/3", "1/6"}, []string{"0", "1/2", "1"}, 4, `"Σ b_i c_i a_ij c_j = 1/8" fails by 1/24`},
		{"order 4 tree", rk38a, []string{"1/8", "3/8", "3/8", "1/8"}, []string{"0", "1/3", "2/3", "1"}, 5, "declared order 5 is outside 1..4"},
		{"implicit", [][]string{{"1/2", "0"}, {"1/2", "0"}}, []string{"1/2", "1/2"}, []string{"1/2", "1/2"}, 1, "A is not strictly lower triangular: a[1][1] = 1/2"},
		{"shape c", [][]string{{}, {"1"}}, []string{"1/2", "1/2"}, []string{"0"}, 1, "c has 1 entries but b has 2"},
		{"shape A", [][]string{{}}, []string{"1/2", "1/2"}, []string{"0", "1"}, 1, "A has 1 rows but b has 2"},
		{"row len", [][]string{{}, {"1", "0", "0"}}, []string{"1/2", "1/2"}, []string{"0", "1"}, 1, "row 2 of A has 3 entries"},
		{"not a number", [][]string{{}, {"one"}}, []string{"1/2", "1/2"}, []string{"0", "1"}, 1, `a[2][1] = "one" is not a number`},
		{"empty", nil, nil, nil, 1, "b is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad", "", tc.a, tc.b, tc.c, tc.order)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// A full square row form and decimals are accepted.
	tab, err := Parse("heun2", "Heun", [][]string{{"0", "0"}, {"1.0", "0"}}, []string{"0.5", "1/2"}, []string{"0", "1"}, 2)
	if err != nil || tab.Stages() != 2 || tab.CRat(1).Cmp(big.NewRat(1, 1)) != 0 {
		t.Fatalf("Parse(full rows) = %v, %v", tab, err)
	}
}

// TestOrderConditionFourthTree perturbs rk4-38 (a41, a42 changed so the row
// still sums to c4): the first three orders still hold, an order-4 tree
// condition does not.
func TestOrderConditionFourthTree(t *testing.T) {
	_, err := Parse("x", "", [][]string{{}, {"1/3"}, {"-1/3", "1"}, {"1/2", "-1/2", "1"}},
		[]string{"1/8", "3/8", "3/8", "1/8"}, []string{"0", "1/3", "2/3", "1"}, 4)
	if err == nil || !strings.Contains(err.Error(), "order condition") {
		t.Fatalf("perturbed rk4-38 accepted: %v", err)
	}
}

func TestPiece(t *testing.T) {
	rk4 := MustBuiltin("rk4-classic")
	rk38 := MustBuiltin("rk4-38")
	cases := []struct {
		tab                *Tableau
		step, stage, nt, k int
		rule               KnotRule
		want               int
	}{
		// Nt = K: the c = 1 stage reads the next piece (authors) or its own.
		{rk4, 0, 3, 4, 4, NextPiece, 1},
		{rk4, 0, 3, 4, 4, OwnPiece, 0},
		{rk4, 3, 3, 4, 4, NextPiece, 3}, // clamped at the end
		{rk4, 3, 3, 4, 4, OwnPiece, 3},
		{rk4, 1, 1, 4, 4, NextPiece, 1},
		// Nt = 2K: the c = 1 stage of step 1 lands on knot t = 2/8 = 1/K.
		{rk4, 1, 3, 8, 4, NextPiece, 1}, // t = 2/8 → x = 1
		{rk4, 1, 3, 8, 4, OwnPiece, 0},
		// Thirds are exact: (1 + 2/3)·3/5 = 1 → piece 1.
		{rk38, 1, 2, 5, 3, NextPiece, 1},
		{rk38, 1, 2, 5, 3, OwnPiece, 1},
		// Nt < K (coarsening): step 0 of 1 covers all 4 pieces.
		{rk4, 0, 1, 1, 4, NextPiece, 2},
		{rk4, 0, 3, 1, 4, OwnPiece, 3},
	}
	for _, tc := range cases {
		got := tc.tab.Piece(tc.step, tc.stage, tc.nt, tc.k, tc.rule)
		if got != tc.want {
			t.Errorf("%s.Piece(step=%d, stage=%d, nt=%d, k=%d, %v) = %d, want %d", tc.tab.ID(), tc.step, tc.stage, tc.nt, tc.k, tc.rule, got, tc.want)
		}
	}
	// Against a float reference away from knots, for many (nt, k).
	for nt := 1; nt <= 40; nt++ {
		for k := 1; k <= 12; k++ {
			for step := 0; step < nt; step++ {
				for i := 0; i < rk38.Stages(); i++ {
					x := (float64(step) + rk38.C(i)) * float64(k) / float64(nt)
					next := min(int(math.Floor(x+1e-9)), k-1)
					if got := rk38.Piece(step, i, nt, k, NextPiece); got != next {
						t.Fatalf("Piece(%d,%d,%d,%d,next) = %d, want %d", step, i, nt, k, got, next)
					}
					own := rk38.Piece(step, i, nt, k, OwnPiece)
					lo := float64(step) * float64(k) / float64(nt)
					if own > next || float64(own+1) <= lo-1e-9 {
						t.Fatalf("Piece(%d,%d,%d,%d,own) = %d outside the step (next %d)", step, i, nt, k, own, next)
					}
				}
			}
		}
	}
}

func TestParseKnotRule(t *testing.T) {
	for _, r := range []KnotRule{NextPiece, OwnPiece} {
		got, err := ParseKnotRule(r.String())
		if err != nil || got != r {
			t.Fatalf("ParseKnotRule(%q) = %v, %v", r.String(), got, err)
		}
	}
	if _, err := ParseKnotRule("next"); err == nil || !strings.Contains(err.Error(), "valid: next-piece, own-piece") {
		t.Fatalf("ParseKnotRule(next): %v; want an error listing the valid names", err)
	}
	if got := KnotRule(7).String(); got != "knot rule(7)" {
		t.Errorf("KnotRule(7).String() = %q", got)
	}
	if got := KnotRuleNames(); !slices.Equal(got, []string{"next-piece", "own-piece"}) {
		t.Errorf("KnotRuleNames() = %v", got)
	}
}
