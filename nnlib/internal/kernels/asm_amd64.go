//go:build amd64 && !purego

package kernels

//go:generate sh -c "cd _asm && go run . -out ../kernels_amd64.s -stubs ../stubs_amd64.go -pkg kernels"

// The declarations of the generated assembly are in stubs_amd64.go (also
// generated). Elementwise kernels and reductions take n, a positive
// multiple of the vector width (16 lanes for AVX-512, 8 for AVX2); the
// wrappers below hand them the vector-aligned prefix and return how many
// elements they covered.

// vecLen returns the vector-aligned prefix length of n at the current level
// (0 for Generic).
func vecLen(n int) int {
	switch level {
	case AVX512:
		return n &^ 15
	case AVX2:
		return n &^ 7
	}
	return 0
}

type binaryAsm func(dst, x, y *float32, n int)

func binaryVec(f512, f2 binaryAsm, dst, x, y []float32) int {
	v := vecLen(len(dst))
	if v == 0 {
		return 0
	}
	if level == AVX512 {
		f512(&dst[0], &x[0], &y[0], v)
	} else {
		f2(&dst[0], &x[0], &y[0], v)
	}
	return v
}

func addVec(dst, x, y []float32) int { return binaryVec(addAVX512, addAVX2, dst, x, y) }
func subVec(dst, x, y []float32) int { return binaryVec(subAVX512, subAVX2, dst, x, y) }
func mulVec(dst, x, y []float32) int { return binaryVec(mulAVX512, mulAVX2, dst, x, y) }
func maxVec(dst, x, y []float32) int { return binaryVec(maxAVX512, maxAVX2, dst, x, y) }

func reluBackwardVec(dx, dy, x []float32) int {
	return binaryVec(reluBackwardAVX512, reluBackwardAVX2, dx, dy, x)
}

func scaleVec(dst []float32, a float32, x []float32) int {
	v := vecLen(len(dst))
	switch {
	case v == 0:
	case level == AVX512:
		scaleAVX512(&dst[0], a, &x[0], v)
	default:
		scaleAVX2(&dst[0], a, &x[0], v)
	}
	return v
}

func axpyVec(a float32, x, y []float32) int {
	v := vecLen(len(y))
	switch {
	case v == 0:
	case level == AVX512:
		axpyAVX512(a, &x[0], &y[0], v)
	default:
		axpyAVX2(a, &x[0], &y[0], v)
	}
	return v
}

func reluVec(dst, x []float32) int {
	v := vecLen(len(dst))
	switch {
	case v == 0:
	case level == AVX512:
		reluAVX512(&dst[0], &x[0], v)
	default:
		reluAVX2(&dst[0], &x[0], v)
	}
	return v
}

func sumVec(x []float32) (float32, int) {
	v := vecLen(len(x))
	switch {
	case v == 0:
		return 0, 0
	case level == AVX512:
		return sumAVX512(&x[0], v), v
	default:
		return sumAVX2(&x[0], v), v
	}
}

func sumSqVec(x []float32) (float32, int) {
	v := vecLen(len(x))
	switch {
	case v == 0:
		return 0, 0
	case level == AVX512:
		return sumSqAVX512(&x[0], v), v
	default:
		return sumSqAVX2(&x[0], v), v
	}
}

func dotVec(x, y []float32) (float32, int) {
	v := vecLen(len(x))
	switch {
	case v == 0:
		return 0, 0
	case level == AVX512:
		return dotAVX512(&x[0], &y[0], v), v
	default:
		return dotAVX2(&x[0], &y[0], v), v
	}
}

func sumSqDevVec(x []float32, c float32) (float32, int) {
	v := vecLen(len(x))
	switch {
	case v == 0:
		return 0, 0
	case level == AVX512:
		return sumSqDevAVX512(&x[0], c, v), v
	default:
		return sumSqDevAVX2(&x[0], c, v), v
	}
}

func dotDevVec(x, y []float32, c float32) (float32, int) {
	v := vecLen(len(x))
	switch {
	case v == 0:
		return 0, 0
	case level == AVX512:
		return dotDevAVX512(&x[0], &y[0], c, v), v
	default:
		return dotDevAVX2(&x[0], &y[0], c, v), v
	}
}

func affineVec(dst, x []float32, c, a, b float32, relu bool) int {
	v := vecLen(len(dst))
	switch {
	case v == 0:
	case level == AVX512 && relu:
		affineReluAVX512(&dst[0], &x[0], c, a, b, v)
	case level == AVX512:
		affineAVX512(&dst[0], &x[0], c, a, b, v)
	case relu:
		affineReluAVX2(&dst[0], &x[0], c, a, b, v)
	default:
		affineAVX2(&dst[0], &x[0], c, a, b, v)
	}
	return v
}

func bnDxVec(dst, dy, x []float32, k, c1, m, c2 float32, fresh bool) int {
	v := vecLen(len(dst))
	switch {
	case v == 0:
	case level == AVX512 && fresh:
		bnDxFreshAVX512(&dst[0], &dy[0], &x[0], k, c1, m, c2, v)
	case level == AVX512:
		bnDxAVX512(&dst[0], &dy[0], &x[0], k, c1, m, c2, v)
	case fresh:
		bnDxFreshAVX2(&dst[0], &dy[0], &x[0], k, c1, m, c2, v)
	default:
		bnDxAVX2(&dst[0], &dy[0], &x[0], k, c1, m, c2, v)
	}
	return v
}

// winogradLanes returns the tiles per vector (8, or 4 for rows of 4·odd
// tiles) of the assembly Winograd transforms for tile rows of tw tiles, or
// 0 where the Go rows run (the Generic level, or tw not a multiple of 4).
func winogradLanes(tw int) int {
	switch {
	case level < AVX2:
		return 0
	case tw%8 == 0:
		return 8
	case tw%4 == 0:
		return 4
	}
	return 0
}

// winogradPairs returns the pairs of tile rows per plane of the assembly
// transforms that take two tile rows of an 8-wide plane at a time (h/4), or
// 0 where they do not apply (the Generic level, other widths, h not a
// multiple of 4).
func winogradPairs(h, w int) int {
	if level < AVX2 || w != 8 || h%4 != 0 {
		return 0
	}
	return h / 4
}

func winogradInputPairsAsm(v *float32, ldv int, x *float32, pairs, planes int) {
	winogradInputPairsAVX2(v, ldv, x, pairs, planes)
}

func winogradOutputPairsAsm(y, m *float32, ldm, pairs int, bias float32, add int) {
	winogradOutputPairsAVX2(y, m, ldm, pairs, 1, bias, add)
}

func winogradGradPairsAsm(v *float32, ldv int, dy *float32, pairs int) {
	winogradGradPairsAVX2(v, ldv, dy, pairs, 1)
}

func winogradInputAsm(lanes int, v *float32, ldv int, r0, r1, r2, r3 *float32, nb, rows int) {
	if lanes == 8 {
		winogradInput8AVX2(v, ldv, r0, r1, r2, r3, nb, rows)
	} else {
		winogradInput4AVX2(v, ldv, r0, r1, r2, r3, nb, rows)
	}
}

func winogradOutputAsm(lanes int, y0, y1, m *float32, ldm, nb, rows int, bias float32, add int) {
	if lanes == 8 {
		winogradOutput8AVX2(y0, y1, m, ldm, nb, rows, bias, add)
	} else {
		winogradOutput4AVX2(y0, y1, m, ldm, nb, rows, bias, add)
	}
}

func winogradGradAsm(lanes int, v *float32, ldv int, y0, y1 *float32, nb, rows int) {
	if lanes == 8 {
		winogradGrad8AVX2(v, ldv, y0, y1, nb, rows)
	} else {
		winogradGrad4AVX2(v, ldv, y0, y1, nb, rows)
	}
}

// splitPhasesVec runs SplitPhases in assembly when w is a multiple of 16
// (at the AVX2 level and above) and reports whether it did.
func splitPhasesVec(p00, p01, p10, p11, x []float32, pairs, w int) bool {
	if level < AVX2 || w%16 != 0 {
		return false
	}
	splitPhasesAVX2(&p00[0], &p01[0], &p10[0], &p11[0], &x[0], pairs, w)
	return true
}

// mergePhasesVec runs MergePhases in assembly when w is a multiple of 16
// (at the AVX2 level and above) and reports whether it did.
func mergePhasesVec(x, p00, p01, p10, p11 []float32, pairs, w int, add bool) bool {
	switch {
	case level < AVX2 || w%16 != 0:
		return false
	case add:
		mergePhasesAddAVX2(&x[0], &p00[0], &p01[0], &p10[0], &p11[0], pairs, w)
	default:
		mergePhasesAVX2(&x[0], &p00[0], &p01[0], &p10[0], &p11[0], pairs, w)
	}
	return true
}
