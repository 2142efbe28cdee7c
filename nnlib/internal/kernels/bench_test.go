package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSgemm times what nnlib/testdata/bench/openblas_sgemm.c times: C = A·B
// + C, row-major, no transposes, alpha = 1, beta = 1, square n.
func BenchmarkSgemm(b *testing.B) {
	b.Logf("kernel level %v", CurrentLevel()) // make compare reads it
	for _, n := range []int{256, 512, 1024} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, th), func(b *testing.B) {
				benchGemm(b, th, false, false, n, n, n)
			})
		}
	}
}

// BenchmarkSgemmConv times the two products a 3×3 conv with 64 channels
// needs on a 128×8×8... batch: the forward NN product (m = Cout = 64,
// n = N·H·W = 8192, k = Cin·9 = 576) and the weight-gradient NT product
// with a long k (m = 64, n = 576, k = 131072).
func BenchmarkSgemmConv(b *testing.B) {
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("fwd-NN-64x8192x576/threads=%d", th), func(b *testing.B) {
			benchGemm(b, th, false, false, 64, 8192, 576)
		})
		b.Run(fmt.Sprintf("dW-NT-64x576x131072/threads=%d", th), func(b *testing.B) {
			benchGemm(b, th, false, true, 64, 576, 131072)
		})
	}
}

func benchGemm(b *testing.B, th int, tA, tB bool, m, n, k int) {
	prev := SetThreads(th)
	defer SetThreads(prev)
	r := rand.New(rand.NewPCG(1, 2))
	a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 1, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkElementwise times each elementwise kernel and reduction against
// its reference loop on L2-resident data (16 Ki floats per operand) and on
// L1-resident data (2 Ki floats), and reports the bytes read and written
// per second.
func BenchmarkElementwise(b *testing.B) {
	for _, n := range []int{16 << 10, 2 << 10} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchElementwise(b, n) })
	}
}

func benchElementwise(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(3, 4))
	x, y, d := randSlice(r, n), randSlice(r, n), randSlice(r, n)
	var sink float32
	cases := append(elementwiseCases(d, x, y, &sink), elemCase{"RowSums", 1, func() { RowSums(d[:128], x, n/128) }, func() {
		for i := range 128 {
			d[i] = sumRef(x[i*n/128 : (i+1)*n/128])
		}
	}})
	for _, bc := range cases {
		for _, v := range []struct {
			name string
			f    func()
		}{{"kernel", bc.kernel}, {"reference", bc.ref}} {
			b.Run(bc.name+"/"+v.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					v.f()
				}
				b.ReportMetric(float64(bc.streams*4*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
	_ = sink
}

// elemCase is one elementwise kernel and its reference loop, with the
// number of n-float operands it reads plus writes (for GB/s).
type elemCase struct {
	name        string
	streams     int
	kernel, ref func()
}

// elementwiseCases lists the elementwise kernels and reductions on the
// operands d (written), x and y; reductions accumulate into *sink.
func elementwiseCases(d, x, y []float32, sink *float32) []elemCase {
	n4 := len(d) / 4
	q := [4][]float32{d[:n4], d[n4 : 2*n4], d[2*n4 : 3*n4], d[3*n4:]}
	return []elemCase{
		{"Add", 3, func() { Add(d, x, y) }, func() { addRef(d, x, y) }},
		{"Sub", 3, func() { Sub(d, x, y) }, func() { subRef(d, x, y) }},
		{"Mul", 3, func() { Mul(d, x, y) }, func() { mulRef(d, x, y) }},
		{"Max", 3, func() { Max(d, x, y) }, func() { maxRef(d, x, y) }},
		{"Scale", 2, func() { Scale(d, 0.5, x) }, func() { scaleRef(d, 0.5, x) }},
		{"Axpy", 3, func() { Axpy(1e-3, x, d) }, func() { axpyRef(1e-3, x, d) }},
		{"Relu", 2, func() { Relu(d, x) }, func() { reluRef(d, x) }},
		{"ReluBackward", 3, func() { ReluBackward(d, y, x) }, func() { reluBackwardRef(d, y, x) }},
		{"Sum", 1, func() { *sink += Sum(x) }, func() { *sink += sumRef(x) }},
		{"SumSq", 1, func() { *sink += SumSq(x) }, func() { *sink += sumSqRef(x) }},
		{"Dot", 2, func() { *sink += Dot(x, y) }, func() { *sink += dotRef(x, y) }},
		// The phases of 32-wide rows (a stride-2 convolution of 32×32
		// planes), into and out of the four quarters of d.
		{"SplitPhases", 2, func() { SplitPhases(q[0], q[1], q[2], q[3], x, 32) }, func() { splitPhasesRef(q, x, 32) }},
		{"MergePhasesAdd", 3, func() { MergePhases(x, q[0], q[1], q[2], q[3], 32, true) }, func() { mergePhasesRef(x, q, 32, true) }},
	}
}
