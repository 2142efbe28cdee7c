package claims

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/odenet"
	"github.com/continuousnet/repro/nnlib/rng"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		name string
		x    []float64
		want float64
	}{
		{"one", []float64{4}, 4},
		{"two", []float64{3, 1}, 2},
		{"odd sorted", []float64{1, 2, 3}, 2},
		{"odd unsorted", []float64{9, 1, 5, 7, 3}, 5},
		{"odd with an outlier", []float64{1.0, 1.1, 50, 0.9, 1.2, 1.05, 1.15}, 1.1},
		{"even unsorted", []float64{4, 1, 3, 2}, 2.5},
		{"even with ties", []float64{2, 2, 1, 5, 2, 7}, 2},
		{"even six", []float64{6, 5, 4, 3, 2, 1}, 3.5},
	} {
		x := slices.Clone(c.x)
		if got := median(x); got != c.want {
			t.Errorf("%s: median(%v) = %v, want %v", c.name, c.x, got, c.want)
		}
		if !slices.Equal(x, c.x) {
			t.Errorf("%s: median reordered its input to %v", c.name, x)
		}
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median(nil) = %v, want NaN", got)
	}
}

// A timed sweep needs at least minTimeRepeats timed passes; the error
// names time_repeats and says how to fix it.
func TestSweepValidateTimeRepeats(t *testing.T) {
	base := SweepParams{EvalSet: EvalSet{Dataset: "cifar10", EvalPerClass: 10, EvalBatch: 128}, Schemes: []string{"rk4-38"}, Nts: []int{2, 4},
		Time: true, Timing: Timing{TimeImages: 32}}
	for _, c := range []struct {
		time          bool
		images, reps  int
		field, substr string // "": valid
	}{
		{true, 32, minTimeRepeats, "", ""},
		{true, 32, 7, "", ""},
		{true, 32, minTimeRepeats - 1, "time_repeats", "time_repeats ≥ 5, got 4 (set time_repeats: 5 or more, or time: false)"},
		{true, 32, 1, "time_repeats", "got 1"},
		{true, 32, 0, "time_repeats", "got 0"},
		{true, 0, 7, "time_images", "want 1..100 (the images of the evaluation subset), got 0 (set time_images, or time: false)"},
		{true, 101, 7, "time_images", "got 101"},
		{false, 0, 0, "", ""},
	} {
		p := base
		p.Time, p.TimeImages, p.TimeRepeats = c.time, c.images, c.reps
		err := p.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("time %v, time_images %d, time_repeats %d: %v", c.time, c.images, c.reps, err)
			}
			continue
		}
		var fe *spec.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(err.Error(), c.substr) {
			t.Errorf("time %v, time_images %d, time_repeats %d: error %v, want a %s error containing %q", c.time, c.images, c.reps, err, c.field, c.substr)
		}
	}
}

// timingTestData returns n random 3×32×32 images in 10 classes.
func timingTestData(n int) *datasets.Dataset {
	d := &datasets.Dataset{Name: "timing-test", Classes: make([]string, 10), C: 3, H: 32, W: 32,
		Pixels: make([]uint8, n*3*32*32), Labels: make([]int, n)}
	r := rng.New(1, "timing-test")
	for i := range d.Pixels {
		d.Pixels[i] = uint8(r.IntN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = r.IntN(10)
	}
	return d
}

// The timing batches are the evaluator's inputs: normalised, channel-major
// per batch, the last batch short.
func TestPrepareTimingBatches(t *testing.T) {
	d := timingTestData(5)
	tb := prepareTimingBatches(d, 2)
	if tb.images != 5 || !slices.Equal(tb.n, []int{2, 2, 1}) || len(tb.x) != 3 || tb.c != 3 || tb.h != 32 || tb.w != 32 {
		t.Fatalf("batches: %d images in %v (%d slices), %d×%d×%d", tb.images, tb.n, len(tb.x), tb.c, tb.h, tb.w)
	}
	hw := d.H * d.W
	img := 0
	for bi, x := range tb.x {
		n := tb.n[bi]
		if len(x) != n*d.ImageSize() {
			t.Fatalf("batch %d: %d floats, want %d", bi, len(x), n*d.ImageSize())
		}
		for k := range n {
			for c := range d.C {
				for j := range hw {
					want := (float32(d.Image(img)[c*hw+j])/255 - datasets.CIFAR10Mean[c]) / datasets.CIFAR10Std[c]
					if got := x[c*n*hw+k*hw+j]; math.Abs(float64(got-want)) > 1e-6 {
						t.Fatalf("batch %d image %d channel %d pixel %d: %v, want %v", bi, k, c, j, got, want)
					}
				}
			}
			img++
		}
	}
}

// A timed pass is the net's forward pass and nothing else: after the
// warm-up it allocates no more than the bare forward passes over the same
// batches on a warm graph, and it produces one positive time per pass.
func TestTimeForward(t *testing.T) {
	p := TrainParams{Dataset: "cifar10", Width: 4, Stem: "3x3", Unit: "conv-relu-bn", BN: "per-piece",
		Epsilon: 1, Scheme: "rk4-classic", K0: 2, KnotRule: integrators.NextPiece.String()}
	net, err := odenet.New(p.ModelConfig(), rng.New(1, "init"))
	if err != nil {
		t.Fatal(err)
	}
	net.SetScheme(integrators.MustBuiltin("rk4-38"))
	net.SetSteps(2)
	d := timingTestData(5)
	tb := prepareTimingBatches(d, 2)
	ev := newEvaluator(2)
	if _, err := ev.accuracy(context.Background(), net, d); err != nil { // as in Run: the accuracy pass comes first
		t.Fatal(err)
	}

	ms := make([]float64, minTimeRepeats)
	if err := ev.timeForward(context.Background(), net, tb, ms); err != nil {
		t.Fatal(err)
	}
	for r, v := range ms {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("pass %d: %v ms/image", r, v)
		}
	}

	ctx := context.Background()
	timed := testing.AllocsPerRun(3, func() {
		if err := ev.forwardPass(ctx, net, tb); err != nil {
			t.Fatal(err)
		}
	})
	g := nnlib.NewGraph(false)
	bare := func() {
		for i, x := range tb.x {
			g.Reset()
			net.Forward(g, g.Input(x, tb.c, tb.n[i], tb.h, tb.w))
		}
	}
	bare() // warm the bare graph
	want := testing.AllocsPerRun(3, bare)
	t.Logf("allocations per pass: timed %v, bare forward %v", timed, want)
	if raceEnabled {
		t.Log("allocation counts are not compared under the race detector")
	} else if timed > want {
		t.Errorf("a timed pass allocates %v times, the bare forward passes %v", timed, want)
	}

	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ev.timeForward(cctx, net, tb, ms); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}
