package datasets

import (
	"fmt"

	"github.com/continuousnet/repro/nnlib/rng"
)

// CIFAR10Mean and CIFAR10Std are the per-channel (R, G, B) mean and standard
// deviation, in units of the [0, 1] pixel scale, with which the authors
// normalise CIFAR-10 (torchvision Normalize in their training script).
var (
	CIFAR10Mean = []float32{0.4914, 0.4822, 0.4465}
	CIFAR10Std  = []float32{0.2023, 0.1994, 0.2010}
)

// Layout is the memory order of a batch.
type Layout int

const (
	// ChannelMajor is [C][N·H·W]: channel c of image n at c·(N·H·W) + n·H·W + y·W + x,
	// N being the number of images in the batch.
	ChannelMajor Layout = iota
	// NCHW is [N][C][H][W]: image n, channel c at ((n·C+c)·H+y)·W+x.
	NCHW
)

func (l Layout) String() string {
	switch l {
	case ChannelMajor:
		return "channel-major"
	case NCHW:
		return "NCHW"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// BatchConfig configures an [Iterator].
type BatchConfig struct {
	BatchSize int       // images per batch (> 0)
	DropLast  bool      // skip a last, smaller batch
	Shuffle   bool      // visit the images in a new random order every epoch
	Pad       int       // random crop: pad by Pad zero pixels, crop back to H×W (0: no crop)
	Flip      bool      // random horizontal flip with probability 1/2
	Mean, Std []float32 // per-channel normalisation of v/255; nil: v/255 only
	Layout    Layout    // memory order of the batch
	Seed      uint64    // seed of the order and augmentation streams
	Prefetch  bool      // prepare the next batch in a goroutine while the caller works
}

// CIFAR10Train returns the authors' training input: shuffled, random crop
// with 4 pixels of zero padding, horizontal flip, normalised with
// [CIFAR10Mean] and [CIFAR10Std], channel-major, prefetched.
func CIFAR10Train(batchSize int, seed uint64) BatchConfig {
	return BatchConfig{BatchSize: batchSize, Shuffle: true, Pad: 4, Flip: true,
		Mean: CIFAR10Mean, Std: CIFAR10Std, Seed: seed, Prefetch: true}
}

// CIFAR10Test returns the authors' evaluation input: in order, no
// augmentation, normalised, channel-major.
func CIFAR10Test(batchSize int) BatchConfig {
	return BatchConfig{BatchSize: batchSize, Mean: CIFAR10Mean, Std: CIFAR10Std}
}

// Iterator serves a dataset in batches, epoch after epoch.
//
// The order of epoch e is a permutation drawn from the stream
// rng.New(Seed, "datasets/order/epoch=e") (identity without Shuffle); the
// crop offsets and flips of epoch e are drawn, image after image in the
// epoch's order, from rng.New(Seed, "datasets/augment/epoch=e"). A batch is
// therefore a function of (dataset, config, epoch, batch index) alone,
// identical with or without Prefetch and whatever the timing. Padding is
// zero pixels before normalisation (as torchvision's RandomCrop pads the
// image), so a padded value is (0 − mean)/std.
//
// An Iterator is not safe for concurrent use. Call Close when done with a
// prefetching iterator.
type Iterator struct {
	d     *Dataset
	cfg   BatchConfig
	lut   [][256]float32 // lut[c][v]: the normalised value of byte v in channel c
	epoch int
	order []int
	pos   int // next position in order
	aug   *rng.Stream
	crop  []cropDraw // per image of the batch being filled

	// prefetch
	ready chan *batchBuf
	free  chan *batchBuf
	stop  chan struct{}
	done  chan struct{}
}

type cropDraw struct {
	dy, dx int
	flip   bool
}

type batchBuf struct {
	x      []float32
	labels []int
	n      int
}

// NewIterator returns an iterator over d at epoch 0. It panics if the
// configuration does not fit the dataset.
func NewIterator(d *Dataset, cfg BatchConfig) *Iterator {
	if cfg.BatchSize <= 0 {
		panic(fmt.Sprintf("datasets: NewIterator: batch size %d <= 0", cfg.BatchSize))
	}
	if cfg.Pad < 0 {
		panic(fmt.Sprintf("datasets: NewIterator: pad %d < 0", cfg.Pad))
	}
	if (cfg.Mean == nil) != (cfg.Std == nil) || (cfg.Mean != nil && (len(cfg.Mean) != d.C || len(cfg.Std) != d.C)) {
		panic(fmt.Sprintf("datasets: NewIterator: %d means and %d stds for %d channels", len(cfg.Mean), len(cfg.Std), d.C))
	}
	if cfg.Layout != ChannelMajor && cfg.Layout != NCHW {
		panic(fmt.Sprintf("datasets: NewIterator: unknown layout %v", cfg.Layout))
	}
	it := &Iterator{d: d, cfg: cfg, lut: make([][256]float32, d.C), crop: make([]cropDraw, cfg.BatchSize)}
	for c := range d.C {
		for v := range 256 {
			x := float32(v) / 255
			if cfg.Mean != nil {
				if cfg.Std[c] == 0 {
					panic(fmt.Sprintf("datasets: NewIterator: std of channel %d is 0", c))
				}
				x = (x - cfg.Mean[c]) / cfg.Std[c]
			}
			it.lut[c][v] = x
		}
	}
	it.StartEpoch(0)
	return it
}

// BatchFloats returns the length x must have in [Iterator.Next]: BatchSize·C·H·W.
func (it *Iterator) BatchFloats() int { return it.cfg.BatchSize * it.d.ImageSize() }

// Batches returns the number of batches in an epoch.
func (it *Iterator) Batches() int {
	n, b := it.d.Len(), it.cfg.BatchSize
	if it.cfg.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Epoch returns the current epoch.
func (it *Iterator) Epoch() int { return it.epoch }

// StartEpoch (re)starts the iterator at the beginning of epoch e, abandoning
// what is left of the current one.
func (it *Iterator) StartEpoch(e int) {
	it.stopPrefetch()
	it.epoch = e
	it.pos = 0
	if it.cfg.Shuffle {
		it.order = Permutation(it.d.Len(), rng.New(it.cfg.Seed, fmt.Sprintf("datasets/order/epoch=%d", e)))
	} else {
		if len(it.order) != it.d.Len() {
			it.order = make([]int, it.d.Len())
		}
		for i := range it.order {
			it.order[i] = i
		}
	}
	it.aug = rng.New(it.cfg.Seed, fmt.Sprintf("datasets/augment/epoch=%d", e))
	if it.cfg.Prefetch {
		it.startPrefetch()
	}
}

// Next fills x (length at least [Iterator.BatchFloats]) and labels (length
// at least BatchSize) with the next batch of the epoch and returns the
// number of images n in it; the batch occupies x[:n·C·H·W] in the
// configured layout, with N = n. At the end of the epoch it returns 0 and
// leaves x alone; call [Iterator.StartEpoch] for the next one.
func (it *Iterator) Next(x []float32, labels []int) int {
	if len(x) < it.BatchFloats() || len(labels) < it.cfg.BatchSize {
		panic(fmt.Sprintf("datasets: Iterator.Next: buffers of %d floats and %d labels, want at least %d and %d",
			len(x), len(labels), it.BatchFloats(), it.cfg.BatchSize))
	}
	if it.ready == nil {
		return it.fill(x, labels)
	}
	b, ok := <-it.ready
	if !ok {
		return 0
	}
	n := b.n
	copy(x[:n*it.d.ImageSize()], b.x)
	copy(labels[:n], b.labels)
	it.free <- b
	return n
}

// Close stops a prefetching goroutine. The iterator may not be used after.
func (it *Iterator) Close() { it.stopPrefetch() }

// fill produces the next batch into x and labels, advancing the epoch.
func (it *Iterator) fill(x []float32, labels []int) int {
	n := min(it.cfg.BatchSize, len(it.order)-it.pos)
	if n <= 0 || (it.cfg.DropLast && n < it.cfg.BatchSize) {
		return 0
	}
	idx := it.order[it.pos : it.pos+n]
	it.pos += n
	d := it.d
	for k, i := range idx {
		labels[k] = d.Labels[i]
		cd := cropDraw{dy: it.cfg.Pad, dx: it.cfg.Pad}
		if it.cfg.Pad > 0 {
			cd.dy = int(boundedUint64(it.aug, uint64(2*it.cfg.Pad+1)))
			cd.dx = int(boundedUint64(it.aug, uint64(2*it.cfg.Pad+1)))
		}
		if it.cfg.Flip {
			cd.flip = it.aug.Uint64()>>63 == 1
		}
		it.crop[k] = cd
	}
	hw := d.H * d.W
	for k, i := range idx {
		img := d.Image(i)
		for c := range d.C {
			var off, end int
			if it.cfg.Layout == ChannelMajor {
				off = c*n*hw + k*hw
			} else {
				off = (k*d.C + c) * hw
			}
			end = off + hw
			it.writePlane(x[off:end], img[c*hw:(c+1)*hw], &it.lut[c], it.crop[k])
		}
	}
	return n
}

// writePlane writes one channel of one image, cropped and flipped:
// dst[y·W+x] = lut[src[sy·W+sx]] with sy = y+dy−Pad, sx = x'+dx−Pad, x' = W−1−x
// when flipped, else x; a pixel outside the image is a zero byte.
func (it *Iterator) writePlane(dst []float32, src []uint8, lut *[256]float32, cd cropDraw) {
	h, w, pad := it.d.H, it.d.W, it.cfg.Pad
	zero := lut[0]
	if pad == 0 && !cd.flip {
		for j, v := range src {
			dst[j] = lut[v]
		}
		return
	}
	for y := range h {
		row := dst[y*w : (y+1)*w]
		sy := y + cd.dy - pad
		if sy < 0 || sy >= h {
			for j := range row {
				row[j] = zero
			}
			continue
		}
		srow := src[sy*w : (sy+1)*w]
		shift := cd.dx - pad // sx = x' + shift
		// Columns x whose source column lies inside the image: [lo, hi).
		lo, hi := max(0, -shift), min(w, w-shift)
		if cd.flip {
			lo, hi = max(0, shift), min(w, w+shift)
		}
		lo, hi = min(lo, w), max(hi, 0)
		for j := range row[:lo] {
			row[j] = zero
		}
		if lo < hi {
			if cd.flip {
				for x := lo; x < hi; x++ {
					row[x] = lut[srow[w-1-x+shift]]
				}
			} else {
				for x, v := range srow[lo+shift : hi+shift] {
					row[lo+x] = lut[v]
				}
			}
		}
		for j := max(hi, lo); j < w; j++ {
			row[j] = zero
		}
	}
}

// startPrefetch starts a goroutine filling two buffers in turn with the
// batches of the current epoch.
func (it *Iterator) startPrefetch() {
	it.ready = make(chan *batchBuf, 1)
	it.free = make(chan *batchBuf, 2)
	it.stop = make(chan struct{})
	it.done = make(chan struct{})
	for range 2 {
		it.free <- &batchBuf{x: make([]float32, it.BatchFloats()), labels: make([]int, it.cfg.BatchSize)}
	}
	ready, free, stop, done := it.ready, it.free, it.stop, it.done
	go func() {
		defer close(done)
		defer close(ready)
		for {
			var b *batchBuf
			select {
			case b = <-free:
			case <-stop:
				return
			}
			b.n = it.fill(b.x, b.labels)
			if b.n == 0 {
				return
			}
			select {
			case ready <- b:
			case <-stop:
				return
			}
		}
	}()
}

func (it *Iterator) stopPrefetch() {
	if it.stop == nil {
		return
	}
	close(it.stop)
	<-it.done
	it.ready, it.free, it.stop, it.done = nil, nil, nil, nil
}
