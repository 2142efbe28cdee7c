package kernels

import "fmt"

func checkLen2(name string, dst, x []float32) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("kernels.%s: len(dst)=%d != len(x)=%d", name, len(dst), len(x)))
	}
}

func checkLen3(name string, dst, x, y []float32) {
	if len(dst) != len(x) || len(x) != len(y) {
		panic(fmt.Sprintf("kernels.%s: lengths differ: len(dst)=%d len(x)=%d len(y)=%d", name, len(dst), len(x), len(y)))
	}
}

// Add sets dst[i] = x[i] + y[i]. dst may alias x or y.
//
//	for i := range dst { dst[i] = x[i] + y[i] }
func Add(dst, x, y []float32) {
	checkLen3("Add", dst, x, y)
	for i := addVec(dst, x, y); i < len(dst); i++ {
		dst[i] = x[i] + y[i]
	}
}

// Sub sets dst[i] = x[i] - y[i]. dst may alias x or y.
//
//	for i := range dst { dst[i] = x[i] - y[i] }
func Sub(dst, x, y []float32) {
	checkLen3("Sub", dst, x, y)
	for i := subVec(dst, x, y); i < len(dst); i++ {
		dst[i] = x[i] - y[i]
	}
}

// Mul sets dst[i] = x[i] * y[i]. dst may alias x or y.
//
//	for i := range dst { dst[i] = x[i] * y[i] }
func Mul(dst, x, y []float32) {
	checkLen3("Mul", dst, x, y)
	for i := mulVec(dst, x, y); i < len(dst); i++ {
		dst[i] = x[i] * y[i]
	}
}

// Max sets dst[i] = max(x[i], y[i]). dst may alias x or y.
//
//	for i := range dst { dst[i] = max(x[i], y[i]) }
func Max(dst, x, y []float32) {
	checkLen3("Max", dst, x, y)
	for i := maxVec(dst, x, y); i < len(dst); i++ {
		dst[i] = max(x[i], y[i])
	}
}

// Scale sets dst[i] = a * x[i]. dst may alias x.
//
//	for i := range dst { dst[i] = a * x[i] }
func Scale(dst []float32, a float32, x []float32) {
	checkLen2("Scale", dst, x)
	for i := scaleVec(dst, a, x); i < len(dst); i++ {
		dst[i] = a * x[i]
	}
}

// Axpy sets y[i] += a * x[i].
//
//	for i := range y { y[i] += a * x[i] }
func Axpy(a float32, x, y []float32) {
	checkLen2("Axpy", y, x)
	for i := axpyVec(a, x, y); i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// Relu sets dst[i] = max(x[i], 0), with NaN mapped to 0. dst may alias x.
//
//	for i := range dst { if x[i] > 0 { dst[i] = x[i] } else { dst[i] = 0 } }
func Relu(dst, x []float32) {
	checkLen2("Relu", dst, x)
	for i := reluVec(dst, x); i < len(dst); i++ {
		if x[i] > 0 {
			dst[i] = x[i]
		} else {
			dst[i] = 0
		}
	}
}

// ReluBackward sets dx[i] = dy[i] where x[i] > 0 and 0 elsewhere; x is the
// ReLU's input (or its output: both are > 0 at the same places). dx may
// alias dy.
//
//	for i := range dx { if x[i] > 0 { dx[i] = dy[i] } else { dx[i] = 0 } }
func ReluBackward(dx, dy, x []float32) {
	checkLen3("ReluBackward", dx, dy, x)
	for i := reluBackwardVec(dx, dy, x); i < len(dx); i++ {
		if x[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// Sum returns Σ x[i]. Assembly variants sum in a fixed lane order, so the
// result is deterministic for a given level but may differ from the
// sequential loop in the last bits. The Generic level accumulates in
// float64 and rounds once: a float32 running sum over the
// tens of thousands of elements of a BatchNorm channel loses about 1e-5
// relative, enough to move gradients by a percent.
//
//	var s float64; for i := range x { s += float64(x[i]) }; return float32(s)
func Sum(x []float32) float32 {
	s, i := sumVec(x)
	if level == Generic {
		var s64 float64
		for _, v := range x {
			s64 += float64(v)
		}
		return float32(s64)
	}
	for ; i < len(x); i++ {
		s += x[i]
	}
	return s
}

// SumSq returns Σ x[i]², with the same ordering caveat as Sum (Generic:
// exact float64 products summed in float64, rounded once).
//
//	var s float64; for i := range x { s += float64(x[i]) * float64(x[i]) }; return float32(s)
func SumSq(x []float32) float32 {
	s, i := sumSqVec(x)
	if level == Generic {
		return dot64(x, x)
	}
	for ; i < len(x); i++ {
		s += x[i] * x[i]
	}
	return s
}

// Dot returns Σ x[i]·y[i], with the same ordering caveat as Sum (Generic:
// in float64, rounded once).
//
//	var s float64; for i := range x { s += float64(x[i]) * float64(y[i]) }; return float32(s)
func Dot(x, y []float32) float32 {
	checkLen2("Dot", x, y)
	s, i := dotVec(x, y)
	if level == Generic {
		return dot64(x, y)
	}
	for ; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// dot64 is Σ float64(x[i])·float64(y[i]) rounded once to float32: the
// Generic level's reductions.
func dot64(x, y []float32) float32 {
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return float32(s)
}

// RowSums sets dst[r] = Σ_c x[r*cols+c] for a rows×cols row-major matrix.
//
//	for r := range dst { dst[r] = Sum(x[r*cols : (r+1)*cols]) }
func RowSums(dst, x []float32, cols int) {
	checkRows("RowSums", dst, x, cols)
	for r := range dst {
		dst[r] = Sum(x[r*cols : (r+1)*cols])
	}
}

// RowSumSqs sets dst[r] = Σ_c x[r*cols+c]² for a rows×cols row-major matrix.
//
//	for r := range dst { dst[r] = SumSq(x[r*cols : (r+1)*cols]) }
func RowSumSqs(dst, x []float32, cols int) {
	checkRows("RowSumSqs", dst, x, cols)
	for r := range dst {
		dst[r] = SumSq(x[r*cols : (r+1)*cols])
	}
}

func checkRows(name string, dst, x []float32, cols int) {
	if cols < 0 || len(x) != len(dst)*cols {
		panic(fmt.Sprintf("kernels.%s: len(x)=%d != len(dst)=%d × cols=%d", name, len(x), len(dst), cols))
	}
}

// SumSqDev returns Σ (x[i] − c)², bit for bit SumSq of a copy of x with c
// subtracted (same ordering caveat as Sum), without writing that copy: a
// BatchNorm's variance in one read of its input.
//
//	var s float32; for i := range x { d := x[i] - c; s += d * d }; return s
func SumSqDev(x []float32, c float32) float32 {
	s, i := sumSqDevVec(x, c)
	if level == Generic {
		var s64 float64
		for _, v := range x {
			d := float64(v - c)
			s64 += d * d
		}
		return float32(s64)
	}
	for ; i < len(x); i++ {
		d := x[i] - c
		s += d * d
	}
	return s
}

// DotDev returns Σ (x[i] − c)·y[i], bit for bit Dot(y, x − c) (same
// ordering caveat as Sum).
//
//	var s float32; for i := range x { s += y[i] * (x[i] - c) }; return s
func DotDev(x, y []float32, c float32) float32 {
	checkLen2("DotDev", x, y)
	s, i := dotDevVec(x, y, c)
	if level == Generic {
		var s64 float64
		for i, v := range x {
			s64 += float64(y[i]) * float64(v-c)
		}
		return float32(s64)
	}
	for ; i < len(x); i++ {
		s += y[i] * (x[i] - c)
	}
	return s
}

// Affine sets dst[i] = (x[i] − c)·a + b, each operation rounded in that
// order, and with relu then max(·, 0) (NaN → 0, as Relu): the normalise,
// scale and shift of a BatchNorm (and its fused ReLU) in one pass, bit for
// bit the chain of Axpy, Scale and Relu calls it replaces. dst may alias x.
//
//	for i := range dst {
//		v := (x[i]-c)*a + b
//		if relu && !(v > 0) { v = 0 }
//		dst[i] = v
//	}
func Affine(dst, x []float32, c, a, b float32, relu bool) {
	checkLen2("Affine", dst, x)
	for i := affineVec(dst, x, c, a, b, relu); i < len(dst); i++ {
		v := float32((x[i]-c)*a) + b // the conversion forbids fusing into an FMA
		if relu && !(v > 0) {
			v = 0
		}
		dst[i] = v
	}
}

// BNDx adds the training-mode BatchNorm input gradient into dst:
// dst[i] += k·dy[i], then += c1·(x[i] − m), then += c2, every product
// rounded before its sum, in that order. With fresh, dst is not read and
// starts at k·dy[i]. dst must not alias dy or x.
//
//	for i := range dst {
//		d := k * dy[i]
//		if !fresh { d = dst[i] + d }
//		d += c1 * (x[i] - m)
//		d += c2
//		dst[i] = d
//	}
func BNDx(dst, dy, x []float32, k, c1, m, c2 float32, fresh bool) {
	checkLen3("BNDx", dst, dy, x)
	for i := bnDxVec(dst, dy, x, k, c1, m, c2, fresh); i < len(dst); i++ {
		d := float32(k * dy[i]) // the conversions forbid fusing into FMAs
		if !fresh {
			d = dst[i] + d
		}
		d += float32(c1 * (x[i] - m))
		d += c2
		dst[i] = d
	}
}
