// Package claims implements the experiment kinds that run the paper's
// claims, and registers them with the harness when imported:
//
//   - "pendulum" (claim a, figure 3): the nonlinear-pendulum convergence
//     test and the linear-oscillator operator study (package pendulum);
//   - "cifar-train": trains a ContinuousNet (with Euler and Nt = K, a
//     ResNet) on CIFAR-10, optionally refining it K → 2K during training,
//     with the piecewise-constant basis of θ(t) or the piecewise-linear one,
//     and writes the trained model as an artifact;
//   - "cifar-sweep": evaluates a trained model under other manifestations
//     (scheme × Nt) and, optionally, times its inference;
//   - "cifar-theta-coarsen" (the opt-in extensions experiment): θ-coarsens a
//     trained model (odenet's Net.Coarsen, 2K → K pieces) and compares its
//     accuracy and inference time with Nt-coarsening (fewer steps alone);
//   - "summary-b", "summary-c", "summary-d": the criterion metrics of claims
//     (a, b), (c) and (d), computed from the records of the runs they need.
//
// The record contents (metric and series names, labels) are the contract
// between these kinds and the report package; see each kind's doc comment.
package claims

import "github.com/continuousnet/repro/experiments/internal/harness"

func init() {
	harness.Register(pendulumKind{})
	harness.Register(trainKind{})
	harness.Register(sweepKind{})
	harness.Register(thetaCoarsenKind{})
	harness.Register(summaryB)
	harness.Register(summaryC)
	harness.Register(summaryD)
}
