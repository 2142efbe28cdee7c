package nnlib

import (
	"fmt"
	"math"

	"github.com/continuousnet/repro/nnlib/internal/kernels"
)

// GlobalAvgPool records the mean over each channel's H·W positions:
//
//	x [C, N, H, W] → y [N, C],  y[n][c] = Σ_{h,w} x[c][n][h][w] / (H·W)
func (g *Graph) GlobalAvgPool(x *Value) *Value {
	if len(x.Shape) != 4 {
		panic(fmt.Sprintf("nnlib.Graph.GlobalAvgPool: x shape %v, want [C N H W]", x.Shape))
	}
	c, n, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	y := g.value(true, n, c)
	nd := g.push(opPool)
	nd.x, nd.out = x, y
	inv := 1 / float32(hw)
	for ch := 0; ch < c; ch++ {
		for b := 0; b < n; b++ {
			y.Data[b*c+ch] = kernels.Sum(x.Data[(ch*n+b)*hw:(ch*n+b+1)*hw]) * inv
		}
	}
	return y
}

// poolBackward: dx[c][n][h][w] += dy[n][c] / (H·W).
func (g *Graph) poolBackward(nd *node) {
	x, y := nd.x, nd.out
	if !x.requiresGrad {
		return
	}
	c, n, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	gx, fresh := g.grad(x)
	ones := g.onesN(hw)
	inv := 1 / float32(hw)
	for ch := 0; ch < c; ch++ {
		for b := 0; b < n; b++ {
			v := y.Grad[b*c+ch] * inv
			blk := gx[(ch*n+b)*hw : (ch*n+b+1)*hw]
			if fresh {
				kernels.Scale(blk, v, ones)
			} else {
				kernels.Axpy(v, ones, blk)
			}
		}
	}
}

// Linear records a fully connected layer (PyTorch weight layout):
//
//	x [N, F], w [Out, F], b [Out] or absent → y [N, Out],  y = x·wᵀ + b
func (g *Graph) Linear(x *Value, w, b ParamRef) *Value {
	ws := w.Shape()
	if len(x.Shape) != 2 || len(ws) < 2 || ws[len(ws)-1] != x.Shape[1] {
		panic(fmt.Sprintf("nnlib.Graph.Linear: x shape %v, weight shape %v: want [N F] and [Out F]", x.Shape, ws))
	}
	n, f, out := x.Shape[0], x.Shape[1], ws[len(ws)-2]
	if b.Valid() && b.N != out {
		panic(fmt.Sprintf("nnlib.Graph.Linear: bias %s has %d elements, want %d", b.P.Name, b.N, out))
	}
	y := g.value(true, n, out)
	nd := g.push(opLinear)
	nd.x, nd.out, nd.w, nd.b = x, y, w, b
	kernels.Sgemm(false, true, n, out, f, 1, x.Data, f, w.Data(), f, 0, y.Data, out)
	if b.Valid() {
		bd := b.Data()
		for i := 0; i < n; i++ {
			kernels.Add(y.Data[i*out:(i+1)*out], y.Data[i*out:(i+1)*out], bd)
		}
	}
	return y
}

// linearBackward: dW += dyᵀ·x; db += Σ_n dy; dx += dy·W.
func (g *Graph) linearBackward(nd *node) {
	x, y := nd.x, nd.out
	n, f, out := x.Shape[0], x.Shape[1], y.Shape[1]
	kernels.Sgemm(true, false, out, f, n, 1, y.Grad, out, x.Data, f, 1, nd.w.Grad(), f)
	if nd.b.Valid() {
		bg := nd.b.Grad()
		for i := 0; i < n; i++ {
			kernels.Add(bg, bg, y.Grad[i*out:(i+1)*out])
		}
	}
	if !x.requiresGrad {
		return
	}
	gx, fresh := g.grad(x)
	var beta float32 = 1
	if fresh {
		beta = 0
	}
	kernels.Sgemm(false, false, n, f, out, 1, y.Grad, out, nd.w.Data(), f, beta, gx, f)
}

// SoftmaxCrossEntropy records the mean over the batch of the cross-entropy
// of softmax(logits) against integer labels:
//
//	logits [N, K], labels[n] ∈ [0, K) → loss [1],
//	loss = (1/N) Σ_n (log Σ_k exp(z[n][k]) − z[n][labels[n]])
//
// The log-sum-exp is computed in float64 after subtracting the row maximum.
func (g *Graph) SoftmaxCrossEntropy(logits *Value, labels []int) *Value {
	if len(logits.Shape) != 2 || logits.Shape[0] != len(labels) {
		panic(fmt.Sprintf("nnlib.Graph.SoftmaxCrossEntropy: logits shape %v with %d labels", logits.Shape, len(labels)))
	}
	n, k := logits.Shape[0], logits.Shape[1]
	y := g.value(true, 1)
	nd := g.push(opCE)
	nd.x, nd.out = logits, y
	nd.labels = append(nd.labels, labels...)
	grow(&nd.probs, n*k)
	var total float64
	for i := 0; i < n; i++ {
		if labels[i] < 0 || labels[i] >= k {
			panic(fmt.Sprintf("nnlib.Graph.SoftmaxCrossEntropy: label[%d]=%d outside [0,%d)", i, labels[i], k))
		}
		z := logits.Data[i*k : (i+1)*k]
		zmax := z[0]
		for _, v := range z[1:] {
			zmax = max(zmax, v)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v - zmax))
		}
		p := nd.probs[i*k : (i+1)*k]
		for j, v := range z {
			p[j] = float32(math.Exp(float64(v-zmax)) / s)
		}
		total += math.Log(s) - float64(z[labels[i]]-zmax)
	}
	y.Data[0] = float32(total / float64(n))
	return y
}

// ceBackward: dz[n][k] += dloss·(p[n][k] − [k = label n]) / N.
func (g *Graph) ceBackward(nd *node) {
	x := nd.x
	if !x.requiresGrad {
		return
	}
	n, k := x.Shape[0], x.Shape[1]
	gx, fresh := g.grad(x)
	s := nd.out.Grad[0] / float32(n)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			d := nd.probs[i*k+j]
			if j == nd.labels[i] {
				d--
			}
			if fresh {
				gx[i*k+j] = s * d
			} else {
				gx[i*k+j] += s * d
			}
		}
	}
}

// Accuracy returns the fraction of rows of logits [N, K] whose largest
// entry (the first, on ties) is at the label.
func Accuracy(logits *Value, labels []int) float64 {
	if len(logits.Shape) != 2 || logits.Shape[0] != len(labels) {
		panic(fmt.Sprintf("nnlib.Accuracy: logits shape %v with %d labels", logits.Shape, len(labels)))
	}
	n, k := logits.Shape[0], logits.Shape[1]
	if n == 0 {
		return 0
	}
	correct := 0
	for i := 0; i < n; i++ {
		if Argmax(logits.Data[i*k:(i+1)*k]) == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

// Argmax returns the index of the largest element (the first on ties; -1
// for an empty slice).
func Argmax(x []float32) int {
	best := -1
	for i, v := range x {
		if best < 0 || v > x[best] {
			best = i
		}
	}
	return best
}
