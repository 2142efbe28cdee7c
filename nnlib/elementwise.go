package nnlib

import (
	"fmt"

	"github.com/continuousnet/repro/nnlib/internal/kernels"
)

// elemChunk is the number of elements chunked hands to one call: small
// enough that several passes over a chunk stay in the L1/L2 cache.
const elemChunk = 1 << 14

// chunked applies fn to matching chunks of equal-length slices, split across
// threads when large. fn must be elementwise.
func chunked(n int, fn func(lo, hi int)) {
	parallelFor((n+elemChunk-1)/elemChunk, n, func(lo, hi int) {
		fn(lo*elemChunk, min(hi*elemChunk, n))
	})
}

// chunkedW is chunked calling fn once per chunk of at most elemChunk
// elements, with the worker index w (see parallelForW), so that fn can use
// a per-worker scratch of elemChunk floats.
func chunkedW(n int, fn func(w, lo, hi int)) {
	parallelForW((n+elemChunk-1)/elemChunk, n, func(w, lo, hi int) {
		for c := lo; c < hi; c++ {
			fn(w, c*elemChunk, min((c+1)*elemChunk, n))
		}
	})
}

// Relu records y = max(x, 0) elementwise (any shape).
func (g *Graph) Relu(x *Value) *Value {
	y := g.value(true, x.Shape...)
	nd := g.push(opRelu)
	nd.x, nd.out = x, y
	chunked(len(x.Data), func(lo, hi int) { kernels.Relu(y.Data[lo:hi], x.Data[lo:hi]) })
	return y
}

// reluBackward: dx += dy where y > 0 (y > 0 exactly where x > 0).
func (g *Graph) reluBackward(nd *node) {
	x, y := nd.x, nd.out
	if !x.requiresGrad {
		return
	}
	gx, fresh := g.grad(x)
	if fresh {
		chunked(len(gx), func(lo, hi int) { kernels.ReluBackward(gx[lo:hi], y.Grad[lo:hi], y.Data[lo:hi]) })
		return
	}
	// The masked gradient goes through a cache-sized per-worker scratch, not
	// an activation-sized buffer.
	scr := g.scratch(elemChunk)
	chunkedW(len(gx), func(w, lo, hi int) {
		tmp := scr[w][:hi-lo]
		kernels.ReluBackward(tmp, y.Grad[lo:hi], y.Data[lo:hi])
		kernels.Add(gx[lo:hi], gx[lo:hi], tmp)
	})
}

// Add records y = a + b (same shapes): the residual connection.
func (g *Graph) Add(a, b *Value) *Value {
	if !sameShape(a.Shape, b.Shape) {
		panic(fmt.Sprintf("nnlib.Graph.Add: shapes %v and %v differ", a.Shape, b.Shape))
	}
	y := g.value(true, a.Shape...)
	nd := g.push(opAdd)
	nd.x, nd.y, nd.out = a, b, y
	chunked(len(y.Data), func(lo, hi int) { kernels.Add(y.Data[lo:hi], a.Data[lo:hi], b.Data[lo:hi]) })
	return y
}

// AddReLU records y = max(a + b, 0) (same shapes) as one op: the same
// numbers, bit for bit, as Relu(Add(a, b)), without the intermediate tensor
// (the post-activation residual connection of a ResNet basic block).
func (g *Graph) AddReLU(a, b *Value) *Value {
	if !sameShape(a.Shape, b.Shape) {
		panic(fmt.Sprintf("nnlib.Graph.AddReLU: shapes %v and %v differ", a.Shape, b.Shape))
	}
	y := g.value(true, a.Shape...)
	nd := g.push(opAdd)
	nd.x, nd.y, nd.out, nd.relu = a, b, y, true
	chunked(len(y.Data), func(lo, hi int) {
		kernels.Add(y.Data[lo:hi], a.Data[lo:hi], b.Data[lo:hi])
		kernels.Relu(y.Data[lo:hi], y.Data[lo:hi])
	})
	return y
}

// addBackward: da += dy; db += dy (dy masked by y > 0 first for AddReLU,
// chunk by chunk through a per-worker scratch).
func (g *Graph) addBackward(nd *node) {
	if !nd.relu {
		for _, x := range [2]*Value{nd.x, nd.y} {
			accumulate(g, x, 1, nd.out.Grad)
		}
		return
	}
	y := nd.out
	var gs [2][]float32
	var fresh [2]bool
	for i, x := range [2]*Value{nd.x, nd.y} {
		if x.requiresGrad {
			gs[i], fresh[i] = g.grad(x)
		}
	}
	if gs[0] == nil && gs[1] == nil {
		return
	}
	scr := g.scratch(elemChunk)
	chunkedW(len(y.Data), func(w, lo, hi int) {
		t := scr[w][:hi-lo]
		kernels.ReluBackward(t, y.Grad[lo:hi], y.Data[lo:hi])
		for i, gx := range gs {
			switch {
			case gx == nil:
			case fresh[i]:
				copy(gx[lo:hi], t)
			default:
				kernels.Add(gx[lo:hi], gx[lo:hi], t)
			}
		}
	})
}

// accumulate adds c·gy into x's gradient (overwriting on the first
// contribution).
func accumulate(g *Graph, x *Value, c float32, gy []float32) {
	if !x.requiresGrad {
		return
	}
	gx, fresh := g.grad(x)
	chunked(len(gx), func(lo, hi int) { accumulateInto(gx[lo:hi], c, gy[lo:hi], fresh) })
}

// accumulateInto sets gx (fresh) or adds to it c·gy.
func accumulateInto(gx []float32, c float32, gy []float32, fresh bool) {
	switch {
	case fresh && c == 1:
		copy(gx, gy)
	case fresh:
		kernels.Scale(gx, c, gy)
	case c == 1:
		kernels.Add(gx, gx, gy)
	default:
		kernels.Axpy(c, gy, gx)
	}
}

// LinComb records y = Σ_j coefs[j]·xs[j] (all of one shape): the
// Runge-Kutta stage input x + Σ a_j·k_j and the update x + Σ b_j·k_j. The
// same value may appear several times. The slices are copied.
func (g *Graph) LinComb(xs []*Value, coefs []float32) *Value {
	if len(xs) == 0 || len(xs) != len(coefs) {
		panic(fmt.Sprintf("nnlib.Graph.LinComb: %d values, %d coefficients", len(xs), len(coefs)))
	}
	for _, x := range xs[1:] {
		if !sameShape(x.Shape, xs[0].Shape) {
			panic(fmt.Sprintf("nnlib.Graph.LinComb: shapes %v and %v differ", xs[0].Shape, x.Shape))
		}
	}
	y := g.value(true, xs[0].Shape...)
	nd := g.push(opLinComb)
	nd.out = y
	nd.xs = append(nd.xs, xs...)
	nd.coefs = append(nd.coefs, coefs...)
	// Per cache-sized chunk: y = c₀·x₀ (a copy when c₀ = 1, as for the
	// Runge-Kutta state term), then y += c_j·x_j while y is still in cache.
	chunked(len(y.Data), func(lo, hi int) {
		if c0 := nd.coefs[0]; c0 == 1 {
			copy(y.Data[lo:hi], nd.xs[0].Data[lo:hi])
		} else {
			kernels.Scale(y.Data[lo:hi], c0, nd.xs[0].Data[lo:hi])
		}
		for j := 1; j < len(nd.xs); j++ {
			kernels.Axpy(nd.coefs[j], nd.xs[j].Data[lo:hi], y.Data[lo:hi])
		}
	})
	return y
}

// Scale records y = c·x for a constant c.
func (g *Graph) Scale(x *Value, c float32) *Value {
	y := g.value(true, x.Shape...)
	nd := g.push(opLinComb)
	nd.out = y
	nd.xs = append(nd.xs, x)
	nd.coefs = append(nd.coefs, c)
	chunked(len(y.Data), func(lo, hi int) { kernels.Scale(y.Data[lo:hi], c, x.Data[lo:hi]) })
	return y
}

// linCombBackward: dx_j += c_j·dy, for all j in one pass over cache-sized
// chunks of dy, so dy is read from memory once rather than once per input
// (a Runge-Kutta update has up to five). Within a chunk the inputs are
// handled in order, an input that appears twice first set and then added
// to: per element exactly the sums of one accumulate call per input.
func (g *Graph) linCombBackward(nd *node) {
	gy := nd.out.Grad
	gxs, fresh := g.lcGrads[:0], g.lcFresh[:0]
	for _, x := range nd.xs {
		var gx []float32
		f := false
		if x.requiresGrad {
			gx, f = g.grad(x)
		}
		gxs, fresh = append(gxs, gx), append(fresh, f)
	}
	g.lcGrads, g.lcFresh = gxs, fresh
	chunked(len(gy), func(lo, hi int) {
		for j, gx := range gxs {
			if gx != nil {
				accumulateInto(gx[lo:hi], nd.coefs[j], gy[lo:hi], fresh[j])
			}
		}
	})
}

// ScaleParam records y = s·x where s is a learnable scalar (a one-element
// ParamRef, e.g. one piece of a SkipInit parameter of shape [K]).
func (g *Graph) ScaleParam(x *Value, s ParamRef) *Value {
	if s.N != 1 {
		panic(fmt.Sprintf("nnlib.Graph.ScaleParam: %s reference has %d elements, want 1", s.P.Name, s.N))
	}
	y := g.value(true, x.Shape...)
	nd := g.push(opScaleParam)
	nd.x, nd.out, nd.w = x, y, s
	sv := s.Data()[0]
	chunked(len(y.Data), func(lo, hi int) { kernels.Scale(y.Data[lo:hi], sv, x.Data[lo:hi]) })
	return y
}

// scaleParamBackward: ds += Σ dy·x; dx += s·dy.
func (g *Graph) scaleParamBackward(nd *node) {
	gy := nd.out.Grad
	nd.w.Grad()[0] += kernels.Dot(gy, nd.x.Data)
	accumulate(g, nd.x, nd.w.Data()[0], gy)
}
