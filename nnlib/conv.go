package nnlib

import (
	"fmt"

	"github.com/continuousnet/repro/nnlib/internal/kernels"
)

// Conv2d records a 2-D convolution (cross-correlation, as PyTorch) with a
// square k×k kernel, the given stride and zero padding, and an optional bias
// (pass the zero ParamRef for none).
//
//	x [Cin, N, H, W] (channel-major)
//	w [Cout, Cin, k, k]  (the last four dims of the reference's shape)
//	b [Cout] or absent
//	y [Cout, N, H', W'],  H' = (H + 2·pad − k)/stride + 1
//
//	y[co][n][oy][ox] = b[co] + Σ_{ci,ky,kx} w[co][ci][ky][kx] · x[ci][n][oy·s+ky−p][ox·s+kx−p]
//
// computed as GEMMs over chunks of images: y = W[Cout][Cin·k·k] × im2col(x),
// or, for a stride-1 3×3 convolution with padding 1 on planes of even size,
// as Winograd F(2×2, 3×3) (see winograd.go).
func (g *Graph) Conv2d(x *Value, w, b ParamRef, stride, pad int) *Value {
	ws := w.Shape()
	if len(x.Shape) != 4 || len(ws) < 4 {
		panic(fmt.Sprintf("nnlib.Graph.Conv2d: x shape %v, w shape %v: want [Cin N H W] and [.. Cout Cin k k]", x.Shape, ws))
	}
	cout, cin, k := ws[len(ws)-4], ws[len(ws)-3], ws[len(ws)-2]
	if ws[len(ws)-1] != k || w.N != cout*cin*k*k {
		panic(fmt.Sprintf("nnlib.Graph.Conv2d: weight shape %v is not [Cout Cin k k]", ws))
	}
	if x.Shape[0] != cin {
		panic(fmt.Sprintf("nnlib.Graph.Conv2d: x has %d channels, weight %s wants %d", x.Shape[0], w.P.Name, cin))
	}
	if b.Valid() && b.N != cout {
		panic(fmt.Sprintf("nnlib.Graph.Conv2d: bias %s has %d elements, want Cout=%d", b.P.Name, b.N, cout))
	}
	if stride < 1 || pad < 0 {
		panic(fmt.Sprintf("nnlib.Graph.Conv2d: stride=%d pad=%d", stride, pad))
	}
	n, h, wd := x.Shape[1], x.Shape[2], x.Shape[3]
	ho, wo := (h+2*pad-k)/stride+1, (wd+2*pad-k)/stride+1
	if ho < 1 || wo < 1 {
		panic(fmt.Sprintf("nnlib.Graph.Conv2d: %d×%d input too small for k=%d pad=%d", h, wd, k, pad))
	}
	y := g.value(true, cout, n, ho, wo)
	nd := g.push(opConv)
	nd.x, nd.out, nd.w, nd.b, nd.stride, nd.pad = x, y, w, b, stride, pad

	m, kk := n*ho*wo, cin*k*k
	if direct(k, stride, pad) {
		kernels.Sgemm(false, false, cout, m, kk, 1, w.Data(), kk, x.Data, m, 0, y.Data, m)
		addBias(y.Data, b, g.onesN(m), cout, m, 0, m)
		return y
	}
	if useWinograd(k, stride, pad, h, wd) {
		g.convWinograd(y, x, w, b, cin, cout)
		return y
	}
	nc := convChunks(kk, ho*wo, n)
	colsMax := kk * chunkLen(n, nc) * ho * wo
	scr := g.scratch(colsMax + phaseLen(cin, chunkLen(n, nc), h, wd, stride, ho, wo))
	ones := g.onesN(chunkLen(n, nc) * ho * wo) // taken before the chunks run: they only read it
	parallelForW(nc, 2*kk*m, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			b0, b1 := chunkRange(n, nc, c)
			mc := (b1 - b0) * ho * wo
			cols := scr[wk][:kk*mc]
			im2col(cols, scr[wk][colsMax:], x.Data, cin, n*h*wd, b0*h*wd, b1-b0, h, wd, k, stride, pad, ho, wo)
			kernels.Sgemm(false, false, cout, mc, kk, 1, w.Data(), kk, cols, mc, 0, y.Data[b0*ho*wo:], m)
			// The bias goes onto the chunk the GEMM just wrote, while it is
			// still in cache.
			addBias(y.Data, b, ones[:mc], cout, m, b0*ho*wo, mc)
		}
	})
	return y
}

// addBias adds b[co] to the columns [off, off+mc) of every row co of y
// [cout][m] (nothing when b is absent), with ones holding mc ones.
func addBias(y []float32, b ParamRef, ones []float32, cout, m, off, mc int) {
	if !b.Valid() {
		return
	}
	bd := b.Data()
	parallelFor(cout, cout*mc, func(lo, hi int) {
		for co := lo; co < hi; co++ {
			kernels.Axpy(bd[co], ones, y[co*m+off:co*m+off+mc])
		}
	})
}

// direct reports whether a convolution reads x itself as its column matrix
// (1×1, stride 1, no padding).
func direct(k, stride, pad int) bool { return k == 1 && stride == 1 && pad == 0 }

// colsChunkBytes bounds the column matrix of one GEMM: a convolution is
// computed over chunks of whole images so that im2col's output is still in
// cache when the GEMM reads it. The chunking depends only on the shapes,
// never on the thread count. (A variable so tests can force several chunks.)
var colsChunkBytes = 2 << 20

// convChunks returns the number of image chunks of a conv whose column
// matrix has kk rows and hw columns per image: as few as keep each chunk's
// columns within colsChunkBytes, rounded up to an even number (when there
// are at least two images) so that two threads get equal halves. Chunk c
// holds images chunkRange(n, nc, c).
//
// The chunks are independent (disjoint outputs; the weight and bias
// gradients are summed per chunk and then over the chunks in order), so
// they run in parallel with single-threaded GEMMs inside: one hand-off per
// conv instead of one per GEMM and per im2col.
func convChunks(kk, hw, n int) int {
	per := max(1, colsChunkBytes/4/max(1, kk*hw))
	nc := (n + per - 1) / per
	if nc%2 == 1 && nc < n {
		nc++
	}
	return nc
}

// chunkRange returns the images [b0, b1) of chunk c of nc over n images.
func chunkRange(n, nc, c int) (b0, b1 int) { return c * n / nc, (c + 1) * n / nc }

// chunkLen returns the number of images of the largest of nc chunks.
func chunkLen(n, nc int) int { return (n + nc - 1) / nc }

// convBackward: dW += dY × colsᵀ; db += row sums of dY (chunk by chunk);
// dX += col2im(Wᵀ × dY); for stride 1 see convBackwardStride1.
// The columns are recomputed per chunk rather than kept from the forward
// pass: keeping them would cost Cin·k² times the activation memory per conv,
// and reading them back from memory would cost more than rebuilding a chunk
// from x, which stays in cache.
func (g *Graph) convBackward(nd *node) {
	x, y, w, b := nd.x, nd.out, nd.w, nd.b
	ws := w.Shape()
	cout, cin, k := ws[len(ws)-4], ws[len(ws)-3], ws[len(ws)-2]
	n, h, wd := x.Shape[1], x.Shape[2], x.Shape[3]
	ho, wo := y.Shape[2], y.Shape[3]
	m, kk := n*ho*wo, cin*k*k
	gy := y.Grad

	var gx []float32
	fresh := false
	if x.requiresGrad {
		gx, fresh = g.grad(x)
	}
	if direct(k, nd.stride, nd.pad) {
		biasGrad(b, gy, cout, m, 0, m)
		kernels.Sgemm(false, true, cout, kk, m, 1, gy, m, x.Data, m, 1, w.Grad(), kk)
		if gx != nil {
			var beta float32 = 1
			if fresh {
				beta = 0
			}
			kernels.Sgemm(true, false, cin, m, cout, 1, w.Data(), kk, gy, m, beta, gx, m)
		}
		return
	}
	if useWinograd(k, nd.stride, nd.pad, h, wd) {
		g.convBackwardWinograd(gx, fresh, gy, x.Data, w, b, cin, cout, n, h, wd)
		return
	}
	if gx != nil && nd.stride == 1 && nd.pad <= k-1 {
		g.convBackwardStride1(gx, fresh, gy, x.Data, w.Data(), w.Grad(), b, cin, cout, n, h, wd, k, nd.pad, ho, wo)
		return
	}
	nc := convChunks(kk, ho*wo, n)
	mcMax := chunkLen(n, nc) * ho * wo
	scr := g.scratch(2*kk*mcMax + phaseLen(cin, chunkLen(n, nc), h, wd, nd.stride, ho, wo))
	parts := g.gradParts(nc, kk*cout, b, cout)
	parallelForW(nc, 3*kk*m, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			b0, b1 := chunkRange(n, nc, c)
			mc := (b1 - b0) * ho * wo
			cols, dcols := scr[wk][:kk*mc], scr[wk][kk*mcMax:kk*mcMax+kk*mc]
			parts.bias(c, gy, m, b0*ho*wo, mc)
			phases := scr[wk][2*kk*mcMax:]
			im2col(cols, phases, x.Data, cin, n*h*wd, b0*h*wd, b1-b0, h, wd, k, nd.stride, nd.pad, ho, wo)
			kernels.Sgemm(false, true, cout, kk, mc, 1, gy[b0*ho*wo:], m, cols, mc, 0, parts.w(c), kk)
			if gx != nil {
				kernels.Sgemm(true, false, kk, mc, cout, 1, w.Data(), kk, gy[b0*ho*wo:], m, 0, dcols, mc)
				col2im(gx, dcols, phases, fresh, cin, n*h*wd, b0*h*wd, b1-b0, h, wd, k, nd.stride, nd.pad, ho, wo)
			}
		}
	})
	parts.sumInto(w.Grad(), b)
}

// chunkParts holds the per-chunk weight and bias gradients of a conv's
// backward pass, which chunks compute in parallel and sumInto then adds in
// chunk order, so the sums do not depend on the thread count.
type chunkParts struct {
	nc, nw, nb int       // chunks, weight floats, bias floats (Cout, or 0 without a bias)
	buf        []float32 // nc weight parts of nw, then nc bias parts of nb
}

// gradParts returns scratch for nc chunks' weight (nw floats) and, when b
// is present, bias (cout floats) gradients.
func (g *Graph) gradParts(nc, nw int, b ParamRef, cout int) chunkParts {
	nb := 0
	if b.Valid() {
		nb = cout
	}
	return chunkParts{nc: nc, nw: nw, nb: nb, buf: grow(&g.gparts, nc*(nw+nb))}
}

// w returns chunk c's weight-gradient part.
func (p chunkParts) w(c int) []float32 { return p.buf[c*p.nw : (c+1)*p.nw] }

// bias sets chunk c's bias-gradient part to the sums of the columns
// [off, off+mc) of every row of gy [cout][m] (nothing without a bias).
func (p chunkParts) bias(c int, gy []float32, m, off, mc int) {
	if p.nb == 0 {
		return
	}
	bp := p.buf[p.nc*p.nw+c*p.nb : p.nc*p.nw+(c+1)*p.nb]
	for co := range p.nb {
		bp[co] = kernels.Sum(gy[co*m+off : co*m+off+mc])
	}
}

// sumInto adds the weight parts into wg and the bias parts into b's
// gradient, chunk 0 first.
func (p chunkParts) sumInto(wg []float32, b ParamRef) {
	for c := range p.nc {
		kernels.Add(wg, wg, p.w(c))
	}
	if p.nb == 0 {
		return
	}
	bg := b.Grad()
	for c := range p.nc {
		kernels.Add(bg, bg, p.buf[p.nc*p.nw+c*p.nb:p.nc*p.nw+(c+1)*p.nb])
	}
}

// convBackwardStride1 is the backward pass of a stride-1 conv (pad ≤ k−1)
// whose input needs a gradient, built on one column matrix: that of dY for
// the "full" convolution with the flipped, transposed kernel and padding
// p' = k−1−p, which has the input's size.
//
//	dycols[(co·k+ky')·k+kx'][(n·H+y)·W+x] = dy[co][n][y+ky'−p'][x+kx'−p']  (0 outside)
//	dx[ci][·] (+)= Σ_{co,ky',kx'} wt[ci][(co·k+ky')·k+kx'] · dycols[(co·k+ky')·k+kx'][·]
//	   with wt[ci][(co·k+ky')·k+kx'] = w[co][ci][k−1−ky'][k−1−kx']
//	dW[co][ci][k−1−ky'][k−1−kx'] += Σ_· x[ci][·] · dycols[(co·k+ky')·k+kx'][·]
//
// (the last because x[ci][n][y][x]·dy[co][n][y−ky+p][x−kx+p] summed over
// the input positions is exactly dW[co][ci][ky][kx]). Per chunk of images:
// one im2col of dY and two GEMMs with the small weight-shaped matrix as the
// short side, the input gradient written (fresh) or added straight into dx.
// This replaces an im2col of x, a GEMM with K = Cout whose Cin·k²-row output
// then had to be folded back by col2im, and the scalar-heavy col2im itself.
func (g *Graph) convBackwardStride1(gx []float32, fresh bool, gy, x, w, wg []float32, b ParamRef, cin, cout, n, h, wd, k, pad, ho, wo int) {
	kt := cout * k * k
	wt := grow(&g.wt, cin*kt)
	for co := range cout {
		for ci := range cin {
			for ky := range k {
				for kx := range k {
					wt[((ci*cout+co)*k+ky)*k+kx] = w[((co*cin+ci)*k+(k-1-ky))*k+(k-1-kx)]
				}
			}
		}
	}
	var beta float32 = 1
	if fresh {
		beta = 0
	}
	pt, mx, my := k-1-pad, n*h*wd, n*ho*wo
	nc := convChunks(kt, h*wd, n)
	mcMax := chunkLen(n, nc) * h * wd
	scr := g.scratch(kt * mcMax)
	parts := g.gradParts(nc, cin*kt, b, cout) // weight parts Σ x·dycolsᵀ, [ci][(co·k+ky')·k+kx']
	parallelForW(nc, 3*kt*mx, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			b0, b1 := chunkRange(n, nc, c)
			mc := (b1 - b0) * h * wd
			cols := scr[wk][:kt*mc]
			parts.bias(c, gy, my, b0*ho*wo, (b1-b0)*ho*wo)
			im2col(cols, nil, gy, cout, my, b0*ho*wo, b1-b0, ho, wo, k, 1, pt, h, wd)
			kernels.Sgemm(false, true, cin, kt, mc, 1, x[b0*h*wd:], mx, cols, mc, 0, parts.w(c), kt)
			kernels.Sgemm(false, false, cin, mc, kt, 1, wt, kt, cols, mc, beta, gx[b0*h*wd:], mx)
		}
	})
	gt := grow(&g.gwt, cin*kt)
	clear(gt)
	parts.sumInto(gt, b)
	for co := range cout {
		for ci := range cin {
			for ky := range k {
				for kx := range k {
					wg[((co*cin+ci)*k+ky)*k+kx] += gt[ci*kt+(co*k+k-1-ky)*k+k-1-kx]
				}
			}
		}
	}
}

// biasGrad adds the sums of the columns [off, off+mc) of every row co of
// gy [cout][m] into b's gradient (nothing when b is absent).
func biasGrad(b ParamRef, gy []float32, cout, m, off, mc int) {
	if !b.Valid() {
		return
	}
	bg := b.Grad()
	for co := range cout {
		bg[co] += kernels.Sum(gy[co*m+off : co*m+off+mc])
	}
}

// im2col fills cols [Cin·k·k][nb·H'·W'] from nb images of x: channel ci's
// images start at x[ci·cstride+off] ([nb][H][W] contiguous):
//
//	cols[(ci·k+ky)·k+kx][(n·H'+oy)·W'+ox] = x[ci][n][oy·s+ky−p][ox·s+kx−p]  (0 outside)
//
// Rows are independent and split across threads. A stride-2 convolution
// of even-sized planes (H = 2H', W = 2W') first splits x into its four
// phases (see splitPhases; phases is scratch of phaseLen floats): every
// tap is then a shifted copy of one phase, as in the stride-1 case.
func im2col(cols, phases, x []float32, cin, cstride, off, n, h, w, k, s, p, ho, wo int) {
	m := n * ho * wo
	byPhase := usePhases(h, w, s, ho, wo)
	if byPhase {
		splitPhases(phases, x, cin, cstride, off, n, h, w)
	}
	parallelFor(cin*k*k, len(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ci, ky, kx := r/(k*k), (r/k)%k, r%k
			row := cols[r*m : (r+1)*m]
			if s == 1 && ho == h && wo == w {
				im2colSame(row, x[ci*cstride+off:ci*cstride+off+n*h*w], n, h, w, ky-p, kx-p)
				continue
			}
			if byPhase {
				ph, dy, dx := phaseTap(ky, kx, p)
				im2colSame(row, phasePlanes(phases, ph, ci, cin, m), n, ho, wo, dy, dx)
				continue
			}
			l0, h0 := validRange(kx, s, p, w, wo)
			for b := 0; b < n; b++ {
				src := x[ci*cstride+off+b*h*w : ci*cstride+off+(b+1)*h*w]
				for oy := 0; oy < ho; oy++ {
					dst := row[(b*ho+oy)*wo : (b*ho+oy+1)*wo]
					iy := oy*s + ky - p
					if iy < 0 || iy >= h {
						clear(dst)
						continue
					}
					srow := src[iy*w : (iy+1)*w]
					clear(dst[:l0])
					clear(dst[h0:])
					if s == 1 {
						copy(dst[l0:h0], srow[l0+kx-p:h0+kx-p])
						continue
					}
					if h0 > l0 {
						gatherStrided(dst[l0:h0], srow[l0*s+kx-p:], s)
					}
				}
			}
		}
	})
}

// col2im adds the column-gradient matrix of nb images back into dx (laid
// out as im2col's x), the adjoint of im2col (with overwrite = true, those
// images of dx are overwritten instead):
//
//	dx[ci][n][oy·s+ky−p][ox·s+kx−p] += cols[(ci·k+ky)·k+kx][(n·H'+oy)·W'+ox]
//
// Channels are split across threads; within a channel the tap order is
// fixed, so the sums do not depend on the split. For a same-size stride-1
// conv the centre tap, which covers every position once, comes first and
// overwrites, which saves clearing dx.
func col2im(dx, cols, phases []float32, overwrite bool, cin, cstride, off, n, h, w, k, s, p, ho, wo int) {
	m := n * ho * wo
	same := s == 1 && ho == h && wo == w
	byPhase := usePhases(h, w, s, ho, wo)
	parallelFor(cin, len(cols), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			planes := dx[ci*cstride+off : ci*cstride+off+n*h*w]
			tap := func(ky, kx int) []float32 { return cols[((ci*k+ky)*k+kx)*m : ((ci*k+ky)*k+kx+1)*m] }
			if byPhase {
				// Each tap adds into its phase of the channel's gradient,
				// the taps in order, then the phases go back into dx.
				for ph := range 4 {
					clear(phasePlanes(phases, ph, ci, cin, m))
				}
				for ky := 0; ky < k; ky++ {
					for kx := 0; kx < k; kx++ {
						ph, dy, dx := phaseTap(ky, kx, p)
						col2imSame(phasePlanes(phases, ph, ci, cin, m), tap(ky, kx), n, ho, wo, dy, dx)
					}
				}
				mergePhases(planes, phases, ci, cin, n, h, w, overwrite)
				continue
			}
			skipCentre := false
			if overwrite && same {
				copy(planes, tap(p, p))
				skipCentre = true
			} else if overwrite {
				clear(planes)
			}
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					if skipCentre && ky == p && kx == p {
						continue
					}
					row := tap(ky, kx)
					if same {
						col2imSame(planes, row, n, h, w, ky-p, kx-p)
						continue
					}
					l0, h0 := validRange(kx, s, p, w, wo)
					for b := 0; b < n; b++ {
						dst := planes[b*h*w : (b+1)*h*w]
						for oy := 0; oy < ho; oy++ {
							iy := oy*s + ky - p
							if iy < 0 || iy >= h || h0 == l0 {
								continue
							}
							src := row[(b*ho+oy)*wo : (b*ho+oy+1)*wo]
							drow := dst[iy*w : (iy+1)*w]
							if s == 1 {
								kernels.Axpy(1, src[l0:h0], drow[l0+kx-p:h0+kx-p])
								continue
							}
							scatterAddStrided(drow[l0*s+kx-p:], src[l0:h0], s)
						}
					}
				}
			}
		}
	})
}

// usePhases reports whether a convolution of h×w planes with stride s and
// an ho×wo output goes through the four phases of its input: stride 2 on
// even-sized planes, where H = 2H' and W = 2W' whatever k and p.
func usePhases(h, w, s, ho, wo int) bool { return s == 2 && h == 2*ho && w == 2*wo }

// phaseLen returns the phase scratch that im2col and col2im need for cin
// channels of nb h×w images (0 where the convolution does not use phases).
func phaseLen(cin, nb, h, w, s, ho, wo int) int {
	if !usePhases(h, w, s, ho, wo) {
		return 0
	}
	return cin * nb * h * w
}

// The phases of a plane x[H][W] (H, W even) are its four subsampled planes
//
//	phase (py, px)[r][c] = x[2r+py][2c+px],   ph = 2·py + px
//
// stored as phases[(ph·cin + ci)·m : …], m = nb·H/2·W/2 per channel. A
// stride-2 tap (ky, kx) with padding p reads x[2oy+ky−p][2ox+kx−p], that is
// phase ((ky−p) mod 2, (kx−p) mod 2) shifted by (⌊(ky−p)/2⌋, ⌊(kx−p)/2⌋),
// zero outside: a shifted copy of whole planes (im2colSame) instead of a
// strided gather per output row and tap.

// phaseTap returns the phase and the shift of stride-2 tap (ky, kx).
func phaseTap(ky, kx, p int) (ph, dy, dx int) {
	oy, ox := ky-p, kx-p
	dy, dx = oy>>1, ox>>1 // floor division by 2
	return 2*(oy-2*dy) + (ox - 2*dx), dy, dx
}

// phasePlanes returns channel ci's planes of phase ph.
func phasePlanes(phases []float32, ph, ci, cin, m int) []float32 {
	i := (ph*cin + ci) * m
	return phases[i : i+m]
}

// splitPhases writes the four phases of cin channels of n h×w images of x
// (channel ci's images at x[ci·cstride+off]) to phases: image b's row
// 2r'+py, column 2c'+px is row b·h/2 + r', column c' of phase 2py+px
// (kernels.SplitPhases on each channel's n·h rows, h being even).
func splitPhases(phases, x []float32, cin, cstride, off, n, h, w int) {
	m := n * h * w / 4
	parallelFor(cin, cin*n*h*w, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			kernels.SplitPhases(phasePlanes(phases, 0, ci, cin, m), phasePlanes(phases, 1, ci, cin, m),
				phasePlanes(phases, 2, ci, cin, m), phasePlanes(phases, 3, ci, cin, m),
				x[ci*cstride+off:ci*cstride+off+n*h*w], w)
		}
	})
}

// mergePhases writes (overwrite) or adds channel ci's four phase planes
// back into its n h×w images, the adjoint of splitPhases.
func mergePhases(planes, phases []float32, ci, cin, n, h, w int, overwrite bool) {
	m := n * h * w / 4
	kernels.MergePhases(planes[:n*h*w], phasePlanes(phases, 0, ci, cin, m), phasePlanes(phases, 1, ci, cin, m),
		phasePlanes(phases, 2, ci, cin, m), phasePlanes(phases, 3, ci, cin, m), w, !overwrite)
}

// gatherStrided sets d[i] = src[i·s] (len(src) > (len(d)−1)·s), the
// strided im2col row copy, unrolled by four with the bounds checks hoisted.
func gatherStrided(d, src []float32, s int) {
	n := len(d)
	src = src[:(n-1)*s+1]
	i := 0
	if s == 2 {
		for ; i+4 <= n; i += 4 {
			sv := src[2*i : 2*i+7]
			dv := d[i : i+4]
			dv[0], dv[1], dv[2], dv[3] = sv[0], sv[2], sv[4], sv[6]
		}
	}
	for ; i < n; i++ {
		d[i] = src[i*s]
	}
}

// scatterAddStrided sets dst[i·s] += src[i] (len(dst) > (len(src)−1)·s),
// the strided col2im row update; the order of the additions to any one
// element is unchanged.
func scatterAddStrided(dst, src []float32, s int) {
	n := len(src)
	if n == 0 {
		return
	}
	dst = dst[:(n-1)*s+1]
	i := 0
	if s == 2 {
		for ; i+4 <= n; i += 4 {
			dv := dst[2*i : 2*i+7]
			sv := src[i : i+4]
			dv[0] += sv[0]
			dv[2] += sv[1]
			dv[4] += sv[2]
			dv[6] += sv[3]
		}
	}
	for ; i < n; i++ {
		dst[i*s] += src[i]
	}
}

// validRange returns the output columns [l0, h0) whose input column
// ox·s + kx − p lies inside [0, w) (l0 = h0 when there are none).
func validRange(kx, s, p, w, wo int) (l0, h0 int) {
	if a := p - kx; a > 0 {
		l0 = (a + s - 1) / s
	}
	if b := w - 1 + p - kx; b >= 0 {
		h0 = b/s + 1
	}
	l0 = min(l0, wo)
	h0 = max(min(h0, wo), l0)
	return l0, h0
}

// im2colSame fills one im2col row for a stride-1 conv whose output has the
// input's size, for the kernel offset (dy, dx) = (ky−p, kx−p):
//
//	row[(b·h+oy)·w+ox] = plane[b][oy+dy][ox+dx]  (0 outside)
//
// The n images are one shifted copy of the whole chunk (row[i] =
// planes[i + dy·w + dx]); the rows that crossed an image's top or bottom
// edge and the columns that wrapped into a neighbouring row are then
// zeroed. One copy per tap, not per image: the small images of the later
// stages made the per-image calls cost more than the copying.
func im2colSame(row, planes []float32, n, h, w, dy, dx int) {
	total := n * h * w
	s := dy*w + dx
	lo, hi := max(0, -s), min(total, total-s)
	if hi <= lo {
		clear(row)
		return
	}
	clear(row[:lo])
	copy(row[lo:hi], planes[lo+s:hi+s])
	clear(row[hi:])
	zeroOutside(row, n, h, w, dy, dx)
}

// zeroOutside zeroes, in each of the n h×w images of row, the rows oy
// with oy+dy outside [0, h) and the columns ox with ox+dx outside [0, w).
func zeroOutside(row []float32, n, h, w, dy, dx int) {
	if dy != 0 {
		hw := h * w
		for b := range n {
			img := row[b*hw : (b+1)*hw]
			if dy > 0 {
				clear(img[max(0, h-dy)*w:])
			} else {
				clear(img[:min(h, -dy)*w])
			}
		}
	}
	zeroWrapped(row, w, dx)
}

// zeroWrapped zeroes, in every w-wide row of d, the columns a shift by dx
// took from the neighbouring row: the last dx columns (dx > 0) or the first
// −dx (dx < 0).
//
// The common 3×3 case (|dx| = 1) stores one zero per row directly: a clear
// call per row cost more than the copy it follows.
func zeroWrapped(d []float32, w, dx int) {
	switch {
	case dx == 1 && w > 1:
		for i := w - 1; i < len(d); i += w {
			d[i] = 0
		}
	case dx == -1 && w > 1:
		for i := 0; i < len(d); i += w {
			d[i] = 0
		}
	case dx > 0:
		for i := w - min(dx, w); i < len(d); i += w {
			clear(d[i:min(i+dx, len(d))])
		}
	case dx < 0:
		for i := 0; i < len(d); i += w {
			clear(d[i:min(i-dx, i+w)])
		}
	}
}

// col2imSame is the adjoint of im2colSame: planes[b][oy+dy][ox+dx] +=
// row[(b·h+oy)·w+ox]. The entries of row (scratch) that fall outside are
// zeroed first, so the whole chunk is one Axpy (adding a zero changes
// nothing, and every element still receives the taps in the same order).
func col2imSame(planes, row []float32, n, h, w, dy, dx int) {
	total := n * h * w
	s := dy*w + dx
	lo, hi := max(0, -s), min(total, total-s)
	if hi <= lo {
		return
	}
	zeroOutside(row, n, h, w, dy, dx)
	kernels.Axpy(1, row[lo:hi], planes[lo+s:hi+s])
}
