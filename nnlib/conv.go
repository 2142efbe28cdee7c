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
// computed as GEMMs over chunks of images: y = W[Cout][Cin·k·k] × im2col(x).
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
	} else {
		nbc := chunkImages(kk, ho*wo, n)
		cols := grow(&g.cols, kk*nbc*ho*wo)
		for b0 := 0; b0 < n; b0 += nbc {
			nb := min(nbc, n-b0)
			mc := nb * ho * wo
			im2col(cols[:kk*mc], x.Data, cin, n*h*wd, b0*h*wd, nb, h, wd, k, stride, pad, ho, wo)
			kernels.Sgemm(false, false, cout, mc, kk, 1, w.Data(), kk, cols, mc, 0, y.Data[b0*ho*wo:], m)
		}
	}
	if b.Valid() {
		bd := b.Data()
		ones := g.onesN(m)
		parallelFor(cout, len(y.Data), func(lo, hi int) {
			for co := lo; co < hi; co++ {
				kernels.Axpy(bd[co], ones, y.Data[co*m:(co+1)*m])
			}
		})
	}
	return y
}

// direct reports whether a convolution reads x itself as its column matrix
// (1×1, stride 1, no padding).
func direct(k, stride, pad int) bool { return k == 1 && stride == 1 && pad == 0 }

// colsChunkBytes bounds the column matrix of one GEMM: a convolution is
// computed over chunks of whole images so that im2col's output is still in
// cache when the GEMM reads it. The chunking depends only on the shapes,
// never on the thread count. (A variable so tests can force several chunks.)
var colsChunkBytes = 2 << 20

// chunkImages returns how many images go in one chunk of a conv whose column
// matrix has kk rows and hw columns per image.
func chunkImages(kk, hw, n int) int {
	return max(1, min(n, colsChunkBytes/4/max(1, kk*hw)))
}

// convBackward: dW += dY × colsᵀ; db += row sums of dY; dX += col2im(Wᵀ × dY).
// The columns are recomputed from x rather than kept from the forward pass
// (keeping them would cost Cin·k² times the activation memory per conv).
func (g *Graph) convBackward(nd *node) {
	x, y, w, b := nd.x, nd.out, nd.w, nd.b
	ws := w.Shape()
	cout, cin, k := ws[len(ws)-4], ws[len(ws)-3], ws[len(ws)-2]
	n, h, wd := x.Shape[1], x.Shape[2], x.Shape[3]
	ho, wo := y.Shape[2], y.Shape[3]
	m, kk := n*ho*wo, cin*k*k
	gy := y.Grad

	if b.Valid() {
		bg := b.Grad()
		for co := range cout {
			bg[co] += kernels.Sum(gy[co*m : (co+1)*m])
		}
	}
	var gx []float32
	fresh := false
	if x.requiresGrad {
		gx, fresh = g.grad(x)
	}
	if direct(k, nd.stride, nd.pad) {
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
	nbc := chunkImages(kk, ho*wo, n)
	cols := grow(&g.cols, kk*nbc*ho*wo)
	var dcols []float32
	if gx != nil {
		dcols = grow(&g.dcols, kk*nbc*ho*wo)
	}
	for b0 := 0; b0 < n; b0 += nbc {
		nb := min(nbc, n-b0)
		mc := nb * ho * wo
		im2col(cols[:kk*mc], x.Data, cin, n*h*wd, b0*h*wd, nb, h, wd, k, nd.stride, nd.pad, ho, wo)
		kernels.Sgemm(false, true, cout, kk, mc, 1, gy[b0*ho*wo:], m, cols, mc, 1, w.Grad(), kk)
		if gx != nil {
			kernels.Sgemm(true, false, kk, mc, cout, 1, w.Data(), kk, gy[b0*ho*wo:], m, 0, dcols, mc)
			col2im(gx, dcols[:kk*mc], fresh, cin, n*h*wd, b0*h*wd, nb, h, wd, k, nd.stride, nd.pad, ho, wo)
		}
	}
}

// im2col fills cols [Cin·k·k][nb·H'·W'] from nb images of x: channel ci's
// images start at x[ci·cstride+off] ([nb][H][W] contiguous):
//
//	cols[(ci·k+ky)·k+kx][(n·H'+oy)·W'+ox] = x[ci][n][oy·s+ky−p][ox·s+kx−p]  (0 outside)
//
// Rows are independent and split across threads.
func im2col(cols, x []float32, cin, cstride, off, n, h, w, k, s, p, ho, wo int) {
	m := n * ho * wo
	parallelFor(cin*k*k, len(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ci, ky, kx := r/(k*k), (r/k)%k, r%k
			row := cols[r*m : (r+1)*m]
			if s == 1 && ho == h && wo == w {
				im2colSame(row, x[ci*cstride+off:ci*cstride+off+n*h*w], n, h, w, ky-p, kx-p)
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
					for ox := l0; ox < h0; ox++ {
						dst[ox] = srow[ox*s+kx-p]
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
func col2im(dx, cols []float32, overwrite bool, cin, cstride, off, n, h, w, k, s, p, ho, wo int) {
	m := n * ho * wo
	same := s == 1 && ho == h && wo == w
	parallelFor(cin, len(cols), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			planes := dx[ci*cstride+off : ci*cstride+off+n*h*w]
			tap := func(ky, kx int) []float32 { return cols[((ci*k+ky)*k+kx)*m : ((ci*k+ky)*k+kx+1)*m] }
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
							for ox := l0; ox < h0; ox++ {
								drow[ox*s+kx-p] += src[ox]
							}
						}
					}
				}
			}
		}
	})
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
// Each image is one contiguous shifted copy; the elements that wrapped into a
// neighbouring image row are then zeroed.
func im2colSame(row, planes []float32, n, h, w, dy, dx int) {
	hw := h * w
	oy0, oy1 := max(0, -dy), min(h, h-dy)
	for b := 0; b < n; b++ {
		dst := row[b*hw : (b+1)*hw]
		if oy1 <= oy0 {
			clear(dst)
			continue
		}
		src := planes[b*hw : (b+1)*hw]
		clear(dst[:oy0*w])
		clear(dst[oy1*w:])
		d := dst[oy0*w : oy1*w]
		start := (oy0+dy)*w + dx
		lo := min(max(0, -start), len(d))
		hi := max(min(len(d), hw-start), lo)
		clear(d[:lo])
		copy(d[lo:hi], src[start+lo:start+hi])
		clear(d[hi:])
		zeroWrapped(d, w, dx)
	}
}

// zeroWrapped zeroes, in every w-wide row of d, the columns a shift by dx
// took from the neighbouring row: the last dx columns (dx > 0) or the first
// −dx (dx < 0).
func zeroWrapped(d []float32, w, dx int) {
	switch {
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
// row[(b·h+oy)·w+ox]. The wrapped columns of row (scratch) are zeroed first
// so each image is one contiguous Axpy.
func col2imSame(planes, row []float32, n, h, w, dy, dx int) {
	hw := h * w
	oy0, oy1 := max(0, -dy), min(h, h-dy)
	if oy1 <= oy0 {
		return
	}
	for b := 0; b < n; b++ {
		d := row[b*hw+oy0*w : b*hw+oy1*w]
		zeroWrapped(d, w, dx)
		dst := planes[b*hw : (b+1)*hw]
		start := (oy0+dy)*w + dx
		lo, hi := max(0, -start), min(len(d), hw-start)
		if hi > lo {
			kernels.Axpy(1, d[lo:hi], dst[start+lo:start+hi])
		}
	}
}
