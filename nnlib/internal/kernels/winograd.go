package kernels

import "fmt"

// Winograd F(2×2, 3×3) transforms (Lavin and Gray, 2016) for a stride-1,
// padding-1 3×3 convolution of h×w planes (h, w even). The plane is cut
// into 2×2 output tiles, T = (h/2)·(w/2) per plane, tile t = ty·(w/2) + tx;
// each tile reads the 4×4 input patch d at rows 2ty−1…2ty+2 and columns
// 2tx−1…2tx+2 (zero outside the plane). With
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]    Aᵀ = [1 1 1 0; 0 1 −1 −1]
//
// a convolution is y_tile = Aᵀ·[Σ_ci U[co][ci] ⊙ V[ci]]·A with V = Bᵀ·d·B and
// U = G·g·Gᵀ the transformed 3×3 kernel: per position ξ = 4i + j of the
// 4×4 tile, one GEMM over channels, 16 multiplies per 2×2 outputs and
// channel pair instead of 36. The transforms below are pure additions;
// each runs on a tile row at a time, in assembly where there is a kernel
// (tile rows of a multiple of 4 tiles at the AVX2 level and above), which
// forms every sum in the order written here, so both agree bit for bit.
// 8-wide planes with a multiple of 4 rows take two tile rows at a time
// (one ymm holds both rows' 4 tiles).

// WinogradInput writes the input transform of planes consecutive h×w
// planes of x (plane p at x[p·h·w:]) to v:
//
//	v[ξ·ldv + p·T + t] = (Bᵀ·d_t·B)[ξ]   for ξ < 16, tiles t < T = h·w/4
//
// ldv ≥ planes·T is the distance between the 16 positions' blocks.
func WinogradInput(v []float32, ldv int, x []float32, planes, h, w int) {
	tiles := winogradCheck("WinogradInput", v, ldv, x, planes, h, w)
	if pairs := winogradPairs(h, w); pairs > 0 && planes > 0 {
		winogradInputPairsAsm(&v[0], ldv, &x[0], pairs, planes)
		return
	}
	tw, th := w/2, h/2
	zero := zeroRow(w)
	lanes := winogradLanes(tw)
	for p := range planes {
		plane := x[p*h*w : (p+1)*h*w]
		row := func(y int) []float32 {
			if y < 0 || y >= h {
				return zero
			}
			return plane[y*w : (y+1)*w]
		}
		if lanes > 0 {
			// One call for the tile rows whose fourth input row lies inside
			// the plane (the kernel moves on by two input rows per tile
			// row), one for the last.
			first := max(th-1, 1)
			r3 := row(2)
			winogradInputAsm(lanes, &v[p*tiles], ldv, &zero[0], &plane[0], &plane[w], &r3[0], tw/lanes, first)
			if th > 1 {
				y := h - 3
				winogradInputAsm(lanes, &v[p*tiles+(th-1)*tw], ldv, &plane[y*w], &plane[(y+1)*w], &plane[(y+2)*w], &zero[0], tw/lanes, 1)
			}
			continue
		}
		for ty := range th {
			winogradInputRow(v[p*tiles+ty*tw:], ldv, row(2*ty-1), row(2*ty), row(2*ty+1), row(2*ty+2), tw)
		}
	}
}

// zeros is a read-only row of zeros for the transforms' padding rows.
var zeros = make([]float32, 256)

// zeroRow returns a read-only row of at least w zeros.
func zeroRow(w int) []float32 {
	if w <= len(zeros) {
		return zeros
	}
	return make([]float32, w)
}

// winogradInputRow transforms one row of tw tiles from its four input rows
// (the reference of the assembly):
//
//	c_r = (d0 − d2, d1 + d2, d2 − d1, d1 − d3)  of row r's columns d0…d3 = 2tx−1 … 2tx+2
//	v[j] = c0[j] − c2[j],  v[4+j] = c1[j] + c2[j],  v[8+j] = c2[j] − c1[j],  v[12+j] = c1[j] − c3[j]
func winogradInputRow(v []float32, ldv int, r0, r1, r2, r3 []float32, tw int) {
	col := func(r []float32, tx int) (c [4]float32) {
		var d0, d3 float32
		if tx > 0 {
			d0 = r[2*tx-1]
		}
		if tx < tw-1 {
			d3 = r[2*tx+2]
		}
		d1, d2 := r[2*tx], r[2*tx+1]
		return [4]float32{d0 - d2, d1 + d2, d2 - d1, d1 - d3}
	}
	for tx := range tw {
		c0, c1, c2, c3 := col(r0, tx), col(r1, tx), col(r2, tx), col(r3, tx)
		for j := range 4 {
			v[j*ldv+tx] = c0[j] - c2[j]
			v[(4+j)*ldv+tx] = c1[j] + c2[j]
			v[(8+j)*ldv+tx] = c2[j] - c1[j]
			v[(12+j)*ldv+tx] = c1[j] - c3[j]
		}
	}
}

// WinogradOutput writes the output transform of the products m (laid out
// as WinogradInput's v, positions ldm apart) to planes consecutive h×w
// planes of y, plus bias; with add, the result is added to what y holds:
//
//	y[p·h·w + (2ty+a)·w + 2tx+b] (+)= (Aᵀ·M_t·A)[a][b] + bias
func WinogradOutput(y, m []float32, ldm, planes, h, w int, bias float32, add bool) {
	winogradCheck("WinogradOutput", m, ldm, y, planes, h, w)
	if pairs := winogradPairs(h, w); pairs > 0 && planes > 0 {
		acc := 0
		if add {
			acc = 1
		}
		winogradOutputPairsAsm(&y[0], &m[0], ldm, planes*pairs, bias, acc)
		return
	}
	tw := w / 2
	if lanes := winogradLanes(tw); lanes > 0 && planes > 0 {
		// The tile rows of consecutive planes are consecutive pairs of
		// output rows: one call for them all.
		acc := 0
		if add {
			acc = 1
		}
		winogradOutputAsm(lanes, &y[0], &y[w], &m[0], ldm, tw/lanes, planes*h/2, bias, acc)
		return
	}
	forRowPairs(y, planes, h, w, func(off int, y0, y1 []float32) {
		winogradOutputRow(y0, y1, m[off:], ldm, tw, bias, add)
	})
}

// winogradOutputRow is the reference of the output transform of one tile
// row into output rows y0, y1:
//
//	s0[j] = (m[j] + m[4+j]) + m[8+j],  s1[j] = (m[4+j] − m[8+j]) − m[12+j]
//	y_i[2tx] (+)= ((s_i[0] + s_i[1]) + s_i[2]) + bias,  y_i[2tx+1] (+)= ((s_i[1] − s_i[2]) − s_i[3]) + bias
func winogradOutputRow(y0, y1, m []float32, ldm, tw int, bias float32, add bool) {
	for tx := range tw {
		var s [2][4]float32
		for j := range 4 {
			m0, m1, m2, m3 := m[j*ldm+tx], m[(4+j)*ldm+tx], m[(8+j)*ldm+tx], m[(12+j)*ldm+tx]
			s[0][j] = m0 + m1 + m2
			s[1][j] = m1 - m2 - m3
		}
		for i, y := range [2][]float32{y0, y1} {
			a := s[i][0] + s[i][1] + s[i][2] + bias
			b := s[i][1] - s[i][2] - s[i][3] + bias
			if add {
				a += y[2*tx]
				b += y[2*tx+1]
			}
			y[2*tx], y[2*tx+1] = a, b
		}
	}
}

// WinogradGrad writes the transform A·dY_t·Aᵀ of the output gradient dy
// (planes consecutive h×w planes) to v, laid out as WinogradInput's: the
// gradient of the loss with respect to the products M_t, whose GEMM with
// the input transform over the tiles is the weight gradient in the
// Winograd domain (dU[ξ] = Σ_t Ŷ_t[ξ]·V_t[ξ], then dg = Gᵀ·dU·G).
func WinogradGrad(v []float32, ldv int, dy []float32, planes, h, w int) {
	winogradCheck("WinogradGrad", v, ldv, dy, planes, h, w)
	if pairs := winogradPairs(h, w); pairs > 0 && planes > 0 {
		winogradGradPairsAsm(&v[0], ldv, &dy[0], planes*pairs)
		return
	}
	tw := w / 2
	if lanes := winogradLanes(tw); lanes > 0 && planes > 0 {
		winogradGradAsm(lanes, &v[0], ldv, &dy[0], &dy[w], tw/lanes, planes*h/2)
		return
	}
	forRowPairs(dy, planes, h, w, func(off int, y0, y1 []float32) {
		winogradGradRow(v[off:], ldv, y0, y1, tw)
	})
}

// forRowPairs calls f for every tile row of planes consecutive h×w planes
// of x, in order: its offset among the planes' tiles (tile rows of
// consecutive planes follow each other) and its two rows of x.
func forRowPairs(x []float32, planes, h, w int, f func(off int, r0, r1 []float32)) {
	for r := range planes * h / 2 {
		f(r*(w/2), x[2*r*w:(2*r+1)*w], x[(2*r+1)*w:(2*r+2)*w])
	}
}

// winogradGradRow is the reference of the gradient transform of one tile
// row from gradient rows y0, y1 (p, q the even and odd columns of a row):
//
//	a = (p0, p0 + q0, p0 − q0, 0 − q0) of y0,  b = the same of y1
//	v[j] = a[j],  v[4+j] = a[j] + b[j],  v[8+j] = a[j] − b[j],  v[12+j] = 0 − b[j]
func winogradGradRow(v []float32, ldv int, y0, y1 []float32, tw int) {
	for tx := range tw {
		p, q := y0[2*tx], y0[2*tx+1]
		a := [4]float32{p, p + q, p - q, 0 - q}
		p, q = y1[2*tx], y1[2*tx+1]
		b := [4]float32{p, p + q, p - q, 0 - q}
		for j := range 4 {
			v[j*ldv+tx] = a[j]
			v[(4+j)*ldv+tx] = a[j] + b[j]
			v[(8+j)*ldv+tx] = a[j] - b[j]
			v[(12+j)*ldv+tx] = 0 - b[j]
		}
	}
}

// winogradCheck panics unless h and w are even and positive, the 16
// position blocks of t (ld apart) hold planes·T tiles and x holds planes
// h×w planes; it returns T.
func winogradCheck(fn string, t []float32, ld int, x []float32, planes, h, w int) int {
	if h < 2 || w < 2 || h%2 != 0 || w%2 != 0 || planes < 0 {
		panic(fmt.Sprintf("kernels.%s: %d planes of %d×%d: want even sizes ≥ 2", fn, planes, h, w))
	}
	tiles := h * w / 4
	if ld < planes*tiles || len(t) < 15*ld+planes*tiles {
		panic(fmt.Sprintf("kernels.%s: transform buffer of %d floats with ld=%d is too small for 16 blocks of %d tiles", fn, len(t), ld, planes*tiles))
	}
	if len(x) < planes*h*w {
		panic(fmt.Sprintf("kernels.%s: len(x)=%d < %d planes of %d×%d", fn, len(x), planes, h, w))
	}
	return tiles
}
