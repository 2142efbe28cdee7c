package integrators

import (
	"fmt"
	"math/big"
	"strings"
)

// MaxOrder is the highest order whose conditions a Tableau checks. Order 4
// has 8 conditions on (A, b, c); higher orders are not supported.
const MaxOrder = 4

// Tableau is an explicit Runge-Kutta method as a Butcher tableau:
//
//	c | A
//	--+---
//	  | bᵀ
//
// One step of size h from (t, x) computes, for stages i = 0..s-1,
// k_i = f(t + c_i·h, x + h·Σ_{j<i} a_ij·k_j), and returns x + h·Σ_i b_i·k_i.
//
// A Tableau is immutable and valid once built by [Builtin], [Parse] or
// [Spec.Tableau]: coefficients are held exactly as rationals, with float64
// copies for computing. The zero value is not usable.
type Tableau struct {
	id, label string
	order     int

	a    [][]*big.Rat
	b, c []*big.Rat

	af     [][]float64
	bf, cf []float64
	// rowZero[i] is true when row i of A is all zero: the stage reads the
	// step's start state unchanged.
	rowZero []bool
}

// ID returns the tableau's identifier (lower case, no slash, safe in file
// names), e.g. "rk4-38".
func (t *Tableau) ID() string { return t.id }

// Label returns the human-readable name used in tables and figures, e.g.
// "RK4-3/8".
func (t *Tableau) Label() string { return t.label }

// Order returns the declared (and verified) order of accuracy.
func (t *Tableau) Order() int { return t.order }

// Stages returns the number of stages s, i.e. rate evaluations per step.
func (t *Tableau) Stages() int { return len(t.b) }

// A returns the float64 coefficient a_ij.
func (t *Tableau) A(i, j int) float64 { return t.af[i][j] }

// B returns the float64 weight b_i.
func (t *Tableau) B(i int) float64 { return t.bf[i] }

// C returns the float64 node c_i.
func (t *Tableau) C(i int) float64 { return t.cf[i] }

// ARat returns a copy of the exact coefficient a_ij.
func (t *Tableau) ARat(i, j int) *big.Rat { return new(big.Rat).Set(t.a[i][j]) }

// BRat returns a copy of the exact weight b_i.
func (t *Tableau) BRat(i int) *big.Rat { return new(big.Rat).Set(t.b[i]) }

// CRat returns a copy of the exact node c_i.
func (t *Tableau) CRat(i int) *big.Rat { return new(big.Rat).Set(t.c[i]) }

// Spec returns the tableau as data, with every coefficient written as an
// exact fraction; Spec().Tableau() rebuilds an identical tableau.
func (t *Tableau) Spec() Spec {
	s := len(t.b)
	sp := Spec{ID: t.id, Label: t.label, Order: t.order,
		A: make([][]string, s), B: make([]string, s), C: make([]string, s)}
	for i := 0; i < s; i++ {
		sp.A[i] = make([]string, s)
		for j := 0; j < s; j++ {
			sp.A[i][j] = t.a[i][j].RatString()
		}
		sp.B[i] = t.b[i].RatString()
		sp.C[i] = t.c[i].RatString()
	}
	return sp
}

// String returns the tableau's label and id.
func (t *Tableau) String() string { return fmt.Sprintf("%s (%s)", t.label, t.id) }

// Spec is a tableau as data, as it appears in experiment specs (YAML) or
// JSON. Coefficients are strings holding exact numbers: integers, fractions
// "1/3" or finite decimals "0.5". A may list only the rows' lower-triangular
// part (row i with i entries) or full square rows.
type Spec struct {
	ID    string     `yaml:"id" json:"id"`
	Label string     `yaml:"label" json:"label"`
	A     [][]string `yaml:"a" json:"a"`
	B     []string   `yaml:"b" json:"b"`
	C     []string   `yaml:"c" json:"c"`
	Order int        `yaml:"order" json:"order"`
}

// Tableau validates the spec and builds the tableau; see [Parse].
func (s Spec) Tableau() (*Tableau, error) {
	return Parse(s.ID, s.Label, s.A, s.B, s.C, s.Order)
}

// Parse builds a tableau from coefficients written as exact numbers
// ("1/3", "-1", "0.125"), then validates it. Row i of a may hold either i
// entries (the strictly lower part) or s entries (a full square row whose
// entries on and above the diagonal must be zero). The error says which
// condition failed: the shapes, a coefficient that is not a number, A not
// strictly lower triangular, a row of A not summing to its node, b not
// summing to 1, or a named order condition.
func Parse(id, label string, a [][]string, b, c []string, order int) (*Tableau, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("integrators: tableau %q: "+format, append([]any{id}, args...)...)
	}
	if id == "" {
		return nil, fmt.Errorf("integrators: tableau with label %q: empty id", label)
	}
	if strings.ContainsAny(id, "/\\ ") {
		return nil, fail("id must not contain '/', '\\' or spaces (ids end up in file names)")
	}
	s := len(b)
	if s == 0 {
		return nil, fail("b is empty: a tableau needs at least one stage")
	}
	if len(c) != s {
		return nil, fail("c has %d entries but b has %d: both need one per stage", len(c), s)
	}
	if len(a) != s {
		return nil, fail("A has %d rows but b has %d entries: A must be %d×%d", len(a), s, s, s)
	}
	num := func(what, v string) (*big.Rat, error) {
		r, ok := new(big.Rat).SetString(strings.TrimSpace(v))
		if !ok {
			return nil, fail("%s = %q is not a number (write integers, fractions like \"1/3\" or decimals)", what, v)
		}
		return r, nil
	}
	ra := make([][]*big.Rat, s)
	for i := range a {
		if len(a[i]) != i && len(a[i]) != s {
			return nil, fail("row %d of A has %d entries: give %d (the strictly lower part) or %d (a full row)", i+1, len(a[i]), i, s)
		}
		ra[i] = make([]*big.Rat, s)
		for j := 0; j < s; j++ {
			if j >= len(a[i]) {
				ra[i][j] = new(big.Rat)
				continue
			}
			r, err := num(fmt.Sprintf("a[%d][%d]", i+1, j+1), a[i][j])
			if err != nil {
				return nil, err
			}
			ra[i][j] = r
		}
	}
	rb := make([]*big.Rat, s)
	rc := make([]*big.Rat, s)
	for i := 0; i < s; i++ {
		var err error
		if rb[i], err = num(fmt.Sprintf("b[%d]", i+1), b[i]); err != nil {
			return nil, err
		}
		if rc[i], err = num(fmt.Sprintf("c[%d]", i+1), c[i]); err != nil {
			return nil, err
		}
	}
	return newTableau(id, label, ra, rb, rc, order)
}

// newTableau validates exact coefficients and builds the float copies.
// Indices in messages are 1-based, as in the literature.
func newTableau(id, label string, a [][]*big.Rat, b, c []*big.Rat, order int) (*Tableau, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("integrators: tableau %q: "+format, append([]any{id}, args...)...)
	}
	if label == "" {
		label = id
	}
	if order < 1 || order > MaxOrder {
		return nil, fail("declared order %d is outside 1..%d (conditions are checked up to order %d)", order, MaxOrder, MaxOrder)
	}
	s := len(b)
	for i := 0; i < s; i++ {
		for j := i; j < s; j++ {
			if a[i][j].Sign() != 0 {
				return nil, fail("A is not strictly lower triangular: a[%d][%d] = %s (explicit methods need a_ij = 0 for j ≥ i)", i+1, j+1, a[i][j].RatString())
			}
		}
	}
	for i := 0; i < s; i++ {
		sum := new(big.Rat)
		for j := 0; j < i; j++ {
			sum.Add(sum, a[i][j])
		}
		if sum.Cmp(c[i]) != 0 {
			return nil, fail("row %d of A sums to %s, not c[%d] = %s", i+1, sum.RatString(), i+1, c[i].RatString())
		}
	}
	for _, oc := range orderConditions {
		if oc.order > order {
			continue
		}
		got := oc.eval(a, b, c)
		if got.Cmp(oc.want) != 0 {
			diff := new(big.Rat).Sub(got, oc.want)
			if oc.order == 1 {
				return nil, fail("b sums to %s, not 1", got.RatString())
			}
			return nil, fail("order condition %q fails by %s (it is %s): the tableau is not of the declared order %d", oc.name, diff.RatString(), got.RatString(), order)
		}
	}
	t := &Tableau{id: id, label: label, order: order, a: a, b: b, c: c,
		af: make([][]float64, s), bf: make([]float64, s), cf: make([]float64, s), rowZero: make([]bool, s)}
	for i := 0; i < s; i++ {
		t.af[i] = make([]float64, s)
		t.rowZero[i] = true
		for j := 0; j < s; j++ {
			t.af[i][j], _ = a[i][j].Float64()
			if a[i][j].Sign() != 0 {
				t.rowZero[i] = false
			}
		}
		t.bf[i], _ = b[i].Float64()
		t.cf[i], _ = c[i].Float64()
	}
	return t, nil
}

// orderCondition is one rooted-tree condition Σ b·Φ = 1/γ.
type orderCondition struct {
	order int
	name  string
	want  *big.Rat
	eval  func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat
}

// The 8 order conditions up to order 4 (Butcher). Rows of A summing to c is
// checked separately, so the conditions are written with c.
var orderConditions = []orderCondition{
	{1, "Σ b_i = 1", big.NewRat(1, 1), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, ones(len(b)))
	}},
	{2, "Σ b_i c_i = 1/2", big.NewRat(1, 2), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, c)
	}},
	{3, "Σ b_i c_i² = 1/3", big.NewRat(1, 3), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, hadamard(c, c))
	}},
	{3, "Σ b_i a_ij c_j = 1/6", big.NewRat(1, 6), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, matvec(a, c))
	}},
	{4, "Σ b_i c_i³ = 1/4", big.NewRat(1, 4), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, hadamard(c, hadamard(c, c)))
	}},
	{4, "Σ b_i c_i a_ij c_j = 1/8", big.NewRat(1, 8), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, hadamard(c, matvec(a, c)))
	}},
	{4, "Σ b_i a_ij c_j² = 1/12", big.NewRat(1, 12), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, matvec(a, hadamard(c, c)))
	}},
	{4, "Σ b_i a_ij a_jk c_k = 1/24", big.NewRat(1, 24), func(a [][]*big.Rat, b, c []*big.Rat) *big.Rat {
		return dot(b, matvec(a, matvec(a, c)))
	}},
}

func ones(n int) []*big.Rat {
	v := make([]*big.Rat, n)
	for i := range v {
		v[i] = big.NewRat(1, 1)
	}
	return v
}

func dot(x, y []*big.Rat) *big.Rat {
	s, p := new(big.Rat), new(big.Rat)
	for i := range x {
		s.Add(s, p.Mul(x[i], y[i]))
	}
	return s
}

func hadamard(x, y []*big.Rat) []*big.Rat {
	v := make([]*big.Rat, len(x))
	for i := range x {
		v[i] = new(big.Rat).Mul(x[i], y[i])
	}
	return v
}

func matvec(a [][]*big.Rat, x []*big.Rat) []*big.Rat {
	v := make([]*big.Rat, len(a))
	for i := range a {
		v[i] = dot(a[i], x)
	}
	return v
}
