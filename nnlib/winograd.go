package nnlib

import "github.com/continuousnet/repro/nnlib/internal/kernels"

// Stride-1 3×3 convolutions with padding 1 on planes of even size (every
// convolution inside a ResNet stage or a ContinuousNet's ODE blocks) run as
// Winograd F(2×2, 3×3): per chunk of images, the input is transformed
// (kernels.WinogradInput), multiplied by the transformed kernel in 16
// GEMMs over channels, one per position of the 4×4 transformed tile, and
// transformed back (kernels.WinogradOutput). That is 16 multiplies per 2×2
// outputs and channel pair instead of 36, and no im2col. The backward pass
// stays in the Winograd domain too: the input gradient is the same
// computation on dY with the flipped, transposed kernel, and the weight
// gradient is 16 GEMMs of the transformed output gradient
// (kernels.WinogradGrad) with the transformed input over the tiles,
// mapped back by Gᵀ·(·)·G.
//
// The rounding differs from the direct convolution's: the transforms add
// and subtract up to 16 inputs before the products, so the error bound
// grows by a small constant factor (TestWinogradMatchesDirect bounds it
// against a float64 reference at every kernel level).

// winogradOn selects the Winograd path where it applies (a variable so
// that tests and benchmarks can compare it with the im2col path).
var winogradOn = true

// SetWinograd turns the Winograd path of stride-1 3×3 convolutions on or
// off and returns the previous setting. It is meant for tests and
// benchmarks that compare the two; it must not be called while a graph
// runs.
func SetWinograd(on bool) bool {
	prev := winogradOn
	winogradOn = on
	return prev
}

// ConvAlgorithm names the convolution algorithm of stride-1 3×3
// convolutions, for provenance records.
func ConvAlgorithm() string {
	if winogradOn {
		return "winograd-f2x2-3x3"
	}
	return "im2col"
}

// useWinograd reports whether a convolution runs on the Winograd path.
func useWinograd(k, stride, pad, h, w int) bool {
	return winogradOn && k == 3 && stride == 1 && pad == 1 && h%2 == 0 && w%2 == 0
}

// winogradWeights writes the transformed kernels U = G·g·Gᵀ (in float64,
// rounded once) for the GEMMs over channels, with
//
//	G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//	flip = false:  u[ξ][co][ci] = (G·w[co][ci]·Gᵀ)[ξ]                (forward)
//	flip = true:   u[ξ][ci][co] = (G·w[co][ci] rotated 180°·Gᵀ)[ξ]   (input gradient)
//
// The kernels are independent, so output channels are shared out over the
// threads: serial, the transforms took ≈ 3 % of a ResNet-20 step's wall time
// on 2 threads (CPU profile, Zen 4), the other thread idle meanwhile. The
// work passed to parallelFor counts ≈ 100 ns per kernel as 256 elements of
// an elementwise pass.
func winogradWeights(u, w []float32, cout, cin int, flip bool) {
	parallelFor(cout, 256*cout*cin, func(lo, hi int) { winogradWeightsRows(u, w, cout, cin, flip, lo, hi) })
}

// winogradWeightsRows is winogradWeights for the output channels [lo, hi).
func winogradWeightsRows(u, w []float32, cout, cin int, flip bool, lo, hi int) {
	n := cout * cin
	for co := lo; co < hi; co++ {
		for ci := range cin {
			var g [9]float64
			for i, v := range w[(co*cin+ci)*9 : (co*cin+ci+1)*9] {
				if flip {
					i = 8 - i // (a, b) → (2−a, 2−b)
				}
				g[i] = float64(v)
			}
			idx := co*cin + ci
			if flip {
				idx = ci*cout + co
			}
			// t = G·g (4×3), then each row of t times Gᵀ.
			var t [4][3]float64
			for b := range 3 {
				g0, g1, g2 := g[b], g[3+b], g[6+b]
				t[0][b], t[1][b], t[2][b], t[3][b] = g0, 0.5*(g0+g1+g2), 0.5*(g0-g1+g2), g2
			}
			for i, r := range t {
				u[(4*i)*n+idx] = float32(r[0])
				u[(4*i+1)*n+idx] = float32(0.5 * (r[0] + r[1] + r[2]))
				u[(4*i+2)*n+idx] = float32(0.5 * (r[0] - r[1] + r[2]))
				u[(4*i+3)*n+idx] = float32(r[2])
			}
		}
	}
}

// winogradWeightGrad adds Gᵀ·dU·G (in float64) of du[ξ][co][ci] into the
// kernel gradient wg[co][ci][3][3] (Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]).
//
// In parallel over the kernels, as winogradWeights.
func winogradWeightGrad(wg, du []float32, cout, cin int) {
	n := cout * cin
	parallelFor(n, 256*n, func(lo, hi int) { winogradWeightGradRange(wg, du, n, lo, hi) })
}

// winogradWeightGradRange is winogradWeightGrad for the kernels [lo, hi)
// of n.
func winogradWeightGradRange(wg, du []float32, n, lo, hi int) {
	for idx := lo; idx < hi; idx++ {
		// r = Gᵀ·dU (3×4), then each row of r times G.
		var r [3][4]float64
		for j := range 4 {
			d0, d1, d2, d3 := float64(du[j*n+idx]), float64(du[(4+j)*n+idx]), float64(du[(8+j)*n+idx]), float64(du[(12+j)*n+idx])
			r[0][j], r[1][j], r[2][j] = d0+0.5*(d1+d2), 0.5*(d1-d2), 0.5*(d1+d2)+d3
		}
		g := wg[idx*9 : idx*9+9]
		for a, q := range r {
			g[3*a] += float32(q[0] + 0.5*(q[1]+q[2]))
			g[3*a+1] += float32(0.5 * (q[1] - q[2]))
			g[3*a+2] += float32(0.5*(q[1]+q[2]) + q[3])
		}
	}
}

// winogradChunks returns the number of image chunks of a Winograd
// convolution whose transformed operands take perImage floats per image:
// as few as keep a chunk's operands within colsChunkBytes, rounded up to an
// even count as convChunks does. It depends on the shapes only.
func winogradChunks(perImage, n int) int { return convChunks(perImage, 1, n) }

// winogradRow returns the distance in floats between the channels' rows
// of t tiles inside one position block: t plus 16 floats. The GEMMs read
// and write 16 or more of those rows at once (the depth of the products
// over channels), and with t a multiple of 1024 tiles (four 32×32 images)
// rows packed end to end lie a multiple of 4 KiB apart and compete for the
// same L1 cache set: measured on AMD Zen 4 (AVX2 kernels), the
// 16×1024×16 products of the first stage ran at 62 GFLOP/s with packed
// rows and 98 GFLOP/s with padded ones. Only the layout changes, not one
// sum.
func winogradRow(t int) int { return t + 16 }

// winogradBlock returns the distance in floats between the 16 position
// blocks of a chunk's transformed operand of c channels and t tiles: c
// padded rows (winogradRow) plus 16 floats, so that the 16 streams a
// transform writes or reads, which would otherwise lie a multiple of 4 KiB
// apart, fall into different L1 cache sets (measured on AMD Zen 4: the
// transforms took 3× as long with the blocks packed end to end).
func winogradBlock(c, t int) int { return c*winogradRow(t) + 16 }

// convWinograd computes y = conv(x, w) + b on the Winograd path.
func (g *Graph) convWinograd(y, x *Value, w, b ParamRef, cin, cout int) {
	n, h, wd := x.Shape[1], x.Shape[2], x.Shape[3]
	hw, tiles := h*wd, h*wd/4
	u := grow(&g.wt, 16*cout*cin)
	winogradWeights(u, w.Data(), cout, cin, false)
	var bias []float32
	if b.Valid() {
		bias = b.Data()
	}
	nc := winogradChunks(16*(cin+cout)*tiles, n)
	tc := chunkLen(n, nc) * tiles
	scr := g.scratch(16 * (winogradBlock(cin, tc) + winogradBlock(cout, tc)))
	parallelForW(nc, 2*9*cin*cout*n*hw, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			b0, b1 := chunkRange(n, nc, c)
			t := (b1 - b0) * tiles
			tr := winogradRow(t)
			lv, lm := winogradBlock(cin, t), winogradBlock(cout, t)
			v, m := scr[wk][:16*lv], scr[wk][16*lv:16*(lv+lm)]
			for ci := range cin {
				kernels.WinogradInput(v[ci*tr:], lv, x.Data[ci*n*hw+b0*hw:], b1-b0, h, wd)
			}
			for xi := range 16 {
				kernels.Sgemm(false, false, cout, t, cin, 1, u[xi*cout*cin:], cin, v[xi*lv:], tr, 0, m[xi*lm:], tr)
			}
			for co := range cout {
				var bc float32
				if bias != nil {
					bc = bias[co]
				}
				kernels.WinogradOutput(y.Data[co*n*hw+b0*hw:], m[co*tr:], lm, b1-b0, h, wd, bc, false)
			}
		}
	})
}

// convBackwardWinograd is the backward pass of a convolution on the
// Winograd path: per chunk, the weight gradient's 16 GEMMs
// dU[ξ] = Ŷ[ξ]·V[ξ]ᵀ (summed over the chunks in order, then mapped back),
// the bias gradient, and, when x needs one, the input gradient as the
// forward computation on dY with the flipped kernel, written (fresh) or
// added into gx.
func (g *Graph) convBackwardWinograd(gx []float32, fresh bool, gy, x []float32, w, b ParamRef, cin, cout, n, h, wd int) {
	hw, tiles := h*wd, h*wd/4
	var ut []float32
	if gx != nil {
		ut = grow(&g.wt, 16*cout*cin)
		winogradWeights(ut, w.Data(), cout, cin, true)
	}
	nc := winogradChunks(16*(cin+cout)*tiles, n)
	tc := chunkLen(n, nc) * tiles
	scr := g.scratch(16 * (winogradBlock(cin, tc) + winogradBlock(cout, tc)))
	parts := g.gradParts(nc, 16*cout*cin, b, cout)
	parallelForW(nc, 3*2*9*cin*cout*n*hw, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			b0, b1 := chunkRange(n, nc, c)
			t := (b1 - b0) * tiles
			tr := winogradRow(t)
			lv, le := winogradBlock(cin, t), winogradBlock(cout, t)
			v, e := scr[wk][:16*lv], scr[wk][16*lv:16*(lv+le)]
			parts.bias(c, gy, n*hw, b0*hw, (b1-b0)*hw)
			for ci := range cin {
				kernels.WinogradInput(v[ci*tr:], lv, x[ci*n*hw+b0*hw:], b1-b0, h, wd)
			}
			for co := range cout {
				kernels.WinogradGrad(e[co*tr:], le, gy[co*n*hw+b0*hw:], b1-b0, h, wd)
			}
			du := parts.w(c)
			for xi := range 16 {
				kernels.Sgemm(false, true, cout, cin, t, 1, e[xi*le:], tr, v[xi*lv:], tr, 0, du[xi*cout*cin:], cin)
			}
			if gx == nil {
				continue
			}
			// The input gradient: e now holds dY's input transform, v the
			// products, which the output transform takes back into gx.
			for co := range cout {
				kernels.WinogradInput(e[co*tr:], le, gy[co*n*hw+b0*hw:], b1-b0, h, wd)
			}
			for xi := range 16 {
				kernels.Sgemm(false, false, cin, t, cout, 1, ut[xi*cin*cout:], cout, e[xi*le:], tr, 0, v[xi*lv:], tr)
			}
			for ci := range cin {
				kernels.WinogradOutput(gx[ci*n*hw+b0*hw:], v[ci*tr:], lv, b1-b0, h, wd, 0, !fresh)
			}
		}
	})
	du := grow(&g.gwt, 16*cout*cin)
	clear(du)
	parts.sumInto(du, b)
	winogradWeightGrad(w.Grad(), du, cout, cin)
}
