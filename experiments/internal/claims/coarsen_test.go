package claims

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/odenet"
	"github.com/continuousnet/repro/nnlib/rng"
)

func validThetaParams() *ThetaCoarsenParams {
	return &ThetaCoarsenParams{EvalSet: EvalSet{Dataset: "cifar10", EvalPerClass: 10, EvalBatch: 128}, Scheme: "rk4-classic",
		Modes: []string{"average", "sample"}, Nts: []int{1, 2, 4}, Timing: Timing{TimeImages: 32, TimeRepeats: 5}}
}

// Every bad value is a field error on its own parameter; a valid set keeps
// the parsed scheme and modes.
func TestThetaCoarsenParamsValidate(t *testing.T) {
	tests := []struct {
		field string
		set   func(*ThetaCoarsenParams)
	}{
		{"dataset", func(p *ThetaCoarsenParams) { p.Dataset = "mnist" }},
		{"eval_per_class", func(p *ThetaCoarsenParams) { p.EvalPerClass = 1001 }},
		{"eval_batch", func(p *ThetaCoarsenParams) { p.EvalBatch = 0 }},
		{"scheme", func(p *ThetaCoarsenParams) { p.Scheme = "rk4" }}, // an alias of rk4-38: two spellings, two keys
		{"modes", func(p *ThetaCoarsenParams) { p.Modes = nil }},
		{"modes", func(p *ThetaCoarsenParams) { p.Modes = []string{"average", "median"} }},
		{"modes", func(p *ThetaCoarsenParams) { p.Modes = []string{"sample", "sample"} }},
		{"nts", func(p *ThetaCoarsenParams) { p.Nts = nil }},
		{"nts", func(p *ThetaCoarsenParams) { p.Nts = []int{2, 0} }},
		{"nts", func(p *ThetaCoarsenParams) { p.Nts = []int{2, 2} }},
		{"time_images", func(p *ThetaCoarsenParams) { p.TimeImages = 0 }},
		{"time_images", func(p *ThetaCoarsenParams) { p.TimeImages = 101 }}, // the subset holds 100
		{"time_repeats", func(p *ThetaCoarsenParams) { p.TimeRepeats = minTimeRepeats - 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			p := validThetaParams()
			tt.set(p)
			var fe *spec.FieldError
			if err := p.Validate(); !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate: %v, want a field error on %s", err, tt.field)
			}
		})
	}
	p := validThetaParams()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	tab, modes := p.parsed()
	if tab.ID() != "rk4-classic" || !slices.Equal(modes, []odenet.CoarsenMode{odenet.AveragePairs, odenet.SampleEven}) {
		t.Errorf("parsed %v %v", tab, modes)
	}
}

// The basis parameter: left out, the paper's piecewise-constant basis;
// "piecewise-linear" reaches the model; written out, piecewise-constant is
// refused (a second key for the same net), and unknown names too.
func TestTrainParamsBasis(t *testing.T) {
	tests := []struct {
		basis string
		want  odenet.Basis
		err   bool
	}{
		{"", odenet.PiecewiseConstant, false},
		{"piecewise-linear", odenet.PiecewiseLinear, false},
		{"piecewise-constant", 0, true},
		{"linear", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.basis, func(t *testing.T) {
			p := validTrainParams()
			p.Basis = tt.basis
			err := p.Validate()
			var fe *spec.FieldError
			switch {
			case tt.err && (!errors.As(err, &fe) || fe.Field != "basis"):
				t.Fatalf("Validate: %v, want a field error on basis", err)
			case !tt.err && err != nil:
				t.Fatal(err)
			case !tt.err && p.ModelConfig().Basis != tt.want:
				t.Errorf("ModelConfig().Basis = %v, want %v", p.ModelConfig().Basis, tt.want)
			}
		})
	}
}

// blockUnits counts a piecewise-linear stage between two nodes twice.
func TestBlockUnits(t *testing.T) {
	tests := []struct {
		scheme    string
		basis     odenet.Basis
		k, nt     int
		want      float64
		rationale string
	}{
		{"rk4-classic", odenet.PiecewiseConstant, 4, 4, 16, "stages × Nt"},
		{"rk4-classic", odenet.PiecewiseLinear, 4, 4, 24, "c = 0 and 1 on nodes, the two c = ½ between"},
		{"rk4-classic", odenet.PiecewiseLinear, 4, 2, 8, "t·K = 2(n + c): every stage on a node"},
		{"rk4-classic", odenet.PiecewiseLinear, 2, 4, 28, "per step 1 + 2 + 2 + 2 (first steps) or 2 + 2 + 2 + 1"},
		{"euler", odenet.PiecewiseLinear, 4, 4, 4, "c = 0 always on a node"},
		{"midpoint", odenet.PiecewiseLinear, 1, 1, 3, "c = 0 on the node, c = ½ between"},
	}
	for _, tt := range tests {
		if got := blockUnits(integrators.MustBuiltin(tt.scheme), tt.basis, tt.k, tt.nt); got != tt.want {
			t.Errorf("%s %v K=%d Nt=%d: %v units, want %v (%s)", tt.scheme, tt.basis, tt.k, tt.nt, got, tt.want, tt.rationale)
		}
	}
}

// syntheticImages is a dataset of n random h×w images with labels cycling
// through the 10 CIFAR-10 classes: what the evaluator needs, nothing more.
func syntheticImages(n, h, w int) *datasets.Dataset {
	r := rng.New(7, "synthetic")
	d := &datasets.Dataset{Name: "synthetic", Classes: datasets.CIFAR10Classes, C: 3, H: h, W: w,
		Pixels: make([]uint8, n*3*h*w), Labels: make([]int, n)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(r.Uint64())
	}
	for i := range d.Labels {
		d.Labels[i] = i % 10
	}
	return d
}

// copyNet returns an independent copy of net (through a checkpoint).
func copyNet(t *testing.T, net *odenet.Net) *odenet.Net {
	t.Helper()
	var buf bytes.Buffer
	if err := odenet.WriteCheckpoint(&buf, net, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	c, _, err := odenet.ReadCheckpoint(&buf, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// compareCoarsenings evaluates every net at every Nt under the parameters'
// scheme (not the training one) and times it: per net its accuracy series,
// then its three timing series, labelled with θ, K and the scheme; each
// accuracy is what the evaluator gives for an independent copy of the net
// θ-coarsened the same way.
func TestCompareCoarsenings(t *testing.T) {
	cfg := odenet.Config{Width: 2, Classes: 10, InChannels: 3, Pieces: 2, Scheme: integrators.MustBuiltin("rk4-classic"),
		Unit: odenet.ConvReLUBN, Stem: odenet.Stem3x3, Epsilon: 1}
	trained, err := odenet.New(cfg, rng.New(1, "init"))
	if err != nil {
		t.Fatal(err)
	}
	p := validThetaParams()
	p.Scheme, p.Nts, p.EvalBatch, p.TimeImages = "midpoint", []int{1, 2, 3}, 8, 12
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	evalSet := syntheticImages(20, 8, 8)
	nets := []thetaNet{{theta: thetaTrained, net: copyNet(t, trained)}}
	for _, m := range []odenet.CoarsenMode{odenet.AveragePairs, odenet.SampleEven} {
		n := copyNet(t, trained)
		if err := n.Coarsen(nil, odenet.CoarsenOptions{Mode: m}); err != nil {
			t.Fatal(err)
		}
		nets = append(nets, thetaNet{theta: m.String(), net: n})
	}
	var reports []harness.Progress
	series, err := compareCoarsenings(context.Background(), nets, evalSet, p, func(pr harness.Progress) { reports = append(reports, pr) })
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 9 || reports[8].Done != 9 || reports[8].Total != 9 {
		t.Errorf("progress: %d reports %+v; want 9, the last 9 of 9", len(reports), reports)
	}
	names := []string{"accuracy", "infer_ms_per_image", "infer_ms_per_image_min", "infer_ms_per_image_max"}
	if len(series) != len(nets)*len(names) {
		t.Fatalf("%d series, want %d", len(series), len(nets)*len(names))
	}
	ev := newEvaluator(8)
	for i, want := range []struct {
		theta string
		k     int
		mode  odenet.CoarsenMode
	}{{"trained", 2, 0}, {"average", 1, odenet.AveragePairs}, {"sample", 1, odenet.SampleEven}} {
		ref := copyNet(t, trained)
		if want.theta != thetaTrained {
			if err := ref.Coarsen(nil, odenet.CoarsenOptions{Mode: want.mode}); err != nil {
				t.Fatal(err)
			}
		}
		ref.SetScheme(integrators.MustBuiltin("midpoint"))
		for j, name := range names {
			s := series[i*len(names)+j]
			labels := map[string]string{"theta": want.theta, "k": strconv.Itoa(want.k), "eval": "midpoint"}
			if s.Name != name || !maps.Equal(s.Labels, labels) || !slices.Equal(s.X, []float64{1, 2, 3}) || len(s.Y) != 3 {
				t.Fatalf("series %d: %s %v X %v (%d points), want %s %v X [1 2 3]", i*len(names)+j, s.Name, s.Labels, s.X, len(s.Y), name, labels)
			}
		}
		acc, ms, lo, hi := series[i*4], series[i*4+1], series[i*4+2], series[i*4+3]
		for x, nt := range []int{1, 2, 3} {
			ref.SetSteps(nt)
			a, err := ev.accuracy(context.Background(), ref, evalSet)
			if err != nil {
				t.Fatal(err)
			}
			if acc.Y[x] != a {
				t.Errorf("%s at Nt = %d: accuracy %v, the same net evaluated alone %v", want.theta, nt, acc.Y[x], a)
			}
			if !(lo.Y[x] > 0 && lo.Y[x] <= ms.Y[x] && ms.Y[x] <= hi.Y[x]) {
				t.Errorf("%s at Nt = %d: timing min %v, median %v, max %v", want.theta, nt, lo.Y[x], ms.Y[x], hi.Y[x])
			}
		}
	}
}

// writeSyntheticCIFAR10 writes a CIFAR-10 image folder (the catalog's
// "cifar10/images" form: train|test/<class>/*.png) of perClass random
// 32×32 images per class and split under dir, a tint per class so that a
// net has something to learn.
func writeSyntheticCIFAR10(t *testing.T, dir string, perClass int) {
	t.Helper()
	r := rng.New(3, "synthetic-cifar10")
	for _, split := range []string{"train", "test"} {
		for c, class := range datasets.CIFAR10Classes {
			d := filepath.Join(dir, "cifar10", "images", split, class)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range perClass {
				img := image.NewRGBA(image.Rect(0, 0, 32, 32))
				for y := range 32 {
					for x := range 32 {
						v := uint8(r.Uint64() % 96)
						img.Set(x, y, color.RGBA{uint8(25*c) + v, uint8(250-25*c) + v/2, v, 255})
					}
				}
				var b bytes.Buffer
				if err := png.Encode(&b, img); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, strconv.Itoa(i)+".png"), b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// The extensions experiment at the smoke profile, end to end through the
// harness, on a synthetic CIFAR-10 (random tinted images: the accuracies
// mean nothing; the wiring is what is checked): the three nets train, the
// refined one (K = 4) is θ-coarsened to K = 2 by both modes and compared
// with Nt-coarsening, and the piecewise-linear net holds more parameters
// than the piecewise-constant one. -short skips it (about 10 s on 2 cores).
func TestExtensionsSmokeSynthetic(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the extensions smoke runs take about 10 s")
	}
	dir := t.TempDir()
	writeSyntheticCIFAR10(t, dir, 12)
	t.Setenv(datasets.EnvDataDir, dir)
	t.Setenv(harness.EnvMachineLock, filepath.Join(dir, "machine.lock")) // this test's timings are not results
	recs, sum := runSpecs(t, spec.Smoke, loadSpec(t, "extensions"))
	if sum.Failed != 0 || sum.Skipped != 0 || sum.Ran != 4 {
		t.Fatalf("summary: %s; want 4 runs ran", sum)
	}
	th := mustOK(t, recs, "extensions/theta-coarsen/rk4-classic-refined/seed1")
	if th.Metrics["final_k"] != 4 || th.Metrics["coarse_k"] != 2 || !(th.Metrics["coarse_params"] < th.Metrics["params"]) {
		t.Errorf("θ-coarsening metrics %v", th.Metrics)
	}
	count := map[string]int{}
	for _, s := range th.Series {
		count[s.Name+" "+s.Labels["theta"]+" K="+s.Labels["k"]]++
		if !slices.Equal(s.X, []float64{1, 2, 4}) || s.Labels["eval"] != "rk4-classic" {
			t.Errorf("series %s %v: X %v", s.Name, s.Labels, s.X)
		}
	}
	for _, theta := range []string{"trained K=4", "average K=2", "sample K=2"} {
		for _, name := range []string{"accuracy", "infer_ms_per_image", "infer_ms_per_image_min", "infer_ms_per_image_max"} {
			if count[name+" "+theta] != 1 {
				t.Errorf("no single series %s for %s (have %v)", name, theta, count)
			}
		}
	}
	scratch := mustOK(t, recs, "extensions/train/rk4-classic-scratch/seed1")
	linear := mustOK(t, recs, "extensions/train/rk4-classic-linear/seed1")
	basis := func(r *record.Record) any { return r.Config["params"].(map[string]any)["basis"] }
	if basis(scratch) != nil || basis(linear) != "piecewise-linear" {
		t.Errorf("basis parameters: scratch %v, linear %v", basis(scratch), basis(linear))
	}
	if !(linear.Metrics["params"] > scratch.Metrics["params"]) || linear.Metrics["final_k"] != 4 {
		t.Errorf("linear net: %v parameters (piecewise-constant %v), final K %v", linear.Metrics["params"], scratch.Metrics["params"], linear.Metrics["final_k"])
	}
}
