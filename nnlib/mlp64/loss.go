package mlp64

import (
	"fmt"
	"math"
)

func checkLoss(name string, pred, target, dpred []float64) {
	if len(pred) != len(target) || (dpred != nil && len(dpred) != len(pred)) || len(pred) == 0 {
		panic(fmt.Sprintf("mlp64: %s: pred %d, target %d, dpred %d values; want equal non-zero lengths (dpred may be nil)",
			name, len(pred), len(target), len(dpred)))
	}
}

// L1 returns mean |pred − target| over all entries (PyTorch's L1Loss with
// reduction "mean") and, if dpred is not nil, sets it to the gradient
// sign(pred − target)/N, with sign(0) = 0 as in PyTorch.
func L1(pred, target, dpred []float64) float64 {
	checkLoss("L1", pred, target, dpred)
	n := float64(len(pred))
	s := 0.0
	for i, p := range pred {
		d := p - target[i]
		s += math.Abs(d)
		if dpred != nil {
			switch {
			case d > 0:
				dpred[i] = 1 / n
			case d < 0:
				dpred[i] = -1 / n
			default:
				dpred[i] = 0
			}
		}
	}
	return s / n
}

// MSE returns mean (pred − target)² over all entries (PyTorch's MSELoss)
// and, if dpred is not nil, sets it to the gradient 2(pred − target)/N.
func MSE(pred, target, dpred []float64) float64 {
	checkLoss("MSE", pred, target, dpred)
	n := float64(len(pred))
	s := 0.0
	for i, p := range pred {
		d := p - target[i]
		s += d * d
		if dpred != nil {
			dpred[i] = 2 * d / n
		}
	}
	return s / n
}
