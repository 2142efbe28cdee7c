//go:build amd64 && !purego

package kernels

var (
	gemmAVX512 = &gemm{nr: 32, kc: 576, mc: 192, nc: 384,
		mrs: []int{8, 9, 10, 11, 12, 13, 14}, micro: microAVX512[:], microStrided: microStridedAVX512[:],
		pack: packAVX512, packRows: packRowsAVX512}
	gemmAVX2 = &gemm{nr: 16, kc: 256, mc: 72, nc: 3072,
		mrs: []int{6}, micro: microAVX2[:], microStrided: microStridedAVX2[:], microPanels: microPanelsAVX2[:], microARows: microARowsAVX2[:], pack: packAVX2}
)

// microAVX2[r] is the AVX2 micro-kernel for r×16 tiles (r = 1..6), reading
// A panels packed r rows wide; microStridedAVX2[r] reads B in place.
var (
	microAVX2 = [7]func(k int, a, b, c *float32, ldc int, alpha, beta float32){nil,
		sgemmKernel1x16AVX2, sgemmKernel2x16AVX2, sgemmKernel3x16AVX2, sgemmKernel4x16AVX2, sgemmKernel5x16AVX2, sgemmKernel6x16AVX2}
	microStridedAVX2 = [7]func(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32){nil,
		sgemmKernel1x16StridedAVX2, sgemmKernel2x16StridedAVX2, sgemmKernel3x16StridedAVX2, sgemmKernel4x16StridedAVX2, sgemmKernel5x16StridedAVX2, sgemmKernel6x16StridedAVX2}
	// microPanelsAVX2[r] runs microStridedAVX2[r] over adjacent panels.
	microPanelsAVX2 = [7]func(k int, a, b *float32, ldb int, c *float32, ldc int, np int, alpha, beta float32){nil,
		sgemmPanels1x16StridedAVX2, sgemmPanels2x16StridedAVX2, sgemmPanels3x16StridedAVX2, sgemmPanels4x16StridedAVX2, sgemmPanels5x16StridedAVX2, sgemmPanels6x16StridedAVX2}
	// microARowsAVX2[r] is microAVX2[r] reading A in place.
	microARowsAVX2 = [7]func(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32){nil,
		sgemmKernel1x16ARowsAVX2, sgemmKernel2x16ARowsAVX2, sgemmKernel3x16ARowsAVX2, sgemmKernel4x16ARowsAVX2, sgemmKernel5x16ARowsAVX2, sgemmKernel6x16ARowsAVX2}
)

// microAVX512[r] is the AVX-512 micro-kernel for r×32 tiles (r = 1..14),
// reading A panels packed r rows wide.
var microAVX512 = [15]func(k int, a, b, c *float32, ldc int, alpha, beta float32){nil,
	sgemmKernel1x32AVX512, sgemmKernel2x32AVX512, sgemmKernel3x32AVX512, sgemmKernel4x32AVX512, sgemmKernel5x32AVX512, sgemmKernel6x32AVX512, sgemmKernel7x32AVX512, sgemmKernel8x32AVX512, sgemmKernel9x32AVX512, sgemmKernel10x32AVX512, sgemmKernel11x32AVX512, sgemmKernel12x32AVX512, sgemmKernel13x32AVX512, sgemmKernel14x32AVX512}

// microStridedAVX512[r] is microAVX512[r] reading B in place.
var microStridedAVX512 = [15]func(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32){nil,
	sgemmKernel1x32StridedAVX512, sgemmKernel2x32StridedAVX512, sgemmKernel3x32StridedAVX512, sgemmKernel4x32StridedAVX512, sgemmKernel5x32StridedAVX512, sgemmKernel6x32StridedAVX512, sgemmKernel7x32StridedAVX512, sgemmKernel8x32StridedAVX512, sgemmKernel9x32StridedAVX512, sgemmKernel10x32StridedAVX512, sgemmKernel11x32StridedAVX512, sgemmKernel12x32StridedAVX512, sgemmKernel13x32StridedAVX512, sgemmKernel14x32StridedAVX512}

// gemmFor returns the blocked sgemm of level l, or nil for Generic.
func gemmFor(l Level) *gemm {
	switch l {
	case AVX512:
		return gemmAVX512
	case AVX2:
		return gemmAVX2
	}
	return nil
}

// packAVX512 packs full A panels (8…14 rows) and full 32-column B panels
// with assembly (register transposes when the panel index is strided,
// vector copies when it is contiguous), and a transposed B panel of 16 valid
// columns (the tail of a weight gradient with Cin·9 = 144 columns) with the
// same transposer, its other half zeroed; everything else with packGo.
func packAVX512(dst []float32, w int, src []float32, rs, ps, rows, kb int) {
	full := rows == w && (w == 32 || (w >= 8 && w <= 14))
	half := w == 32 && rows == 16 && ps == 1 && rs != 1
	if !full && !half {
		packGo(dst, w, src, rs, ps, rows, kb)
		return
	}
	dst = dst[:kb*w]
	switch {
	case rs == 1:
		_ = src[(kb-1)*ps+w-1]
		packCopyAVX512[w](&dst[0], &src[0], ps, kb)
	case ps == 1:
		nb := kb / 16
		if nb > 0 {
			_ = src[(rows-1)*rs+nb*16-1]
			if w == 32 {
				for r := 0; r < rows; r += 16 {
					packTrans16AVX512(&dst[r], &src[r*rs], rs, nb, 32)
				}
			} else {
				packTransAVX512[w](&dst[0], &src[0], rs, nb, w)
			}
		}
		if p0 := nb * 16; p0 < kb {
			packTail(dst, w, rows, src, rs, p0, kb)
		}
		if rows < w { // a half panel: zero its padding rows
			for p := range kb {
				clear(dst[p*w+rows : (p+1)*w])
			}
		}
	default:
		packGo(dst, w, src, rs, ps, rows, kb)
	}
}

// packRowsAVX512 packs np full 32-column panels of B row by row.
func packRowsAVX512(dst []float32, src []float32, ld, kb, np int) {
	_ = dst[np*kb*32-1]
	_ = src[(kb-1)*ld+np*32-1]
	packRows32AVX512(&dst[0], &src[0], ld, kb, np)
}

// packCopyAVX512[w] and packTransAVX512[w] are the assembly packers of
// w-wide panels (nil where there is none).
var (
	packCopyAVX512 = [33]func(dst, src *float32, ld, k int){
		8: packCopy8AVX512, 9: packCopy9AVX512, 10: packCopy10AVX512, 11: packCopy11AVX512,
		12: packCopy12AVX512, 13: packCopy13AVX512, 14: packCopy14AVX512, 32: packCopy32AVX512}
	packTransAVX512 = [15]func(dst, src *float32, ld, nblk, dstStride int){
		8: packTrans8AVX512, 9: packTrans9AVX512, 10: packTrans10AVX512, 11: packTrans11AVX512,
		12: packTrans12AVX512, 13: packTrans13AVX512, 14: packTrans14AVX512}
)

// packAVX2 packs full 16-column B panels and full A panels of 6, 4, 2 or
// 1 rows (the heights a product of 16, 32 or 64 rows tiles into) with
// assembly (8×8 register transposes or vector copies), everything else
// with packGo.
func packAVX2(dst []float32, w int, src []float32, rs, ps, rows, kb int) {
	trans := packTransAVX2[min(w, len(packTransAVX2)-1)]
	if rows != w || (rs == 1 && w != 16 && w != 6) || (ps == 1 && w != 16 && trans == nil) || (rs != 1 && ps != 1) {
		packGo(dst, w, src, rs, ps, rows, kb)
		return
	}
	dst = dst[:kb*w]
	switch {
	case rs == 1:
		_ = src[(kb-1)*ps+w-1]
		if w == 16 {
			packCopy16AVX2(&dst[0], &src[0], ps, kb)
		} else {
			packCopy6AVX2(&dst[0], &src[0], ps, kb)
		}
	default: // ps == 1
		nb := kb / 8
		if nb > 0 {
			_ = src[(w-1)*rs+nb*8-1]
			if w == 16 {
				packTrans8AVX2(&dst[0], &src[0], rs, nb, 16)
				packTrans8AVX2(&dst[8], &src[8*rs], rs, nb, 16)
			} else {
				trans(&dst[0], &src[0], rs, nb, w)
			}
		}
		if p0 := nb * 8; p0 < kb {
			packTail(dst, w, w, src, rs, p0, kb)
		}
	}
}

// packTransAVX2[r] transposes r-row panels (nil where there is none).
var packTransAVX2 = [9]func(dst, src *float32, ld, nblk, dstStride int){
	1: packTrans1AVX2, 2: packTrans2AVX2, 4: packTrans4AVX2, 6: packTrans6AVX2, 8: packTrans8AVX2}

// packTail packs depths p0..kb-1 of the first rows rows of a w-wide panel
// whose depth is contiguous.
func packTail(dst []float32, w, rows int, src []float32, rs, p0, kb int) {
	for r := 0; r < rows; r++ {
		row := src[r*rs+p0 : r*rs+kb]
		for p, v := range row {
			dst[(p0+p)*w+r] = v
		}
	}
}
