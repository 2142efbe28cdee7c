package datasets

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/continuousnet/repro/nnlib/rng"
)

// toyDataset returns n images of c×h×w with pixel bytes a function of
// (image, position) and labels i%classes.
func toyDataset(n, c, h, w, classes int) *Dataset {
	d := &Dataset{Name: "toy", C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w), Labels: make([]int, n)}
	for i := range classes {
		d.Classes = append(d.Classes, fmt.Sprint("class", i))
	}
	for i := range n {
		d.Labels[i] = i % classes
		for j := range c * h * w {
			d.Pixels[i*c*h*w+j] = uint8(i*31 + j*7)
		}
	}
	return d
}

// refBatch is the reference: for each image of the batch, the padded
// crop and flip of the documented contract, normalised, written at the
// documented offsets.
func refBatch(d *Dataset, cfg BatchConfig, idx []int, draws []cropDraw) []float32 {
	n, hw := len(idx), d.H*d.W
	out := make([]float32, n*d.C*hw)
	for k, i := range idx {
		for c := range d.C {
			for y := range d.H {
				for x := range d.W {
					xx := x
					if draws[k].flip {
						xx = d.W - 1 - x
					}
					sy, sx := y+draws[k].dy-cfg.Pad, xx+draws[k].dx-cfg.Pad
					var v uint8
					if sy >= 0 && sy < d.H && sx >= 0 && sx < d.W {
						v = d.Pixels[((i*d.C+c)*d.H+sy)*d.W+sx]
					}
					f := float32(v) / 255
					if cfg.Mean != nil {
						f = (f - cfg.Mean[c]) / cfg.Std[c]
					}
					var off int
					if cfg.Layout == ChannelMajor {
						off = c*(n*hw) + k*hw + y*d.W + x
					} else {
						off = ((k*d.C+c)*d.H+y)*d.W + x
					}
					out[off] = f
				}
			}
		}
	}
	return out
}

func TestIteratorMatchesReference(t *testing.T) {
	d := toyDataset(11, 3, 5, 4, 3)
	for _, tc := range []struct {
		name string
		cfg  BatchConfig
	}{
		{"plain channel-major", BatchConfig{BatchSize: 4}},
		{"plain NCHW", BatchConfig{BatchSize: 4, Layout: NCHW}},
		{"normalised", BatchConfig{BatchSize: 3, Mean: CIFAR10Mean, Std: CIFAR10Std}},
		{"augmented channel-major", BatchConfig{BatchSize: 4, Shuffle: true, Pad: 2, Flip: true, Mean: CIFAR10Mean, Std: CIFAR10Std, Seed: 3}},
		{"augmented NCHW prefetch", BatchConfig{BatchSize: 5, Shuffle: true, Pad: 4, Flip: true, Layout: NCHW, Seed: 4, Prefetch: true}},
		{"pad wider than the image", BatchConfig{BatchSize: 3, Shuffle: true, Pad: 6, Flip: true, Seed: 6}},
		{"flip only", BatchConfig{BatchSize: 3, Flip: true, Seed: 7}},
		{"drop last", BatchConfig{BatchSize: 4, DropLast: true, Shuffle: true, Seed: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := NewIterator(d, tc.cfg)
			defer it.Close()
			x := make([]float32, it.BatchFloats())
			labels := make([]int, tc.cfg.BatchSize)
			for epoch := range 2 {
				it.StartEpoch(epoch)
				order := make([]int, d.Len())
				for i := range order {
					order[i] = i
				}
				if tc.cfg.Shuffle {
					order = Permutation(d.Len(), rng.New(tc.cfg.Seed, fmt.Sprintf("datasets/order/epoch=%d", epoch)))
				}
				aug := rng.New(tc.cfg.Seed, fmt.Sprintf("datasets/augment/epoch=%d", epoch))
				batches := 0
				for pos := 0; ; pos += tc.cfg.BatchSize {
					n := it.Next(x, labels)
					if n == 0 {
						break
					}
					batches++
					idx := order[pos : pos+n]
					draws := make([]cropDraw, n)
					for k := range draws {
						draws[k] = cropDraw{dy: tc.cfg.Pad, dx: tc.cfg.Pad}
						if tc.cfg.Pad > 0 {
							draws[k].dy = int(boundedUint64(aug, uint64(2*tc.cfg.Pad+1)))
							draws[k].dx = int(boundedUint64(aug, uint64(2*tc.cfg.Pad+1)))
						}
						if tc.cfg.Flip {
							draws[k].flip = aug.Uint64()>>63 == 1
						}
					}
					want := refBatch(d, tc.cfg, idx, draws)
					for j := range want {
						if x[j] != want[j] {
							t.Fatalf("epoch %d batch at %d: x[%d] = %v, want %v", epoch, pos, j, x[j], want[j])
						}
					}
					for k, i := range idx {
						if labels[k] != d.Labels[i] {
							t.Fatalf("epoch %d batch at %d: label %d = %d, want %d", epoch, pos, k, labels[k], d.Labels[i])
						}
					}
				}
				if batches != it.Batches() {
					t.Fatalf("epoch %d: %d batches, Batches() = %d", epoch, batches, it.Batches())
				}
				if it.Next(x, labels) != 0 {
					t.Fatal("Next after the end of the epoch returned a batch")
				}
			}
		})
	}
}

// epochBatches returns every batch of the given epochs, concatenated.
func epochBatches(d *Dataset, cfg BatchConfig, epochs []int) ([]float32, []int) {
	it := NewIterator(d, cfg)
	defer it.Close()
	x := make([]float32, it.BatchFloats())
	labels := make([]int, cfg.BatchSize)
	var xs []float32
	var ls []int
	for _, e := range epochs {
		it.StartEpoch(e)
		for n := it.Next(x, labels); n > 0; n = it.Next(x, labels) {
			xs = append(xs, x[:n*d.ImageSize()]...)
			ls = append(ls, labels[:n]...)
		}
	}
	return xs, ls
}

func TestIteratorDeterministic(t *testing.T) {
	d := toyDataset(37, 3, 8, 8, 5)
	cfg := BatchConfig{BatchSize: 6, Shuffle: true, Pad: 4, Flip: true, Mean: CIFAR10Mean, Std: CIFAR10Std, Seed: 11}
	wantX, wantL := epochBatches(d, cfg, []int{0, 1, 2})
	for _, procs := range []int{1, 2, 4} {
		for _, prefetch := range []bool{false, true} {
			old := runtime.GOMAXPROCS(procs)
			c := cfg
			c.Prefetch = prefetch
			gotX, gotL := epochBatches(d, c, []int{0, 1, 2})
			runtime.GOMAXPROCS(old)
			if !slices.Equal(gotX, wantX) || !slices.Equal(gotL, wantL) {
				t.Fatalf("GOMAXPROCS=%d prefetch=%v: batches differ", procs, prefetch)
			}
		}
	}
	// Epochs are a function of their number: epoch 1 alone equals epoch 1 after 0.
	x1, _ := epochBatches(d, cfg, []int{1})
	if !slices.Equal(x1, wantX[len(x1):2*len(x1)]) {
		t.Fatal("epoch 1 started directly differs from epoch 1 after epoch 0")
	}
	if slices.Equal(wantX[:len(x1)], x1) {
		t.Fatal("epochs 0 and 1 are identical: order/augmentation does not change with the epoch")
	}
	// Each epoch visits every image once.
	_, l := epochBatches(d, BatchConfig{BatchSize: 5, Shuffle: true, Seed: 2}, []int{0})
	counts := make([]int, 5)
	for _, v := range l {
		counts[v]++
	}
	if !slices.Equal(counts, d.ClassCounts()) {
		t.Fatalf("labels per class in an epoch %v, want %v", counts, d.ClassCounts())
	}
}

func TestIteratorAbandonEpoch(t *testing.T) {
	d := toyDataset(40, 1, 4, 4, 2)
	cfg := BatchConfig{BatchSize: 4, Shuffle: true, Pad: 1, Flip: true, Seed: 1, Prefetch: true}
	want, _ := epochBatches(d, cfg, []int{3})
	it := NewIterator(d, cfg)
	defer it.Close()
	x, l := make([]float32, it.BatchFloats()), make([]int, 4)
	it.Next(x, l) // abandon epoch 0 after one batch, while the goroutine runs ahead
	it.StartEpoch(3)
	var got []float32
	for n := it.Next(x, l); n > 0; n = it.Next(x, l) {
		got = append(got, x[:n*16]...)
	}
	if !slices.Equal(got, want) {
		t.Fatal("epoch 3 after an abandoned epoch differs from epoch 3 alone")
	}
}

func TestIteratorNoAllocation(t *testing.T) {
	d := toyDataset(4000, 3, 32, 32, 10)
	for _, prefetch := range []bool{false, true} {
		it := NewIterator(d, BatchConfig{BatchSize: 16, Shuffle: true, Pad: 4, Flip: true, Mean: CIFAR10Mean, Std: CIFAR10Std, Prefetch: prefetch})
		x, l := make([]float32, it.BatchFloats()), make([]int, 16)
		allocs := testing.AllocsPerRun(100, func() {
			if it.Next(x, l) == 0 {
				panic("epoch ended during the allocation test")
			}
		})
		it.Close()
		if allocs != 0 {
			t.Errorf("prefetch=%v: %v allocations per batch, want 0", prefetch, allocs)
		}
	}
}

func TestNormalisedValues(t *testing.T) {
	d := &Dataset{Name: "one", Classes: []string{"a"}, C: 3, H: 1, W: 1, Pixels: []uint8{0, 255, 128}, Labels: []int{0}}
	it := NewIterator(d, CIFAR10Test(1))
	x, l := make([]float32, 3), make([]int, 1)
	it.Next(x, l)
	want := []float64{-0.4914 / 0.2023, (1 - 0.4822) / 0.1994, (128.0/255 - 0.4465) / 0.2010}
	for c := range 3 {
		if math.Abs(float64(x[c])-want[c]) > 1e-5 {
			t.Errorf("channel %d: %v, want %v", c, x[c], want[c])
		}
	}
}

func TestIteratorPanicsOnMisuse(t *testing.T) {
	d := toyDataset(4, 3, 2, 2, 2)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"zero batch", func() { NewIterator(d, BatchConfig{}) }},
		{"mean without std", func() { NewIterator(d, BatchConfig{BatchSize: 1, Mean: CIFAR10Mean}) }},
		{"wrong channels", func() { NewIterator(d, BatchConfig{BatchSize: 1, Mean: []float32{0}, Std: []float32{1}}) }},
		{"short buffer", func() { NewIterator(d, BatchConfig{BatchSize: 2}).Next(make([]float32, 5), make([]int, 2)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.f()
		})
	}
}

func TestStratifiedSubset(t *testing.T) {
	d := toyDataset(100, 1, 2, 2, 4) // 25 per class
	s1, err := d.StratifiedSubset(7, 42)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := d.StratifiedSubset(7, 42)
	s3, _ := d.StratifiedSubset(7, 43)
	if !slices.Equal(s1.ClassCounts(), []int{7, 7, 7, 7}) {
		t.Fatalf("class counts %v", s1.ClassCounts())
	}
	if !slices.Equal(s1.Pixels, s2.Pixels) || s1.Fingerprint() != s2.Fingerprint() {
		t.Fatal("same seed, different subsets")
	}
	if slices.Equal(s1.Pixels, s3.Pixels) || s1.Fingerprint() == s3.Fingerprint() {
		t.Fatal("different seeds, same subset")
	}
	idx, _ := d.StratifiedIndices(7, 42)
	if !slices.IsSorted(idx) || len(idx) != 28 {
		t.Fatalf("indices %v", idx)
	}
	for k, i := range idx {
		if !slices.Equal(s1.Image(k), d.Image(i)) || s1.Labels[k] != d.Labels[i] {
			t.Fatalf("subset image %d is not image %d", k, i)
		}
	}
	if _, err := d.StratifiedSubset(26, 1); err == nil {
		t.Fatal("26 per class from 25: no error")
	}
}

func TestPermutationUniform(t *testing.T) {
	// Every position holds every value about equally often over many draws.
	const n, draws = 5, 20000
	var counts [n][n]int
	s := rng.New(1, "test")
	for range draws {
		for pos, v := range Permutation(n, s) {
			counts[pos][v]++
		}
	}
	for pos := range n {
		for v := range n {
			if c := counts[pos][v]; math.Abs(float64(c)-draws/n) > 6*math.Sqrt(draws/n) {
				t.Fatalf("value %d at position %d %d times in %d draws, want about %d", v, pos, c, draws, draws/n)
			}
		}
	}
}

func TestFingerprintSeesContent(t *testing.T) {
	a := toyDataset(5, 1, 2, 2, 2)
	b := toyDataset(5, 1, 2, 2, 2)
	if a.Fingerprint() != b.Fingerprint() {
		t.Fatal("equal datasets, different fingerprints")
	}
	b.Pixels[7]++
	if a.Fingerprint() == b.Fingerprint() {
		t.Fatal("a changed pixel left the fingerprint unchanged")
	}
	b.Pixels[7]--
	b.Labels[1] = 0
	if a.Fingerprint() == b.Fingerprint() {
		t.Fatal("a changed label left the fingerprint unchanged")
	}
}
