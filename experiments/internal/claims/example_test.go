package claims_test

import (
	"fmt"

	"github.com/continuousnet/repro/experiments/internal/claims"
)

// The model of a cifar-train run: the quick profile's RK4-classic net at
// K = 4 (ReLU-before-BN unit, no SkipInit, no final BN). Its 463,130
// parameters are the count the authors' notebook prints for their K = 4
// "SingleSegment" net (paper/README.md E2).
func ExampleTrainParams_ModelConfig() {
	p := claims.TrainParams{Dataset: "cifar10", TrainPerClass: 500, Width: 16, Stem: "3x3", Unit: "conv-relu-bn",
		BN: "per-piece", Epsilon: 1, Scheme: "rk4-classic", K0: 4, KnotRule: "next-piece", Batch: 128, DropLast: true}
	cfg := p.ModelConfig()
	fmt.Println(cfg.Scheme.ID(), "K =", cfg.Pieces, "parameters:", cfg.NumParams())
	fmt.Println("steps per epoch:", p.StepsPerEpoch())
	// Output:
	// rk4-classic K = 4 parameters: 463130
	// steps per epoch: 39
}

// A pendulum run's parameters are the study's configuration; the seed is
// the run's.
func ExamplePendulumParams_Config() {
	p := claims.PendulumParams{G: 9.81, Theta0: 2.356194490192345, TData: 10, NData: 1000, Hidden: 50, Iters: 25000,
		Batch: 128, LR: 1e-4, Init: "xavier-normal", LogEvery: 250, TEval: 5, PointsPerH1: 500}
	cfg := p.Config(7)
	fmt.Println(cfg.Seed, cfg.Iters, cfg.Validate() == nil)
	// Output:
	// 7 25000 true
}
