package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// splitPhasesRef is the reference loop of SplitPhases's doc comment.
func splitPhasesRef(p [4][]float32, x []float32, w int) {
	half := w / 2
	for r := range len(x) / (2 * w) {
		for c := range half {
			p[0][r*half+c] = x[2*r*w+2*c]
			p[1][r*half+c] = x[2*r*w+2*c+1]
			p[2][r*half+c] = x[(2*r+1)*w+2*c]
			p[3][r*half+c] = x[(2*r+1)*w+2*c+1]
		}
	}
}

// mergePhasesRef is the reference loop of MergePhases's doc comment.
func mergePhasesRef(x []float32, p [4][]float32, w int, add bool) {
	half := w / 2
	for r := range len(x) / (2 * w) {
		for c := range half {
			at := [4]int{2*r*w + 2*c, 2*r*w + 2*c + 1, (2*r+1)*w + 2*c, (2*r+1)*w + 2*c + 1}
			for i, j := range at {
				if add {
					x[j] += p[i][r*half+c]
				} else {
					x[j] = p[i][r*half+c]
				}
			}
		}
	}
}

// TestPhases checks SplitPhases and MergePhases bit for bit against their
// reference loops at every level, on widths the assembly takes (multiples
// of 16) and widths it leaves to Go, and that nothing is written outside
// the outputs.
func TestPhases(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(11, uint64(l)))
		for _, tc := range []struct{ w, pairs int }{
			{2, 1}, {6, 3}, {16, 1}, {16, 5}, {32, 8}, {48, 2}, {8, 4}, {64, 3},
		} {
			n := 2 * tc.w * tc.pairs
			x := specialInput(r, n)
			var got, want [4][]float32
			var checks [4]func(*testing.T, string)
			for i := range got {
				got[i], checks[i] = guarded(n/4, 1)
				want[i] = make([]float32, n/4)
			}
			SplitPhases(got[0], got[1], got[2], got[3], x, tc.w)
			splitPhasesRef(want, x, tc.w)
			for i := range got {
				name := fmt.Sprintf("SplitPhases w=%d pairs=%d p%02b", tc.w, tc.pairs, i)
				checks[i](t, name)
				for j := range want[i] {
					if !sameBits(got[i][j], want[i][j]) {
						t.Fatalf("%s[%d] = %v, want %v", name, j, got[i][j], want[i][j])
					}
				}
			}
			for _, add := range []bool{false, true} {
				init := specialInput(r, n)
				dst, check := guarded(n, 3)
				copy(dst, init)
				ref := append([]float32(nil), init...)
				MergePhases(dst, want[0], want[1], want[2], want[3], tc.w, add)
				mergePhasesRef(ref, want, tc.w, add)
				name := fmt.Sprintf("MergePhases w=%d pairs=%d add=%v", tc.w, tc.pairs, add)
				check(t, name)
				for j := range ref {
					if !sameBits(dst[j], ref[j]) {
						t.Fatalf("%s: x[%d] = %v, want %v", name, j, dst[j], ref[j])
					}
				}
			}
		}
	})
}

func TestPhasesPanics(t *testing.T) {
	x, p := make([]float32, 32), make([]float32, 8)
	mustPanic(t, "odd width", func() { SplitPhases(p, p, p, p, x[:30], 5) }, "kernels.SplitPhases", "w=5")
	mustPanic(t, "not whole row pairs", func() { SplitPhases(p, p, p, p, x[:24], 16) }, "len(x)=24")
	mustPanic(t, "short phase", func() { SplitPhases(p, p, p[:7], p, x, 8) }, "len(p10)=7", "len(x)/4=8")
	mustPanic(t, "merge short phase", func() { MergePhases(x, p, p, p, p[:4], 8, true) }, "kernels.MergePhases", "len(p11)=4")
}
