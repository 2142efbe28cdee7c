package mlp64

import (
	"fmt"
	"math"
)

// Adam is the Adam optimizer with PyTorch's semantics (torch.optim.Adam,
// amsgrad off): with g the gradient (plus WeightDecay·p, L2 style),
//
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	p -= (LR/(1−β1^t)) · m / (√v/√(1−β2^t) + Eps)
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64

	t    int
	m, v []float64
}

// NewAdam returns Adam over n parameters with PyTorch's defaults
// (β1 = 0.9, β2 = 0.999, ε = 1e-8, no weight decay) and learning rate lr.
func NewAdam(n int, lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, m: make([]float64, n), v: make([]float64, n)}
}

// Steps returns the number of steps taken.
func (a *Adam) Steps() int { return a.t }

// Step updates p in place from the gradient g.
func (a *Adam) Step(p, g []float64) {
	if len(p) != len(a.m) || len(g) != len(a.m) {
		panic(fmt.Sprintf("mlp64: Adam.Step: %d parameters and %d gradients, optimizer made for %d", len(p), len(g), len(a.m)))
	}
	a.t++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.t))
	step := a.LR / bc1
	sq2 := math.Sqrt(bc2)
	for i := range p {
		gi := g[i]
		if a.WeightDecay != 0 {
			gi += a.WeightDecay * p[i]
		}
		a.m[i] = a.Beta1*a.m[i] + (1-a.Beta1)*gi
		a.v[i] = a.Beta2*a.v[i] + (1-a.Beta2)*gi*gi
		p[i] -= step * a.m[i] / (math.Sqrt(a.v[i])/sq2 + a.Eps)
	}
}
