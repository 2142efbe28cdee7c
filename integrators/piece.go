package integrators

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// KnotRule says which piece of a piecewise-constant function of time a
// stage reads when its time falls on a knot (a boundary between pieces).
//
// The function has K pieces on [0, 1): piece k covers [k/K, (k+1)/K). The
// integrator takes Nt uniform steps on [0, 1]; stage i of step n sits at
// t = (n + c_i)/Nt. Its position in piece units is x = (n + c_i)·K/Nt,
// computed exactly from the rational node c_i.
type KnotRule int

const (
	// NextPiece reads piece floor(x), clamped to K−1: a stage exactly on a
	// knot reads the piece that starts there. This is what the authors' runs
	// did: their fork meant to read the step's own piece by subtracting
	// 1e-15 from the stage time, but in float32 that subtraction is a no-op,
	// so e.g. the last RK4 stage (c = 1) of step n with Nt = K read piece
	// n+1. It is the default of the experiment harness, to match the
	// authors' numerics.
	NextPiece KnotRule = iota
	// OwnPiece treats each step as the half-open interval [t_n, t_n + Δt):
	// a stage reads piece floor(x), except that a stage at the end knot of
	// its step (c_i ≥ 1) reads the last piece overlapping the step,
	// ceil((n+1)·K/Nt) − 1. With Nt = K every stage of step n reads piece n.
	// This is what the authors intended (their Figure-1 cartoon).
	OwnPiece
)

// String returns the rule's name as used in specs: "next-piece" or
// "own-piece".
func (r KnotRule) String() string {
	if r >= 0 && int(r) < len(knotRuleNames) {
		return knotRuleNames[r]
	}
	return fmt.Sprintf("knot rule(%d)", int(r))
}

// ParseKnotRule returns the rule named "next-piece" or "own-piece".
func ParseKnotRule(name string) (KnotRule, error) {
	if i := slices.Index(knotRuleNames[:], name); i >= 0 {
		return KnotRule(i), nil
	}
	return 0, fmt.Errorf("integrators: unknown knot rule %q; valid: %s", name, strings.Join(knotRuleNames[:], ", "))
}

// KnotRuleNames returns the valid names of a knot rule, in value order.
func KnotRuleNames() []string { return slices.Clone(knotRuleNames[:]) }

// knotRuleNames names the knot rules, the name of rule r at index r.
var knotRuleNames = [...]string{NextPiece: "next-piece", OwnPiece: "own-piece"}

// Piece returns which of k pieces stage `stage` of step `step` (of nt
// uniform steps on [0, 1]) reads, under the given knot rule. It is computed
// exactly: floor((step + c_stage)·k/nt) with c_stage rational, clamped to
// [0, k−1], and for OwnPiece additionally to the last piece overlapping the
// step. It panics if step ∉ [0, nt), stage ∉ [0, Stages()), nt < 1 or k < 1.
func (t *Tableau) Piece(step, stage, nt, k int, rule KnotRule) int {
	if nt < 1 || k < 1 || step < 0 || step >= nt || stage < 0 || stage >= len(t.c) {
		panic(fmt.Sprintf("integrators: Piece(step=%d, stage=%d, nt=%d, k=%d) out of range for %d-stage tableau %q",
			step, stage, nt, k, len(t.c), t.id))
	}
	c := t.c[stage]
	// x = (step + p/q)·k/nt = (step·q + p)·k / (nt·q).
	num := new(big.Int).Mul(big.NewInt(int64(step)), c.Denom())
	num.Add(num, c.Num())
	num.Mul(num, big.NewInt(int64(k)))
	den := new(big.Int).Mul(big.NewInt(int64(nt)), c.Denom())
	p := floorDiv(num, den)
	switch rule {
	case NextPiece:
	case OwnPiece:
		// last piece overlapping [step, step+1)/nt: ceil((step+1)·k/nt) − 1.
		n1 := big.NewInt(int64(step+1) * int64(k))
		last := ceilDiv(n1, big.NewInt(int64(nt))) - 1
		if p > last {
			p = last
		}
	default:
		panic(fmt.Sprintf("integrators: Piece: unknown knot rule %d", int(rule)))
	}
	if p < 0 {
		p = 0
	}
	if p > int64(k-1) {
		p = int64(k - 1)
	}
	return int(p)
}

func floorDiv(n, d *big.Int) int64 {
	// big.Int.Div is Euclidean; with d > 0 that is floor division.
	return new(big.Int).Div(n, d).Int64()
}

func ceilDiv(n, d *big.Int) int64 {
	q, m := new(big.Int).DivMod(n, d, new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}
