package claims

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
)

// sweepRec builds a cifar-sweep record: acc[eval] lists accuracies at
// Nt = 1, 2, …; ms[eval] likewise for infer_ms_per_image.
func sweepRec(run string, acc, ms map[string][]float64) *record.Record {
	r := &record.Record{Run: run, Kind: "cifar-sweep", Status: record.StatusOK}
	for _, name := range []string{"accuracy", "infer_ms_per_image"} {
		src := acc
		if name == "infer_ms_per_image" {
			src = ms
		}
		for ev, ys := range src {
			s := record.Series{Name: name, Labels: map[string]string{"eval": ev}}
			for i, y := range ys {
				s.X, s.Y = append(s.X, float64(i+1)), append(s.Y, y)
			}
			r.Series = append(r.Series, s)
		}
	}
	return r
}

func trainRec(run string, m map[string]float64) *record.Record {
	return &record.Record{Run: run, Kind: "cifar-train", Status: record.StatusOK, Metrics: m}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func checkMetrics(t *testing.T, got, want map[string]float64, absent []string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || !near(g, w) {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	for _, k := range absent {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %v, want it left out", k, v)
		}
	}
}

func TestSummaryB(t *testing.T) {
	euler := []float64{0.80, 0.75, 0.70, 0.65, 0.60, 0.55, 0.50, 0.45}
	rk438 := []float64{0.81, 0.82, 0.815, 0.82, 0.82, 0.83, 0.82, 0.82}
	rk4eul := []float64{0.5, 0.6, 0.7, 0.75, 0.78, 0.8, 0.8, 0.805}
	p := &SummaryBParams{EulerSweep: "sweep/e", RK4Sweep: "sweep/r", Chance: 0.1, QualityFloor: 0.45}
	for _, tc := range []struct {
		name   string
		d      deps
		want   map[string]float64
		absent []string
		err    string
	}{
		{name: "typical", d: deps{
			"sweep/e":         sweepRec("sweep/e", map[string][]float64{"euler": euler}, nil),
			"sweep/r":         sweepRec("sweep/r", map[string][]float64{"rk4-38": rk438, "euler": rk4eul}, nil),
			"train/euler-k1":  trainRec("train/euler-k1", map[string]float64{"acc_full_test": 0.44}),
			"train/rk4-k1":    trainRec("train/rk4-k1", map[string]float64{"acc_full_test": 0.45}),
			"other/not-train": sweepRec("other/not-train", nil, nil),
		}, want: map[string]float64{
			"rk4_k1_rk438_spread_pts":       2,           // 83 − 81
			"euler_k1_loss_pts":             35,          // 80 − 45
			"rk4_k1_spread_over_euler_loss": 2.0 / 35,    //
			"rk4_k1_euler8_vs_rk438_8_pts":  1.5,         // |80.5 − 82|
			"euler_k1_collapse_margin":      0.35 / 0.70, // (0.80 − 0.45) / (0.80 − 0.10)
			"quality_ok_euler-k1":           0,           // 0.44 < 0.45
			"quality_ok_rk4-k1":             1,           // 0.45 ≥ 0.45
		}},
		{name: "euler net does not lose accuracy", d: deps{
			"sweep/e": sweepRec("sweep/e", map[string][]float64{"euler": {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6}}, nil),
			"sweep/r": sweepRec("sweep/r", map[string][]float64{"rk4-38": rk438, "euler": rk4eul}, nil),
		}, want: map[string]float64{"euler_k1_loss_pts": -10, "euler_k1_collapse_margin": -0.1 / 0.4},
			absent: []string{"rk4_k1_spread_over_euler_loss"}},
		{name: "chance-level euler net", d: deps{
			"sweep/e": sweepRec("sweep/e", map[string][]float64{"euler": {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}}, nil),
			"sweep/r": sweepRec("sweep/r", map[string][]float64{"rk4-38": rk438, "euler": rk4eul}, nil),
		}, absent: []string{"euler_k1_collapse_margin", "rk4_k1_spread_over_euler_loss"}},
		{name: "sweep too short", d: deps{
			"sweep/e": sweepRec("sweep/e", map[string][]float64{"euler": euler[:4]}, nil),
			"sweep/r": sweepRec("sweep/r", map[string][]float64{"rk4-38": rk438, "euler": rk4eul}, nil),
		}, err: "no accuracy point under euler at Nt = 8"},
		{name: "missing need", d: deps{
			"sweep/e": sweepRec("sweep/e", map[string][]float64{"euler": euler}, nil),
		}, err: `"sweep/r" is not among the runs`},
		{name: "wrong kind", d: deps{
			"sweep/e": sweepRec("sweep/e", map[string][]float64{"euler": euler}, nil),
			"sweep/r": trainRec("sweep/r", nil),
		}, err: `want "cifar-sweep"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := computeB(&harness.Env{}, tc.d, p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, m, tc.want, tc.absent)
		})
	}
}

func TestSummaryC(t *testing.T) {
	p := &SummaryCParams{Refined: "train/ref", Scratch: "train/scr", Accuracy: "acc_full_test", QualityFloor: 0.45}
	ref := trainRec("train/ref", map[string]float64{"acc_full_test": 0.60, "acc_max": 0.62, "train_seconds": 100, "unit_evals": 1000})
	scr := trainRec("train/scr", map[string]float64{"acc_full_test": 0.63, "acc_max": 0.61, "train_seconds": 170, "unit_evals": 2400})
	m, err := computeC(&harness.Env{}, deps{"train/ref": ref, "train/scr": scr}, p)
	if err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, m, map[string]float64{
		"refined_minus_scratch_acc_pts": -3, "refined_minus_scratch_acc_max_pts": 1,
		"scratch_over_refined_time": 1.7, "scratch_over_refined_units": 2.4,
		"quality_ok_ref": 1, "quality_ok_scr": 1,
	}, nil)

	p.Accuracy = "acc_max"
	m, _ = computeC(&harness.Env{}, deps{"train/ref": ref, "train/scr": scr}, p)
	checkMetrics(t, m, map[string]float64{"refined_minus_scratch_acc_pts": 1}, nil)

	zero := trainRec("train/ref", map[string]float64{"acc_full_test": 0.3, "acc_max": 0.3, "train_seconds": 0, "unit_evals": 0})
	m, err = computeC(&harness.Env{}, deps{"train/ref": zero, "train/scr": scr}, p)
	if err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, m, map[string]float64{"quality_ok_ref": 0}, []string{"scratch_over_refined_time", "scratch_over_refined_units"})

	if _, err := computeC(&harness.Env{}, deps{"train/ref": trainRec("train/ref", map[string]float64{}), "train/scr": scr}, p); err == nil {
		t.Error("missing metrics: no error")
	}
}

func TestSummaryD(t *testing.T) {
	p := &SummaryDParams{Sweep: "sweep/ref", QualityFloor: 0.45}
	sw := sweepRec("sweep/ref",
		map[string][]float64{"rk4-38": {0.2, 0.55, 0.6, 0.58}, "euler": {0.1, 0.1, 0.1, 0.1}},
		map[string][]float64{"rk4-38": {1, 2, 3, 3.8}, "euler": {0.2, 0.4, 0.6, 0.8}})
	m, err := computeD(&harness.Env{}, deps{"sweep/ref": sw, "train/ref": trainRec("train/ref", map[string]float64{"acc_full_test": 0.5})}, p)
	if err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, m, map[string]float64{"rk438_nt2_vs_nt4_drop_pts": 3, "rk438_nt4_over_nt2_time": 1.9, "quality_ok_ref": 1}, nil)

	untimed := sweepRec("sweep/ref", map[string][]float64{"rk4-38": {0.2, 0.55, 0.6, 0.58}}, nil)
	if _, err := computeD(&harness.Env{}, deps{"sweep/ref": untimed}, p); err == nil || !strings.Contains(err.Error(), "infer_ms_per_image") {
		t.Errorf("untimed sweep: error %v", err)
	}
}

func TestKSchedule(t *testing.T) {
	for _, tc := range []struct {
		ks   []float64
		k    int
		want string
	}{{nil, 4, "4"}, {[]float64{}, 1, "1"}, {[]float64{2, 4}, 4, "1-2-4"}, {[]float64{4, 8}, 8, "2-4-8"}} {
		r := &record.Record{}
		if tc.ks != nil {
			r.Series = []record.Series{{Name: "refine_epochs", X: make([]float64, len(tc.ks)), Y: tc.ks}}
		}
		if got := kSchedule(r, tc.k); got != tc.want {
			t.Errorf("kSchedule(%v, %d) = %q, want %q", tc.ks, tc.k, got, tc.want)
		}
	}
}

func TestGroupMeans(t *testing.T) {
	for _, tc := range []struct {
		n, maxPoints, wantLen int
	}{{0, 10, 0}, {5, 10, 5}, {10, 10, 10}, {11, 10, 6}, {100, 10, 10}, {101, 10, 10}} {
		y := make([]float64, tc.n)
		for i := range y {
			y[i] = float64(i)
		}
		xs, ys := groupMeans(y, tc.maxPoints)
		if len(xs) != tc.wantLen || len(ys) != tc.wantLen {
			t.Errorf("n=%d max=%d: %d points, want %d", tc.n, tc.maxPoints, len(xs), tc.wantLen)
			continue
		}
		k := max(1, (tc.n+tc.maxPoints-1)/tc.maxPoints)
		for i := range xs {
			lo, hi := i*k, min((i+1)*k, tc.n)
			if xs[i] != float64(lo) || ys[i] != float64(lo+hi-1)/2 {
				t.Errorf("n=%d: point %d = (%v, %v), want (%d, %v)", tc.n, i, xs[i], ys[i], lo, float64(lo+hi-1)/2)
			}
		}
	}
}

func TestTrainParamsValidate(t *testing.T) {
	good := func() *TrainParams {
		return &TrainParams{Dataset: "cifar10", TrainPerClass: 500, EvalPerClass: 200, CropPad: 4, Flip: true, Width: 16,
			Stem: "3x3", Unit: "conv-relu-bn", BN: "per-piece", Epsilon: 1, Scheme: "rk4-classic", K0: 1, KnotRule: "next-piece",
			RefineEpochs: []int{5, 10}, RefineNoise: 0.1, Epochs: 15, Batch: 128, LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4,
			LRSteps: []int{9, 12}, LRGamma: 0.1, EvalEvery: 5, EvalBatch: 128}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mod := range map[string]func(*TrainParams){
		"dataset":         func(p *TrainParams) { p.Dataset = "mnist" },
		"train_per_class": func(p *TrainParams) { p.TrainPerClass = 5001 },
		"scheme":          func(p *TrainParams) { p.Scheme = "rk4" },
		"stem":            func(p *TrainParams) { p.Stem = "5x5" },
		"unit":            func(p *TrainParams) { p.Unit = "bn-relu" },
		"bn":              func(p *TrainParams) { p.BN = "shared" },
		"knot_rule":       func(p *TrainParams) { p.KnotRule = "middle" },
		"refine_epochs":   func(p *TrainParams) { p.RefineEpochs = []int{10, 5} },
		"lr_steps":        func(p *TrainParams) { p.LRSteps = []int{12, 9} },
		"epsilon":         func(p *TrainParams) { p.Epsilon = 0 },
		"eval_every":      func(p *TrainParams) { p.EvalEvery = 0 },
		"drop_last":       func(p *TrainParams) { p.TrainPerClass, p.DropLast = 12, true }, // 120 images, no whole batch of 128
	} {
		p := good()
		mod(p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), "params."+field) {
			t.Errorf("%s: error %v", field, err)
		}
	}
}

func TestStepsPerEpoch(t *testing.T) {
	for _, tc := range []struct {
		perClass, batch int
		dropLast        bool
		want            int
	}{
		{500, 128, false, 40}, // 39 × 128 + a batch of 8
		{500, 128, true, 39},
		{512, 128, false, 40}, // a whole number of batches: nothing to drop
		{512, 128, true, 40},
		{12, 128, false, 1},
	} {
		p := &TrainParams{Dataset: "cifar10", TrainPerClass: tc.perClass, Batch: tc.batch, DropLast: tc.dropLast}
		if got := p.StepsPerEpoch(); got != tc.want {
			t.Errorf("%d per class, batch %d, drop_last %v: %d steps, want %d", tc.perClass, tc.batch, tc.dropLast, got, tc.want)
		}
	}
}

func TestEvalSchedule(t *testing.T) {
	p := &TrainParams{Epochs: 15, EvalEvery: 5}
	var got []int
	for e := range p.Epochs {
		if p.evalAfter(e) {
			got = append(got, e+1)
		}
	}
	if want := []int{1, 5, 10, 15}; !slices.Equal(got, want) {
		t.Errorf("evaluations after epochs %v, want %v", got, want)
	}
}
