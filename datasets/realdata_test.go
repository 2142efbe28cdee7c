package datasets_test

import (
	"math"
	"slices"
	"testing"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/datasets/datatest"
)

// These tests read the real datasets from $CNET_DATA (skipped when unset;
// failures when CNET_REQUIRE_DATA=1). Each dataset is loaded and verified
// once per test binary (datatest shares it).

func checkSplit(t *testing.T, sp *datasets.Split, c, h, w, nTrain, nTest int) {
	t.Helper()
	for _, tc := range []struct {
		d *datasets.Dataset
		n int
	}{{sp.Train, nTrain}, {sp.Test, nTest}} {
		if err := tc.d.Validate(); err != nil {
			t.Fatal(err)
		}
		if tc.d.Len() != tc.n || tc.d.C != c || tc.d.H != h || tc.d.W != w {
			t.Fatalf("%s: %d images of %dx%dx%d, want %d of %dx%dx%d", tc.d.Name, tc.d.Len(), tc.d.C, tc.d.H, tc.d.W, tc.n, c, h, w)
		}
		per := make([]int, len(tc.d.Classes))
		for i := range per {
			per[i] = tc.n / len(per)
		}
		if got := tc.d.ClassCounts(); !slices.Equal(got, per) {
			t.Fatalf("%s: images per class %v, want %v", tc.d.Name, got, per)
		}
	}
}

func TestRealCIFAR10(t *testing.T) {
	sp := datatest.CIFAR10(t)
	checkSplit(t, sp, 3, 32, 32, 50000, 10000)
	if !slices.Equal(sp.Train.Classes, datasets.CIFAR10Classes) {
		t.Fatalf("classes %v", sp.Train.Classes)
	}
	// The per-channel mean of the training images agrees with the authors'
	// normalisation constants (computed on the official images; a JPEG
	// re-encode moves them by well under 0.01).
	hw := 32 * 32
	for c := range 3 {
		var hist [256]int
		for i := range sp.Train.Len() {
			for _, v := range sp.Train.Image(i)[c*hw : (c+1)*hw] {
				hist[v]++
			}
		}
		var sum, sumSq float64
		for v, k := range hist {
			f := float64(v) / 255
			sum += float64(k) * f
			sumSq += float64(k) * f * f
		}
		n := float64(sp.Train.Len() * hw)
		mean := sum / n
		if math.Abs(mean-float64(datasets.CIFAR10Mean[c])) > 0.01 {
			t.Errorf("channel %d: mean %.4f, the authors' %.4f", c, mean, datasets.CIFAR10Mean[c])
		}
		t.Logf("channel %d: mean %.4f (authors %.4f), pixel std %.4f (authors' std %.4f)", c, mean, datasets.CIFAR10Mean[c], math.Sqrt(sumSq/n-mean*mean), datasets.CIFAR10Std[c])
	}
	// The quick profile's subsets: 500 per class of train, 200 per class of test.
	for _, tc := range []struct {
		d        *datasets.Dataset
		per, all int
	}{{sp.Train, 500, 5000}, {sp.Test, 200, 2000}} {
		sub, err := tc.d.StratifiedSubset(tc.per, 1)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Len() != tc.all || slices.Max(sub.ClassCounts()) != tc.per || slices.Min(sub.ClassCounts()) != tc.per {
			t.Fatalf("%s: %d images, per class %v", sub.Name, sub.Len(), sub.ClassCounts())
		}
	}
}

func TestRealFashionMNIST(t *testing.T) {
	sp := datatest.FashionMNIST(t)
	checkSplit(t, sp, 1, 28, 28, 60000, 10000)
}

// BenchmarkLoadCIFAR10JPEG measures reading, verifying (SHA-256) and
// decoding the full CIFAR-10 image-folder archive (60,000 JPEGs).
func BenchmarkLoadCIFAR10JPEG(b *testing.B) {
	dir := datatest.Dir(b)
	var src datasets.Source
	for _, s := range datasets.Sources() {
		if s.Dataset == "cifar10" && s.Files[0].Path == "cifar10/cifar10-jpeg.tar.gz" {
			src = s
		}
	}
	if !src.Present(dir) {
		datatest.SkipOrFail(b, "cifar10/cifar10-jpeg.tar.gz not in "+dir)
	}
	images := 0
	for b.Loop() {
		sp, err := src.Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		images += sp.Train.Len() + sp.Test.Len()
	}
	b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
}
