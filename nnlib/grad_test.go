package nnlib

import (
	"fmt"
	"math"
	"testing"

	"github.com/continuousnet/repro/nnlib/rng"
)

// gradCase checks one op (or composition): build runs the float32 graph on
// inputs xs and the case's params; ref is the float64 forward of the same
// function of (inputs, params), flattened.
type gradCase struct {
	name   string
	inputs [][]int // shapes
	params [][]int // shapes
	train  bool
	build  func(g *Graph, xs []*Value, ps []*Param) *Value
	ref    func(xs, ps [][]float64) []float64
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func cloneAll(xs [][]float64) [][]float64 {
	out := make([][]float64, len(xs))
	for i, x := range xs {
		out[i] = append([]float64(nil), x...)
	}
	return out
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// relErr returns ‖a − b‖∞ / ‖b‖∞ (absolute when b is zero).
func relErr(a []float32, b []float64) float64 {
	var num, den float64
	for i := range b {
		num = max(num, math.Abs(float64(a[i])-b[i]))
		den = max(den, math.Abs(b[i]))
	}
	if den == 0 {
		return num
	}
	return num / den
}

func runGradCase(t *testing.T, c gradCase) {
	r := rng.New(42, "gradcheck/"+c.name)
	s := NewParamSet()
	var ps []*Param
	for i, sh := range c.params {
		p := s.NewParam(fmt.Sprintf("p%d", i), sh...)
		for j := range p.Data {
			p.Data[j] = float32(r.NormFloat64() * 0.5)
		}
		ps = append(ps, p)
	}
	g := NewGraph(c.train)
	var xs []*Value
	var xs64 [][]float64
	for _, sh := range c.inputs {
		data := make([]float32, prod(sh))
		for j := range data {
			data[j] = float32(r.NormFloat64())
		}
		v := g.Input(data, sh...)
		v.SetRequiresGrad(true)
		xs = append(xs, v)
		xs64 = append(xs64, to64(data))
	}
	var ps64 [][]float64
	for _, p := range ps {
		ps64 = append(ps64, to64(p.Data))
	}
	y := c.build(g, xs, ps)
	want := c.ref(xs64, ps64)
	if len(want) != len(y.Data) {
		t.Fatalf("forward: float32 output has %d elements, reference %d", len(y.Data), len(want))
	}
	if e := relErr(y.Data, want); e > 1e-5 {
		t.Errorf("forward: max relative error %.2e vs float64 reference", e)
	}
	dy := make([]float32, len(y.Data))
	for j := range dy {
		dy[j] = float32(r.NormFloat64())
	}
	g.BackwardWithGrad(y, dy)

	objective := func(xs, ps [][]float64) float64 {
		var l float64
		for i, v := range c.ref(xs, ps) {
			l += float64(dy[i]) * v
		}
		return l
	}
	const h = 1e-6
	check := func(label string, got []float32, vals [][]float64, i int, other [][]float64, inputs bool) {
		num := make([]float64, len(vals[i]))
		for j := range num {
			pv := cloneAll(vals)
			pv[i][j] += h
			var lp, lm float64
			if inputs {
				lp = objective(pv, other)
			} else {
				lp = objective(other, pv)
			}
			pv[i][j] -= 2 * h
			if inputs {
				lm = objective(pv, other)
			} else {
				lm = objective(other, pv)
			}
			num[j] = (lp - lm) / (2 * h)
		}
		e := relErr(got, num)
		t.Logf("%-10s max relative error %.2e", label, e)
		if e > 1e-3 {
			t.Errorf("%s: backward vs finite differences: max relative error %.2e > 1e-3", label, e)
		}
	}
	for i, x := range xs {
		if !x.HasGrad() {
			t.Fatalf("input %d received no gradient", i)
		}
		check(fmt.Sprintf("input %d", i), x.Grad, xs64, i, ps64, true)
	}
	for i, p := range ps {
		check("param "+p.Name, p.Grad, ps64, i, xs64, false)
	}
}

func TestGradients(t *testing.T) {
	convCase := func(name string, cin, cout, n, h, w, k, s, p int, bias bool) gradCase {
		params := [][]int{{cout, cin, k, k}}
		if bias {
			params = append(params, []int{cout})
		}
		return gradCase{
			name: name, inputs: [][]int{{cin, n, h, w}}, params: params,
			build: func(g *Graph, xs []*Value, ps []*Param) *Value {
				b := ParamRef{}
				if bias {
					b = ps[1].All()
				}
				return g.Conv2d(xs[0], ps[0].All(), b, s, p)
			},
			ref: func(xs, ps [][]float64) []float64 {
				var b []float64
				if bias {
					b = ps[1]
				}
				y, _, _ := conv64(xs[0], cin, n, h, w, ps[0], cout, k, b, s, p)
				return y
			},
		}
	}
	bnCase := func(name string, train, relu bool) gradCase {
		const c, n, h, w = 3, 2, 3, 4
		rm, rv := []float64{0.3, -0.2, 0.1}, []float64{0.8, 1.5, 0.6}
		return gradCase{
			name: name, inputs: [][]int{{c, n, h, w}}, params: [][]int{{c}, {c}}, train: train,
			build: func(g *Graph, xs []*Value, ps []*Param) *Value {
				m, v := []float32{0.3, -0.2, 0.1}, []float32{0.8, 1.5, 0.6}
				if relu {
					return g.BatchNormReLU(xs[0], ps[0].All(), ps[1].All(), m, v, 0.1, 1e-5)
				}
				return g.BatchNorm(xs[0], ps[0].All(), ps[1].All(), m, v, 0.1, 1e-5)
			},
			ref: func(xs, ps [][]float64) []float64 {
				y := bn64(xs[0], c, ps[0], ps[1], rm, rv, 1e-5, train)
				if relu {
					y = relu64(y)
				}
				return y
			},
		}
	}
	cases := []gradCase{
		convCase("conv3x3/s1/p1/bias", 2, 3, 2, 5, 5, 3, 1, 1, true),
		convCase("conv3x3/s2/p1", 2, 3, 2, 6, 5, 3, 2, 1, false),
		convCase("conv1x1/s1", 3, 2, 2, 3, 4, 1, 1, 0, true),
		convCase("conv1x1/s2", 3, 2, 2, 5, 4, 1, 2, 0, false),
		convCase("conv7x7/p1", 2, 2, 1, 9, 8, 7, 1, 1, true),
		convCase("conv5x5/p2/tiny-image", 2, 2, 2, 3, 2, 5, 1, 2, true),
		convCase("conv3x3/p1/1-wide", 1, 2, 3, 4, 1, 3, 1, 1, false),
		convCase("conv3x3/s1/p1/winograd", 3, 2, 2, 4, 6, 3, 1, 1, true),
		convCase("conv3x3/s2/p1/phases", 2, 3, 2, 6, 8, 3, 2, 1, true),
		convCase("conv1x1/s2/phases", 3, 2, 2, 4, 6, 1, 2, 0, false),
		convCase("conv7x7/s2/p3/phases", 2, 2, 1, 8, 10, 7, 2, 3, true),
		convCase("conv3x3/s1/p1/winograd-8-wide", 2, 3, 2, 2, 8, 3, 1, 1, false),
		bnCase("bn/train", true, false),
		bnCase("bn/eval", false, false),
		bnCase("bn-relu/train", true, true),
		bnCase("bn-relu/eval", false, true),
		{
			name: "relu", inputs: [][]int{{2, 3, 2, 2}},
			build: func(g *Graph, xs []*Value, _ []*Param) *Value { return g.Relu(xs[0]) },
			ref:   func(xs, _ [][]float64) []float64 { return relu64(xs[0]) },
		},
		{
			// AddReLU of a value with itself and again with an input whose
			// gradient already has a contribution (the non-fresh path).
			name: "add-relu/same-value-twice", inputs: [][]int{{2, 5}, {2, 5}},
			build: func(g *Graph, xs []*Value, _ []*Param) *Value {
				return g.AddReLU(g.AddReLU(xs[0], xs[0]), g.Add(xs[0], xs[1]))
			},
			ref: func(xs, _ [][]float64) []float64 {
				return relu64(lincomb64([]float64{1, 1}, relu64(lincomb64([]float64{2}, xs[0])), lincomb64([]float64{1, 1}, xs[0], xs[1])))
			},
		},
		{
			name: "add/same-value-twice", inputs: [][]int{{2, 5}, {2, 5}},
			build: func(g *Graph, xs []*Value, _ []*Param) *Value { return g.Add(g.Add(xs[0], xs[1]), xs[0]) },
			ref:   func(xs, _ [][]float64) []float64 { return lincomb64([]float64{2, 1}, xs[0], xs[1]) },
		},
		{
			name: "lincomb+scale", inputs: [][]int{{3, 4}, {3, 4}},
			build: func(g *Graph, xs []*Value, _ []*Param) *Value {
				return g.Scale(g.LinComb([]*Value{xs[0], xs[1], xs[0]}, []float32{1, 0.25, -0.5}), 3)
			},
			ref: func(xs, _ [][]float64) []float64 { return lincomb64([]float64{1.5, 0.75}, xs[0], xs[1]) },
		},
		{
			name: "scaleparam", inputs: [][]int{{2, 3}}, params: [][]int{{4}},
			build: func(g *Graph, xs []*Value, ps []*Param) *Value { return g.ScaleParam(xs[0], ps[0].Piece(2)) },
			ref:   func(xs, ps [][]float64) []float64 { return lincomb64([]float64{ps[0][2]}, xs[0]) },
		},
		{
			name: "avgpool", inputs: [][]int{{3, 2, 2, 3}},
			build: func(g *Graph, xs []*Value, _ []*Param) *Value { return g.GlobalAvgPool(xs[0]) },
			ref:   func(xs, _ [][]float64) []float64 { return pool64(xs[0], 3, 2, 6) },
		},
		{
			name: "linear", inputs: [][]int{{3, 4}}, params: [][]int{{5, 4}, {5}},
			build: func(g *Graph, xs []*Value, ps []*Param) *Value { return g.Linear(xs[0], ps[0].All(), ps[1].All()) },
			ref:   func(xs, ps [][]float64) []float64 { return linear64(xs[0], 3, 4, ps[0], 5, ps[1]) },
		},
		{
			name: "softmax-ce", inputs: [][]int{{4, 3}},
			build: func(g *Graph, xs []*Value, _ []*Param) *Value {
				return g.SoftmaxCrossEntropy(xs[0], []int{0, 2, 1, 2})
			},
			ref: func(xs, _ [][]float64) []float64 { return ce64(xs[0], 4, 3, []int{0, 2, 1, 2}) },
		},
		{
			// x feeds both the conv and the add: col2im's accumulate path
			name: "conv3x3+residual", inputs: [][]int{{2, 2, 4, 5}}, params: [][]int{{2, 2, 3, 3}},
			build: func(g *Graph, xs []*Value, ps []*Param) *Value {
				return g.Add(g.Conv2d(xs[0], ps[0].All(), ParamRef{}, 1, 1), xs[0])
			},
			ref: func(xs, ps [][]float64) []float64 {
				y, _, _ := conv64(xs[0], 2, 2, 4, 5, ps[0], 2, 3, nil, 1, 1)
				return lincomb64([]float64{1, 1}, y, xs[0])
			},
		},
		{
			// the same on the Winograd path: its input gradient accumulating
			name: "conv3x3+residual/winograd", inputs: [][]int{{2, 2, 4, 6}}, params: [][]int{{2, 2, 3, 3}},
			build: func(g *Graph, xs []*Value, ps []*Param) *Value {
				return g.Add(g.Conv2d(xs[0], ps[0].All(), ParamRef{}, 1, 1), xs[0])
			},
			ref: func(xs, ps [][]float64) []float64 {
				y, _, _ := conv64(xs[0], 2, 2, 4, 6, ps[0], 2, 3, nil, 1, 1)
				return lincomb64([]float64{1, 1}, y, xs[0])
			},
		},
		{
			// the same through the phases of x: their merge accumulating
			name: "conv3x3s2+conv1x1s2/phases", inputs: [][]int{{2, 2, 6, 4}}, params: [][]int{{3, 2, 3, 3}, {3, 2, 1, 1}},
			build: func(g *Graph, xs []*Value, ps []*Param) *Value {
				return g.Add(g.Conv2d(xs[0], ps[0].All(), ParamRef{}, 2, 1), g.Conv2d(xs[0], ps[1].All(), ParamRef{}, 2, 0))
			},
			ref: func(xs, ps [][]float64) []float64 {
				a, _, _ := conv64(xs[0], 2, 2, 6, 4, ps[0], 3, 3, nil, 2, 1)
				b, _, _ := conv64(xs[0], 2, 2, 6, 4, ps[1], 3, 1, nil, 2, 0)
				return lincomb64([]float64{1, 1}, a, b)
			},
		},
		{
			// two strided convs of one input: the general col2im accumulating
			name: "conv3x3s2+conv1x1s2", inputs: [][]int{{2, 2, 5, 6}}, params: [][]int{{3, 2, 3, 3}, {3, 2, 1, 1}},
			build: func(g *Graph, xs []*Value, ps []*Param) *Value {
				return g.Add(g.Conv2d(xs[0], ps[0].All(), ParamRef{}, 2, 1), g.Conv2d(xs[0], ps[1].All(), ParamRef{}, 2, 0))
			},
			ref: func(xs, ps [][]float64) []float64 {
				a, _, _ := conv64(xs[0], 2, 2, 5, 6, ps[0], 3, 3, nil, 2, 1)
				b, _, _ := conv64(xs[0], 2, 2, 5, 6, ps[1], 3, 1, nil, 2, 0)
				return lincomb64([]float64{1, 1}, a, b)
			},
		},
		rk2Case(),
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runGradCase(t, c) })
	}
	// again with convolutions split into one-image chunks
	prev := colsChunkBytes
	colsChunkBytes = 1
	defer func() { colsChunkBytes = prev }()
	for _, c := range cases {
		t.Run("chunked/"+c.name, func(t *testing.T) { runGradCase(t, c) })
	}
}

// rk2Case is a Heun step of a residual unit with one conv weight (piece 0
// of a [2][C][C][3][3] param, used in both stages), a per-stage BatchNorm
// piece in training mode and a SkipInit-like scalar used twice:
//
//	R_j(x) = α · conv(w0, relu(bn_j(x)))
//	k1 = R_0(x);  k2 = R_1(x + k1);  y = x + k1/2 + k2/2
func rk2Case() gradCase {
	const c, n, h, w = 2, 2, 3, 3
	return gradCase{
		name: "rk2-shared-params", inputs: [][]int{{c, n, h, w}},
		params: [][]int{{2, c, c, 3, 3}, {2, c}, {2, c}, {1}}, train: true,
		build: func(g *Graph, xs []*Value, ps []*Param) *Value {
			rm, rv := make([]float32, 2*c), make([]float32, 2*c)
			r := func(x *Value, j int) *Value {
				bn := g.BatchNorm(x, ps[1].Piece(j), ps[2].Piece(j), rm[j*c:(j+1)*c], rv[j*c:(j+1)*c], 0.1, 1e-5)
				return g.ScaleParam(g.Conv2d(g.Relu(bn), ps[0].Piece(0), ParamRef{}, 1, 1), ps[3].All())
			}
			x := xs[0]
			k1 := r(x, 0)
			k2 := r(g.Add(x, k1), 1)
			return g.LinComb([]*Value{x, k1, k2}, []float32{1, 0.5, 0.5})
		},
		ref: func(xs, ps [][]float64) []float64 {
			r := func(x []float64, j int) []float64 {
				bn := bn64(x, c, ps[1][j*c:(j+1)*c], ps[2][j*c:(j+1)*c], nil, nil, 1e-5, true)
				y, _, _ := conv64(relu64(bn), c, n, h, w, ps[0][:c*c*9], c, 3, nil, 1, 1)
				return lincomb64([]float64{ps[3][0]}, y)
			}
			x := xs[0]
			k1 := r(x, 0)
			k2 := r(lincomb64([]float64{1, 1}, x, k1), 1)
			return lincomb64([]float64{1, 0.5, 0.5}, x, k1, k2)
		},
	}
}
