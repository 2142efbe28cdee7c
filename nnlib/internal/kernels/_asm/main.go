// Command asm generates kernels_amd64.s, the AVX-512 and AVX2+FMA assembly
// of package kernels, with avo. Run it through `go generate` in the kernels
// package; the Go declarations live in asm_amd64.go, written by hand.
//
// Calling conventions shared by every generated function:
//   - pointers point at the first element; lengths are element counts;
//   - elementwise kernels and reductions process n elements where n is a
//     multiple of the vector width (16 for AVX-512, 8 for AVX2); the Go
//     wrappers handle the tail with the reference loop;
//   - the sgemm micro-kernels compute an MR×NR tile
//     C = alpha·Σ_p A(:,p)·B(p,:) + beta·C from packed panels
//     (a[p*MR+i], b[p*NR+j]); beta = 0 does not read C.
package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")

	for mr := 1; mr <= 14; mr++ {
		sgemmKernel(regsAVX512, mr, packed)
	}
	for mr := 1; mr <= 14; mr++ {
		sgemmKernel(regsAVX512, mr, strided)
	}
	for mr := 1; mr <= 6; mr++ {
		sgemmKernel(regsAVX2, mr, packed)
	}
	for mr := 1; mr <= 6; mr++ {
		sgemmKernel(regsAVX2, mr, strided)
	}
	for mr := 1; mr <= 6; mr++ {
		sgemmKernel(regsAVX2, mr, panels)
	}
	for mr := 1; mr <= 6; mr++ {
		sgemmKernel(regsAVX2, mr, aRows)
	}
	packTransAVX512(16)
	for w := 8; w <= 14; w++ {
		packTransAVX512(w)
		packCopyAVX512(w)
	}
	packCopyAVX512(32)
	packRows32AVX512()
	for _, rows := range []int{8, 6, 4, 2, 1} {
		packTransAVX2(rows)
	}
	packCopyAVX2(16)
	packCopyAVX2(6)
	cpuid()
	for _, lanes := range []int{4, 8} {
		winogradInput(lanes)
		winogradOutput(lanes)
		winogradGrad(lanes)
	}
	winogradInputPairs()
	winogradOutputPairs()
	winogradGradPairs()

	for _, w := range []width{avx512, avx2} {
		binary(w, "add", func(x, y, d VecVirtual) { w.op3(VADDPS, y, x, d) })
		binary(w, "sub", func(x, y, d VecVirtual) { w.op3(VSUBPS, y, x, d) })
		binary(w, "mul", func(x, y, d VecVirtual) { w.op3(VMULPS, y, x, d) })
		maxKernel(w)
		scaleKernel(w)
		axpyKernel(w)
		reluKernel(w)
		reluBackwardKernel(w)
		reduce(w, "sum", false, false)
		reduce(w, "sumSq", true, false)
		reduce(w, "dot", false, true)
		reduce(w, "sumSqDev", true, false)
		reduce(w, "dotDev", false, true)
		affineKernel(w, false)
		affineKernel(w, true)
		bnDxKernel(w, false)
		bnDxKernel(w, true)
	}
	splitPhasesKernel()
	mergePhasesKernel(false)
	mergePhasesKernel(true)

	Generate()
}

// width describes one vector level.
type width struct {
	name  string // AVX512 or AVX2
	lanes int    // float32 lanes per vector
	vec   func() VecVirtual
}

var (
	avx512 = width{"AVX512", 16, ZMM}
	avx2   = width{"AVX2", 8, YMM}
)

func (w width) bytes() int { return 4 * w.lanes }

func (w width) op3(f func(...Op), a, b, d Op) { f(a, b, d) }

func param(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// ---------------------------------------------------------------------------
// sgemm micro-kernels

// kernelRegs is the register plan of one level's sgemm micro-kernels.
type kernelRegs struct {
	suffix   string // AVX512 or AVX2
	nr       int    // tile columns: two vectors
	vbytes   int    // bytes per vector
	prefetch bool   // prefetch the C tile and A ahead (AVX-512)
	acc      func(i int) VecPhysical
	b        func(mr int) (VecPhysical, VecPhysical) // the two vectors of a B row
	bcast    func(mr, i int) VecPhysical             // the broadcast of row i of A
	scale    func(mr int) (VecPhysical, VecPhysical) // alpha, beta at the store
	tmp      func() (VecPhysical, VecPhysical)       // temporaries of the beta store
}

var (
	// AVX-512: 2·mr zmm accumulators, B in the next two, up to six
	// broadcast registers at the top (one explicit broadcast per row of A:
	// an embedded-broadcast FMA would load it twice and be load-bound).
	regsAVX512 = kernelRegs{suffix: "AVX512", nr: 32, vbytes: 64, prefetch: true,
		acc:   zreg,
		b:     func(mr int) (VecPhysical, VecPhysical) { return zreg(2 * mr), zreg(2*mr + 1) },
		bcast: func(mr, i int) VecPhysical { nb := min(6, 30-2*mr); return zreg(32 - nb + i%nb) },
		scale: func(mr int) (VecPhysical, VecPhysical) { return zreg(2 * mr), zreg(2*mr + 1) },
		tmp:   func() (VecPhysical, VecPhysical) { return Z30, Z31 }}
	// AVX2: at most 12 ymm accumulators (mr ≤ 6), B in Y12, Y13, the
	// broadcast in Y14.
	regsAVX2 = kernelRegs{suffix: "AVX2", nr: 16, vbytes: 32,
		acc:   yreg,
		b:     func(int) (VecPhysical, VecPhysical) { return Y12, Y13 },
		bcast: func(int, int) VecPhysical { return Y14 },
		scale: func(int) (VecPhysical, VecPhysical) { return Y12, Y13 },
		tmp:   func() (VecPhysical, VecPhysical) { return Y14, Y15 }}
)

// How a micro-kernel reads B.
type bLayout int

const (
	packed  bLayout = iota // a packed kc×nr panel
	strided                // in place, row p at b + p·ldb
	panels                 // in place, over np adjacent column panels
	aRows                  // B packed, A in place (row i at a + i·lda)
)

// sgemmKernel emits sgemmKernel<mr>x<nr><level> (e.g. sgemmKernel12x32AVX512):
// an mr×nr tile in 2·mr accumulators; per p one nr-float row of B (two
// vectors) and mr broadcasts of A. The strided variant
// (sgemmKernel12x32StridedAVX512) reads B in place, row p at b + p·ldb,
// instead of from a packed panel: the same arithmetic in the same order,
// for a B whose rows are already contiguous (the column matrix of a
// convolution), which then needs no packing copy. AVX2 has kernels of 1…6
// rows × 16: the 6-row one tiles products, the shorter ones serve the last
// row panel of a product whose height is not a multiple of 6 (16 output
// channels = 6 + 6 + 4), which then computes no padded rows.
//
// The panels variant (sgemmPanels6x16StridedAVX2) runs the strided kernel
// over np ≥ 1 adjacent full column panels (panel j at b + j·nr, its tile at
// c + j·nr) for one A panel: every tile gets the same arithmetic in the
// same order, so the products are the same bit for bit, and the loop over
// the panels, a Go call per tile before, costs a few instructions. That
// call was a large part of a tile when k is small (the Winograd GEMMs over
// 16 channels run 16 steps per tile).
func sgemmKernel(r kernelRegs, mr int, layout bLayout) {
	nr := r.nr
	var name, sig string
	switch layout {
	case packed:
		name = fmt.Sprintf("sgemmKernel%dx%d%s", mr, nr, r.suffix)
		sig = "func(k int, a, b, c *float32, ldc int, alpha, beta float32)"
	case strided:
		name = fmt.Sprintf("sgemmKernel%dx%dStrided%s", mr, nr, r.suffix)
		sig = "func(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)"
	case panels:
		name = fmt.Sprintf("sgemmPanels%dx%dStrided%s", mr, nr, r.suffix)
		sig = "func(k int, a, b *float32, ldb int, c *float32, ldc int, np int, alpha, beta float32)"
	case aRows:
		name = fmt.Sprintf("sgemmKernel%dx%dARows%s", mr, nr, r.suffix)
		sig = "func(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	switch layout {
	case packed:
		Doc(fmt.Sprintf("%s computes a %d×%d tile of C = alpha·A·B + beta·C from packed panels.", name, mr, nr))
	case strided:
		Doc(fmt.Sprintf("%s computes a %d×%d tile of C = alpha·A·B + beta·C from a packed A panel and B in place (row p at b + p·ldb).", name, mr, nr))
	case panels:
		Doc(fmt.Sprintf("%s computes np ≥ 1 adjacent %d×%d tiles of C = alpha·A·B + beta·C (tile j at c + j·%d) from one packed A panel and B in place (row p at b + p·ldb, panel j at b + j·%d), as np calls of sgemmKernel%dx%dStrided%s would.", name, mr, nr, nr, nr, mr, nr, r.suffix))
	case aRows:
		Doc(fmt.Sprintf("%s computes a %d×%d tile of C = alpha·A·B + beta·C from A in place (A(i, p) at a + i·lda + p) and a packed B panel, as sgemmKernel%dx%d%s does from a packed A panel.", name, mr, nr, mr, nr, r.suffix))
	}
	var k, a, b, c, ldb, ldb3, ldc, bBase, cBase, np, lda, lda3, lda5 Register
	if layout == panels {
		bBase = Load(Param("b"), GP64())
		cBase = Load(Param("c"), GP64())
		np = Load(Param("np"), GP64())
		ldb = Load(Param("ldb"), GP64())
		SHLQ(U8(2), ldb)
		ldb3 = GP64()
		LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
		ldc = Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		k, a, b, c = GP64(), GP64(), GP64(), GP64()
		Label(name + "_panel")
		Load(Param("k"), k)
		Load(Param("a"), a)
		MOVQ(bBase, b)
		MOVQ(cBase, c)
	} else {
		k = Load(Param("k"), GP64())
		a = Load(Param("a"), GP64())
		b = Load(Param("b"), GP64())
		if layout == strided {
			ldb = Load(Param("ldb"), GP64())
			SHLQ(U8(2), ldb)
			ldb3 = GP64()
			LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
		}
		if layout == aRows {
			lda = Load(Param("lda"), GP64())
			SHLQ(U8(2), lda)
			lda3, lda5 = GP64(), GP64()
			LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
			LEAQ(Mem{Base: lda, Index: lda, Scale: 4}, lda5)
		}
		c = Load(Param("c"), GP64())
		ldc = Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
	}
	inPlace := layout == strided || layout == panels
	// aAt addresses A(i, u) relative to the current depth: packed, the
	// panel's element u·mr + i; in place, row i (a + i·lda) at u.
	aAt := func(u, i int) Mem {
		if layout != aRows {
			return Mem{Base: a, Disp: (u*mr + i) * 4}
		}
		return strideAddr(a, lda, lda3, lda5, i, u*4)
	}
	aStep := mr * 4 // bytes A advances per depth step
	if layout == aRows {
		aStep = 4
	}

	if r.prefetch {
		// Prefetch the C tile (written at the end, read too when beta != 0).
		pc := GP64()
		MOVQ(c, pc)
		for i := 0; i < mr; i++ {
			PREFETCHT0(Mem{Base: pc})
			PREFETCHT0(Mem{Base: pc, Disp: 64})
			if i < mr-1 {
				ADDQ(ldc, pc)
			}
		}
	}
	acc := make([]VecPhysical, 2*mr)
	for i := range acc {
		acc[i] = r.acc(i)
		VXORPS(acc[i], acc[i], acc[i])
	}
	b0, b1 := r.b(mr)
	step := func(u int) {
		if inPlace {
			row := strideAddr(b, ldb, ldb3, nil, u, 0)
			VMOVUPS(row, b0)
			row.Disp = r.vbytes
			VMOVUPS(row, b1)
		} else {
			VMOVUPS(Mem{Base: b, Disp: u * nr * 4}, b0)
			VMOVUPS(Mem{Base: b, Disp: u*nr*4 + r.vbytes}, b1)
		}
		for i := 0; i < mr; i++ {
			bc := r.bcast(mr, i)
			VBROADCASTSS(aAt(u, i), bc)
			VFMADD231PS(b0, bc, acc[2*i])
			VFMADD231PS(b1, bc, acc[2*i+1])
		}
	}
	const unroll = 4
	Label(name + "_loop")
	CMPQ(k, U8(unroll))
	JL(LabelRef(name + "_tail"))
	if r.prefetch && layout != aRows {
		PREFETCHT0(Mem{Base: a, Disp: unroll * mr * 4 * 4})
	}
	for u := 0; u < unroll; u++ {
		step(u)
	}
	ADDQ(U32(unroll*aStep), a)
	if inPlace {
		LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	} else {
		ADDQ(U32(unroll*nr*4), b)
	}
	SUBQ(U8(unroll), k)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(k, k)
	JZ(LabelRef(name + "_store"))
	step(0)
	ADDQ(U8(aStep), a)
	if inPlace {
		ADDQ(ldb, b)
	} else {
		ADDQ(U32(nr*4), b)
	}
	DECQ(k)
	JMP(LabelRef(name + "_tail"))

	Label(name + "_store")
	alpha, beta := r.scale(mr)
	VBROADCASTSS(param("alpha"), alpha)
	VBROADCASTSS(param("beta"), beta)
	bits := GP32()
	MOVL(param("beta"), bits)
	TESTL(U32(0x7fffffff), bits)
	JZ(LabelRef(name + "_beta0"))
	t0, t1 := r.tmp()
	for i := 0; i < mr; i++ {
		VMULPS(Mem{Base: c}, beta, t0)
		VMULPS(Mem{Base: c, Disp: r.vbytes}, beta, t1)
		VFMADD231PS(alpha, acc[2*i], t0)
		VFMADD231PS(alpha, acc[2*i+1], t1)
		VMOVUPS(t0, Mem{Base: c})
		VMOVUPS(t1, Mem{Base: c, Disp: r.vbytes})
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	if layout == panels {
		JMP(LabelRef(name + "_next"))
	} else {
		VZEROUPPER()
		RET()
	}
	Label(name + "_beta0")
	for i := 0; i < mr; i++ {
		VMULPS(alpha, acc[2*i], acc[2*i])
		VMULPS(alpha, acc[2*i+1], acc[2*i+1])
		VMOVUPS(acc[2*i], Mem{Base: c})
		VMOVUPS(acc[2*i+1], Mem{Base: c, Disp: r.vbytes})
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	if layout == panels {
		Label(name + "_next")
		ADDQ(U32(nr*4), bBase)
		ADDQ(U32(nr*4), cBase)
		DECQ(np)
		JNZ(LabelRef(name + "_panel"))
	}
	VZEROUPPER()
	RET()
}

func zreg(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

func yreg(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

// ---------------------------------------------------------------------------
// packing

// packTransAVX512 emits packTrans<rows>AVX512(dst, src, ld, nblk, dstStride):
// for r < rows and p < 16·nblk, dst[p*dstStride+r] = src[r*ld+p]. It reads
// rows source rows 16 floats at a time and transposes 16×16 blocks in
// registers (rows < 16 are padded with zeros and stored with a mask).
func packTransAVX512(rows int) {
	name := fmt.Sprintf("packTrans%dAVX512", rows)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, nblk, dstStride int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s packs %d rows of a row-major panel transposed: dst[p*dstStride+r] = src[r*ld+p] for p < 16·nblk.", name, rows))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	n := Load(Param("nblk"), GP64())
	ds := Load(Param("dstStride"), GP64())
	SHLQ(U8(2), ld)
	SHLQ(U8(2), ds)
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	r := make([]VecPhysical, 16)
	t := make([]VecPhysical, 16)
	for i := 0; i < 16; i++ {
		r[i] = zreg(i)
		t[i] = zreg(16 + i)
	}
	if rows < 16 {
		mask := GP32()
		MOVL(U32(1<<rows-1), mask)
		KMOVW(mask, K1)
		for i := rows; i < 16; i++ {
			VXORPS(r[i], r[i], r[i])
		}
	}
	p := GP64()
	row := GP64()
	lbl := name + "_loop"
	Label(lbl)
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	// Load rows: row pointer walks by 4·ld; offsets 0, ld, 2ld, 3ld.
	MOVQ(src, row)
	for i := 0; i < rows; i++ {
		var m Mem
		switch i % 4 {
		case 0:
			m = Mem{Base: row}
		case 1:
			m = Mem{Base: row, Index: ld, Scale: 1}
		case 2:
			m = Mem{Base: row, Index: ld, Scale: 2}
		case 3:
			m = Mem{Base: row, Index: ld3, Scale: 1}
		}
		VMOVUPS(m, r[i])
		// Long rows stream from memory, one line per row per block: fetch
		// 8 blocks ahead (the hardware cannot track this many streams).
		m.Disp += 512
		PREFETCHT0(m)
		if i%4 == 3 && i < rows-1 {
			LEAQ(Mem{Base: row, Index: ld, Scale: 4}, row)
		}
	}
	// Stage 1: interleave pairs of rows.
	for i := 0; i < 16; i += 2 {
		VUNPCKLPS(r[i+1], r[i], t[i])
		VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	// Stage 2: interleave pairs of pairs.
	for i := 0; i < 16; i += 4 {
		VUNPCKLPD(t[i+2], t[i], r[i])
		VUNPCKHPD(t[i+2], t[i], r[i+1])
		VUNPCKLPD(t[i+3], t[i+1], r[i+2])
		VUNPCKHPD(t[i+3], t[i+1], r[i+3])
	}
	// Stage 3: 128-bit lanes of groups (0,4), (8,12).
	for g := 0; g < 16; g += 8 {
		for j := 0; j < 4; j++ {
			VSHUFF32X4(U8(0x88), r[g+4+j], r[g+j], t[g+j])
			VSHUFF32X4(U8(0xdd), r[g+4+j], r[g+j], t[g+4+j])
		}
	}
	// Stage 4: combine the halves.
	for j := 0; j < 8; j++ {
		VSHUFF32X4(U8(0x88), t[8+j], t[j], r[j])
		VSHUFF32X4(U8(0xdd), t[8+j], t[j], r[8+j])
	}
	MOVQ(dst, p)
	for j := 0; j < 16; j++ {
		if rows < 16 {
			VMOVUPS(r[j], K1, Mem{Base: p})
		} else {
			VMOVUPS(r[j], Mem{Base: p})
		}
		if j < 15 {
			ADDQ(ds, p)
		}
	}
	if rows < 16 {
		// Stage 1 overwrote the zero padding rows only in t; r[rows:] were
		// overwritten by the transpose: re-zero them for the next block.
		for i := rows; i < 16; i++ {
			VXORPS(r[i], r[i], r[i])
		}
	}
	ADDQ(ds, p)
	MOVQ(p, dst)
	ADDQ(U8(64), src)
	DECQ(n)
	JMP(LabelRef(lbl))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// packTransAVX2 emits packTrans<rows>AVX2(dst, src, ld, nblk, dstStride):
// for r < rows and p < 8·nblk, dst[p*dstStride+r] = src[r*ld+p], through
// 8×8 register transposes (rows = 8, or 6 with two zero rows and 6-float
// stores).
func packTransAVX2(rows int) {
	name := fmt.Sprintf("packTrans%dAVX2", rows)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, nblk, dstStride int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s packs %d rows of a row-major panel transposed: dst[p*dstStride+r] = src[r*ld+p] for p < 8·nblk.", name, rows))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	n := Load(Param("nblk"), GP64())
	ds := Load(Param("dstStride"), GP64())
	SHLQ(U8(2), ld)
	SHLQ(U8(2), ds)
	r := make([]VecPhysical, 8)
	t := make([]VecPhysical, 8)
	for i := 0; i < 8; i++ {
		r[i] = yreg(i)
		t[i] = yreg(8 + i)
	}
	row, p := GP64(), GP64()
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	MOVQ(src, row)
	for i := 0; i < 8; i++ {
		if i < rows {
			VMOVUPS(Mem{Base: row}, r[i])
			if i < rows-1 {
				ADDQ(ld, row)
			}
		} else {
			VXORPS(r[i], r[i], r[i])
		}
	}
	for i := 0; i < 8; i += 2 {
		VUNPCKLPS(r[i+1], r[i], t[i])
		VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	for g := 0; g < 8; g += 4 {
		VSHUFPS(U8(0x44), t[g+2], t[g], r[g])
		VSHUFPS(U8(0xee), t[g+2], t[g], r[g+1])
		VSHUFPS(U8(0x44), t[g+3], t[g+1], r[g+2])
		VSHUFPS(U8(0xee), t[g+3], t[g+1], r[g+3])
	}
	for j := 0; j < 4; j++ {
		VPERM2F128(U8(0x20), r[4+j], r[j], t[j])
		VPERM2F128(U8(0x31), r[4+j], r[j], t[4+j])
	}
	MOVQ(dst, p)
	for j := 0; j < 8; j++ {
		switch rows {
		case 8:
			VMOVUPS(t[j], Mem{Base: p})
		case 6:
			VMOVUPS(t[j].AsX(), Mem{Base: p})
			VEXTRACTF128(U8(1), t[j], t[j].AsX())
			VMOVLPS(t[j].AsX(), Mem{Base: p, Disp: 16})
		case 4:
			VMOVUPS(t[j].AsX(), Mem{Base: p})
		case 2:
			VMOVLPS(t[j].AsX(), Mem{Base: p})
		case 1:
			VMOVSS(t[j].AsX(), Mem{Base: p})
		default:
			panic(fmt.Sprintf("packTransAVX2: no store for %d rows", rows))
		}
		ADDQ(ds, p)
	}
	MOVQ(p, dst)
	ADDQ(U8(32), src)
	DECQ(n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// packRows32AVX512 emits packRows32AVX512(dst, src, ld, kb, npanels): the
// B block of npanels full 32-column panels of a row-major B, packed row by
// row: dst[q*kb*32+p*32+j] = src[p*ld+q*32+j] for p < kb, q < npanels,
// j < 32. Reading each row of B sequentially keeps the hardware
// prefetchers effective where packing panel by panel would walk kb rows
// at once.
func packRows32AVX512() {
	const name = "packRows32AVX512"
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kb, npanels int)")
	Pragma("noescape")
	Doc(name + " packs npanels 32-column panels of kb rows of B row by row.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	kb := Load(Param("kb"), GP64())
	np := Load(Param("npanels"), GP64())
	SHLQ(U8(2), ld)
	pstride := GP64()
	MOVQ(kb, pstride)
	SHLQ(U8(7), pstride) // kb*32 floats
	s, d, q := GP64(), GP64(), GP64()
	Label(name + "_row")
	TESTQ(kb, kb)
	JZ(LabelRef(name + "_done"))
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(np, q)
	Label(name + "_panel")
	TESTQ(q, q)
	JZ(LabelRef(name + "_next"))
	VMOVUPS(Mem{Base: s}, Z0)
	VMOVUPS(Mem{Base: s, Disp: 64}, Z1)
	VMOVUPS(Z0, Mem{Base: d})
	VMOVUPS(Z1, Mem{Base: d, Disp: 64})
	ADDQ(U8(128), s)
	ADDQ(pstride, d)
	DECQ(q)
	JMP(LabelRef(name + "_panel"))
	Label(name + "_next")
	ADDQ(ld, src)
	ADDQ(U8(128), dst)
	DECQ(kb)
	JMP(LabelRef(name + "_row"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// cpuid emits cpuid(leaf, sub): the CPUID instruction with EAX = leaf and
// ECX = sub, for the CPU's vendor and family (golang.org/x/sys/cpu reads
// the feature flags, not these).
func cpuid() {
	TEXT("cpuid", NOSPLIT, "func(leaf, sub uint32) (eax, ebx, ecx, edx uint32)")
	Doc("cpuid executes CPUID with EAX = leaf and ECX = sub and returns EAX, EBX, ECX and EDX.")
	Load(Param("leaf"), EAX)
	Load(Param("sub"), ECX)
	CPUID()
	Store(EAX, Return("eax"))
	Store(EBX, Return("ebx"))
	Store(ECX, Return("ecx"))
	Store(EDX, Return("edx"))
	RET()
}

// packCopyAVX512 emits packCopy<w>AVX512(dst, src, ld, k): for p < k and
// j < w, dst[p*w+j] = src[p*ld+j] (w = 32, or w < 16 with masked moves).
func packCopyAVX512(w int) {
	name := fmt.Sprintf("packCopy%dAVX512", w)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, k int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s copies k rows of %d floats: dst[p*%d+j] = src[p*ld+j].", name, w, w))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	k := Load(Param("k"), GP64())
	SHLQ(U8(2), ld)
	if w < 16 {
		mask := GP32()
		MOVL(U32(1<<w-1), mask)
		KMOVW(mask, K1)
	}
	Label(name + "_loop")
	TESTQ(k, k)
	JZ(LabelRef(name + "_done"))
	switch w {
	case 32:
		VMOVUPS(Mem{Base: src}, Z0)
		VMOVUPS(Mem{Base: src, Disp: 64}, Z1)
		VMOVUPS(Z0, Mem{Base: dst})
		VMOVUPS(Z1, Mem{Base: dst, Disp: 64})
	default:
		VMOVUPS_Z(Mem{Base: src}, K1, Z0)
		VMOVUPS(Z0, K1, Mem{Base: dst})
	}
	ADDQ(ld, src)
	ADDQ(U8(w*4), dst)
	DECQ(k)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// packCopyAVX2 emits packCopy<w>AVX2(dst, src, ld, k) for w = 16 or 6.
func packCopyAVX2(w int) {
	name := fmt.Sprintf("packCopy%dAVX2", w)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, k int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s copies k rows of %d floats: dst[p*%d+j] = src[p*ld+j].", name, w, w))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	k := Load(Param("k"), GP64())
	SHLQ(U8(2), ld)
	Label(name + "_loop")
	TESTQ(k, k)
	JZ(LabelRef(name + "_done"))
	switch w {
	case 16:
		VMOVUPS(Mem{Base: src}, Y0)
		VMOVUPS(Mem{Base: src, Disp: 32}, Y1)
		VMOVUPS(Y0, Mem{Base: dst})
		VMOVUPS(Y1, Mem{Base: dst, Disp: 32})
	case 6:
		VMOVUPS(Mem{Base: src}, X0)
		MOVQ(Mem{Base: src, Disp: 16}, RAX)
		VMOVUPS(X0, Mem{Base: dst})
		MOVQ(RAX, Mem{Base: dst, Disp: 16})
	}
	ADDQ(ld, src)
	ADDQ(U8(w*4), dst)
	DECQ(k)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// ---------------------------------------------------------------------------
// elementwise kernels: n is a positive multiple of the vector width.

const unrollEW = 4

// loop emits the standard 4×-unrolled loop over n elements, calling body
// with the byte offset of each vector, then a 1× cleanup loop. adv lists the
// pointers to advance.
func loop(w width, name string, n Register, adv []Register, body func(off int)) {
	Label(name + "_big")
	CMPQ(n, U32(unrollEW*w.lanes))
	JL(LabelRef(name + "_one"))
	for u := 0; u < unrollEW; u++ {
		body(u * w.bytes())
	}
	for _, p := range adv {
		ADDQ(U32(unrollEW*w.bytes()), p)
	}
	SUBQ(U32(unrollEW*w.lanes), n)
	JMP(LabelRef(name + "_big"))
	Label(name + "_one")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body(0)
	for _, p := range adv {
		ADDQ(U32(w.bytes()), p)
	}
	SUBQ(U32(w.lanes), n)
	JMP(LabelRef(name + "_one"))
	Label(name + "_done")
}

func binary(w width, op string, f func(x, y, d VecVirtual)) {
	name := op + w.name
	TEXT(name, NOSPLIT, "func(dst, x, y *float32, n int)")
	Pragma("noescape")
	Doc(name + " sets dst[i] = x[i] " + op + " y[i] for i < n (n a multiple of the vector width).")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	loop(w, name, n, []Register{dst, x, y}, func(off int) {
		vx, vy := w.vec(), w.vec()
		VMOVUPS(Mem{Base: x, Disp: off}, vx)
		VMOVUPS(Mem{Base: y, Disp: off}, vy)
		f(vx, vy, vx)
		VMOVUPS(vx, Mem{Base: dst, Disp: off})
	})
	VZEROUPPER()
	RET()
}

// maxKernel emits max with Go's semantics: NaN if either is NaN, and
// max(+0, -0) = +0. VMAXPS returns its second (Intel) source when the
// operands are unordered or equal, so the result is the AND of both operand
// orders (fixes signed zeros), then NaNs are patched in with x+y.
func maxKernel(w width) {
	name := "max" + w.name
	TEXT(name, NOSPLIT, "func(dst, x, y *float32, n int)")
	Pragma("noescape")
	Doc(name + " sets dst[i] = max(x[i], y[i]) with Go's NaN and signed-zero rules.")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	loop(w, name, n, []Register{dst, x, y}, func(off int) {
		vx, vy, m1, m2, s := w.vec(), w.vec(), w.vec(), w.vec(), w.vec()
		VMOVUPS(Mem{Base: x, Disp: off}, vx)
		VMOVUPS(Mem{Base: y, Disp: off}, vy)
		VMAXPS(vy, vx, m1) // Intel: max(x, y), y on ties/NaN
		VMAXPS(vx, vy, m2) // Intel: max(y, x), x on ties/NaN
		VADDPS(vy, vx, s)  // NaN where either is NaN
		if w.lanes == 16 {
			VPANDD(m2, m1, m1)
			VCMPPS(U8(3), vy, vx, K2) // unordered
			VMOVAPS(s, K2, m1)
		} else {
			VANDPS(m2, m1, m1)
			mask := w.vec()
			VCMPPS(U8(3), vy, vx, mask)
			VBLENDVPS(mask, s, m1, m1)
		}
		VMOVUPS(m1, Mem{Base: dst, Disp: off})
	})
	VZEROUPPER()
	RET()
}

func scaleKernel(w width) {
	name := "scale" + w.name
	TEXT(name, NOSPLIT, "func(dst *float32, a float32, x *float32, n int)")
	Pragma("noescape")
	Doc(name + " sets dst[i] = a * x[i].")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	va := w.vec()
	VBROADCASTSS(param("a"), va)
	loop(w, name, n, []Register{dst, x}, func(off int) {
		v := w.vec()
		VMULPS(Mem{Base: x, Disp: off}, va, v)
		VMOVUPS(v, Mem{Base: dst, Disp: off})
	})
	VZEROUPPER()
	RET()
}

// axpyKernel multiplies then adds (no FMA) so it matches the reference
// loop y[i] += a*x[i] bit for bit.
func axpyKernel(w width) {
	name := "axpy" + w.name
	TEXT(name, NOSPLIT, "func(a float32, x, y *float32, n int)")
	Pragma("noescape")
	Doc(name + " sets y[i] += a * x[i] (rounded product, then sum, like the reference).")
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	va := w.vec()
	VBROADCASTSS(param("a"), va)
	loop(w, name, n, []Register{x, y}, func(off int) {
		v := w.vec()
		VMULPS(Mem{Base: x, Disp: off}, va, v)
		VADDPS(Mem{Base: y, Disp: off}, v, v)
		VMOVUPS(v, Mem{Base: y, Disp: off})
	})
	VZEROUPPER()
	RET()
}

// reluKernel uses VMAXPS with x as the first Intel source and 0 as the
// second: the result is x where x > 0 and 0 otherwise, NaN included.
func reluKernel(w width) {
	name := "relu" + w.name
	TEXT(name, NOSPLIT, "func(dst, x *float32, n int)")
	Pragma("noescape")
	Doc(name + " sets dst[i] = x[i] if x[i] > 0, else 0 (NaN → 0).")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	zero := w.vec()
	VXORPS(zero, zero, zero)
	loop(w, name, n, []Register{dst, x}, func(off int) {
		v := w.vec()
		VMOVUPS(Mem{Base: x, Disp: off}, v)
		VMAXPS(zero, v, v) // Intel VMAXPS v, v, zero: v > 0 ? v : 0
		VMOVUPS(v, Mem{Base: dst, Disp: off})
	})
	VZEROUPPER()
	RET()
}

func reluBackwardKernel(w width) {
	name := "reluBackward" + w.name
	TEXT(name, NOSPLIT, "func(dx, dy, x *float32, n int)")
	Pragma("noescape")
	Doc(name + " sets dx[i] = dy[i] where x[i] > 0, else 0.")
	dx := Load(Param("dx"), GP64())
	dy := Load(Param("dy"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	zero := w.vec()
	VXORPS(zero, zero, zero)
	loop(w, name, n, []Register{dx, dy, x}, func(off int) {
		v, g := w.vec(), w.vec()
		VMOVUPS(Mem{Base: x, Disp: off}, v)
		if w.lanes == 16 {
			VCMPPS(U8(0x1e), zero, v, K3) // GT_OQ: x > 0
			VMOVUPS_Z(Mem{Base: dy, Disp: off}, K3, g)
		} else {
			VCMPPS(U8(0x1e), zero, v, v)
			VANDPS(Mem{Base: dy, Disp: off}, v, g)
		}
		VMOVUPS(g, Mem{Base: dx, Disp: off})
	})
	VZEROUPPER()
	RET()
}

// reduce emits sum, sumSq or dot with 4 vector accumulators (vector u of
// each 4-vector group goes to accumulator u; the 1× cleanup loop uses
// accumulator 0), combined as (acc0+acc1)+(acc2+acc3) and then reduced
// across lanes by halving: a fixed order for a given n.
//
// The "Dev" variants (op ending in Dev) take a float32 c and use x[i] − c
// (one rounded subtraction) in place of x[i]: sumSqDev is Σ (x−c)², dotDev
// Σ (x−c)·y, bit for bit what sumSq and dot return on a copy of x with c
// subtracted, without writing that copy.
func reduce(w width, op string, square, dot bool) {
	name := op + w.name
	dev := strings.HasSuffix(op, "Dev")
	sig := "func(x *float32, n int) float32"
	switch {
	case dot && dev:
		sig = "func(x, y *float32, c float32, n int) float32"
	case dot:
		sig = "func(x, y *float32, n int) float32"
	case dev:
		sig = "func(x *float32, c float32, n int) float32"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name + " returns the " + op + " of x[:n] in a fixed lane order.")
	x := Load(Param("x"), GP64())
	adv := []Register{x}
	var y Register
	if dot {
		y = Load(Param("y"), GP64())
		adv = append(adv, y)
	}
	n := Load(Param("n"), GP64())
	var vc VecVirtual
	if dev {
		vc = w.vec()
		VBROADCASTSS(param("c"), vc)
	}
	acc := make([]VecVirtual, unrollEW)
	for i := range acc {
		acc[i] = w.vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	u := 0
	loop(w, name, n, adv, func(off int) {
		a := acc[(off/w.bytes())%unrollEW]
		v := w.vec()
		VMOVUPS(Mem{Base: x, Disp: off}, v)
		if dev {
			VSUBPS(vc, v, v)
		}
		switch {
		case dot:
			VFMADD231PS(Mem{Base: y, Disp: off}, v, a)
		case square:
			VFMADD231PS(v, v, a)
		default:
			VADDPS(v, a, a)
		}
		u++
	})
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	var s VecVirtual
	if w.lanes == 16 {
		hi := YMM()
		VEXTRACTF32X8(U8(1), acc[0], hi)
		s = YMM()
		VADDPS(hi, acc[0].AsY(), s)
	} else {
		s = acc[0]
	}
	hx := XMM()
	VEXTRACTF128(U8(1), s, hx)
	sx := XMM()
	VADDPS(hx, s.AsX(), sx)
	// sx = [a b c d] → (a+c, b+d) → (a+c)+(b+d)
	t := XMM()
	VMOVHLPS(sx, sx, t)
	VADDPS(t, sx, sx)
	VMOVSHDUP(sx, t)
	VADDSS(t, sx, sx)
	VZEROUPPER()
	Store(sx, ReturnIndex(0))
	RET()
}

// affineKernel emits affine (dst[i] = (x[i] − c)·a + b, each operation
// rounded, in that order) and affineRelu (the same, then max(·, 0) with
// NaN → 0, as reluKernel): a BatchNorm's normalise-scale-shift(-ReLU) in one
// pass, bit for bit the sequence subtract, scale, add, relu.
func affineKernel(w width, relu bool) {
	name := "affine" + w.name
	if relu {
		name = "affineRelu" + w.name
	}
	TEXT(name, NOSPLIT, "func(dst, x *float32, c, a, b float32, n int)")
	Pragma("noescape")
	Doc(name + " sets dst[i] = (x[i] − c)·a + b (then max(·, 0) for the Relu variant).")
	p := loadParams("dst", "x", "n")
	dst, x, n := p[0], p[1], p[2]
	s := broadcastParams(w, "c", "a", "b")
	vc, va, vb := s[0], s[1], s[2]
	var zero VecVirtual
	if relu {
		zero = w.vec()
		VXORPS(zero, zero, zero)
	}
	loop(w, name, n, []Register{dst, x}, func(off int) {
		v := w.vec()
		VMOVUPS(Mem{Base: x, Disp: off}, v)
		VSUBPS(vc, v, v)
		VMULPS(va, v, v)
		VADDPS(vb, v, v)
		if relu {
			VMAXPS(zero, v, v)
		}
		VMOVUPS(v, Mem{Base: dst, Disp: off})
	})
	VZEROUPPER()
	RET()
}

// bnDxKernel emits bnDx (dst[i] += k·dy[i]; += c1·(x[i] − m); += c2) and
// bnDxFresh (the same starting from dst[i] = k·dy[i], dst not read): the
// training-mode BatchNorm input gradient in one pass, bit for bit the
// sequence of Axpy (or Scale) calls it replaces: every product rounded,
// then added, in that order.
func bnDxKernel(w width, fresh bool) {
	name := "bnDx" + w.name
	if fresh {
		name = "bnDxFresh" + w.name
	}
	TEXT(name, NOSPLIT, "func(dst, dy, x *float32, k, c1, m, c2 float32, n int)")
	Pragma("noescape")
	Doc(name + " sets dst[i] (+)= k·dy[i], then += c1·(x[i] − m), then += c2.")
	p := loadParams("dst", "dy", "x", "n")
	dst, dy, x, n := p[0], p[1], p[2], p[3]
	s := broadcastParams(w, "k", "c1", "m", "c2")
	vk, v1, vm, v2 := s[0], s[1], s[2], s[3]
	loop(w, name, n, []Register{dst, dy, x}, func(off int) {
		d, t := w.vec(), w.vec()
		VMULPS(Mem{Base: dy, Disp: off}, vk, d)
		if !fresh {
			VADDPS(Mem{Base: dst, Disp: off}, d, d)
		}
		VMOVUPS(Mem{Base: x, Disp: off}, t)
		VSUBPS(vm, t, t)
		VMULPS(v1, t, t)
		VADDPS(t, d, d)
		VADDPS(v2, d, d)
		VMOVUPS(d, Mem{Base: dst, Disp: off})
	})
	VZEROUPPER()
	RET()
}

// loadParams loads the named integer or pointer parameters into fresh
// general-purpose registers, in order.
func loadParams(names ...string) []Register {
	rs := make([]Register, len(names))
	for i, n := range names {
		rs[i] = Load(Param(n), GP64())
	}
	return rs
}

// broadcastParams broadcasts the named float32 parameters into fresh
// vector registers of width w, in order.
func broadcastParams(w width, names ...string) []VecVirtual {
	vs := make([]VecVirtual, len(names))
	for i, n := range names {
		vs[i] = w.vec()
		VBROADCASTSS(param(n), vs[i])
	}
	return vs
}

// ---------------------------------------------------------------------------
// Winograd F(2×2, 3×3) transforms, vectorised over the tiles of one tile row:
// lane l of a vector is tile tx = 8·block + l (4 lanes in xmm for 8-wide
// planes, 8 in ymm otherwise). Every sum is formed in the order of the Go
// reference (winograd.go), so the two agree bit for bit.

// wlanes returns the vector constructor and lane count for a Winograd kernel.
func wlanes(lanes int) func() VecVirtual {
	if lanes == 4 {
		return XMM
	}
	return YMM
}

// deinterleave returns the even and odd elements of the 2·lanes floats in
// lo:hi (lanes floats each).
func deinterleave(lanes int, lo, hi VecVirtual, vec func() VecVirtual) (even, odd VecVirtual) {
	even, odd = vec(), vec()
	VSHUFPS(U8(0x88), hi, lo, even)
	VSHUFPS(U8(0xDD), hi, lo, odd)
	if lanes == 8 {
		VPERMPD(U8(0xD8), even, even)
		VPERMPD(U8(0xD8), odd, odd)
	}
	return even, odd
}

// interleave returns the 2·lanes floats even[0], odd[0], even[1], … as
// two vectors (the inverse of deinterleave).
func interleave(lanes int, even, odd VecVirtual, vec func() VecVirtual) (lo, hi VecVirtual) {
	lo, hi = vec(), vec()
	VUNPCKLPS(odd, even, lo)
	VUNPCKHPS(odd, even, hi)
	if lanes == 8 {
		o0, o1 := vec(), vec()
		VPERM2F128(U8(0x20), hi, lo, o0)
		VPERM2F128(U8(0x31), hi, lo, o1)
		return o0, o1
	}
	return lo, hi
}

// ---------------------------------------------------------------------------
// Polyphase split and merge of planes for stride-2 convolutions: the four
// phases (row parity, column parity) of pairs of rows of width w, 16
// columns (8 of each phase) per step. Pure moves and, for the merge with
// add, one addition per element, so they match the Go loops bit for bit.

// phaseLoops emits the loop over pairs of rows and, inside, over the
// 16-column blocks of a row; body gets the pointers' current positions and
// the row stride ld (bytes) of x. After a pair, x skips the pair's second
// row (the blocks advanced it by one row).
func phaseLoops(name string, x Register, p [4]Register, body func(x, ld Register)) {
	pairs := Load(Param("pairs"), GP64())
	w := Load(Param("w"), GP64())
	ld := GP64()
	MOVQ(w, ld)
	SHLQ(U8(2), ld) // row stride in bytes
	nb := GP64()
	MOVQ(w, nb)
	SHRQ(U8(4), nb) // 16-column blocks per row
	Label(name + "_pair")
	TESTQ(pairs, pairs)
	JZ(LabelRef(name + "_done"))
	j := GP64()
	MOVQ(nb, j)
	Label(name + "_block")
	body(x, ld)
	ADDQ(U8(64), x)
	for _, r := range p {
		ADDQ(U8(32), r)
	}
	DECQ(j)
	JNZ(LabelRef(name + "_block"))
	ADDQ(ld, x)
	DECQ(pairs)
	JMP(LabelRef(name + "_pair"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// rowAddr addresses disp bytes into row 0 (at x) or row 1 (at x + ld) of
// a pair.
func rowAddr(x, ld Register, row, disp int) Mem {
	if row == 0 {
		return Mem{Base: x, Disp: disp}
	}
	return Mem{Base: x, Index: ld, Scale: 1, Disp: disp}
}

// splitPhasesKernel emits splitPhasesAVX2, the assembly of SplitPhases.
func splitPhasesKernel() {
	name := "splitPhasesAVX2"
	TEXT(name, NOSPLIT, "func(p00, p01, p10, p11, x *float32, pairs, w int)")
	Pragma("noescape")
	Doc(name + " is the assembly of SplitPhases for w a multiple of 16 (see there).")
	r := loadParams("p00", "p01", "p10", "p11", "x")
	p := [4]Register{r[0], r[1], r[2], r[3]}
	phaseLoops(name, r[4], p, func(x, ld Register) {
		for row := range 2 {
			lo, hi := YMM(), YMM()
			VMOVUPS(rowAddr(x, ld, row, 0), lo)
			VMOVUPS(rowAddr(x, ld, row, 32), hi)
			even, odd := deinterleave(8, lo, hi, YMM)
			VMOVUPS(even, Mem{Base: p[2*row]})
			VMOVUPS(odd, Mem{Base: p[2*row+1]})
		}
	})
}

// mergePhasesKernel emits mergePhasesAVX2 or mergePhasesAddAVX2, the
// assembly of MergePhases.
func mergePhasesKernel(add bool) {
	name := "mergePhasesAVX2"
	if add {
		name = "mergePhasesAddAVX2"
	}
	TEXT(name, NOSPLIT, "func(x, p00, p01, p10, p11 *float32, pairs, w int)")
	Pragma("noescape")
	Doc(name + " is the assembly of MergePhases for w a multiple of 16 (see there).")
	r := loadParams("x", "p00", "p01", "p10", "p11")
	p := [4]Register{r[1], r[2], r[3], r[4]}
	phaseLoops(name, r[0], p, func(x, ld Register) {
		for row := range 2 {
			even, odd := YMM(), YMM()
			VMOVUPS(Mem{Base: p[2*row]}, even)
			VMOVUPS(Mem{Base: p[2*row+1]}, odd)
			lo, hi := interleave(8, even, odd, YMM)
			at := func(disp int) Mem { return rowAddr(x, ld, row, disp) }
			if add {
				VADDPS(at(0), lo, lo)
				VADDPS(at(32), hi, hi)
			}
			VMOVUPS(lo, at(0))
			VMOVUPS(hi, at(32))
		}
	})
}

// winogradRows emits the loops shared by the three transforms: rows tile
// rows, each of nb blocks of `lanes` tiles. body runs once per block with
// flags telling whether the block is its row's first and last; advance
// moves the pointers to the next block (after a row's last block they
// point one input row further); nextRow moves them to the next tile row.
func winogradRows(name string, rows Register, body func(first, last bool), advance, nextRow func()) {
	nb := GP64()
	Label(name + "_row")
	MOVQ(param("nb"), nb)
	CMPQ(nb, U8(1))
	JNE(LabelRef(name + "_multi"))
	body(true, true)
	advance()
	JMP(LabelRef(name + "_rowend"))
	Label(name + "_multi")
	body(true, false)
	advance()
	DECQ(nb)
	Label(name + "_mid")
	CMPQ(nb, U8(1))
	JE(LabelRef(name + "_last"))
	body(false, false)
	advance()
	DECQ(nb)
	JMP(LabelRef(name + "_mid"))
	Label(name + "_last")
	body(false, true)
	advance()
	Label(name + "_rowend")
	DECQ(rows)
	JZ(LabelRef(name + "_done"))
	nextRow()
	JMP(LabelRef(name + "_row"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// nextPair moves the pointers a, b to two rows further on, given that they
// point at consecutive rows after a pass over one row: a ← b, b ← b + (b − a).
func nextPair(a, b Register) {
	t := GP64()
	MOVQ(b, t)
	SUBQ(a, t)
	MOVQ(b, a)
	ADDQ(t, b)
}

// xiAddr returns the address of transform position ξ (0…15) of a tile row
// whose positions lie ld bytes apart: base[ξ/4] + (ξ%4)·ld.
func xiAddr(base [4]Register, ld, ld3 Register, xi int) Mem {
	return strideAddr(base[xi/4], ld, ld3, nil, xi%4, 0)
}

// strideAddr addresses base + i·ld + disp for i = 0…5, with the index
// registers ld, ld3 = 3·ld (for i = 3) and ld5 = 5·ld (for i = 5).
func strideAddr(base, ld, ld3, ld5 Register, i, disp int) Mem {
	m := Mem{Base: base, Disp: disp}
	switch i {
	case 0:
	case 1:
		m.Index, m.Scale = ld, 1
	case 2:
		m.Index, m.Scale = ld, 2
	case 3:
		m.Index, m.Scale = ld3, 1
	case 4:
		m.Index, m.Scale = ld, 4
	case 5:
		m.Index, m.Scale = ld5, 1
	default:
		panic(fmt.Sprintf("strideAddr: row %d > 5", i))
	}
	return m
}

// xiBases loads a pointer parameter p and its step ld (in floats) and
// returns the four row bases p + 4i·ld, ld and 3·ld in bytes.
func xiBases(p, ld string) (base [4]Register, ldb, ld3 Register) {
	base[0] = Load(Param(p), GP64())
	ldb = Load(Param(ld), GP64())
	SHLQ(U8(2), ldb)
	ld3 = GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ld3)
	for i := 1; i < 4; i++ {
		base[i] = GP64()
		LEAQ(Mem{Base: base[i-1], Index: ldb, Scale: 4}, base[i])
	}
	return base, ldb, ld3
}

// winogradInput emits winogradInput<lanes>AVX2(v, ldv, r0, r1, r2, r3, nb):
// the input transform V = Bᵀ·d·B of one tile row from its four input rows.
func winogradInput(lanes int) {
	name := fmt.Sprintf("winogradInput%dAVX2", lanes)
	TEXT(name, NOSPLIT, "func(v *float32, ldv int, r0, r1, r2, r3 *float32, nb, rows int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is the assembly of winogradInputRow for blocks of %d tiles (see there).", name, lanes))
	vec := wlanes(lanes)
	base, ld, ld3 := xiBases("v", "ldv")
	rows := loadParams("r0", "r1", "r2", "r3")
	count := Load(Param("rows"), GP64())
	zero, ones, maskFirst, maskLast := vec(), vec(), vec(), vec()
	VXORPS(zero, zero, zero)
	VPCMPEQD(ones, ones, ones)
	VPBLENDD(U8(1), zero, ones, maskFirst)
	VPBLENDD(U8(1<<(lanes-1)), zero, ones, maskLast)
	// row loads the four vectors of one input row (columns 2tx−1 … for
	// each tile, at −4, −4 + 4·lanes, 4 and 4 + 4·lanes bytes).
	row := func(r Register, first, last bool) [4]VecVirtual {
		alo, ahi, blo, bhi := vec(), vec(), vec(), vec()
		if first {
			VMASKMOVPS(Mem{Base: r, Disp: -4}, maskFirst, alo)
		} else {
			VMOVUPS(Mem{Base: r, Disp: -4}, alo)
		}
		VMOVUPS(Mem{Base: r, Disp: -4 + 4*lanes}, ahi)
		VMOVUPS(Mem{Base: r, Disp: 4}, blo)
		if last {
			VMASKMOVPS(Mem{Base: r, Disp: 4 + 4*lanes}, maskLast, bhi)
		} else {
			VMOVUPS(Mem{Base: r, Disp: 4 + 4*lanes}, bhi)
		}
		return [4]VecVirtual{alo, ahi, blo, bhi}
	}
	body := func(first, last bool) {
		winogradInputBody(lanes, vec, func(i int) [4]VecVirtual { return row(rows[i], first, last) },
			func(xi int, v VecVirtual) { VMOVUPS(v, xiAddr(base, ld, ld3, xi)) })
	}
	winogradRows(name, count, body, func() {
		for _, r := range rows {
			ADDQ(U8(8*lanes), r)
		}
		for _, b := range base {
			ADDQ(U8(4*lanes), b)
		}
	}, func() {
		// Rows 2ty+1…2ty+3 are the next tile row's first three, and the
		// row after r3 its fourth (r2 and r3 are consecutive rows here).
		t := GP64()
		MOVQ(rows[3], t)
		SUBQ(rows[2], t)
		MOVQ(rows[1], rows[0])
		MOVQ(rows[2], rows[1])
		MOVQ(rows[3], rows[2])
		ADDQ(t, rows[3])
	})
}

// winogradInputBody emits the input transform of one block from its four
// input rows, load(i) returning row i's four vectors (see row in
// winogradInput), in the order of winogradInputRow's sums; store(ξ, v)
// writes position ξ.
func winogradInputBody(lanes int, vec func() VecVirtual, load func(i int) [4]VecVirtual, store func(xi int, v VecVirtual)) {
	// col returns the column transform (d0−d2, d1+d2, d2−d1, d1−d3) of one
	// input row, with d0…d3 the columns 2tx−1 … 2tx+2 of each tile.
	col := func(i int) [4]VecVirtual {
		l := load(i)
		d0, d1 := deinterleave(lanes, l[0], l[1], vec)
		d2, d3 := deinterleave(lanes, l[2], l[3], vec)
		var c [4]VecVirtual
		for i := range c {
			c[i] = vec()
		}
		VSUBPS(d2, d0, c[0])
		VADDPS(d2, d1, c[1])
		VSUBPS(d1, d2, c[2])
		VSUBPS(d3, d1, c[3])
		return c
	}
	// Two rows' column transforms live at a time (the pair kernels have
	// no registers to spare for a third).
	c0 := col(0)
	c2 := col(2)
	for j := 0; j < 4; j++ {
		VSUBPS(c2[j], c0[j], c0[j])
		store(j, c0[j])
	}
	c1 := col(1)
	t := vec()
	for j := 0; j < 4; j++ {
		VADDPS(c2[j], c1[j], t)
		store(4+j, t)
		VSUBPS(c1[j], c2[j], c2[j])
		store(8+j, c2[j])
	}
	c3 := col(3)
	for j := 0; j < 4; j++ {
		VSUBPS(c3[j], c1[j], c1[j])
		store(12+j, c1[j])
	}
}

// winogradOutput emits winogradOutput<lanes>AVX2(y0, y1, m, ldm, nb, bias,
// add): the output transform Y = Aᵀ·M·A of one tile row into the output
// rows y0 and y1, plus bias, added to what they hold when add != 0.
func winogradOutput(lanes int) {
	name := fmt.Sprintf("winogradOutput%dAVX2", lanes)
	TEXT(name, NOSPLIT, "func(y0, y1, m *float32, ldm, nb, rows int, bias float32, add int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is the assembly of winogradOutputRow for blocks of %d tiles (see there).", name, lanes))
	vec := wlanes(lanes)
	out := loadParams("y0", "y1")
	base, ld, ld3 := xiBases("m", "ldm")
	count := Load(Param("rows"), GP64())
	add := Load(Param("add"), GP64())
	bias := vec()
	VBROADCASTSS(param("bias"), bias)
	// store writes one output row from its even (a) and odd (b) columns.
	store := func(y Register, a, b VecVirtual, accumulate bool) {
		o0, o1 := interleave(lanes, a, b, vec)
		if accumulate {
			VADDPS(Mem{Base: y}, o0, o0)
			VADDPS(Mem{Base: y, Disp: 4 * lanes}, o1, o1)
		}
		VMOVUPS(o0, Mem{Base: y})
		VMOVUPS(o1, Mem{Base: y, Disp: 4 * lanes})
	}
	body := func(accumulate bool) {
		winogradOutputBody(vec, bias, func(xi int) Mem { return xiAddr(base, ld, ld3, xi) },
			func(i int, a, b VecVirtual) { store(out[i], a, b, accumulate) })
	}
	advance := func() {
		for _, y := range out {
			ADDQ(U8(8*lanes), y)
		}
		for _, b := range base {
			ADDQ(U8(4*lanes), b)
		}
	}
	TESTQ(add, add)
	JNZ(LabelRef(name + "_add"))
	winogradRows(name, count, func(bool, bool) { body(false) }, advance, func() { nextPair(out[0], out[1]) })
	Label(name + "_add")
	winogradRows(name+"_add", count, func(bool, bool) { body(true) }, advance, func() { nextPair(out[0], out[1]) })
}

// winogradOutputBody emits the output transform of one block from the 16
// positions at at(ξ), in the order of winogradOutputRow's sums: output row
// i (0, 1) of the tile row as its even (a) and odd (b) columns, bias added,
// handed to store(i, a, b).
func winogradOutputBody(vec func() VecVirtual, bias VecVirtual, at func(xi int) Mem, store func(i int, a, b VecVirtual)) {
	// s_i = row combination i of Aᵀ·M (i = 0, 1), column by column.
	var s [2][4]VecVirtual
	for j := 0; j < 4; j++ {
		m0, m1, m2, m3 := vec(), vec(), vec(), vec()
		VMOVUPS(at(j), m0)
		VMOVUPS(at(4+j), m1)
		VMOVUPS(at(8+j), m2)
		VMOVUPS(at(12+j), m3)
		s[0][j], s[1][j] = vec(), vec()
		VADDPS(m1, m0, s[0][j])
		VADDPS(m2, s[0][j], s[0][j])
		VSUBPS(m2, m1, s[1][j])
		VSUBPS(m3, s[1][j], s[1][j])
	}
	for i := range 2 {
		a, b := vec(), vec()
		VADDPS(s[i][1], s[i][0], a)
		VADDPS(s[i][2], a, a)
		VADDPS(bias, a, a)
		VSUBPS(s[i][2], s[i][1], b)
		VSUBPS(s[i][3], b, b)
		VADDPS(bias, b, b)
		store(i, a, b)
	}
}

// winogradGradBody emits the gradient transform of one block from its two
// gradient rows, load(i) returning row i's two vectors (lo, hi), in the
// order of winogradGradRow's sums; store(ξ, v) writes position ξ.
func winogradGradBody(lanes int, vec func() VecVirtual, zero VecVirtual, load func(i int) (lo, hi VecVirtual), store func(xi int, v VecVirtual)) {
	// col returns (p, p+q, p−q, −q) of one gradient row, p and q its even
	// and odd columns.
	col := func(i int) [4]VecVirtual {
		lo, hi := load(i)
		p, q := deinterleave(lanes, lo, hi, vec)
		var c [4]VecVirtual
		c[0] = p
		c[1], c[2], c[3] = vec(), vec(), vec()
		VADDPS(q, p, c[1])
		VSUBPS(q, p, c[2])
		VSUBPS(q, zero, c[3])
		return c
	}
	a := col(0)
	b := col(1)
	t := vec()
	for j := 0; j < 4; j++ {
		store(j, a[j])
		VADDPS(b[j], a[j], t)
		store(4+j, t)
		VSUBPS(b[j], a[j], t)
		store(8+j, t)
		VSUBPS(b[j], zero, t)
		store(12+j, t)
	}
}

// ---------------------------------------------------------------------------
// The F(2×2, 3×3) transforms of 8-wide planes (4 tiles per tile row), two
// tile rows at a time: the low half of each ymm holds the tiles of tile row
// 2q, the high half those of tile row 2q+1, and the 4-lane kernels'
// arithmetic (shuffles within 128-bit halves) runs on both halves at once.
// Tile rows 2q and 2q+1 are consecutive in the transform buffers, so a
// vector store writes both. Rows are 32 bytes, so every row lies at a
// constant offset from one pointer.

// pairRow loads the 16 bytes at lo into the low half of a fresh ymm and
// those at hi into its high half, each through the mask at mask (a vector
// in the frame, loaded when used: registers are short) when it is not nil;
// a nil address leaves its half zero (the padding rows above and below a
// plane).
func pairRow(lo, hi *Mem, mask *Mem) VecVirtual {
	load := func(m Mem) VecVirtual {
		x := XMM() // a VEX load of 16 bytes zeroes the high half
		if mask != nil {
			mv := XMM()
			VMOVUPS(*mask, mv)
			VMASKMOVPS(m, mv, x)
		} else {
			VMOVUPS(m, x)
		}
		return x
	}
	y := YMM()
	switch {
	case lo == nil:
		VXORPS(y, y, y)
		VINSERTF128(U8(1), load(*hi), y, y)
	case hi == nil:
		return load(*lo).AsY().(VecVirtual)
	case mask != nil:
		x := load(*lo)
		VINSERTF128(U8(1), load(*hi), x.AsY(), y)
	default:
		VINSERTF128(U8(1), *hi, load(*lo).AsY(), y)
	}
	return y
}

// winogradInputPairs emits winogradInputPairsAVX2(v, ldv, x, nb, rows):
// the input transform of rows consecutive 8×h planes at x, nb = h/4 pairs
// of tile rows each (the assembly of winogradInputRow, two tile rows at a
// time).
func winogradInputPairs() {
	name := "winogradInputPairsAVX2"
	TEXT(name, NOSPLIT, "func(v *float32, ldv int, x *float32, nb, rows int)")
	Pragma("noescape")
	Doc(name + " is the assembly of winogradInputRow for 8-wide planes, two tile rows at a time (see there).")
	base, ld, ld3 := xiBases("v", "ldv")
	r := Load(Param("x"), GP64())
	SUBQ(U8(32), r) // row −1 of the first pair
	count := Load(Param("rows"), GP64())
	// The masks of column −1 (lane 0) and column 8 (lane 3), in the frame.
	frame := AllocLocal(32)
	maskFirst, maskLast := frame, frame.Offset(16)
	{
		zero, ones, m := XMM(), XMM(), XMM()
		VXORPS(zero, zero, zero)
		VPCMPEQD(ones, ones, ones)
		VPBLENDD(U8(1), zero, ones, m)
		VMOVUPS(m, maskFirst)
		VPBLENDD(U8(8), zero, ones, m)
		VMOVUPS(m, maskLast)
	}
	body := func(first, last bool) {
		// Input row i of tile row 2q is row 4q − 1 + i of the plane, at
		// r + 32i; that of tile row 2q+1 two rows further.
		load := func(i int) [4]VecVirtual {
			var l [4]VecVirtual
			for k, disp := range [4]int{-4, 12, 4, 20} {
				lo, hi := &Mem{Base: r, Disp: 32*i + disp}, &Mem{Base: r, Disp: 32*(i+2) + disp}
				if first && i == 0 {
					lo = nil
				}
				if last && i == 3 {
					hi = nil
				}
				var mask *Mem
				switch k {
				case 0:
					mask = &maskFirst
				case 3:
					mask = &maskLast
				}
				l[k] = pairRow(lo, hi, mask)
			}
			return l
		}
		winogradInputBody(4, YMM, load, func(xi int, v VecVirtual) { VMOVUPS(v, xiAddr(base, ld, ld3, xi)) })
	}
	winogradRows(name, count, body, func() {
		ADDQ(U32(4*32), r)
		for _, b := range base {
			ADDQ(U8(32), b)
		}
	}, func() {}) // the pairs of consecutive planes follow each other
}

// winogradOutputPairs emits winogradOutputPairsAVX2(y, m, ldm, nb, rows,
// bias, add): the output transform of nb pairs of tile rows of 8-wide
// planes into the output rows from y (the assembly of winogradOutputRow,
// two tile rows at a time; rows = 1).
func winogradOutputPairs() {
	name := "winogradOutputPairsAVX2"
	TEXT(name, NOSPLIT, "func(y, m *float32, ldm, nb, rows int, bias float32, add int)")
	Pragma("noescape")
	Doc(name + " is the assembly of winogradOutputRow for 8-wide planes, two tile rows at a time (see there).")
	y := Load(Param("y"), GP64())
	base, ld, ld3 := xiBases("m", "ldm")
	count := Load(Param("rows"), GP64())
	add := Load(Param("add"), GP64())
	bias := YMM()
	VBROADCASTSS(param("bias"), bias)
	body := func(accumulate bool) {
		winogradOutputBody(YMM, bias, func(xi int) Mem { return xiAddr(base, ld, ld3, xi) }, func(i int, a, b VecVirtual) {
			// Output row i of tile row 2q is row 4q + i (the low halves),
			// that of tile row 2q+1 row 4q + 2 + i (the high halves).
			rows := [2]Mem{{Base: y, Disp: 32 * i}, {Base: y, Disp: 32 * (2 + i)}}
			o0, o1 := interleave(8, a, b, YMM)
			for k, o := range [2]VecVirtual{o0, o1} {
				if accumulate {
					VADDPS(rows[k], o, o)
				}
				VMOVUPS(o, rows[k])
			}
		})
	}
	advance := func() {
		ADDQ(U32(4*32), y)
		for _, b := range base {
			ADDQ(U8(32), b)
		}
	}
	TESTQ(add, add)
	JNZ(LabelRef(name + "_add"))
	winogradRows(name, count, func(bool, bool) { body(false) }, advance, func() {})
	Label(name + "_add")
	winogradRows(name+"_add", count, func(bool, bool) { body(true) }, advance, func() {})
}

// winogradGradPairs emits winogradGradPairsAVX2(v, ldv, dy, nb, rows): the
// gradient transform of nb pairs of tile rows of 8-wide planes from the
// gradient rows from dy (the assembly of winogradGradRow, two tile rows at
// a time; rows = 1).
func winogradGradPairs() {
	name := "winogradGradPairsAVX2"
	TEXT(name, NOSPLIT, "func(v *float32, ldv int, dy *float32, nb, rows int)")
	Pragma("noescape")
	Doc(name + " is the assembly of winogradGradRow for 8-wide planes, two tile rows at a time (see there).")
	base, ld, ld3 := xiBases("v", "ldv")
	dy := Load(Param("dy"), GP64())
	count := Load(Param("rows"), GP64())
	zero := YMM()
	VXORPS(zero, zero, zero)
	body := func(bool, bool) {
		winogradGradBody(4, YMM, zero, func(i int) (lo, hi VecVirtual) {
			// Gradient row i of tile row 2q is row 4q + i, that of tile
			// row 2q+1 row 4q + 2 + i; lo holds their columns 0…3, hi 4…7.
			lo = pairRow(&Mem{Base: dy, Disp: 32 * i}, &Mem{Base: dy, Disp: 32 * (2 + i)}, nil)
			hi = pairRow(&Mem{Base: dy, Disp: 32*i + 16}, &Mem{Base: dy, Disp: 32*(2+i) + 16}, nil)
			return lo, hi
		}, func(xi int, v VecVirtual) { VMOVUPS(v, xiAddr(base, ld, ld3, xi)) })
	}
	winogradRows(name, count, body, func() {
		ADDQ(U32(4*32), dy)
		for _, b := range base {
			ADDQ(U8(32), b)
		}
	}, func() {})
}

// winogradGrad emits winogradGrad<lanes>AVX2(v, ldv, y0, y1, nb): the
// transform A·dY·Aᵀ of the output gradient of one tile row (rows y0, y1),
// the operand of the weight gradient in the Winograd domain.
func winogradGrad(lanes int) {
	name := fmt.Sprintf("winogradGrad%dAVX2", lanes)
	TEXT(name, NOSPLIT, "func(v *float32, ldv int, y0, y1 *float32, nb, rows int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is the assembly of winogradGradRow for blocks of %d tiles (see there).", name, lanes))
	vec := wlanes(lanes)
	base, ld, ld3 := xiBases("v", "ldv")
	in := loadParams("y0", "y1")
	count := Load(Param("rows"), GP64())
	zero := vec()
	VXORPS(zero, zero, zero)
	body := func(bool, bool) {
		winogradGradBody(lanes, vec, zero, func(i int) (lo, hi VecVirtual) {
			lo, hi = vec(), vec()
			VMOVUPS(Mem{Base: in[i]}, lo)
			VMOVUPS(Mem{Base: in[i], Disp: 4 * lanes}, hi)
			return lo, hi
		}, func(xi int, v VecVirtual) { VMOVUPS(v, xiAddr(base, ld, ld3, xi)) })
	}
	winogradRows(name, count, body, func() {
		for _, y := range in {
			ADDQ(U8(8*lanes), y)
		}
		for _, b := range base {
			ADDQ(U8(4*lanes), b)
		}
	}, func() { nextPair(in[0], in[1]) })
}
