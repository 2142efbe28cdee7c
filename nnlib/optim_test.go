package nnlib

import (
	"math"
	"testing"
)

// optRef runs the documented update rules in float64 on one parameter.
func sgdRef(p, g0 []float64, steps int, lr, mu, wd float64, grads func(step int, i int) float64) []float64 {
	p = append([]float64(nil), p...)
	buf := make([]float64, len(p))
	for s := 0; s < steps; s++ {
		for i := range p {
			d := grads(s, i) + wd*p[i]
			if s == 0 {
				buf[i] = d
			} else {
				buf[i] = mu*buf[i] + d
			}
			p[i] -= lr * buf[i]
		}
	}
	return p
}

func TestOptimizersMatchReference(t *testing.T) {
	grads := func(step, i int) float64 { return math.Sin(float64(3*step+i)) * 0.7 }
	init := []float64{0.5, -1.25, 2, 0.125, -0.75}
	cases := []struct {
		name string
		opt  Optimizer
		want []float64
	}{
		{"sgd-momentum-wd", NewSGD(0.1, 0.9, 5e-4), sgdRef(init, nil, 4, 0.1, 0.9, 5e-4, grads)},
		{"sgd-plain", NewSGD(0.05, 0, 0), sgdRef(init, nil, 4, 0.05, 0, 0, grads)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewParamSet()
			p := s.NewParam("w", len(init))
			for i, v := range init {
				p.Data[i] = float32(v)
			}
			for step := range 4 {
				for i := range p.Grad {
					p.Grad[i] = float32(grads(step, i))
				}
				c.opt.Step(s.Params())
			}
			for i := range init {
				if d := math.Abs(float64(p.Data[i]) - c.want[i]); d > 1e-5*max(1, math.Abs(c.want[i])) {
					t.Errorf("element %d: %v, reference %v", i, p.Data[i], c.want[i])
				}
			}
			// State round trip and Reset.
			st := c.opt.State()
			if len(st.Slots) == 0 && c.name != "sgd-plain" {
				t.Errorf("state has no slots")
			}
			if err := c.opt.SetState(st); err != nil {
				t.Fatal(err)
			}
			c.opt.Reset()
			if got := c.opt.State(); len(got.Slots) != 0 || got.Step != 0 {
				t.Errorf("after Reset: %d slots, step %d", len(got.Slots), got.Step)
			}
		})
	}
}

func TestStepSchedule(t *testing.T) {
	s := MultiStep(0.1, 0.1, 80, 120, 140)
	cases := []struct {
		epoch int
		want  float64
	}{{0, 0.1}, {80, 0.1}, {81, 0.01}, {120, 0.01}, {121, 0.001}, {141, 0.0001}, {149, 0.0001}}
	for _, c := range cases {
		if got := s.LR(c.epoch); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("LR(%d) = %v, want %v", c.epoch, got, c.want)
		}
	}
}
