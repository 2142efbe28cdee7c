package nnlib

import (
	"fmt"
	"slices"
)

// Param is a named trainable tensor with its gradient. Backward passes add
// into Grad; ParamSet.ZeroGrad clears it.
//
// A Param whose leading axis indexes pieces of a depth-varying weight
// (shape [K][Cout][Cin][3][3], say) is used one piece at a time through
// Piece.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
	Grad  []float32
}

// Len returns the number of elements.
func (p *Param) Len() int { return len(p.Data) }

// Set replaces the parameter's shape and data in place (its gradient is
// resized and zeroed). Layers holding the *Param see the new value; this is
// how a model changes the number of pieces (refine, coarsen). data is
// copied.
func (p *Param) Set(shape []int, data []float32) {
	n := numel("Param.Set", shape)
	if len(data) != n {
		panic(fmt.Sprintf("nnlib.Param.Set(%s): len(data)=%d != %d for shape %v", p.Name, len(data), n, shape))
	}
	p.Shape = append([]int(nil), shape...)
	p.Data = append([]float32(nil), data...)
	p.Grad = make([]float32, n)
}

// All returns a reference to the whole parameter.
func (p *Param) All() ParamRef { return ParamRef{P: p, Off: 0, N: len(p.Data), shape: p.Shape} }

// Pieces returns the length of the leading axis.
func (p *Param) Pieces() int {
	if len(p.Shape) == 0 {
		return 1
	}
	return p.Shape[0]
}

// Piece returns a reference to piece k of the leading axis: for shape
// [K][d1]...[dr] it is the k-th [d1]...[dr] block.
func (p *Param) Piece(k int) ParamRef {
	if len(p.Shape) == 0 || k < 0 || k >= p.Shape[0] {
		panic(fmt.Sprintf("nnlib.Param.Piece(%s): piece %d out of range for shape %v", p.Name, k, p.Shape))
	}
	n := len(p.Data) / p.Shape[0]
	return ParamRef{P: p, Off: k * n, N: n, shape: p.Shape[1:]}
}

// ParamRef is a contiguous view of a Param: the whole of it or one piece.
// Ops read RefData and add their gradients into RefGrad. The zero ParamRef
// means "absent" (an optional bias).
type ParamRef struct {
	P      *Param
	Off, N int
	shape  []int
}

// Valid reports whether the reference points at a parameter.
func (r ParamRef) Valid() bool { return r.P != nil }

// Shape returns the shape of the referenced block.
func (r ParamRef) Shape() []int { return r.shape }

// Data returns the referenced values.
func (r ParamRef) Data() []float32 { return r.P.Data[r.Off : r.Off+r.N] }

// Grad returns the referenced gradient slots.
func (r ParamRef) Grad() []float32 { return r.P.Grad[r.Off : r.Off+r.N] }

// Buffer is named non-trainable state (BatchNorm running statistics). A
// per-piece buffer has a leading piece axis like a Param.
type Buffer struct {
	Name  string
	Shape []int
	Data  []float32
}

// Piece returns piece k of the leading axis.
func (b *Buffer) Piece(k int) []float32 {
	if len(b.Shape) == 0 || k < 0 || k >= b.Shape[0] {
		panic(fmt.Sprintf("nnlib.Buffer.Piece(%s): piece %d out of range for shape %v", b.Name, k, b.Shape))
	}
	n := len(b.Data) / b.Shape[0]
	return b.Data[k*n : (k+1)*n]
}

// Set replaces the buffer's shape and data in place (data is copied).
func (b *Buffer) Set(shape []int, data []float32) {
	n := numel("Buffer.Set", shape)
	if len(data) != n {
		panic(fmt.Sprintf("nnlib.Buffer.Set(%s): len(data)=%d != %d for shape %v", b.Name, len(data), n, shape))
	}
	b.Shape = append([]int(nil), shape...)
	b.Data = append([]float32(nil), data...)
}

// ParamSet is the ordered, named collection of a model's parameters and
// buffers. Names are unique across both; order is creation order, which
// fixes the order of optimizer updates and checkpoint records.
type ParamSet struct {
	params  []*Param
	buffers []*Buffer
	names   map[string]bool
}

// NewParamSet returns an empty set.
func NewParamSet() *ParamSet { return &ParamSet{names: map[string]bool{}} }

func (s *ParamSet) claim(fn, name string) {
	if name == "" {
		panic(fmt.Sprintf("nnlib.ParamSet.%s: empty name", fn))
	}
	if s.names[name] {
		panic(fmt.Sprintf("nnlib.ParamSet.%s: duplicate name %q", fn, name))
	}
	s.names[name] = true
}

// NewParam adds a zero parameter called name with the given shape.
func (s *ParamSet) NewParam(name string, shape ...int) *Param {
	s.claim("NewParam", name)
	n := numel("ParamSet.NewParam", shape)
	p := &Param{Name: name, Shape: append([]int(nil), shape...), Data: make([]float32, n), Grad: make([]float32, n)}
	s.params = append(s.params, p)
	return p
}

// NewBuffer adds a zero buffer called name with the given shape.
func (s *ParamSet) NewBuffer(name string, shape ...int) *Buffer {
	s.claim("NewBuffer", name)
	b := &Buffer{Name: name, Shape: append([]int(nil), shape...), Data: make([]float32, numel("ParamSet.NewBuffer", shape))}
	s.buffers = append(s.buffers, b)
	return b
}

// Params returns the parameters in creation order (the slice is shared:
// do not modify it).
func (s *ParamSet) Params() []*Param { return s.params }

// Buffers returns the buffers in creation order (shared slice).
func (s *ParamSet) Buffers() []*Buffer { return s.buffers }

// Param returns the parameter called name, or nil.
func (s *ParamSet) Param(name string) *Param {
	for _, p := range s.params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Buffer returns the buffer called name, or nil.
func (s *ParamSet) Buffer(name string) *Buffer {
	for _, b := range s.buffers {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// ZeroGrad clears every parameter's gradient.
func (s *ParamSet) ZeroGrad() {
	for _, p := range s.params {
		clear(p.Grad)
	}
}

// NumParams returns the total number of trainable scalars.
func (s *ParamSet) NumParams() int {
	n := 0
	for _, p := range s.params {
		n += len(p.Data)
	}
	return n
}

// CopyFrom copies the values of every parameter and buffer of src into the
// one of the same name in s. Names and shapes must match exactly; the error
// names the first mismatch.
func (s *ParamSet) CopyFrom(src *ParamSet) error {
	if len(src.params) != len(s.params) || len(src.buffers) != len(s.buffers) {
		return fmt.Errorf("nnlib: CopyFrom: %d params and %d buffers, destination has %d and %d",
			len(src.params), len(src.buffers), len(s.params), len(s.buffers))
	}
	for _, p := range src.params {
		q := s.Param(p.Name)
		if q == nil || !slices.Equal(q.Shape, p.Shape) {
			return fmt.Errorf("nnlib: CopyFrom: parameter %q %v has no match of that shape", p.Name, p.Shape)
		}
		copy(q.Data, p.Data)
	}
	for _, b := range src.buffers {
		q := s.Buffer(b.Name)
		if q == nil || !slices.Equal(q.Shape, b.Shape) {
			return fmt.Errorf("nnlib: CopyFrom: buffer %q %v has no match of that shape", b.Name, b.Shape)
		}
		copy(q.Data, b.Data)
	}
	return nil
}
