package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"slices"

	"github.com/continuousnet/repro/nnlib/rng"
)

// Dataset is a labelled image dataset held in memory.
//
// Pixels holds N images of C×H×W bytes each, laid out [N][C][H][W] (image n,
// channel c, row y, column x at ((n·C+c)·H+y)·W+x); Labels[n] ∈ [0, len(Classes)).
type Dataset struct {
	Name    string   // e.g. "cifar10/train"
	Source  string   // the file or directory it was read from
	Classes []string // class names, indexed by label
	C, H, W int      // channels, height, width of every image
	Pixels  []uint8  // [N][C][H][W]
	Labels  []int    // [N]
}

// Split is a dataset's training and test parts.
type Split struct {
	Train, Test *Dataset
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// ImageSize returns C·H·W, the bytes of one image.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Image returns image i's pixels ([C][H][W]), aliasing d.Pixels.
func (d *Dataset) Image(i int) []uint8 {
	s := d.ImageSize()
	return d.Pixels[i*s : (i+1)*s : (i+1)*s]
}

// ClassCounts returns the number of images of each class.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		if l >= 0 && l < len(counts) {
			counts[l]++
		}
	}
	return counts
}

// Validate checks that the shapes agree and every label names a class.
func (d *Dataset) Validate() error {
	if d.C <= 0 || d.H <= 0 || d.W <= 0 {
		return fmt.Errorf("datasets: %s: image shape %d×%d×%d is not positive", d.Name, d.C, d.H, d.W)
	}
	if len(d.Pixels) != len(d.Labels)*d.ImageSize() {
		return fmt.Errorf("datasets: %s: %d pixel bytes for %d images of %d×%d×%d", d.Name, len(d.Pixels), len(d.Labels), d.C, d.H, d.W)
	}
	for i, l := range d.Labels {
		if l < 0 || l >= len(d.Classes) {
			return fmt.Errorf("datasets: %s: image %d has label %d outside [0, %d)", d.Name, i, l, len(d.Classes))
		}
	}
	return nil
}

// Subset returns a new dataset holding copies of the images idx, in that order.
// It panics if an index is out of range.
func (d *Dataset) Subset(name string, idx []int) *Dataset {
	s := d.ImageSize()
	out := &Dataset{Name: name, Source: d.Source, Classes: d.Classes, C: d.C, H: d.H, W: d.W,
		Pixels: make([]uint8, len(idx)*s), Labels: make([]int, len(idx))}
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			panic(fmt.Sprintf("datasets: Subset of %s: index %d out of range [0, %d)", d.Name, i, d.Len()))
		}
		copy(out.Pixels[k*s:(k+1)*s], d.Pixels[i*s:(i+1)*s])
		out.Labels[k] = d.Labels[i]
	}
	return out
}

// StratifiedIndices chooses perClass images of every class, at random but
// deterministically from seed (the stream "datasets/stratified"), and returns
// their indices in increasing order. It fails when a class has fewer than
// perClass images.
func (d *Dataset) StratifiedIndices(perClass int, seed uint64) ([]int, error) {
	if perClass < 0 {
		panic(fmt.Sprintf("datasets: StratifiedIndices of %s: perClass %d < 0", d.Name, perClass))
	}
	counts := d.ClassCounts()
	for c, n := range counts {
		if n < perClass {
			return nil, fmt.Errorf("datasets: %s: class %d (%s) has %d images, fewer than the %d per class asked for", d.Name, c, d.Classes[c], n, perClass)
		}
	}
	perm := Permutation(d.Len(), rng.New(seed, "datasets/stratified"))
	taken := make([]int, len(d.Classes))
	idx := make([]int, 0, perClass*len(d.Classes))
	for _, i := range perm {
		if l := d.Labels[i]; taken[l] < perClass {
			taken[l]++
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	return idx, nil
}

// StratifiedSubset returns perClass images of every class chosen by seed
// (see [Dataset.StratifiedIndices]), in dataset order; e.g. 500 per class of
// CIFAR-10's training set is a balanced 5,000-image training set.
func (d *Dataset) StratifiedSubset(perClass int, seed uint64) (*Dataset, error) {
	idx, err := d.StratifiedIndices(perClass, seed)
	if err != nil {
		return nil, err
	}
	return d.Subset(fmt.Sprintf("%s[%d/class,seed=%d]", d.Name, perClass, seed), idx), nil
}

// Fingerprint identifies the dataset's content for run keys: its name, size,
// shape and the first 16 hex digits of a SHA-256 over shape, class names,
// labels and pixels. Two datasets with equal content have equal digests
// whatever file they came from.
func (d *Dataset) Fingerprint() string {
	h := sha256.New()
	var buf [8]byte
	put := func(v int) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	h.Write([]byte("cnet-dataset-v1\x00"))
	put(d.Len())
	put(d.C)
	put(d.H)
	put(d.W)
	put(len(d.Classes))
	for _, c := range d.Classes {
		put(len(c))
		h.Write([]byte(c))
	}
	lab := make([]byte, 0, 4*len(d.Labels))
	for _, l := range d.Labels {
		lab = binary.LittleEndian.AppendUint32(lab, uint32(l))
	}
	h.Write(lab)
	h.Write(d.Pixels)
	return fmt.Sprintf("%s n=%d %dx%dx%d sha256:%s", d.Name, d.Len(), d.C, d.H, d.W, hex.EncodeToString(h.Sum(nil))[:16])
}

// Permutation returns a uniformly random permutation of 0..n-1 drawn from s
// by a Fisher–Yates shuffle. It uses only s.Uint64, whose sequence is fixed
// for a given stream, so the result never changes with the Go version.
func Permutation(n int, s *rng.Stream) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(boundedUint64(s, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// boundedUint64 returns a uniform draw from [0, n) by Lemire's multiply-and-
// reject method, using s.Uint64 only.
func boundedUint64(s *rng.Stream, n uint64) uint64 {
	hi, lo := bits.Mul64(s.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.Uint64(), n)
		}
	}
	return hi
}
