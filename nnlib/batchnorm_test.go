package nnlib

import (
	"math"
	"slices"
	"testing"

	"github.com/continuousnet/repro/nnlib/rng"
)

// TestBatchNormRunningStats checks PyTorch's update rule: momentum 0.1 on
// the batch mean and on the UNBIASED batch variance, and that evaluation
// mode then normalises with the running statistics.
func TestBatchNormRunningStats(t *testing.T) {
	const c, n, hw = 2, 3, 5
	m := n * hw
	s := NewParamSet()
	bn := NewBatchNorm2d(s, "bn", 0, c)
	bn.RunningMean.Data[0], bn.RunningVar.Data[0] = 0.5, 2
	r := rng.New(1, "bn")
	x := make([]float32, c*m)
	for i := range x {
		x[i] = float32(3 + 2*r.NormFloat64())
	}
	g := NewGraph(true)
	bn.Forward(g, g.Input(x, c, n, 1, hw))
	for ch := range c {
		var mean, ss float64
		for _, v := range x[ch*m : (ch+1)*m] {
			mean += float64(v)
		}
		mean /= float64(m)
		for _, v := range x[ch*m : (ch+1)*m] {
			ss += (float64(v) - mean) * (float64(v) - mean)
		}
		oldM, oldV := 0.0, 1.0
		if ch == 0 {
			oldM, oldV = 0.5, 2
		}
		wantM := 0.9*oldM + 0.1*mean
		wantV := 0.9*oldV + 0.1*ss/float64(m-1)
		if d := math.Abs(float64(bn.RunningMean.Data[ch]) - wantM); d > 1e-5 {
			t.Errorf("channel %d: running mean %v, want %v", ch, bn.RunningMean.Data[ch], wantM)
		}
		if d := math.Abs(float64(bn.RunningVar.Data[ch]) - wantV); d > 1e-5*wantV {
			t.Errorf("channel %d: running var %v, want %v (unbiased)", ch, bn.RunningVar.Data[ch], wantV)
		}
	}
	// evaluation: y = (x − runMean)/√(runVar + eps) with weight 1, bias 0
	ge := NewGraph(false)
	y := bn.Forward(ge, ge.Input(x, c, n, 1, hw))
	for i, v := range x {
		ch := i / m
		want := (float64(v) - float64(bn.RunningMean.Data[ch])) / math.Sqrt(float64(bn.RunningVar.Data[ch])+1e-5)
		if math.Abs(float64(y.Data[i])-want) > 1e-5*max(1, math.Abs(want)) {
			t.Fatalf("eval output %d = %v, want %v", i, y.Data[i], want)
		}
	}
}

// TestBatchNormReLUMatchesSeparate checks that the fused BatchNormReLU gives
// bit for bit the output, running statistics and gradients of
// Relu(BatchNorm(x)), in training and evaluation mode, on 1 and 2 threads
// (with the parallel paths forced), twice on the same graphs so that the
// reuse of the tape's buffers is covered too.
func TestBatchNormReLUMatchesSeparate(t *testing.T) {
	const c, n, h, w = 3, 4, 5, 6
	prevWork := minParallelWork
	minParallelWork = 1
	defer func() { minParallelWork = prevWork }()
	r := rng.New(7, "bn-relu")
	x := make([]float32, c*n*h*w)
	dy := make([]float32, len(x))
	for i := range x {
		x[i] = float32(r.NormFloat64() + 0.3)
		dy[i] = float32(r.NormFloat64())
	}
	type result struct {
		y, dx, dgamma, dbeta, rm, rv []float32
	}
	run := func(fused, train bool, threads int, g *Graph) result {
		defer SetThreads(SetThreads(threads))
		s := NewParamSet()
		bn := NewBatchNorm2d(s, "bn", 0, c)
		for i := range c {
			bn.Weight.Data[i] = 0.5 + float32(i)
			bn.Bias.Data[i] = 0.2 - 0.3*float32(i)
		}
		g.SetTraining(train)
		var y, xv *Value
		for range 2 {
			g.Reset()
			s.ZeroGrad()
			xv = g.Input(x, c, n, h, w)
			xv.SetRequiresGrad(true)
			if fused {
				y = bn.ForwardReLU(g, xv)
			} else {
				y = g.Relu(bn.Forward(g, xv))
			}
			g.BackwardWithGrad(y, dy)
		}
		cp := func(v []float32) []float32 { return append([]float32(nil), v...) }
		return result{cp(y.Data), cp(xv.Grad), cp(bn.Weight.Grad), cp(bn.Bias.Grad),
			cp(bn.RunningMean.Data), cp(bn.RunningVar.Data)}
	}
	same := func(a, b []float32) bool {
		return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	}
	for _, train := range []bool{true, false} {
		for _, threads := range []int{1, 2} {
			want := run(false, train, threads, NewGraph(train))
			got := run(true, train, threads, NewGraph(train))
			for _, f := range []struct {
				name      string
				got, want []float32
			}{
				{"y", got.y, want.y}, {"dx", got.dx, want.dx}, {"dgamma", got.dgamma, want.dgamma},
				{"dbeta", got.dbeta, want.dbeta}, {"running mean", got.rm, want.rm}, {"running var", got.rv, want.rv},
			} {
				if !same(f.got, f.want) {
					t.Errorf("train=%v threads=%d: %s of BatchNormReLU differs from Relu(BatchNorm)", train, threads, f.name)
				}
			}
		}
	}
}

// TestAddReLUMatchesSeparate checks that AddReLU gives bit for bit the
// output and input gradients of Relu(Add(a, b)), with a fresh and an
// already-written gradient for a, on 1 and 2 threads (parallel paths
// forced, several chunks).
func TestAddReLUMatchesSeparate(t *testing.T) {
	const size = 3*elemChunk + 123
	prevWork := minParallelWork
	minParallelWork = 1
	defer func() { minParallelWork = prevWork }()
	r := rng.New(8, "add-relu")
	a, b, dy := make([]float32, size), make([]float32, size), make([]float32, size)
	for i := range a {
		a[i], b[i], dy[i] = float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	run := func(fused bool, threads int) [][]float32 {
		defer SetThreads(SetThreads(threads))
		g := NewGraph(true)
		av, bv := g.Input(a, size), g.Input(b, size)
		av.SetRequiresGrad(true)
		bv.SetRequiresGrad(true)
		var y *Value
		if fused {
			y = g.AddReLU(av, bv)
		} else {
			y = g.Relu(g.Add(av, bv))
		}
		// a also feeds the output directly, so its gradient gets a second
		// contribution.
		out := g.LinComb([]*Value{y, av}, []float32{1, 0.5})
		g.BackwardWithGrad(out, dy)
		return [][]float32{append([]float32(nil), y.Data...), av.Grad, bv.Grad}
	}
	for _, threads := range []int{1, 2} {
		want, got := run(false, threads), run(true, threads)
		for i, name := range []string{"y", "da", "db"} {
			for j := range want[i] {
				if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
					t.Errorf("threads=%d: %s[%d] of AddReLU = %v, Relu(Add) gives %v", threads, name, j, got[i][j], want[i][j])
					break
				}
			}
		}
	}
}
