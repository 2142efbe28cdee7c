// Package odenet is the ContinuousNet of Queiruga et al., "Continuous-in-Depth
// Neural Networks" (arXiv 2008.02389), on nnlib's float32 tape: a residual
// unit R whose weights θ(t) vary with depth t ∈ [0, 1], integrated by an
// explicit Runge-Kutta tableau in Nt uniform steps.
//
// # The model
//
// An [OdeBlock] maps x(0) to x(1) for dx/dt = R(x; θ(t)), where
//
//	R(x; θ_k) = ε · α_k · h(x; θ_k)
//
// h is the two-convolution residual unit ([PreActivation]: BN-ReLU-conv-
// BN-ReLU-conv, or [ConvReLUBN]: conv-ReLU-BN-conv-ReLU-BN; 3×3 convs with
// bias, one BatchNorm per piece), α_k the per-piece SkipInit scalar
// (initialised to 0 in the paper, so every block starts as the identity)
// and ε the time scale. θ(t) is piecewise-constant with K pieces (the
// paper's basis): every time-dependent tensor has a leading piece axis of
// length K and piece k covers [k/K, (k+1)/K). The [PiecewiseLinear] basis
// instead holds K+1 nodal values of the conv weights, biases and SkipInit
// scalars (continuous in depth), with BatchNorm still piecewise-constant.
//
// One step of size Δt = 1/Nt from x_n computes, for stages i = 0..s−1,
//
//	k_i = R(x_n + Δt·Σ_{j<i} a_ij·k_j; θ_{p(n,i)}),   x_{n+1} = x_n + Δt·Σ_i b_i·k_i,
//
// skipping zero coefficients. The per-unit residual scale is therefore
// ε·Δt·(a or b) = ε/Nt for Euler; ε is folded into those LinComb
// coefficients (one rounding, one pass over memory fewer than a separate
// scale). With Euler and Nt = K the block is exactly a ResNet stage of K
// residual units x_{k+1} = x_k + (ε/K)·α_k·h(x_k; θ_k).
//
// # Which piece a stage reads
//
// p(n, i) comes from [integrators.Tableau.Piece] with a named
// [integrators.KnotRule], computed exactly from the rational node c_i. The
// default is [integrators.NextPiece], floor((n + c_i)·K/Nt) clamped to
// K−1: a stage on a knot reads the piece that starts there. That is what
// the authors' runs did (their fork subtracted 1e-15 from the stage time to
// read the step's own piece, a no-op in float32), so it is the default to
// match their numbers and nnlib/testdata/bench/torch_reference.py.
// [integrators.OwnPiece] gives the intended semantics: with Nt = K every
// stage of step n reads piece n.
//
// # Manifestation, refinement, θ-coarsening
//
// A trained [Net] stores only θ (and BatchNorm state); the scheme, Nt and
// knot rule are a runtime setting ([Net.SetScheme], [Net.SetSteps],
// [Net.SetKnotRule]) that touches no parameter; Nt < K is Nt-coarsening
// (fewer steps, θ untouched). [Net.Refine] maps K → 2K by
// copying every piece into two (optionally multiplying conv weights and
// biases of the ODE blocks by 1 + v·N(0,1)) and doubles Nt; with v = 0 the
// refined net computes bit for bit what the original computed at every
// (scheme, Nt). [Net.Coarsen] is θ-coarsening: it maps θ from 2K to K
// pieces by averaging pairs or sampling every other piece, and halves Nt;
// coarsen(refine(θ)) = θ exactly. For the piecewise-linear basis
// refinement inserts the midpoints of the nodes and θ-coarsening drops
// every other node.
//
// # The network
//
// [Net] is the paper's three-stage CIFAR network: a stem conv (3×3, or the
// arXiv-v1 7×7 with padding 1; no bias), BN, ReLU, OdeBlock(α),
// Stitch(α→2α), OdeBlock(2α), Stitch(2α→4α), OdeBlock(4α), an optional final
// BN-ReLU, global average pooling and a linear head. A [Stitch] is the
// non-ODE downsampling block out = Down(x) + s·h(x), Down a 1×1 stride-2
// conv without bias and h = conv3×3/2 → ReLU → BN → conv3×3 → ReLU → BN.
//
// # Baselines
//
// The same network with Euler and Nt = K is a ResNet (pre-activation,
// with SkipInit and residual scale ε/K): the ResNet of every comparison.
package odenet
