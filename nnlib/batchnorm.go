package nnlib

import (
	"fmt"
	"math"

	"github.com/continuousnet/repro/nnlib/internal/kernels"
)

// BatchNorm records a 2-D batch normalization with PyTorch semantics.
//
//	x [C, N, H, W] (any trailing dims; each channel row has M = N·H·W elements)
//	gamma, beta [C]; runMean, runVar [C] (updated in place in training mode)
//	y [C, N, H, W]
//
// Training: y = γ·(x − μ_B)/√(σ²_B + eps) + β with the batch mean μ_B and the
// biased batch variance σ²_B; then runMean ← (1−momentum)·runMean +
// momentum·μ_B and runVar ← (1−momentum)·runVar + momentum·σ²_B·M/(M−1)
// (unbiased). Evaluation: y = γ·(x − runMean)/√(runVar + eps) + β.
// PyTorch's defaults are momentum 0.1, eps 1e-5.
func (g *Graph) BatchNorm(x *Value, gamma, beta ParamRef, runMean, runVar []float32, momentum, eps float32) *Value {
	if len(x.Shape) < 2 {
		panic(fmt.Sprintf("nnlib.Graph.BatchNorm: x shape %v, want [C N ...]", x.Shape))
	}
	c := x.Shape[0]
	if gamma.N != c || beta.N != c || len(runMean) != c || len(runVar) != c {
		panic(fmt.Sprintf("nnlib.Graph.BatchNorm: %d channels but gamma %d, beta %d, running mean %d, running var %d",
			c, gamma.N, beta.N, len(runMean), len(runVar)))
	}
	m := len(x.Data) / c
	train := g.training
	if train && m < 2 {
		panic(fmt.Sprintf("nnlib.Graph.BatchNorm: training needs more than one value per channel, got shape %v", x.Shape))
	}
	y := g.value(true, x.Shape...)
	nd := g.push(opBN)
	nd.x, nd.out, nd.w, nd.b, nd.train = x, y, gamma, beta, train
	nd.mean = growLen(nd.mean, c)
	nd.invstd = growLen(nd.invstd, c)
	gd, bd := gamma.Data(), beta.Data()
	ones := g.onesN(m)
	if !train {
		parallelFor(c, len(x.Data), func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				inv := float32(1 / math.Sqrt(float64(runVar[ch])+float64(eps)))
				nd.mean[ch], nd.invstd[ch] = runMean[ch], inv
				a := gd[ch] * inv
				row := y.Data[ch*m : (ch+1)*m]
				kernels.Scale(row, a, x.Data[ch*m:(ch+1)*m])
				kernels.Axpy(bd[ch]-a*runMean[ch], ones, row)
			}
		})
		return y
	}
	// xc holds the centred input x − μ_B; the backward pass applies invstd.
	xc := g.value(false, x.Shape...)
	nd.xc = xc
	parallelFor(c, len(x.Data), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			xr, hr, yr := x.Data[ch*m:(ch+1)*m], xc.Data[ch*m:(ch+1)*m], y.Data[ch*m:(ch+1)*m]
			mean := kernels.Sum(xr) / float32(m)
			copy(hr, xr)
			kernels.Axpy(-mean, ones, hr)
			v := kernels.SumSq(hr) / float32(m)
			inv := float32(1 / math.Sqrt(float64(v)+float64(eps)))
			kernels.Scale(yr, gd[ch]*inv, hr)
			kernels.Axpy(bd[ch], ones, yr)
			nd.mean[ch], nd.invstd[ch] = mean, inv
			unbiased := v * float32(m) / float32(m-1)
			runMean[ch] = (1-momentum)*runMean[ch] + momentum*mean
			runVar[ch] = (1-momentum)*runVar[ch] + momentum*unbiased
		}
	})
	return y
}

func growLen(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// bnBackward, with k = γ·invstd, per channel:
//
//	dβ += Σ dy;  dγ += Σ dy·x̂   (x̂ = (x − μ_B)·invstd; the tape keeps x − μ_B)
//	training:   dx += k·(dy − Σdy/M − x̂·Σ(dy·x̂)/M)
//	evaluation: dx += k·dy   (and dγ uses x̂ = (x − runMean)·invstd)
func (g *Graph) bnBackward(nd *node) {
	x, y := nd.x, nd.out
	c := x.Shape[0]
	m := len(x.Data) / c
	gd := nd.w.Data()
	gg, bg := nd.w.Grad(), nd.b.Grad()
	var gx []float32
	fresh := false
	if x.requiresGrad {
		gx, fresh = g.grad(x)
	}
	ones := g.onesN(m)
	parallelFor(c, len(x.Data), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			gy := y.Grad[ch*m : (ch+1)*m]
			db := kernels.Sum(gy)
			var dg float32
			if nd.train {
				dg = nd.invstd[ch] * kernels.Dot(gy, nd.xc.Data[ch*m:(ch+1)*m])
			} else {
				dg = nd.invstd[ch] * (kernels.Dot(gy, x.Data[ch*m:(ch+1)*m]) - nd.mean[ch]*db)
			}
			gg[ch] += dg
			bg[ch] += db
			if gx == nil {
				continue
			}
			k := gd[ch] * nd.invstd[ch]
			gr := gx[ch*m : (ch+1)*m]
			if fresh {
				kernels.Scale(gr, k, gy)
			} else {
				kernels.Axpy(k, gy, gr)
			}
			if nd.train {
				kernels.Axpy(-k*dg*nd.invstd[ch]/float32(m), nd.xc.Data[ch*m:(ch+1)*m], gr)
				kernels.Axpy(-k*db/float32(m), ones, gr)
			}
		}
	})
}
