// Package integrators provides explicit Runge-Kutta methods as validated
// Butcher tableaus and a generic fixed-step stepper.
package integrators
