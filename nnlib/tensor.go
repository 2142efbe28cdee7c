package nnlib

import "fmt"

// Tensor is a dense float32 array with a shape. Data is row-major over Shape
// (for feature maps, Shape is [C, N, H, W]: see the package comment).
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numel("NewTensor", shape))}
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// numel returns the product of shape, panicking on negative dimensions.
func numel(fn string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("nnlib.%s: negative dimension in shape %v", fn, shape))
		}
		n *= d
	}
	return n
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// NCHWToChannelMajor copies an NCHW batch src (n images of c×h×w) into dst
// in channel-major order [C][N][H][W].
//
//	dst[((ci*n+b)*h+y)*w+x] = src[((b*c+ci)*h+y)*w+x]
func NCHWToChannelMajor(dst, src []float32, n, c, h, w int) {
	if len(src) != n*c*h*w || len(dst) != n*c*h*w {
		panic(fmt.Sprintf("nnlib.NCHWToChannelMajor: len(src)=%d len(dst)=%d, want %d×%d×%d×%d=%d", len(src), len(dst), n, c, h, w, n*c*h*w))
	}
	hw := h * w
	for b := 0; b < n; b++ {
		for ci := 0; ci < c; ci++ {
			copy(dst[(ci*n+b)*hw:(ci*n+b+1)*hw], src[(b*c+ci)*hw:(b*c+ci+1)*hw])
		}
	}
}

// ChannelMajorToNCHW is the inverse of NCHWToChannelMajor.
func ChannelMajorToNCHW(dst, src []float32, n, c, h, w int) {
	if len(src) != n*c*h*w || len(dst) != n*c*h*w {
		panic(fmt.Sprintf("nnlib.ChannelMajorToNCHW: len(src)=%d len(dst)=%d, want %d×%d×%d×%d=%d", len(src), len(dst), n, c, h, w, n*c*h*w))
	}
	hw := h * w
	for b := 0; b < n; b++ {
		for ci := 0; ci < c; ci++ {
			copy(dst[(b*c+ci)*hw:(b*c+ci+1)*hw], src[(ci*n+b)*hw:(ci*n+b+1)*hw])
		}
	}
}
