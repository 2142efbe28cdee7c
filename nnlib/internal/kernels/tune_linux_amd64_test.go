//go:build linux && amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSgemmTune compares micro-kernel shapes and block sizes of the
// AVX-512 sgemm on the n=1024 product of BenchmarkSgemm (a tuning aid,
// run with KERNELS_TUNE=1; TUNE_N sets another n). On a shared machine cpu-GFLOP/s, the rate per
// second of CPU time this process got, is the steadier figure.
func BenchmarkSgemmTune(b *testing.B) {
	if MaxLevel() < AVX512 {
		b.Skip("no AVX-512")
	}
	if os.Getenv("KERNELS_TUNE") == "" {
		b.Skip("set KERNELS_TUNE=1 to run this tuning sweep")
	}
	base := *gemmAVX512
	defer func() { *gemmAVX512 = base }()
	defer SetLevel(SetLevel(AVX512)) // the AVX-512 level even where another is the default (Zen 4)
	n := 1024
	if s := os.Getenv("TUNE_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	for _, mr := range []int{8, 12, 14} {
		for _, kc := range []int{192, 256, 384} {
			for _, mcPanels := range []int{6, 12, 24} {
				g := base
				g.mrs, g.kc, g.mc = []int{mr}, kc, mr*mcPanels
				b.Run(fmt.Sprintf("mr=%d/kc=%d/mc=%d", mr, kc, g.mc), func(b *testing.B) {
					*gemmAVX512 = g
					var ru0, ru1 syscall.Rusage
					_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
					benchGemm(b, 1, false, false, n, n, n)
					_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
					cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
					b.ReportMetric(2*float64(n*n*n)*float64(b.N)/cpu.Seconds()/1e9, "cpu-GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkTuneSgemmInterleaved (KERNELS_TUNE=1, -benchtime 1x) times
// block-size variants of the AVX-512 sgemm in alternation, many rounds, and
// reports each variant's best rate as a metric: on a shared machine the
// minimum over interleaved rounds is a steadier basis for a choice than one
// benchmark run per variant.
func BenchmarkTuneSgemmInterleaved(tb *testing.B) {
	if MaxLevel() < AVX512 || os.Getenv("KERNELS_TUNE") == "" {
		tb.Skip("set KERNELS_TUNE=1 on an AVX-512 machine to run this tuning sweep")
	}
	base := *gemmAVX512
	defer func() { *gemmAVX512 = base }()
	defer SetLevel(SetLevel(AVX512)) // the AVX-512 level even where another is the default (Zen 4)
	n := 1024
	if s := os.Getenv("TUNE_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	type variant struct {
		name string
		g    gemm
	}
	var vs []variant
	mrs, kcs, mcps := []int{8, 12, 14}, []int{192, 256, 384, 512}, []int{6, 12, 24}
	if os.Getenv("TUNE_CURRENT") != "" { // only the current configuration
		mrs, kcs, mcps = base.mrs[:1], []int{base.kc}, []int{base.mc / base.mrs[0]}
	}
	for _, mr := range mrs {
		for _, kc := range kcs {
			for _, mcPanels := range mcps {
				g := base
				g.mrs, g.kc, g.mc = []int{mr}, kc, mr*mcPanels
				vs = append(vs, variant{fmt.Sprintf("mr%d-kc%d-mc%d", mr, kc, g.mc), g})
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	a, b, c := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
	best := make([]time.Duration, len(vs))
	th := 1
	if s := os.Getenv("TUNE_THREADS"); s != "" {
		fmt.Sscan(s, &th)
	}
	prev := SetThreads(th)
	defer SetThreads(prev)
	rounds := 7
	if s := os.Getenv("TUNE_ROUNDS"); s != "" {
		fmt.Sscan(s, &rounds)
	}
	for tb.Loop() {
		for round := 0; round < rounds; round++ {
			for i, v := range vs {
				*gemmAVX512 = v.g
				t0 := time.Now()
				Sgemm(false, false, n, n, n, 1, a, n, b, n, 1, c, n)
				if d := time.Since(t0); round == 0 || d < best[i] {
					best[i] = d
				}
			}
		}
	}
	for i, v := range vs {
		tb.ReportMetric(2*float64(n*n*n)/best[i].Seconds()/1e9, v.name+"-GFLOP/s")
	}
}

// BenchmarkTuneMicroKernelBursts (KERNELS_TUNE=1, -benchtime 1x) reports
// the best rate of each AVX-512 micro-kernel over many short bursts on
// L1-resident panels.
func BenchmarkTuneMicroKernelBursts(tb *testing.B) {
	if MaxLevel() < AVX512 || os.Getenv("KERNELS_TUNE") == "" {
		tb.Skip("set KERNELS_TUNE=1 on an AVX-512 machine to run this tuning sweep")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for tb.Loop() {
		for _, kn := range []struct {
			mr int
			f  func(k int, a, b, c *float32, ldc int, alpha, beta float32)
		}{{4, microAVX512[4]}, {6, microAVX512[6]}, {8, microAVX512[8]}, {10, microAVX512[10]}, {12, microAVX512[12]}, {14, microAVX512[14]}} {
			for _, kc := range []int{256} {
				a, b, c := randSlice(r, kn.mr*kc), randSlice(r, 32*kc), make([]float32, kn.mr*32)
				var best time.Duration
				const calls = 100
				for round := 0; round < 300; round++ {
					t0 := time.Now()
					for i := 0; i < calls; i++ {
						kn.f(kc, &a[0], &b[0], &c[0], 32, 1, 1)
					}
					if d := time.Since(t0); round == 0 || d < best {
						best = d
					}
				}
				tb.ReportMetric(2*float64(kn.mr*32*kc*calls)/best.Seconds()/1e9, fmt.Sprintf("%dx32-k%d-GFLOP/s", kn.mr, kc))
			}
		}
	}
}

// BenchmarkTuneElementwiseBursts (KERNELS_TUNE=1, -benchtime 1x) reports
// the best rate of each elementwise kernel and of its reference loop over
// many short bursts on L2-resident data (16 Ki floats per operand).
func BenchmarkTuneElementwiseBursts(tb *testing.B) {
	if os.Getenv("KERNELS_TUNE") == "" {
		tb.Skip("set KERNELS_TUNE=1 to run this measurement")
	}
	n := 16 << 10
	if s := os.Getenv("TUNE_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	r := rand.New(rand.NewPCG(3, 4))
	x, y, d := randSlice(r, n), randSlice(r, n), randSlice(r, n)
	var sink float32
	bestRate := func(streams int, f func()) float64 {
		var best time.Duration
		const calls = 20
		for round := 0; round < 300; round++ {
			t0 := time.Now()
			for i := 0; i < calls; i++ {
				f()
			}
			if dt := time.Since(t0); round == 0 || dt < best {
				best = dt
			}
		}
		return float64(streams*4*n*calls) / best.Seconds() / 1e9
	}
	for tb.Loop() {
		for _, bc := range elementwiseCases(d, x, y, &sink) {
			k, rf := bestRate(bc.streams, bc.kernel), bestRate(bc.streams, bc.ref)
			tb.ReportMetric(k, bc.name+"-GB/s")
			tb.ReportMetric(rf, bc.name+"-ref-GB/s")
		}
	}
	_ = sink
}
