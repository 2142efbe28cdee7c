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
	return g.batchNorm(x, gamma, beta, runMean, runVar, momentum, eps, false)
}

// BatchNormReLU records y = max(BatchNorm(x), 0) as one op: the same
// numbers, bit for bit, as Relu(BatchNorm(...)), without the intermediate
// tensor. The ReLU is applied to each channel row while it is in cache, and
// the backward pass masks the gradient with y > 0 in a per-worker scratch;
// this saves two passes over memory (one forward, one backward) per pair.
func (g *Graph) BatchNormReLU(x *Value, gamma, beta ParamRef, runMean, runVar []float32, momentum, eps float32) *Value {
	return g.batchNorm(x, gamma, beta, runMean, runVar, momentum, eps, true)
}

func (g *Graph) batchNorm(x *Value, gamma, beta ParamRef, runMean, runVar []float32, momentum, eps float32, relu bool) *Value {
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
	nd.x, nd.out, nd.w, nd.b, nd.train, nd.relu = x, y, gamma, beta, train, relu
	grow(&nd.mean, c)
	grow(&nd.invstd, c)
	gd, bd := gamma.Data(), beta.Data()
	if !train {
		parallelFor(c, len(x.Data), func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				inv := float32(1 / math.Sqrt(float64(runVar[ch])+float64(eps)))
				nd.mean[ch], nd.invstd[ch] = runMean[ch], inv
				a := gd[ch] * inv
				kernels.Affine(y.Data[ch*m:(ch+1)*m], x.Data[ch*m:(ch+1)*m], 0, a, bd[ch]-a*runMean[ch], relu)
			}
		})
		return y
	}
	// Per channel, three passes: the mean, the variance Σ(x − μ_B)²/M, then
	// y = (x − μ_B)·γ·invstd + β (and the ReLU) in one fused pass. The
	// backward pass recomputes x − μ_B inside its kernels instead of keeping
	// it on the tape.
	parallelFor(c, len(x.Data), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			xr, yr := x.Data[ch*m:(ch+1)*m], y.Data[ch*m:(ch+1)*m]
			mean := kernels.Sum(xr) / float32(m)
			v := kernels.SumSqDev(xr, mean) / float32(m)
			inv := float32(1 / math.Sqrt(float64(v)+float64(eps)))
			kernels.Affine(yr, xr, mean, gd[ch]*inv, bd[ch], relu)
			nd.mean[ch], nd.invstd[ch] = mean, inv
			unbiased := v * float32(m) / float32(m-1)
			runMean[ch] = (1-momentum)*runMean[ch] + momentum*mean
			runVar[ch] = (1-momentum)*runVar[ch] + momentum*unbiased
		}
	})
	return y
}

// bnBackward, with k = γ·invstd, per channel (dy masked by y > 0 first
// for BatchNormReLU):
//
//	dβ += Σ dy;  dγ += Σ dy·x̂   (x̂ = (x − μ_B)·invstd; x − μ_B is recomputed)
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
	var scr [][]float32
	if nd.relu {
		scr = g.scratch(m)
	}
	parallelForW(c, len(x.Data), func(w, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			gy := y.Grad[ch*m : (ch+1)*m]
			xr := x.Data[ch*m : (ch+1)*m]
			if nd.relu {
				// Fused ReLU: the gradient reaching the BatchNorm is dy
				// where y > 0, else 0 (y > 0 exactly where BN(x) > 0).
				t := scr[w]
				kernels.ReluBackward(t, gy, y.Data[ch*m:(ch+1)*m])
				gy = t
			}
			db := kernels.Sum(gy)
			var dg float32
			if nd.train {
				dg = nd.invstd[ch] * kernels.DotDev(xr, gy, nd.mean[ch]) // Σ dy·(x − μ_B), x − μ_B recomputed
			} else {
				dg = nd.invstd[ch] * (kernels.Dot(gy, xr) - nd.mean[ch]*db)
			}
			gg[ch] += dg
			bg[ch] += db
			if gx == nil {
				continue
			}
			k := gd[ch] * nd.invstd[ch]
			gr := gx[ch*m : (ch+1)*m]
			switch {
			case nd.train:
				kernels.BNDx(gr, gy, xr, k, -k*dg*nd.invstd[ch]/float32(m), nd.mean[ch], -k*db/float32(m), fresh)
			case fresh:
				kernels.Scale(gr, k, gy)
			default:
				kernels.Axpy(k, gy, gr)
			}
		}
	})
}
