//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMicroKernel times the register-blocked micro-kernels alone on
// cache-resident packed panels (the ceiling the blocked driver can reach).
func BenchmarkMicroKernel(b *testing.B) {
	type kern struct {
		level  Level
		mr, nr int
		f      func(k int, a, b, c *float32, ldc int, alpha, beta float32)
	}
	for _, kn := range []kern{
		{AVX512, 8, 32, sgemmKernel8x32AVX512},
		{AVX512, 14, 32, sgemmKernel14x32AVX512},
		{AVX2, 6, 16, sgemmKernel6x16AVX2},
	} {
		if kn.level > MaxLevel() {
			continue
		}
		for _, kc := range []int{128, 256, 384} {
			b.Run(fmt.Sprintf("%v/%dx%d/k=%d", kn.level, kn.mr, kn.nr, kc), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				a, bb, c := randSlice(r, kn.mr*kc), randSlice(r, kn.nr*kc), make([]float32, kn.mr*kn.nr)
				for i := 0; i < b.N; i++ {
					kn.f(kc, &a[0], &bb[0], &c[0], kn.nr, 1, 1)
				}
				b.ReportMetric(2*float64(kn.mr*kn.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
