package kernels

import "fmt"

// SplitPhases writes the four polyphase components of pairs of rows of
// width w (w even) of x, the input layout of a stride-2 convolution run as
// four stride-1 ones: with pairs = len(x)/(2w) and half = w/2,
//
//	for r := range pairs {
//		for c := range half {
//			p00[r*half+c] = x[2*r*w+2*c]      // even row, even column
//			p01[r*half+c] = x[2*r*w+2*c+1]    // even row, odd column
//			p10[r*half+c] = x[(2*r+1)*w+2*c]  // odd row, even column
//			p11[r*half+c] = x[(2*r+1)*w+2*c+1]
//		}
//	}
//
// Each p must hold len(x)/4 floats. Pure moves: every level gives the same
// bits.
func SplitPhases(p00, p01, p10, p11, x []float32, w int) {
	pairs := checkPhases("SplitPhases", x, w, p00, p01, p10, p11)
	if pairs == 0 || splitPhasesVec(p00, p01, p10, p11, x, pairs, w) {
		return
	}
	for r := range pairs {
		e0, e1, q00, q01, q10, q11 := phaseRows(r, w, x, p00, p01, p10, p11)
		for c := range w / 2 {
			q00[c], q01[c] = e0[2*c], e0[2*c+1]
			q10[c], q11[c] = e1[2*c], e1[2*c+1]
		}
	}
}

// MergePhases is the adjoint of SplitPhases: it writes (add false) or adds
// (add true) the four components back into x,
//
//	x[2*r*w+2*c] = p00[r*half+c]   (or +=), and likewise for the other three.
//
// The sums are x + p in that order, so every level gives the same bits.
func MergePhases(x, p00, p01, p10, p11 []float32, w int, add bool) {
	pairs := checkPhases("MergePhases", x, w, p00, p01, p10, p11)
	if pairs == 0 || mergePhasesVec(x, p00, p01, p10, p11, pairs, w, add) {
		return
	}
	for r := range pairs {
		e0, e1, q00, q01, q10, q11 := phaseRows(r, w, x, p00, p01, p10, p11)
		if !add {
			for c := range w / 2 {
				e0[2*c], e0[2*c+1] = q00[c], q01[c]
				e1[2*c], e1[2*c+1] = q10[c], q11[c]
			}
			continue
		}
		for c := range w / 2 {
			e0[2*c] += q00[c]
			e0[2*c+1] += q01[c]
			e1[2*c] += q10[c]
			e1[2*c+1] += q11[c]
		}
	}
}

// phaseRows returns pair r's two rows of x and the four phases' rows.
func phaseRows(r, w int, x, p00, p01, p10, p11 []float32) (e0, e1, q00, q01, q10, q11 []float32) {
	h := w / 2
	return x[2*r*w : (2*r+1)*w], x[(2*r+1)*w : (2*r+2)*w],
		p00[r*h : (r+1)*h], p01[r*h : (r+1)*h], p10[r*h : (r+1)*h], p11[r*h : (r+1)*h]
}

// checkPhases panics unless x is a whole number of pairs of rows of even
// width w and every p holds len(x)/4 floats; it returns the pairs.
func checkPhases(name string, x []float32, w int, p ...[]float32) int {
	if w <= 0 || w%2 != 0 || len(x)%(2*w) != 0 {
		panic(fmt.Sprintf("kernels.%s: len(x)=%d is not a whole number of row pairs of even width w=%d", name, len(x), w))
	}
	for i, q := range p {
		if len(q) != len(x)/4 {
			panic(fmt.Sprintf("kernels.%s: len(p%02b)=%d, want len(x)/4=%d", name, i, len(q), len(x)/4))
		}
	}
	return len(x) / (2 * w)
}
