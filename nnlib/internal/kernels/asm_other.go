//go:build !amd64 || purego

package kernels

// Without assembly every kernel runs its pure-Go twin: the vector prefix is
// empty.

func addVec(dst, x, y []float32) int                     { return 0 }
func subVec(dst, x, y []float32) int                     { return 0 }
func mulVec(dst, x, y []float32) int                     { return 0 }
func maxVec(dst, x, y []float32) int                     { return 0 }
func reluBackwardVec(dx, dy, x []float32) int            { return 0 }
func scaleVec(dst []float32, a float32, x []float32) int { return 0 }
func axpyVec(a float32, x, y []float32) int              { return 0 }
func reluVec(dst, x []float32) int                       { return 0 }
func sumVec(x []float32) (float32, int)                  { return 0, 0 }
func sumSqVec(x []float32) (float32, int)                { return 0, 0 }
func dotVec(x, y []float32) (float32, int)               { return 0, 0 }

func sumSqDevVec(x []float32, c float32) (float32, int)                  { return 0, 0 }
func dotDevVec(x, y []float32, c float32) (float32, int)                 { return 0, 0 }
func affineVec(dst, x []float32, c, a, b float32, relu bool) int         { return 0 }
func bnDxVec(dst, dy, x []float32, k, c1, m, c2 float32, fresh bool) int { return 0 }

func winogradLanes(tw int) int { return 0 }

func winogradPairs(h, w int) int { return 0 }

func winogradInputPairsAsm(v *float32, ldv int, x *float32, pairs, planes int) {
	panic("kernels: no Winograd assembly in this build")
}

func winogradOutputPairsAsm(y, m *float32, ldm, pairs int, bias float32, add int) {
	panic("kernels: no Winograd assembly in this build")
}

func winogradGradPairsAsm(v *float32, ldv int, dy *float32, pairs int) {
	panic("kernels: no Winograd assembly in this build")
}

func winogradInputAsm(lanes int, v *float32, ldv int, r0, r1, r2, r3 *float32, nb, rows int) {
	panic("kernels: no Winograd assembly in this build")
}

func winogradOutputAsm(lanes int, y0, y1, m *float32, ldm, nb, rows int, bias float32, add int) {
	panic("kernels: no Winograd assembly in this build")
}

func winogradGradAsm(lanes int, v *float32, ldv int, y0, y1 *float32, nb, rows int) {
	panic("kernels: no Winograd assembly in this build")
}

func splitPhasesVec(p00, p01, p10, p11, x []float32, pairs, w int) bool           { return false }
func mergePhasesVec(x, p00, p01, p10, p11 []float32, pairs, w int, add bool) bool { return false }
