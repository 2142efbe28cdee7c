package integrators

import (
	"encoding/json"
	"math"
	"testing"
)

// cplx is a state type that is not a slice, to show the stepper is generic:
// a complex number held in a pointer.
type cplx struct{ z complex128 }

type cplxOps struct{}

func (cplxOps) NewLike(*cplx) *cplx                { return new(cplx) }
func (cplxOps) Copy(dst, src *cplx)                { dst.z = src.z }
func (cplxOps) Axpy(dst *cplx, a float64, x *cplx) { dst.z += complex(a, 0) * x.z }

// TestGenericState integrates z' = i·z (z = e^{it}) on a custom state type
// and checks it against the same integration on float64 slices.
func TestGenericState(t *testing.T) {
	tab := MustBuiltin("rk4-classic")
	g := Grid{T0: 0, T1: math.Pi, N: 50}
	z := &cplx{1}
	st := NewStepper[*cplx](tab, cplxOps{})
	st.Integrate(func(_, _ int, _ float64, x, d *cplx) { d.z = 1i * x.z }, g, z, nil)
	x := []float64{1, 0}
	NewStepper(tab, Float64s{}).Integrate(func(_, _ int, _ float64, x, d []float64) { d[0], d[1] = -x[1], x[0] }, g, x, nil)
	if real(z.z) != x[0] || imag(z.z) != x[1] {
		t.Fatalf("complex state %v vs slice state %v", z.z, x)
	}
	if math.Abs(real(z.z)+1) > 1e-6 || math.Abs(imag(z.z)) > 1e-6 {
		t.Fatalf("e^{iπ} = %v", z.z)
	}
}

func TestSpecJSON(t *testing.T) {
	raw := `{"id":"ralston","label":"Ralston","a":[[],["2/3"]],"b":["1/4","3/4"],"c":["0","2/3"],"order":2}`
	var sp Spec
	if err := json.Unmarshal([]byte(raw), &sp); err != nil {
		t.Fatal(err)
	}
	tab, err := sp.Tableau()
	if err != nil {
		t.Fatal(err)
	}
	if tab.Order() != 2 || tab.Stages() != 2 || tab.C(1) != 2.0/3 {
		t.Fatalf("ralston: order %d, %d stages, c2 = %v", tab.Order(), tab.Stages(), tab.C(1))
	}
	sp.Order = 3
	if _, err := sp.Tableau(); err == nil {
		t.Fatal("Ralston accepted as order 3")
	}
}
