package nnlib

import (
	"math"
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
