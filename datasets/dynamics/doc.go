// Package dynamics generates the synthetic trajectories of the paper's toy
// studies, in float64: the nonlinear pendulum θ” = −g·sin θ with its exact
// solution through Jacobi elliptic functions, and the linear system
// u' = Λu with u(t) = exp(Λt)·u0 (the harmonic oscillator of the operator
// study).
//
// Grids follow numpy's linspace semantics, as the authors' code: n points
// from a to b inclusive, spacing (b−a)/(n−1), the last point exactly b.
package dynamics
