package kernels

import "fmt"

// Winograd F(4×4, 3×3) transforms (Lavin and Gray, 2016; interpolation
// points 0, ±1, ±2, ∞) for a stride-1, padding-1 3×3 convolution of h×w
// planes with h and w multiples of 4. The plane is cut into 4×4 output
// tiles, T = (h/4)·(w/4) per plane; each tile reads the 6×6 input patch d
// at rows 4ty−1…4ty+4 and columns 4tx−1…4tx+4 (zero outside the plane).
// With
//
//	Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//	Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
//
// a convolution is y_tile = Aᵀ·[Σ_ci U[co][ci] ⊙ V[ci]]·A with V = Bᵀ·d·B:
// per position ξ = 6j + i of the 6×6 transformed tile (row i, column j)
// one GEMM over channels, 36 multiplies per 4×4 outputs and channel pair
// where F(2×2, 3×3) needs 64 and the direct convolution 144. The price is rounding: the
// transforms scale inputs by up to 25 and cancel, so the error grows by
// about an order of magnitude over F(2×2, 3×3) (TestWinogradMatchesDirect
// in nnlib bounds it against a float64 reference).
//
// Every constant the transforms multiply by is a power of two, so each
// result is one fixed sequence of rounded additions (a fused multiply-add
// with such a product rounds the same), formed in the order written in
// bt6, at6 and a6; the assembly kernels follow it, so all agree bit for bit.
//
// Tile order. The tiles of a plane are stored tile row by tile row; within
// a tile row whose tile count is a multiple of 8, each block of 8 tiles is
// stored in the order 0, 2, 4, 6, 1, 3, 5, 7 (Tile4Slot): the order in
// which a 4×4 transpose inside the 128-bit halves of a vector register
// leaves them, so the kernels need no lane permutes. The GEMMs over
// channels do not care, and the output transform puts every tile back.

// Tile4Slot returns the position at which tile tx of a tile row of tw
// tiles is stored (see the tile order above).
func Tile4Slot(tx, tw int) int {
	if tw%8 != 0 {
		return tx
	}
	l := tx % 8
	return tx - l + l/2 + 4*(l%2)
}

// bt6 is the transform Bᵀ·d of six values, in the order the kernels form it:
//
//	t1 = d4 − 4·d2, u1 = d3 − 4·d1, t2 = d4 − d2, u2 = 2·(d3 − d1)
//	(4·(d0 − d2) + t2, t1 + u1, t1 − u1, t2 + u2, t2 − u2, 4·(d1 − d3) + (d5 − d3))
func bt6(d [6]float32) [6]float32 {
	t1, u1 := d[4]-4*d[2], d[3]-4*d[1]
	t2, u2 := d[4]-d[2], 2*(d[3]-d[1])
	return [6]float32{4*(d[0]-d[2]) + t2, t1 + u1, t1 - u1, t2 + u2, t2 - u2, 4*(d[1]-d[3]) + (d[5] - d[3])}
}

// at6 is the transform Aᵀ·m of six values:
//
//	a = m1 + m2, b = m1 − m2, c = m3 + m4, e = m3 − m4
//	((m0 + a) + c, b + 2·e, a + 4·c, (b + 8·e) + m5)
func at6(m [6]float32) [4]float32 {
	a, b := m[1]+m[2], m[1]-m[2]
	c, e := m[3]+m[4], m[3]-m[4]
	return [4]float32{(m[0] + a) + c, b + 2*e, a + 4*c, (b + 8*e) + m[5]}
}

// a6 is the transform A·p of four values (A = (Aᵀ)ᵀ, 6×4):
//
//	a = p0 + p2, b = p1 + p3, c = p0 + 4·p2, e = 2·p1 + 8·p3
//	(p0, a + b, a − b, c + e, c − e, p3)
func a6(p [4]float32) [6]float32 {
	a, b := p[0]+p[2], p[1]+p[3]
	c, e := p[0]+4*p[2], 2*p[1]+8*p[3]
	return [6]float32{p[0], a + b, a - b, c + e, c - e, p[3]}
}

// Winograd4Input writes the input transform of planes consecutive h×w
// planes of x (plane p at x[p·h·w:]) to v:
//
//	v[ξ·ldv + p·T + s] = (Bᵀ·d_t·B)[ξ]   for ξ < 36, tiles t < T = h·w/16 stored at s (Tile4Slot)
//
// ldv ≥ planes·T is the distance between the 36 positions' blocks.
func Winograd4Input(v []float32, ldv int, x []float32, planes, h, w int) {
	tiles := winograd4Check("Winograd4Input", v, ldv, x, planes, h, w)
	tw, th := w/4, h/4
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
			// The first tile row (row −1 is padding), the ones whose six
			// rows lie inside the plane in one call (the kernel moves on
			// four rows per tile row), and the last (row h is padding).
			call := func(ty, rows int) {
				var r [6]*float32
				for k := range r {
					r[k] = &row(4*ty - 1 + k)[0]
				}
				winograd4InputAsm(lanes, &v[p*tiles+ty*tw], ldv, r, tw/lanes, rows)
			}
			call(0, 1)
			if th > 2 {
				call(1, th-2)
			}
			if th > 1 {
				call(th-1, 1)
			}
			continue
		}
		for ty := range th {
			y := 4*ty - 1
			winograd4InputRow(v[p*tiles+ty*tw:], ldv, [6][]float32{row(y), row(y + 1), row(y + 2), row(y + 3), row(y + 4), row(y + 5)}, tw)
		}
	}
}

// winograd4InputRow transforms one row of tw tiles from its six input rows
// (the reference of the assembly): per input row a, c[a] = bt6 of the
// columns 4tx−1 … 4tx+4; then v[6j+i] = bt6(c[0][j], …, c[5][j])[i].
func winograd4InputRow(v []float32, ldv int, r [6][]float32, tw int) {
	for tx := range tw {
		var c [6][6]float32
		for a, ra := range r {
			var d [6]float32
			for b := range 6 {
				if col := 4*tx - 1 + b; col >= 0 && col < 4*tw {
					d[b] = ra[col]
				}
			}
			c[a] = bt6(d)
		}
		s := Tile4Slot(tx, tw)
		for j := range 6 {
			col := bt6([6]float32{c[0][j], c[1][j], c[2][j], c[3][j], c[4][j], c[5][j]})
			for i, vi := range col {
				v[(6*j+i)*ldv+s] = vi
			}
		}
	}
}

// Winograd4Output writes the output transform of the products m (laid out
// as Winograd4Input's v, positions ldm apart) to planes consecutive h×w
// planes of y, plus bias; with add, the result is added to what y holds:
//
//	y[p·h·w + (4ty+a)·w + 4tx+b] (+)= (Aᵀ·M_t·A)[a][b] + bias
func Winograd4Output(y, m []float32, ldm, planes, h, w int, bias float32, add bool) {
	winograd4Check("Winograd4Output", m, ldm, y, planes, h, w)
	tw := w / 4
	if lanes := winogradLanes(tw); lanes > 0 && planes > 0 {
		// The tile rows of consecutive planes are consecutive groups of
		// four output rows: one call for them all.
		acc := 0
		if add {
			acc = 1
		}
		winograd4OutputAsm(lanes, &y[0], w, &m[0], ldm, tw/lanes, planes*h/4, bias, acc)
		return
	}
	for r := range planes * h / 4 {
		winograd4OutputRow(y[4*r*w:(4*r+4)*w], w, m[r*tw:], ldm, tw, bias, add)
	}
}

// winograd4OutputRow is the reference of the output transform of one tile
// row into the four output rows at y (w apart): per column j of M,
// s[·][j] = at6(M[0][j], …, M[5][j]); then output row i of the tile is
// at6(s[i][0], …, s[i][5]) + bias, and with add that plus what y holds.
func winograd4OutputRow(y []float32, w int, m []float32, ldm, tw int, bias float32, add bool) {
	for tx := range tw {
		sl := Tile4Slot(tx, tw)
		var s [4][6]float32
		for j := range 6 {
			var col [6]float32
			for i := range col {
				col[i] = m[(6*j+i)*ldm+sl]
			}
			for i, si := range at6(col) {
				s[i][j] = si
			}
		}
		for i := range 4 {
			out := y[i*w+4*tx : i*w+4*tx+4]
			for k, o := range at6(s[i]) {
				o += bias
				if add {
					o += out[k]
				}
				out[k] = o
			}
		}
	}
}

// Winograd4Grad writes the transform A·dY_t·Aᵀ of the output gradient dy
// (planes consecutive h×w planes) to v, laid out as Winograd4Input's: the
// gradient of the loss with respect to the products M_t, whose GEMM with
// the input transform over the tiles is the weight gradient in the
// Winograd domain.
func Winograd4Grad(v []float32, ldv int, dy []float32, planes, h, w int) {
	winograd4Check("Winograd4Grad", v, ldv, dy, planes, h, w)
	tw := w / 4
	if lanes := winogradLanes(tw); lanes > 0 && planes > 0 {
		winograd4GradAsm(lanes, &v[0], ldv, &dy[0], w, tw/lanes, planes*h/4)
		return
	}
	for r := range planes * h / 4 {
		winograd4GradRow(v[r*tw:], ldv, dy[4*r*w:(4*r+4)*w], w, tw)
	}
}

// winograd4GradRow is the reference of the gradient transform of one tile
// row from the four gradient rows at dy (w apart): per row k,
// e[k] = a6(dy[k][4tx … 4tx+3]); then v[6j+i] = a6(e[0][j], …, e[3][j])[i].
func winograd4GradRow(v []float32, ldv int, dy []float32, w, tw int) {
	for tx := range tw {
		var e [4][6]float32
		for k := range e {
			e[k] = a6([4]float32(dy[k*w+4*tx : k*w+4*tx+4]))
		}
		s := Tile4Slot(tx, tw)
		for j := range 6 {
			for i, vi := range a6([4]float32{e[0][j], e[1][j], e[2][j], e[3][j]}) {
				v[(6*j+i)*ldv+s] = vi
			}
		}
	}
}

// winograd4Check panics unless h and w are positive multiples of 4, the 36
// position blocks of t (ld apart) hold planes·T tiles and x holds planes
// h×w planes; it returns T.
func winograd4Check(fn string, t []float32, ld int, x []float32, planes, h, w int) int {
	if h < 4 || w < 4 || h%4 != 0 || w%4 != 0 || planes < 0 {
		panic(fmt.Sprintf("kernels.%s: %d planes of %d×%d: want sizes that are multiples of 4", fn, planes, h, w))
	}
	tiles := h * w / 16
	if ld < planes*tiles || len(t) < 35*ld+planes*tiles {
		panic(fmt.Sprintf("kernels.%s: transform buffer of %d floats with ld=%d is too small for 36 blocks of %d tiles", fn, len(t), ld, planes*tiles))
	}
	if len(x) < planes*h*w {
		panic(fmt.Sprintf("kernels.%s: len(x)=%d < %d planes of %d×%d", fn, len(x), planes, h, w))
	}
	return tiles
}
