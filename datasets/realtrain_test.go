package datasets_test

import (
	"testing"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/datasets/datatest"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// TestSmallConvNetLearnsRealCIFAR10 trains a small conv net with nnlib on a
// stratified 2,000-image subset of the real CIFAR-10 for three short epochs
// (SGD with momentum: one epoch of 80 steps is short for it to get going),
// through the augmented channel-major iterator, and checks that test
// accuracy on 1,000 held-out images is clearly above chance (10 %).
func TestSmallConvNetLearnsRealCIFAR10(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	split := datatest.CIFAR10(t)
	train, err := split.Train.StratifiedSubset(200, 1)
	if err != nil {
		t.Fatal(err)
	}
	test, err := split.Test.StratifiedSubset(100, 2)
	if err != nil {
		t.Fatal(err)
	}

	const batch = 25
	ps := nnlib.NewParamSet()
	r := rng.New(1, "init")
	c1 := nnlib.NewConv2d(ps, "c1", 0, 3, 32, 3, 2, 1, false, r)
	b1 := nnlib.NewBatchNorm2d(ps, "b1", 0, 32)
	c2 := nnlib.NewConv2d(ps, "c2", 0, 32, 64, 3, 2, 1, false, r)
	b2 := nnlib.NewBatchNorm2d(ps, "b2", 0, 64)
	fc := nnlib.NewLinear(ps, "fc", 64, 10, true, r)
	forward := func(g *nnlib.Graph, x []float32, n int) *nnlib.Value {
		h := g.Input(x[:3*n*32*32], 3, n, 32, 32)
		h = g.Relu(b1.Forward(g, c1.Forward(g, h)))
		h = g.Relu(b2.Forward(g, c2.Forward(g, h)))
		return fc.Forward(g, g.GlobalAvgPool(h))
	}

	const epochs = 3
	opt := nnlib.NewSGD(0.05, 0.9, 0)
	it := datasets.NewIterator(train, datasets.CIFAR10Train(batch, 3))
	defer it.Close()
	x := make([]float32, it.BatchFloats())
	labels := make([]int, batch)
	g := nnlib.NewGraph(true)
	steps := 0
	for e := range epochs {
		it.StartEpoch(e)
		for {
			n := it.Next(x, labels)
			if n == 0 {
				break
			}
			g.Reset()
			ps.ZeroGrad()
			loss := g.SoftmaxCrossEntropy(forward(g, x, n), labels[:n])
			g.Backward(loss)
			opt.Step(ps.Params())
			steps++
		}
	}

	ev := datasets.NewIterator(test, datasets.CIFAR10Test(batch))
	defer ev.Close()
	ge := nnlib.NewGraph(false)
	correct, total := 0.0, 0
	for {
		n := ev.Next(x, labels)
		if n == 0 {
			break
		}
		ge.Reset()
		correct += nnlib.Accuracy(forward(ge, x, n), labels[:n]) * float64(n)
		total += n
	}
	acc := correct / float64(total)
	t.Logf("%d steps on %d real CIFAR-10 images: test accuracy %.1f%% on %d images", steps, train.Len(), 100*acc, total)
	if acc < 0.20 {
		t.Fatalf("test accuracy %.1f%% < 20%% after one epoch on 2,000 images", 100*acc)
	}
}
