package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// tileSizes returns the tallest panel height MR, NR and kc of level l
// (small stand-ins for Generic, which does not tile).
func tileSizes(l Level) (mr, nr, kc int) {
	if g := gemmFor(l); g != nil {
		return slices.Max(g.mrs), g.nr, g.kc
	}
	return 4, 8, 16
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
}

func (c gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%v beta=%v", c.transA, c.transB, c.m, c.n, c.k, c.alpha, c.beta)
}

// gemmOperands builds A, B and C with odd leading dimensions and C inside
// a sentinel-filled buffer.
type gemmOperands struct {
	a, b, c, cbuf []float32
	lda, ldb, ldc int
	coff          int
}

func newOperands(r *rand.Rand, tc gemmCase) *gemmOperands {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	o := &gemmOperands{lda: ac + 3, ldb: bc + 5, ldc: tc.n + 7, coff: 11}
	o.a = randSlice(r, (ar-1)*o.lda+ac)
	o.b = randSlice(r, (br-1)*o.ldb+bc)
	o.cbuf = make([]float32, o.coff+(tc.m-1)*o.ldc+tc.n+13)
	for i := range o.cbuf {
		o.cbuf[i] = sentinel
	}
	o.c = o.cbuf[o.coff : o.coff+(tc.m-1)*o.ldc+tc.n]
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			o.c[i*o.ldc+j] = float32(r.Float64()*2 - 1)
		}
	}
	return o
}

func (o *gemmOperands) at(trans bool, ld, i, p int, x []float32) float32 {
	if trans {
		return x[p*ld+i]
	}
	return x[i*ld+p]
}

// checkGemm compares got (o.c after the kernel) with the reference result
// want, within (k+4)·ε·(|alpha|·Σ|a||b| + |beta·c|), and checks sentinels.
func (o *gemmOperands) check(t *testing.T, tc gemmCase, c0, got []float32) {
	t.Helper()
	for idx, v := range o.cbuf {
		in := idx >= o.coff && idx < o.coff+len(o.c) && (idx-o.coff)%o.ldc < tc.n
		if !in && v != sentinel {
			t.Fatalf("%v: wrote outside C at buffer index %d", tc, idx)
		}
	}
	want := make([]float32, len(c0))
	copy(want, c0)
	sgemmGeneric(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want, o.ldc)
	const eps = 1.0 / (1 << 23)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var mag float64
			for p := 0; p < tc.k; p++ {
				mag += math.Abs(float64(o.at(tc.transA, o.lda, i, p, o.a)) * float64(o.at(!tc.transB, o.ldb, j, p, o.b)))
			}
			w, g := want[i*o.ldc+j], got[i*o.ldc+j]
			tol := float64(tc.k+4)*eps*(math.Abs(float64(tc.alpha))*mag+math.Abs(float64(tc.beta*c0[i*o.ldc+j]))) + 1e-30
			if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) || math.Abs(float64(w-g)) > tol {
				t.Fatalf("%v: C[%d,%d] = %v, want %v (tol %g)", tc, i, j, g, w, tol)
			}
		}
	}
}

func runCase(t *testing.T, r *rand.Rand, tc gemmCase) {
	t.Helper()
	o := newOperands(r, tc)
	c0 := append([]float32(nil), o.c...)
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
	o.check(t, tc, c0, o.c)
}

// TestSgemmSweep runs every transpose combination over m ∈ 1..2·MR+1,
// n ∈ 1..2·NR+1 for small k, and over the edge sizes around MR and NR for
// k ∈ {kc−1, kc, kc+1}, at every level, against the reference loop.
func TestSgemmSweep(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		mr, nr, kc := tileSizes(l)
		r := rand.New(rand.NewPCG(1, uint64(l)))
		ks := []int{1, 2, 3, 4, 5, 17}
		edges := func(x int) []int { return []int{1, x - 1, x, x + 1, 2*x + 1} }
		step := 1
		if testing.Short() {
			step = 3
		}
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for m := 1; m <= 2*mr+1; m += step {
					for n := 1; n <= 2*nr+1; n += step {
						for _, k := range ks {
							runCase(t, r, gemmCase{tA, tB, m, n, k, 1, 1})
						}
					}
				}
				for _, m := range edges(mr) {
					for _, n := range edges(nr) {
						for _, k := range []int{kc - 1, kc, kc + 1} {
							runCase(t, r, gemmCase{tA, tB, m, n, k, 0.75, -0.5})
						}
					}
				}
			}
		}
	})
}

// TestSgemmAlphaBeta covers the BLAS scaling cases, including beta = 0
// over NaN in C and alpha = 0 over NaN in A and B.
func TestSgemmAlphaBeta(t *testing.T) {
	nan := float32(math.NaN())
	forEachLevel(t, func(t *testing.T, l Level) {
		mr, nr, kc := tileSizes(l)
		r := rand.New(rand.NewPCG(2, uint64(l)))
		shapes := [][3]int{{mr, nr, 7}, {2*mr + 1, 2*nr + 1, kc + 1}, {3, 5, 2}, {37, 70, 300}}
		for _, s := range shapes {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {2, 0}, {-1.5, 0.5}, {0, 0}, {0, 2}, {0.5, -1}} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					tc := gemmCase{tr[0], tr[1], s[0], s[1], s[2], ab[0], ab[1]}
					o := newOperands(r, tc)
					if tc.beta == 0 {
						for i := 0; i < tc.m; i++ {
							for j := 0; j < tc.n; j++ {
								o.c[i*o.ldc+j] = nan
							}
						}
					}
					if tc.alpha == 0 {
						for i := range o.a {
							o.a[i] = nan
						}
						for i := range o.b {
							o.b[i] = nan
						}
					}
					c0 := append([]float32(nil), o.c...)
					Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
					for i := 0; i < tc.m; i++ {
						for j := 0; j < tc.n; j++ {
							if v := o.c[i*o.ldc+j]; math.IsNaN(float64(v)) {
								t.Fatalf("%v: C[%d,%d] is NaN: beta = 0 read C or alpha = 0 read A/B", tc, i, j)
							}
						}
					}
					if tc.alpha != 0 {
						o.check(t, tc, c0, o.c)
					} else {
						for i := 0; i < tc.m; i++ {
							for j := 0; j < tc.n; j++ {
								want := tc.beta * c0[i*o.ldc+j]
								if tc.beta == 0 {
									want = 0
								}
								if got := o.c[i*o.ldc+j]; got != want {
									t.Fatalf("%v: C[%d,%d] = %v, want beta·C = %v", tc, i, j, got, want)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestSgemmNaNInf checks that NaN and ±Inf in A or B propagate as in the
// reference loop.
func TestSgemmNaNInf(t *testing.T) {
	inf := float32(math.Inf(1))
	forEachLevel(t, func(t *testing.T, l Level) {
		mr, nr, _ := tileSizes(l)
		r := rand.New(rand.NewPCG(3, uint64(l)))
		for _, special := range []float32{float32(math.NaN()), inf, -inf} {
			for _, inA := range []bool{false, true} {
				tc := gemmCase{false, true, 2*mr + 1, 2*nr + 1, 9, 1, 1}
				o := newOperands(r, tc)
				if inA {
					o.a[(mr+1)*o.lda+4] = special // row mr+1, p = 4
				} else {
					o.b[(nr+2)*o.ldb+4] = special // column nr+2, p = 4
				}
				want := append([]float32(nil), o.c...)
				sgemmGeneric(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want, o.ldc)
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
				specials := 0
				for i := 0; i < tc.m; i++ {
					for j := 0; j < tc.n; j++ {
						w, g := want[i*o.ldc+j], o.c[i*o.ldc+j]
						if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
							specials++
							if !sameBits(w, g) && !(math.IsNaN(float64(w)) && math.IsNaN(float64(g))) {
								t.Fatalf("%v special %v: C[%d,%d] = %v, want %v", tc, special, i, j, g, w)
							}
						} else if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
							t.Fatalf("%v special %v: C[%d,%d] = %v, want finite %v", tc, special, i, j, g, w)
						}
					}
				}
				if specials == 0 {
					t.Fatalf("%v: no special value reached C", tc)
				}
			}
		}
	})
}

// TestSgemmThreadsBitIdentical checks that splitting over 2 threads (over
// columns and over rows) gives exactly the 1-thread result.
func TestSgemmThreadsBitIdentical(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(4, uint64(l)))
		for _, tc := range []gemmCase{
			{false, false, 100, 301, 300, 1, 0.5},
			{false, true, 64, 577, 700, 1, 1},
			{true, false, 603, 40, 250, -1, 0},
			{true, true, 333, 222, 111, 2, 1},
		} {
			o := newOperands(r, tc)
			c1 := append([]float32(nil), o.c...)
			c2 := append([]float32(nil), o.c...)
			prev := SetThreads(1)
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, c1, o.ldc)
			SetThreads(2)
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, c2, o.ldc)
			SetThreads(prev)
			for i := range c1 {
				if !sameBits(c1[i], c2[i]) {
					t.Fatalf("%v: threads=1 gives %v, threads=2 gives %v at %d", tc, c1[i], c2[i], i)
				}
			}
			o.check(t, tc, o.c, c1)
		}
	})
}

// TestSgemmInPlaceBitIdentical checks that reading an operand in place
// gives exactly what packing it gives: B for products with few rows and
// contiguous B rows, A for products with few columns, a packed B and
// contiguous A rows; over partial panels, edge rows and several depth
// blocks.
func TestSgemmInPlaceBitIdentical(t *testing.T) {
	for _, operand := range []struct {
		name  string
		knob  *int // 0 packs the operand
		cases []gemmCase
	}{
		{"B", &stridedMaxM, []gemmCase{
			{false, false, 16, 3072, 144, 1, 0},
			{false, false, 29, 301, 1200, 1, 0.5},
			{true, false, 64, 97, 577, -1, 1},
			{false, false, 16, 1000, 16, 1, 0},    // a Winograd product: short k, a partial last panel
			{false, false, 16, 1000, 16, -1.5, 0}, // the same with alpha ≠ 1 (the store scales)
			{false, false, 7, 33, 16, 2, 0.5},
		}},
		{"A", &aRowsMaxN, []gemmCase{
			{false, true, 16, 16, 1040, 1, 0},  // a Winograd weight gradient: rows of 6, 6, 4
			{false, true, 29, 45, 700, 1, 0.5}, // a partial B panel, an edge row panel, three depth blocks
			{false, true, 7, 3, 300, -1.5, 1},
			{false, false, 200, 40, 300, 2, 0}, // B packed because of its many rows
			{false, true, 32, 144, 600, 1, 0},  // an im2col weight gradient: 16 channels × 9 taps
		}},
	} {
		forEachLevel(t, func(t *testing.T, l Level) {
			r := rand.New(rand.NewPCG(5, uint64(l)))
			for _, tc := range operand.cases {
				o := newOperands(r, tc)
				inPlace := append([]float32(nil), o.c...)
				packed := append([]float32(nil), o.c...)
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, inPlace, o.ldc)
				prev := *operand.knob
				*operand.knob = 0
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, packed, o.ldc)
				*operand.knob = prev
				for i := range packed {
					if !sameBits(inPlace[i], packed[i]) {
						t.Fatalf("%v: %s in place gives %v, packed %v at %d", tc, operand.name, inPlace[i], packed[i], i)
					}
				}
				o.check(t, tc, o.c, inPlace)
			}
		})
	}
}

// TestSgemmGenericMatchesReference checks that the Generic level returns
// exactly what the reference loop returns.
func TestSgemmGenericMatchesReference(t *testing.T) {
	prev := SetLevel(Generic)
	defer SetLevel(prev)
	r := rand.New(rand.NewPCG(5, 0))
	for _, tc := range []gemmCase{{false, false, 7, 9, 13, 1, 0}, {true, true, 5, 3, 33, -2, 0.5}, {true, false, 1, 17, 4, 1, 1}, {false, true, 9, 2, 1, 0.5, 2}} {
		o := newOperands(r, tc)
		want := append([]float32(nil), o.c...)
		sgemmGeneric(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want, o.ldc)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
		for i := range want {
			if !sameBits(want[i], o.c[i]) {
				t.Fatalf("%v: element %d = %v, reference %v", tc, i, o.c[i], want[i])
			}
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	a, b, c := make([]float32, 6), make([]float32, 6), make([]float32, 4)
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"negative", func() { Sgemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2) }, "negative size"},
		{"short c", func() { Sgemm(false, false, 2, 3, 3, 1, a, 3, make([]float32, 9), 3, 0, c, 3) }, "len(c)"},
		{"small ldc", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1) }, "ldc=1"},
		{"small lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) }, "lda=2"},
		{"short a", func() { Sgemm(true, false, 2, 2, 4, 1, a, 2, make([]float32, 8), 2, 0, c, 2) }, "len(a)"},
		{"short b", func() { Sgemm(false, true, 2, 2, 3, 1, a, 3, make([]float32, 5), 3, 0, c, 2) }, "len(b)"},
	} {
		t.Run(tc.name, func(t *testing.T) { mustPanic(t, tc.name, tc.f, "kernels.Sgemm", tc.msg) })
	}
}

func ExampleSgemm() {
	// C = A·Bᵀ for A 2×3 and B 2×3 (so op(B) = Bᵀ is 3×2).
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 1, 0, 1, 0}
	c := make([]float32, 4)
	Sgemm(false, true, 2, 2, 3, 1, a, 3, b, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}

// TestSgemmConcurrentCallers runs large products from several goroutines
// at once (the persistent workers serve one at a time; the others run
// their parts serially) and checks each against its 1-thread result.
func TestSgemmConcurrentCallers(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 0))
	tc := gemmCase{false, false, 90, 200, 160, 1, 0}
	const callers = 4
	ops := make([]*gemmOperands, callers)
	want := make([][]float32, callers)
	prev := SetThreads(1)
	for i := range ops {
		ops[i] = newOperands(r, tc)
		want[i] = append([]float32(nil), ops[i].c...)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, ops[i].a, ops[i].lda, ops[i].b, ops[i].ldb, tc.beta, want[i], ops[i].ldc)
	}
	SetThreads(2)
	defer SetThreads(prev)
	done := make(chan int)
	for i := range ops {
		go func() {
			o := ops[i]
			for range 5 {
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
			}
			done <- i
		}()
	}
	for range ops {
		i := <-done
		for j := range want[i] {
			if !sameBits(ops[i].c[j], want[i][j]) {
				t.Fatalf("caller %d: element %d = %v, want %v", i, j, ops[i].c[j], want[i][j])
			}
		}
	}
}

// TestSgemmWorkersParkAndWake runs split products separated by pauses
// longer than the workers' polling window, so each one wakes parked
// workers, and checks the results against the 1-thread product.
func TestSgemmWorkersParkAndWake(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 0))
	tc := gemmCase{false, false, 64, 256, 160, 1, 0}
	o := newOperands(r, tc)
	want := append([]float32(nil), o.c...)
	prev := SetThreads(1)
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want, o.ldc)
	SetThreads(2)
	defer SetThreads(prev)
	for round := 0; round < 5; round++ {
		got := append([]float32(nil), o.c...)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, got, o.ldc)
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("round %d: element %d = %v, want %v", round, i, got[i], want[i])
			}
		}
		time.Sleep(2 * spinFor)
	}
}
