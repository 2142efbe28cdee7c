package datasets

import "testing"

// BenchmarkIterator measures the authors' augmented training input (crop
// with padding 4, flip, normalisation, shuffle) on 32×32 RGB images,
// batch 128, channel-major, with and without prefetching.
func BenchmarkIterator(b *testing.B) {
	d := toyDataset(10000, 3, 32, 32, 10)
	for _, prefetch := range []bool{false, true} {
		name := "sync"
		if prefetch {
			name = "prefetch"
		}
		b.Run(name, func(b *testing.B) {
			cfg := CIFAR10Train(128, 1)
			cfg.Prefetch = prefetch
			it := NewIterator(d, cfg)
			defer it.Close()
			x, l := make([]float32, it.BatchFloats()), make([]int, 128)
			images, epoch := 0, 0
			for b.Loop() {
				n := it.Next(x, l)
				if n == 0 {
					epoch++
					it.StartEpoch(epoch)
					n = it.Next(x, l)
				}
				images += n
			}
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
