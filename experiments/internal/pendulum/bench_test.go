package pendulum

import (
	"context"
	"testing"
)

// BenchmarkTrain measures one training iteration (batch 128, 2→50→2 MLP,
// backpropagation through every stage) per scheme; multiply by 25,000 for
// the cost of a paper-setting training.
func BenchmarkTrain(b *testing.B) {
	for _, tr := range PaperConfig().Trainings {
		b.Run(tr.Scheme, func(b *testing.B) {
			cfg := PaperConfig()
			cfg.Iters = 100
			for b.Loop() {
				if _, err := Train(context.Background(), cfg, tr); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*cfg.Iters), "µs/iter")
		})
	}
}
