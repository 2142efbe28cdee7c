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
