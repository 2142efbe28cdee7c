package kernels

import (
	"sync"
	"unsafe"
)

// gemm is a blocked sgemm for one kernel level: register-blocked
// micro-kernels fed from packed panels, with cache blocking kc (depth),
// mc (rows of A kept in L2) and nc (columns of B kept in L3), in the loop
// order of BLIS (jc, pc, ic, jr, ir).
type gemm struct {
	nr         int
	kc, mc, nc int
	// mrs are the panel heights a product may be tiled with; pickMR
	// chooses one per product (the one that leaves the fewest padded
	// rows, the tallest on ties).
	mrs []int
	// micro[h] computes an h×nr tile C = alpha·Σ_p a[p*h+i]·b[p*nr+j] +
	// beta·C; beta = 0 does not read C. A nil entry means no kernel of
	// that height: such a panel is padded to the product's panel height.
	micro []func(k int, a, b, c *float32, ldc int, alpha, beta float32)
	// microStrided, if not nil, holds the same kernels reading B in
	// place (row p at b + p·ldb) for full nr-wide panels of a B whose
	// rows are contiguous: part uses them for products with few rows,
	// where packing B would be amortised over few A panels (see
	// stridedMaxM).
	microStrided []func(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
	// microPanels, if not nil, holds microStrided[h] run over np ≥ 1
	// adjacent full panels in one call (panel j at b + j·nr, its tile at
	// c + j·nr): the same arithmetic per tile, without a call per tile.
	microPanels []func(k int, a, b *float32, ldb int, c *float32, ldc int, np int, alpha, beta float32)
	// microARows, if not nil, holds the kernels of micro reading A in
	// place (row i at a + i·lda) for an A whose rows are contiguous along
	// the depth: part uses them for products with few columns, where
	// packing A would be amortised over few B panels (see aRowsMaxN).
	microARows []func(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)
	// pack writes dst[p*w+r] = src[r*rs+p*ps] for r < rows, p < kb, and
	// zeros for rows ≤ r < w. w is a panel height (A) or nr (B).
	pack func(dst []float32, w int, src []float32, rs, ps, rows, kb int)
	// packRows, if not nil, packs np full nr-wide panels of a B whose
	// columns are contiguous (rs = 1) row by row: the same layout as np
	// calls of pack, read sequentially.
	packRows func(dst []float32, src []float32, ld, kb, np int)
}

// pickMR returns the panel height for a product with m rows: m itself
// when a kernel that tall exists, else the candidate that pads the fewest
// rows (ties to the taller). It depends on m only, so the tiling of C
// never depends on the thread count.
func (g *gemm) pickMR(m int) int {
	if m < len(g.micro) && g.micro[m] != nil {
		return m
	}
	best, waste := 0, 0
	for _, mr := range g.mrs {
		w := (m+mr-1)/mr*mr - m
		if best == 0 || w < waste || (w == waste && mr > best) {
			best, waste = mr, w
		}
	}
	return best
}

// stridedMaxM is the largest m for which a B with contiguous rows is read
// in place rather than packed (a variable so that tests and benchmarks can
// compare both).
var stridedMaxM = 128

// aRowsMaxN is the largest n for which an A with contiguous rows is read
// in place rather than packed, when B is packed (a variable so that tests
// and benchmarks can compare both). The weight gradients of the
// convolutions (n = input channels on the Winograd path, input channels ×
// taps = 27…576 on the im2col path) are such products: each A panel meets
// few B panels, and packing it cost up to a third of the product. Measured
// on Zen 4 (AVX2, 1 thread): 16×16×1024 +27–44 %, 64×576×2048 up to +16 %,
// 512 and 1024 square products unchanged.
var aRowsMaxN = 576

// parallelMin is the product m·n·k below which sgemm runs on one thread:
// waking a parked worker costs about 7 µs, the time of ≈ 1.5 MFLOP.
const parallelMin = 1 << 21

// gemmOp is one call's operands in (row stride, depth stride) form:
// op(A)(i,p) = a[i*ars+p*aps], op(B)(p,j) = b[j*brs+p*bps].
type gemmOp struct {
	g                  *gemm
	mr                 int // panel height of A (see pickMR)
	m, n, k            int
	alpha, beta        float32
	a, b, c            []float32
	ars, aps, brs, bps int
	ldc                int
}

func (g *gemm) run(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	op := gemmOp{g: g, mr: g.pickMR(m), m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c, ldc: ldc,
		ars: lda, aps: 1, brs: 1, bps: ldb}
	if transA {
		op.ars, op.aps = 1, lda
	}
	if transB {
		op.brs, op.bps = ldb, 1
	}
	mt := (m + op.mr - 1) / op.mr
	nt := (n + g.nr - 1) / g.nr
	t := threads
	if t < 2 || m*n*k < parallelMin || max(mt, nt) < 2 {
		op.part(0, m, 0, n)
		return
	}
	runParallel(op, t, mt, nt)
}

// runParallel splits op over t threads, over output tiles only (never over
// k), along the dimension with more tiles, at tile boundaries: every
// element of C is computed by the same micro-kernel call sequence whatever
// the split. A product started while the team is busy (sgemm called from a
// part of Parallel, or from several goroutines) runs whole on its caller:
// same results, no waiting.
func runParallel(op gemmOp, t, mt, nt int) {
	p := &workers
	if nt >= mt {
		t = min(t, nt)
	} else {
		t = min(t, mt)
	}
	if !p.mu.TryLock() {
		op.part(0, op.m, 0, op.n)
		return
	}
	p.op, p.t, p.mt, p.nt = op, t, mt, nt
	p.runLocked(t, gemmSplit)
	p.op = gemmOp{} // drop references to the operands
	p.mu.Unlock()
}

// gemmSplit is the job of a parallel product: part `part` of the team's
// product (a package-level func so that posting it allocates nothing).
var gemmSplit = func(part int) { workers.op.split(part, workers.t, workers.mt, workers.nt) }

// split computes part `part` of t of the product.
func (op *gemmOp) split(part, t, mt, nt int) {
	g := op.g
	if nt >= mt {
		j0, j1 := part*nt/t*g.nr, min((part+1)*nt/t*g.nr, op.n)
		op.part(0, op.m, j0, j1)
		return
	}
	i0, i1 := part*mt/t*op.mr, min((part+1)*mt/t*op.mr, op.m)
	op.part(i0, i1, 0, op.n)
}

// part computes the block C[i0:i1, j0:j1]; i0 and j0 are multiples of the
// panel height op.mr and of nr. Row panels are op.mr tall except the last
// one of C, which uses the kernel of its own height when there is one (no
// padded rows) and is padded to op.mr otherwise.
func (op *gemmOp) part(i0, i1, j0, j1 int) {
	g := op.g
	mr, nr := op.mr, g.nr
	kc := g.kcFor(op.k)
	mc := max(g.mc/mr, 1) * mr
	ncMax := min(g.nc, (j1-j0+nr-1)/nr*nr)
	mcMax := min(mc, (i1-i0+mr-1)/mr*mr)
	// One scratch buffer per part: packed B block, packed A block, and
	// the edge tile, each starting on a 64-byte boundary.
	bsize, asize, tsize := (kc*ncMax+15)&^15, (kc*mcMax+15)&^15, mr*nr
	buf := getBuf(bsize + asize + tsize + 16)
	ws := align64(*buf)
	bbuf, abuf, tmp := ws[:bsize], ws[bsize:bsize+asize], ws[bsize+asize:bsize+asize+tsize]
	// In-place B: every full panel is read where it is, only a partial
	// last panel is packed. The choice depends on the shape alone.
	inPlace := g.microStrided != nil && op.brs == 1 && op.m <= stridedMaxM
	// A in place instead of packed: a B that is packed and few columns.
	aInPlace := !inPlace && g.microARows != nil && op.aps == 1 && op.n <= aRowsMaxN
	for jc := j0; jc < j1; jc += g.nc {
		ncb := min(g.nc, j1-jc)
		for pc := 0; pc < op.k; pc += kc {
			kb := min(kc, op.k-pc)
			jr := 0
			if inPlace {
				jr = ncb / nr * nr
			} else if g.packRows != nil && op.brs == 1 && ncb >= nr {
				np := ncb / nr
				g.packRows(bbuf, op.b[jc+pc*op.bps:], op.bps, kb, np)
				jr = np * nr
			}
			for ; jr < ncb; jr += nr {
				j := jc + jr
				g.pack(bbuf[jr*kb:], nr, op.b[j*op.brs+pc*op.bps:], op.brs, op.bps, min(nr, ncb-jr), kb)
			}
			beta := op.beta
			if pc > 0 {
				beta = 1
			}
			for ic := i0; ic < i1; ic += mc {
				mcb := min(mc, i1-ic)
				for ir := 0; ir < mcb && !aInPlace; ir += mr {
					i := ic + ir
					h := min(mr, mcb-ir)
					g.pack(abuf[ir*kb:], op.panelHeight(h), op.a[i*op.ars+pc*op.aps:], op.ars, op.aps, h, kb)
				}
				// The full panels of B in place, a row panel at a time,
				// when the level loops over them in one call and every row
				// panel has a kernel of its own height (only the last one
				// can be shorter): then no tile of them is an edge tile.
				jr0 := 0
				last := mcb - (mcb-1)/mr*mr
				if inPlace && g.microPanels != nil && ncb >= nr && op.panelHeight(last) == last {
					np := ncb / nr
					for ir := 0; ir < mcb; ir += mr {
						h := min(mr, mcb-ir)
						g.microPanels[op.panelHeight(h)](kb, &abuf[ir*kb], &op.b[jc+pc*op.bps], op.bps, &op.c[(ic+ir)*op.ldc+jc], op.ldc, np, op.alpha, beta)
					}
					jr0 = np * nr
				}
				for jr := jr0; jr < ncb; jr += nr {
					w := min(nr, ncb-jr)
					bpanel := &bbuf[jr*kb]
					var bsrc *float32 // B in place, for a full panel
					if inPlace && w == nr {
						bsrc = &op.b[jc+jr+pc*op.bps]
					}
					for ir := 0; ir < mcb; ir += mr {
						h := min(mr, mcb-ir)
						ph := op.panelHeight(h)
						apanel := &abuf[ir*kb]
						ci := (ic+ir)*op.ldc + jc + jr
						cp, ldc := &op.c[ci], op.ldc
						edge := h != ph || w != nr
						var t []float32
						if edge {
							// Edge tile: run the same micro-kernel on a
							// copy of the valid part of C, then copy it back.
							t = tmp[:ph*nr]
							if beta != 0 {
								for r := 0; r < h; r++ {
									copy(t[r*nr:r*nr+w], op.c[ci+r*op.ldc:])
								}
							}
							cp, ldc = &t[0], nr
						}
						switch {
						case bsrc != nil:
							g.microStrided[ph](kb, apanel, bsrc, op.bps, cp, ldc, op.alpha, beta)
						case aInPlace:
							g.microARows[ph](kb, &op.a[(ic+ir)*op.ars+pc], op.ars, bpanel, cp, ldc, op.alpha, beta)
						default:
							g.micro[ph](kb, apanel, bpanel, cp, ldc, op.alpha, beta)
						}
						if edge {
							for r := 0; r < h; r++ {
								copy(op.c[ci+r*op.ldc:ci+r*op.ldc+w], t[r*nr:r*nr+w])
							}
						}
					}
				}
			}
		}
	}
	putBuf(buf)
}

// panelHeight returns the packed height of a panel holding h valid rows:
// h when a kernel of that height exists, else the product's mr.
func (op *gemmOp) panelHeight(h int) int {
	if h < len(op.g.micro) && op.g.micro[h] != nil {
		return h
	}
	return op.mr
}

// kcFor returns the depth block for a product of depth k: at most g.kc,
// with the blocks balanced (k = 576 and kc = 256 gives 3 blocks of 192,
// not 256 + 256 + 64) and a multiple of 16 where possible so the
// transposing packers need no scalar tail.
func (g *gemm) kcFor(k int) int {
	nb := (k + g.kc - 1) / g.kc
	kc := (k + nb - 1) / nb
	if r := (kc + 15) &^ 15; r <= g.kc {
		kc = r
	}
	return min(kc, k)
}

// packGo is the scalar panel packer: dst[p*w+r] = src[r*rs+p*ps].
func packGo(dst []float32, w int, src []float32, rs, ps, rows, kb int) {
	dst = dst[:kb*w]
	if rows < w {
		clear(dst)
	}
	if ps == 1 {
		for r := 0; r < rows; r++ {
			row := src[r*rs : r*rs+kb]
			for p, v := range row {
				dst[p*w+r] = v
			}
		}
		return
	}
	for p := 0; p < kb; p++ {
		d := dst[p*w : p*w+rows]
		for r := range d {
			d[r] = src[r*rs+p*ps]
		}
	}
}

var bufPool, buf64Pool sync.Pool

// getScratch returns a scratch slice of length n from pool.
func getScratch[T float32 | float64](pool *sync.Pool, n int) *[]T {
	if p, ok := pool.Get().(*[]T); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]T, n)
	return &s
}

// getBuf returns a float32 scratch slice of length n (putBuf gives it back).
func getBuf(n int) *[]float32 { return getScratch[float32](&bufPool, n) }

func putBuf(p *[]float32) { bufPool.Put(p) }

// align64 drops up to 15 leading elements so that s starts on a 64-byte
// boundary (vector loads of packed panels then never split cache lines).
func align64(s []float32) []float32 {
	off := (64 - uintptr(unsafe.Pointer(&s[0]))%64) % 64 / 4
	return s[off:]
}
