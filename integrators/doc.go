// Package integrators provides explicit Runge-Kutta methods as validated
// Butcher tableaus and one generic fixed-step stepper.
//
// A [Tableau] holds its coefficients exactly, as rationals, and validates
// itself when built: A strictly lower triangular with consistent shapes,
// rows of A summing to the nodes c, weights b summing to 1 and the order
// conditions up to the declared order (at most 4). Float64 copies of the
// coefficients are what the stepper computes with; the exact nodes let a
// caller decide, by integer arithmetic, which piece of a piecewise-constant
// weight function a stage reads ([Tableau.Piece]).
//
// Built-in tableaus are named by ids that are safe in file names
// ([BuiltinIDs]): euler, midpoint, heun, kutta3, ssprk3, rk4-classic and
// rk4-38. torchdiffeq's "rk4" is the 3/8 rule; it is accepted by [Builtin] as
// an alias of rk4-38 and nothing else, so the two RK4 rules cannot be
// confused. User tableaus come from data through [Parse] or [Spec], with
// fractions written like "1/3".
//
// The [Stepper] is generic over the state type through an [Ops] value (the
// vector-space operations the stepper needs), so the same code integrates
// float64 vectors ([Float64s]) and, later, network tensors. Step grids are
// integer: the time of step k is t0 + k·h, never an accumulated sum, and the
// rate function is told the step index and the stage index as well as t.
package integrators
