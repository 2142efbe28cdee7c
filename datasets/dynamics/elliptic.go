package dynamics

import "math"

// Jacobi returns the Jacobi elliptic functions sn(u|m), cn(u|m), dn(u|m)
// for a parameter 0 ≤ m ≤ 1, by the descending Landen (arithmetic-geometric
// mean) transformation (Abramowitz & Stegun 16.4; the algorithm of
// Numerical Recipes' sncndn). It panics if m is outside [0, 1].
//
// Reference relations, which the tests check: sn² + cn² = 1,
// dn² + m·sn² = 1, and d/du sn = cn·dn.
func Jacobi(u, m float64) (sn, cn, dn float64) {
	if !(m >= 0 && m <= 1) {
		panic("dynamics: Jacobi: parameter m must be in [0, 1]")
	}
	mc := 1 - m
	if mc == 0 {
		cn = 1 / math.Cosh(u)
		return math.Tanh(u), cn, cn
	}
	// The AGM converges quadratically; stopping at a relative gap of 1e-8
	// leaves an error of order 1e-16.
	const ca = 1e-8
	var em, en [16]float64
	a, c := 1.0, 0.0
	dn = 1
	l := 0
	emc := mc
	for i := 0; i < len(em); i++ {
		l = i
		em[i] = a
		emc = math.Sqrt(emc)
		en[i] = emc
		c = 0.5 * (a + emc)
		if math.Abs(a-emc) <= ca*a {
			break
		}
		emc *= a
		a = c
	}
	u *= c
	sn, cn = math.Sincos(u)
	if sn != 0 {
		a = cn / sn
		c *= a
		for i := l; i >= 0; i-- {
			b := em[i]
			a *= c
			c *= dn
			dn = (en[i] + a) / (b + a)
			a = c / b
		}
		a = 1 / math.Sqrt(c*c+1)
		if sn >= 0 {
			sn = a
		} else {
			sn = -a
		}
		cn = c * sn
	}
	return sn, cn, dn
}

// completeKAGM returns K(m) = π / (2·AGM(1, √(1−m))), for m < 1.
func completeKAGM(m float64) float64 {
	a, b := 1.0, math.Sqrt(1-m)
	for i := 0; i < 64 && math.Abs(a-b) > 1e-16*a; i++ {
		a, b = 0.5*(a+b), math.Sqrt(a*b)
	}
	return math.Pi / (a + b)
}
