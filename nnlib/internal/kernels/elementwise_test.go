package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Reference loops, exactly as quoted in the kernels' doc comments.

func addRef(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func subRef(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] - y[i]
	}
}

func mulRef(dst, x, y []float32) {
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func maxRef(dst, x, y []float32) {
	for i := range dst {
		dst[i] = max(x[i], y[i])
	}
}

func scaleRef(dst []float32, a float32, x []float32) {
	for i := range dst {
		dst[i] = a * x[i]
	}
}

func axpyRef(a float32, x, y []float32) {
	for i := range y {
		y[i] += a * x[i]
	}
}

func reluRef(dst, x []float32) {
	for i := range dst {
		if x[i] > 0 {
			dst[i] = x[i]
		} else {
			dst[i] = 0
		}
	}
}

func reluBackwardRef(dx, dy, x []float32) {
	for i := range dx {
		if x[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

func sumRef(x []float32) float32 {
	var s float32
	for i := range x {
		s += x[i]
	}
	return s
}

func sumSqRef(x []float32) float32 {
	var s float32
	for i := range x {
		s += x[i] * x[i]
	}
	return s
}

func dotRef(x, y []float32) float32 {
	var s float32
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

func affineRef(dst, x []float32, c, a, b float32, relu bool) {
	for i := range dst {
		v := (x[i]-c)*a + b
		if relu && !(v > 0) {
			v = 0
		}
		dst[i] = v
	}
}

func bnDxRef(dst, dy, x []float32, k, c1, m, c2 float32, fresh bool) {
	for i := range dst {
		d := k * dy[i]
		if !fresh {
			d = dst[i] + d
		}
		d += c1 * (x[i] - m)
		d += c2
		dst[i] = d
	}
}

// ewLengths covers empty, sub-vector, exact multiples and tails of both
// vector widths and of the 4× unrolled loops.
func ewLengths() []int {
	ls := []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 1000, 4099}
	return ls
}

// specialInput returns random values with NaN, ±Inf, ±0 and equal pairs
// sprinkled in, so NaN handling and signed zeros are exercised.
func specialInput(r *rand.Rand, n int) []float32 {
	s := randSlice(r, n)
	sp := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1, -1}
	for i := range s {
		if r.IntN(5) == 0 {
			s[i] = sp[r.IntN(len(sp))]
		}
	}
	return s
}

type ewCase struct {
	name string
	run  func(dst, x, y []float32, a float32)
	ref  func(dst, x, y []float32, a float32)
	// exact: bit-identical to the reference (NaN payloads aside).
	exact bool
}

func ewCases() []ewCase {
	return []ewCase{
		{"Add", func(d, x, y []float32, _ float32) { Add(d, x, y) }, func(d, x, y []float32, _ float32) { addRef(d, x, y) }, true},
		{"Sub", func(d, x, y []float32, _ float32) { Sub(d, x, y) }, func(d, x, y []float32, _ float32) { subRef(d, x, y) }, true},
		{"Mul", func(d, x, y []float32, _ float32) { Mul(d, x, y) }, func(d, x, y []float32, _ float32) { mulRef(d, x, y) }, true},
		{"Max", func(d, x, y []float32, _ float32) { Max(d, x, y) }, func(d, x, y []float32, _ float32) { maxRef(d, x, y) }, true},
		{"Scale", func(d, x, _ []float32, a float32) { Scale(d, a, x) }, func(d, x, _ []float32, a float32) { scaleRef(d, a, x) }, true},
		{"Axpy", func(d, x, _ []float32, a float32) { Axpy(a, x, d) }, func(d, x, _ []float32, a float32) { axpyRef(a, x, d) }, true},
		{"Relu", func(d, x, _ []float32, _ float32) { Relu(d, x) }, func(d, x, _ []float32, _ float32) { reluRef(d, x) }, true},
		{"ReluBackward", func(d, x, y []float32, _ float32) { ReluBackward(d, x, y) }, func(d, x, y []float32, _ float32) { reluBackwardRef(d, x, y) }, true},
		{"Affine", func(d, x, _ []float32, a float32) { Affine(d, x, 0.25, a, -0.5, false) }, func(d, x, _ []float32, a float32) { affineRef(d, x, 0.25, a, -0.5, false) }, true},
		{"AffineRelu", func(d, x, _ []float32, a float32) { Affine(d, x, 0.25, a, -0.5, true) }, func(d, x, _ []float32, a float32) { affineRef(d, x, 0.25, a, -0.5, true) }, true},
		{"BNDx", func(d, x, y []float32, a float32) { BNDx(d, x, y, a, 0.3, -0.2, 0.1, false) }, func(d, x, y []float32, a float32) { bnDxRef(d, x, y, a, 0.3, -0.2, 0.1, false) }, true},
		{"BNDxFresh", func(d, x, y []float32, a float32) { BNDx(d, x, y, a, 0.3, -0.2, 0.1, true) }, func(d, x, y []float32, a float32) { bnDxRef(d, x, y, a, 0.3, -0.2, 0.1, true) }, true},
	}
}

// TestElementwise compares every elementwise kernel with its reference
// loop, bit for bit, at every level, for lengths around the vector widths,
// at unaligned offsets, with special values, and checks that nothing is
// written outside dst.
func TestElementwise(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(7, uint64(l)))
		for _, tc := range ewCases() {
			for _, n := range ewLengths() {
				for _, off := range []int{0, 3} {
					x, y := specialInput(r, n), specialInput(r, n)
					init := specialInput(r, n)
					dst, check := guarded(n, off)
					copy(dst, init)
					want := append([]float32(nil), init...)
					tc.run(dst, x, y, 0.7)
					tc.ref(want, x, y, 0.7)
					check(t, fmt.Sprintf("%s n=%d", tc.name, n))
					for i := range want {
						if !sameBits(dst[i], want[i]) {
							t.Fatalf("%s n=%d off=%d: [%d] = %v, want %v (x=%v y=%v)", tc.name, n, off, i, dst[i], want[i], x[i], y[i])
						}
					}
				}
			}
		}
	})
}

// TestElementwiseAliasing checks dst aliasing an input.
func TestElementwiseAliasing(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(8, uint64(l)))
		x, y := randSlice(r, 100), randSlice(r, 100)
		want := make([]float32, 100)
		addRef(want, x, y)
		Add(x, x, y)
		for i := range want {
			if x[i] != want[i] {
				t.Fatalf("Add(x, x, y)[%d] = %v, want %v", i, x[i], want[i])
			}
		}
	})
}

// TestReductions compares Sum, SumSq, Dot, RowSums and RowSumSqs with
// their reference loops within n·ε·Σ|terms| (the assembly sums in lane
// order), checks NaN/Inf propagation, and that the result is repeatable.
func TestReductions(t *testing.T) {
	const eps = 1.0 / (1 << 23)
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(9, uint64(l)))
		for _, n := range ewLengths() {
			x, y := randSlice(r, n), randSlice(r, n)
			var absSum, absSq, absDot float64
			for i := range x {
				absSum += math.Abs(float64(x[i]))
				absSq += float64(x[i]) * float64(x[i])
				absDot += math.Abs(float64(x[i]) * float64(y[i]))
			}
			for _, c := range []struct {
				name      string
				got, want float32
				mag       float64
			}{
				{"Sum", Sum(x), sumRef(x), absSum},
				{"SumSq", SumSq(x), sumSqRef(x), absSq},
				{"Dot", Dot(x, y), dotRef(x, y), absDot},
			} {
				if math.Abs(float64(c.got-c.want)) > 2*float64(n+1)*eps*c.mag {
					t.Fatalf("%s n=%d: %v, reference %v", c.name, n, c.got, c.want)
				}
			}
			// The Dev reductions are, bit for bit, the plain ones on x − c.
			const c = 0.375
			xc := make([]float32, n)
			for i := range x {
				xc[i] = x[i] - c
			}
			if got, want := SumSqDev(x, c), SumSq(xc); !sameBits(got, want) {
				t.Fatalf("n=%d: SumSqDev %v, SumSq(x − c) %v", n, got, want)
			}
			if got, want := DotDev(x, y, c), Dot(y, xc); !sameBits(got, want) {
				t.Fatalf("n=%d: DotDev %v, Dot(y, x − c) %v", n, got, want)
			}
			if Sum(x) != Sum(x) || Dot(x, y) != Dot(x, y) {
				t.Fatalf("n=%d: reductions not repeatable", n)
			}
			if n > 0 {
				x[n/2] = float32(math.NaN())
				if !math.IsNaN(float64(Sum(x))) || !math.IsNaN(float64(SumSq(x))) || !math.IsNaN(float64(Dot(x, y))) {
					t.Fatalf("n=%d: NaN did not propagate", n)
				}
				x[n/2] = float32(math.Inf(-1))
				if s := Sum(x); !math.IsInf(float64(s), -1) {
					t.Fatalf("n=%d: Sum with -Inf = %v", n, s)
				}
			}
		}
		for _, cols := range []int{0, 1, 15, 16, 17, 100} {
			rows := 5
			x := randSlice(r, rows*cols)
			dst, check := guarded(rows, 2)
			RowSums(dst, x, cols)
			check(t, "RowSums")
			for i := range dst {
				if want := Sum(x[i*cols : (i+1)*cols]); dst[i] != want {
					t.Fatalf("RowSums cols=%d: row %d = %v, Sum %v", cols, i, dst[i], want)
				}
			}
			RowSumSqs(dst, x, cols)
			check(t, "RowSumSqs")
			for i := range dst {
				if want := SumSq(x[i*cols : (i+1)*cols]); dst[i] != want {
					t.Fatalf("RowSumSqs cols=%d: row %d = %v, SumSq %v", cols, i, dst[i], want)
				}
			}
		}
	})
}

func TestElementwisePanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Add", func() { Add(a, a, b) }},
		{"Sub", func() { Sub(a, b, a) }},
		{"Mul", func() { Mul(b, a, a) }},
		{"Max", func() { Max(a, a, b) }},
		{"Scale", func() { Scale(a, 2, b) }},
		{"Axpy", func() { Axpy(2, a, b) }},
		{"Relu", func() { Relu(a, b) }},
		{"ReluBackward", func() { ReluBackward(a, a, b) }},
		{"Dot", func() { Dot(a, b) }},
		{"DotDev", func() { DotDev(a, b, 1) }},
		{"Affine", func() { Affine(a, b, 0, 1, 0, false) }},
		{"BNDx", func() { BNDx(a, a, b, 1, 1, 0, 0, true) }},
		{"RowSums", func() { RowSums(a, b, 2) }},
		{"RowSumSqs", func() { RowSumSqs(a, b, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) { mustPanic(t, tc.name, tc.f, "kernels."+tc.name+":") })
	}
}

func ExampleRelu() {
	x := []float32{-1, 0, 2.5, float32(math.NaN())}
	Relu(x, x)
	fmt.Println(x)
	// Output: [0 0 2.5 0]
}

func ExampleRowSums() {
	x := []float32{1, 2, 3, 4, 5, 6} // 2 rows × 3 columns
	dst := make([]float32, 2)
	RowSums(dst, x, 3)
	fmt.Println(dst)
	// Output: [6 15]
}
