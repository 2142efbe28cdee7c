package datasets_test

// Checks of the data pipeline against the reference libraries the authors
// used: PIL (libjpeg) for decoding, torchvision for the transforms. The
// reference side is testdata/torch_pipeline.py, run by the Python named by
// CNET_TORCH_PYTHON (default /usr/bin/python3; Debian packages python3-pil,
// python3-torch, python3-torchvision). Without the modules the tests skip,
// or fail when CI=true or CNET_REQUIRE_TORCH=1. The JPEG check also needs
// the CIFAR-10 JPEG copy in $CNET_DATA (datatest's rules, CNET_REQUIRE_DATA).

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/datasets/datatest"
)

const torchScript = "testdata/torch_pipeline.py"

// refRun is a run of the reference script.
type refRun struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	done   chan struct{}
	err    error
	outDir string
}

// checkReference skips (fails) t unless the reference script finds the
// modules that mode needs.
func checkReference(t *testing.T, mode string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), datatest.TorchPython(t), torchScript, "check", mode)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		datatest.TorchSkipOrFail(t, string(bytes.TrimSpace(out)))
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

// startReference writes req to a temporary folder and starts
// `torch_pipeline.py mode req.json dir` there; files (name → bytes) are
// written to the folder first. The run is killed and waited for at the end
// of the test if [refRun.wait] was not called.
func startReference(t *testing.T, mode string, req any, files map[string][]byte) *refRun {
	t.Helper()
	python := datatest.TorchPython(t)
	dir := t.TempDir()
	js, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	files["request.json"] = js
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	r := &refRun{cmd: exec.CommandContext(ctx, python, torchScript, mode, filepath.Join(dir, "request.json"), dir),
		done: make(chan struct{}), outDir: dir}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	r.cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "OMP_NUM_THREADS=1")
	if err := r.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", python, err)
	}
	go func() { r.err = r.cmd.Wait(); cancel(); close(r.done) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// wait waits for the run; a missing module skips (fails) t, another error fails it.
func (r *refRun) wait(t *testing.T) {
	t.Helper()
	<-r.done
	if r.err == nil {
		return
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) && ee.ExitCode() == 3 {
		datatest.TorchSkipOrFail(t, string(bytes.TrimSpace(r.out.Bytes())))
	}
	t.Fatalf("%s: %v\n%s", r.cmd, r.err, r.out.Bytes())
}

func (r *refRun) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.outDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r *refRun) readJSON(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(r.read(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func (r *refRun) readFloats(t *testing.T, name string, n int) []float32 {
	t.Helper()
	b := r.read(t, name)
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d float32", name, len(b), n)
	}
	f := make([]float32, n)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

// TestTorchRefJPEGDecode compares our decode of the CIFAR-10 JPEG copy with
// PIL's (torchvision's default loader) on a fixed sample of 200 training and
// 200 test images, and our split and label order with torchvision's
// ImageFolder.
//
// Go's image/jpeg upsamples the 4:2:0 chroma by pixel replication, libjpeg
// by "fancy" (triangular) interpolation, and the two round the YCbCr → RGB
// conversion differently, so our pixels differ from PIL's by one or two
// levels on average and by tens at sharp colour edges. The test therefore
// checks a chain:
//
//  1. ours ≈ PIL within loose bounds, far below what a wrong image, a
//     channel swap, a mirror image or an off-by-one in the file order gives
//     (each measured and checked here);
//  2. ours == image/jpeg's YCbCr planes, chroma replicated, converted by
//     image/color (bit for bit: our layout, order and conversion add nothing);
//  3. the same YCbCr planes, upsampled and converted as libjpeg-turbo does
//     (jdsample.c h2v2_fancy_upsample, jdcolor.c ycc_rgb_convert) ≈ PIL
//     within a small fraction of a level: the whole difference in 1 is the
//     upsampling and the conversion's rounding, not a decoding error.
func TestTorchRefJPEGDecode(t *testing.T) {
	const (
		n           = 200 // images sampled per split
		strideTrain = 250 // 50,000/200: 20 per class
		strideTest  = 50  // 10,000/200: 20 per class
		// 1: measured 1.44, 0.75, 1.89 (R, G, B); worst image 5.1; max 62
		// (chroma edges). A wrong hypothesis must give at least wrongMin.
		meanBound, imageBound, maxBound, wrongMin = 3.0, 10.0, 96, 10.0
		// 3: measured mean 0.034, 0.031, 0.041, max 3.
		fancyMeanBound, fancyMaxBound = 0.1, 6
	)
	dir := datatest.Dir(t)
	var jpegSrc, first datasets.Source
	for _, s := range datasets.Sources() {
		if s.Dataset != "cifar10" {
			continue
		}
		if first.Dataset == "" && s.Present(dir) {
			first = s
		}
		if s.Files[0].Path == "cifar10/cifar10-jpeg.tar.gz" {
			jpegSrc = s
		}
	}
	if jpegSrc.Dataset == "" {
		t.Fatal("the catalog has no cifar10/cifar10-jpeg.tar.gz source")
	}
	if !jpegSrc.Present(dir) {
		datatest.SkipOrFail(t, "the CIFAR-10 JPEG copy cifar10/cifar10-jpeg.tar.gz is not in "+dir)
	}

	// Sample i and its successor i+1 (for the off-by-one baseline).
	splits := []string{"train", "test"}
	var idx [2][]int
	for k := range n {
		idx[0] = append(idx[0], strideTrain/2+k*strideTrain)
		idx[1] = append(idx[1], strideTest/2+k*strideTest)
	}
	req := map[string]any{"archive": jpegSrc.Path(dir)}
	for s, name := range splits {
		var all []int
		for _, i := range idx[s] {
			all = append(all, i, i+1)
		}
		req[name] = all
	}
	checkReference(t, "decode") // before loading 60,000 images for nothing
	start := time.Now()
	ref := startReference(t, "decode", req, map[string][]byte{}) // reads the archive while we do

	var sp *datasets.Split
	if first.Format == jpegSrc.Format {
		sp = datatest.CIFAR10(t) // the form Load picks: shared with the other tests
	} else {
		var err error
		if sp, err = jpegSrc.Load(dir); err != nil {
			t.Fatal(err)
		}
	}
	ref.wait(t)
	var got struct {
		Classes []string
		Counts  map[string][]int
		Images  []struct {
			Split, Member              string
			Index, Label, Offset, Size int
		}
		PIL, Libjpeg string
		LibjpegTurbo bool `json:"libjpeg_turbo"`
	}
	ref.readJSON(t, "decode.json", &got)
	t.Logf("reference: PIL %s, libjpeg %s (turbo %v); %d images; load and reference in parallel %v",
		got.PIL, got.Libjpeg, got.LibjpegTurbo, len(got.Images), time.Since(start).Round(time.Millisecond))

	// Class order and labels: ImageFolder's sorted folders are the official 0..9.
	if !slices.Equal(got.Classes, datasets.CIFAR10Classes) || !slices.Equal(sp.Train.Classes, got.Classes) {
		t.Fatalf("classes: ImageFolder %v, ours %v, CIFAR-10 %v", got.Classes, sp.Train.Classes, datasets.CIFAR10Classes)
	}
	for s, d := range []*datasets.Dataset{sp.Train, sp.Test} {
		if c := d.ClassCounts(); !slices.Equal(c, got.Counts[splits[s]]) {
			t.Fatalf("%s: images per class: ImageFolder %v, ours %v", splits[s], got.Counts[splits[s]], c)
		}
	}
	const size = 3 * 32 * 32
	pix, members := ref.read(t, "pixels.u8"), ref.read(t, "members.bin")
	if len(got.Images) != 4*n || len(pix) != 4*n*size {
		t.Fatalf("reference returned %d images, %d bytes; want %d", len(got.Images), len(pix), 4*n)
	}

	var (
		loose, fancy pixelDiff
		hist         [256]int // |Δ| of ours − PIL
		worstImg     float64
		worstName    string
		chainBad     int // values where ours != image/jpeg + image/color
		wrongNames   = []string{"R<->B swapped", "mirrored", "upside down", "the next file (off by one)"}
		wrong        = make([][]float64, len(wrongNames)) // per hypothesis, per image mean |Δ|
	)
	for s, d := range []*datasets.Dataset{sp.Train, sp.Test} {
		for k, i := range idx[s] {
			j := (s*n + k) * 2 // the reference's entry for i; j+1 is i+1
			e := got.Images[j]
			if e.Index != i || e.Split != splits[s] || got.Images[j+1].Index != i+1 {
				t.Fatalf("reference entry %d is %s %d, want %s %d", j, e.Split, e.Index, splits[s], i)
			}
			if e.Label != d.Labels[i] {
				t.Errorf("%s image %d (%s): our label %d, ImageFolder's %d", d.Name, i, e.Member, d.Labels[i], e.Label)
			}
			ours, theirs, next := d.Image(i), pix[j*size:(j+1)*size], pix[(j+1)*size:(j+2)*size]
			loose.add(ours, theirs)
			for p := range ours {
				hist[absDiff(int(ours[p]), int(theirs[p]))]++
			}
			if m := meanAbsDiff(ours, theirs); m > worstImg {
				worstImg, worstName = m, e.Member
			}
			wrongImgs := [][]uint8{make([]uint8, size), make([]uint8, size), make([]uint8, size), next}
			for c := range 3 {
				for y := range 32 {
					for x := range 32 {
						v := theirs[(c*32+y)*32+x]
						wrongImgs[0][((2-c)*32+y)*32+x] = v
						wrongImgs[1][(c*32+y)*32+31-x] = v
						wrongImgs[2][(c*32+31-y)*32+x] = v
					}
				}
			}
			for w, img := range wrongImgs {
				wrong[w] = append(wrong[w], meanAbsDiff(ours, img))
			}

			// The chain through image/jpeg's YCbCr planes.
			img, err := jpeg.Decode(bytes.NewReader(members[e.Offset : e.Offset+e.Size]))
			if err != nil {
				t.Fatalf("%s: %v", e.Member, err)
			}
			m, ok := img.(*image.YCbCr)
			if !ok || m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Bounds() != image.Rect(0, 0, 32, 32) {
				t.Fatalf("%s: %T %v, want 32×32 YCbCr 4:2:0 (as the data README says)", e.Member, img, m.SubsampleRatio)
			}
			nearest, fancied := make([]uint8, size), make([]uint8, size)
			cb, cr := fancyUpsampleH2V2(m.Cb, m.CStride), fancyUpsampleH2V2(m.Cr, m.CStride)
			for y := range 32 {
				for x := range 32 {
					c := m.YCbCrAt(x, y)
					r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
					nearest[y*32+x], nearest[1024+y*32+x], nearest[2048+y*32+x] = r, g, b
					r, g, b = libjpegYCbCrToRGB(c.Y, cb[y*32+x], cr[y*32+x])
					fancied[y*32+x], fancied[1024+y*32+x], fancied[2048+y*32+x] = r, g, b
				}
			}
			for p := range ours {
				if ours[p] != nearest[p] {
					chainBad++
				}
			}
			fancy.add(fancied, theirs)
		}
	}
	for c, name := range []string{"R", "G", "B"} {
		t.Logf("channel %s: ours − PIL: mean |Δ| %.3f levels, max %d; image/jpeg planes upsampled and converted as libjpeg − PIL: mean |Δ| %.3f, max %d (%d images)",
			name, loose.mean(c), loose.max[c], fancy.mean(c), fancy.max[c], loose.images)
		if loose.mean(c) >= meanBound || loose.max[c] > maxBound {
			t.Errorf("channel %s: mean |Δ| %.3f (bound %v), max %d (bound %d) against PIL", name, loose.mean(c), meanBound, loose.max[c], maxBound)
		}
		if !got.LibjpegTurbo {
			continue // IJG libjpeg ≥ 7 upsamples by DCT scaling, not the triangle filter
		}
		if fancy.mean(c) >= fancyMeanBound || fancy.max[c] > fancyMaxBound {
			t.Errorf("channel %s: with libjpeg's upsampling and conversion, mean |Δ| %.3f (bound %v), max %d (bound %d) against PIL",
				name, fancy.mean(c), fancyMeanBound, fancy.max[c], fancyMaxBound)
		}
	}
	if !got.LibjpegTurbo {
		t.Logf("PIL is not built on libjpeg-turbo: the libjpeg-emulation bounds are not applied")
	}
	if chainBad > 0 {
		t.Errorf("%d values of our decode differ from image/jpeg's planes converted by image/color", chainBad)
	}
	var cdf []string
	cum, total := 0, 0
	for _, c := range hist {
		total += c
	}
	for v, c := range hist {
		cum += c
		if v == 0 || v == 1 || v == 2 || v == 4 || v == 8 || v == 16 || v == 32 {
			cdf = append(cdf, fmt.Sprintf("≤%d: %.2f%%", v, 100*float64(cum)/float64(total)))
		}
	}
	t.Logf("ours − PIL, share of values with |Δ| %s", strings.Join(cdf, ", "))
	t.Logf("worst image: %s, mean |Δ| %.3f", worstName, worstImg)
	if worstImg >= imageBound {
		t.Errorf("%s: mean |Δ| %.3f ≥ %v levels against PIL", worstName, worstImg, imageBound)
	}
	for w, name := range wrongNames {
		avg := 0.0
		for _, v := range wrong[w] {
			avg += v
		}
		avg /= float64(len(wrong[w]))
		t.Logf("if ours were %s: mean |Δ| %.1f (per image from %.2f)", name, avg, slices.Min(wrong[w]))
		if avg < wrongMin {
			t.Errorf("%s gives a mean |Δ| of only %.2f: the bounds would not catch it", name, avg)
		}
	}
	if m := slices.Min(wrong[3]); m < imageBound {
		t.Errorf("an off-by-one gives an image a mean |Δ| of only %.2f: the per-image bound %v would not catch it", m, imageBound)
	}
}

// pixelDiff accumulates per-channel |a − b| over images of 3 planes of 32×32.
type pixelDiff struct {
	sum    [3]int
	max    [3]int
	images int
}

func (p *pixelDiff) add(a, b []uint8) {
	for i := range a {
		c, d := i/1024, absDiff(int(a[i]), int(b[i]))
		p.sum[c] += d
		p.max[c] = max(p.max[c], d)
	}
	p.images++
}

func (p *pixelDiff) mean(c int) float64 { return float64(p.sum[c]) / float64(1024*p.images) }

func absDiff(a, b int) int { return max(a-b, b-a) }

func meanAbsDiff(a, b []uint8) float64 {
	s := 0
	for i := range a {
		s += absDiff(int(a[i]), int(b[i]))
	}
	return float64(s) / float64(len(a))
}

// fancyUpsampleH2V2 doubles a 16×16 chroma plane (row stride stride) to
// 32×32 as libjpeg(-turbo)'s h2v2_fancy_upsample (jdsample.c): each output
// sample is 9/16, 3/16, 3/16, 1/16 of the nearest four input samples (the
// edge rows and columns replicated), with libjpeg's alternating rounding
// biases 8 and 7.
func fancyUpsampleH2V2(plane []uint8, stride int) []uint8 {
	const w, h = 16, 16
	out := make([]uint8, 4*w*h)
	for r := range h {
		for v := range 2 {
			other := max(r-1, 0) // the row above for the upper output row
			if v == 1 {
				other = min(r+1, h-1)
			}
			var col [w]int
			for x := range w {
				col[x] = 3*int(plane[r*stride+x]) + int(plane[other*stride+x])
			}
			o := out[(2*r+v)*2*w:]
			for x := range w {
				left, right := col[max(x-1, 0)], col[min(x+1, w-1)]
				if x == 0 {
					o[0] = uint8((col[0]*4 + 8) >> 4)
				} else {
					o[2*x] = uint8((col[x]*3 + left + 8) >> 4)
				}
				if x == w-1 {
					o[2*x+1] = uint8((col[x]*4 + 7) >> 4)
				} else {
					o[2*x+1] = uint8((col[x]*3 + right + 7) >> 4)
				}
			}
		}
	}
	return out
}

// libjpegYCbCrToRGB converts as libjpeg's ycc_rgb_convert (jdcolor.c):
// 16-bit fixed point tables, the green term rounded once.
func libjpegYCbCrToRGB(y, cb, cr uint8) (r, g, b uint8) {
	fix := func(x float64) int { return int(x*65536 + 0.5) }
	const half = 1 << 15
	yy, xb, xr := int(y), int(cb)-128, int(cr)-128
	clamp := func(v int) uint8 { return uint8(min(max(v, 0), 255)) }
	return clamp(yy + (fix(1.40200)*xr+half)>>16),
		clamp(yy + (-fix(0.34414)*xb+half-fix(0.71414)*xr)>>16),
		clamp(yy + (fix(1.77200)*xb+half)>>16)
}

// TestTorchRefTransforms feeds the same uint8 images, crop offsets and flips
// to our training and evaluation iterators ([datasets.CIFAR10Train],
// [datasets.CIFAR10Test]) and to torchvision's transforms with the authors'
// constants, and compares the float tensors.
//
// The iterator's draws are read off a probe run: the draws depend only on
// the seed and the epoch, not on the pixels, so a dataset of the same size
// whose pixels encode (column, row, image) shows where every output pixel
// came from. Those draws are then given to torchvision (RandomCrop with
// get_params fixed, RandomHorizontalFlip with p = 1 or 0).
func TestTorchRefTransforms(t *testing.T) {
	const (
		n, h, w, pad = 250, 32, 32, 4
		batch        = 128 // two batches, the last smaller, as the authors' loader
		seed         = 20200824
		hw           = h * w
		tol          = 1e-5
	)
	// Synthetic images: uniform random bytes (every value, no smoothness to
	// hide a one-pixel shift), plus an all-0 and an all-255 image.
	r := rand.New(rand.NewPCG(1, 2))
	synth := &datasets.Dataset{Name: "synthetic", Classes: datasets.CIFAR10Classes, C: 3, H: h, W: w,
		Pixels: make([]uint8, n*3*hw), Labels: make([]int, n)}
	for i := range n {
		synth.Labels[i] = r.IntN(10)
		img := synth.Image(i)
		for p := range img {
			switch i {
			case 0:
				img[p] = 0
			case 1:
				img[p] = 255
			default:
				img[p] = uint8(r.Uint32())
			}
		}
	}
	probe := &datasets.Dataset{Name: "probe", Classes: synth.Classes, C: 3, H: h, W: w,
		Pixels: make([]uint8, n*3*hw), Labels: synth.Labels}
	for i := range n {
		img := probe.Image(i)
		for y := range h {
			for x := range w {
				img[y*w+x], img[hw+y*w+x], img[2*hw+y*w+x] = uint8(1+8*x), uint8(1+8*y), uint8(1+i)
			}
		}
	}

	type draw struct {
		dy, dx int
		flip   bool
	}
	// run iterates one epoch of cfg over d and returns per image (in batch
	// order) its index in the order of service and its NCHW tensor.
	run := func(d *datasets.Dataset, cfg datasets.BatchConfig) (tensors [][]float32, labels []int) {
		it := datasets.NewIterator(d, cfg)
		defer it.Close()
		x, lab := make([]float32, it.BatchFloats()), make([]int, batch)
		for {
			m := it.Next(x, lab)
			if m == 0 {
				return
			}
			for k := range m {
				img := make([]float32, 3*hw)
				for c := range 3 {
					copy(img[c*hw:(c+1)*hw], x[c*m*hw+k*hw:c*m*hw+(k+1)*hw]) // channel-major
				}
				tensors, labels = append(tensors, img), append(labels, lab[k])
			}
		}
	}
	train := datasets.CIFAR10Train(batch, seed)
	if train.Layout != datasets.ChannelMajor || train.Pad != pad || !train.Flip || !train.Shuffle {
		t.Fatalf("CIFAR10Train is %+v; this test reads channel-major batches with pad %d, flip and shuffle", train, pad)
	}
	probeCfg := train
	probeCfg.Mean, probeCfg.Std = nil, nil
	probed, _ := run(probe, probeCfg)
	ours, ourLabels := run(synth, train)
	if len(probed) != n || len(ours) != n {
		t.Fatalf("an epoch served %d and %d images, want %d", len(probed), len(ours), n)
	}

	// Decode the probe: which image, and which (dy, dx, flip) in padded coordinates.
	draws := make([]draw, n)
	served := make([]int, n) // served[k]: the image at position k of the epoch
	seen := make([]bool, n)
	for k, img := range probed {
		id, ok := -1, true
		var dyNo, dxNo, dxFlip []int
		for y := range h {
			for x := range w {
				var b [3]int
				for c := range 3 {
					b[c] = int(math.Round(float64(img[c*hw+y*w+x]) * 255))
				}
				if b == [3]int{} {
					continue // padding
				}
				if b[0] == 0 || b[1] == 0 || b[2] == 0 || (b[0]-1)%8 != 0 || (b[1]-1)%8 != 0 || (id >= 0 && id != b[2]-1) {
					ok = false
					continue
				}
				id = b[2] - 1
				sx, sy := (b[0]-1)/8, (b[1]-1)/8
				dyNo = append(dyNo, sy-y+pad)
				dxNo = append(dxNo, sx-x+pad)
				dxFlip = append(dxFlip, sx-(w-1-x)+pad)
			}
		}
		constant := func(v []int) bool { return len(v) > 0 && slices.Min(v) == slices.Max(v) }
		if !ok || id < 0 || id >= n || seen[id] || !constant(dyNo) || constant(dxNo) == constant(dxFlip) {
			t.Fatalf("position %d of the epoch is not a padded crop of one image, flipped or not (image %d)", k, id)
		}
		seen[id], served[k] = true, id
		dr := draw{dy: dyNo[0], dx: dxNo[0]}
		if constant(dxFlip) {
			dr.dx, dr.flip = dxFlip[0], true
		}
		// Exactly the pixels whose source lies outside the image are padding.
		valid := 0
		for y := range h {
			for x := range w {
				sx := x
				if dr.flip {
					sx = w - 1 - x
				}
				sx, sy := sx+dr.dx-pad, y+dr.dy-pad
				if sx >= 0 && sx < w && sy >= 0 && sy < h {
					valid++
				}
			}
		}
		if valid != len(dyNo) {
			t.Fatalf("position %d (image %d, %+v): %d pixels inside the image, %d expected", k, id, dr, len(dyNo), valid)
		}
		draws[id] = dr
		if ourLabels[k] != synth.Labels[id] {
			t.Fatalf("position %d: label %d, image %d has %d", k, ourLabels[k], id, synth.Labels[id])
		}
	}
	// The draws cover the whole range torchvision draws from: i, j uniform on
	// 0..2·pad (RandomCrop.get_params: randint(0, h+2·pad−32+1)), flip with p = 1/2.
	var dyHist, dxHist [2*pad + 1]int
	flips := 0
	for _, d := range draws {
		if d.dy < 0 || d.dy > 2*pad || d.dx < 0 || d.dx > 2*pad {
			t.Fatalf("draw %+v outside 0..%d", d, 2*pad)
		}
		dyHist[d.dy]++
		dxHist[d.dx]++
		if d.flip {
			flips++
		}
	}
	t.Logf("draws over %d images: row offsets %v, column offsets %v, flipped %d", n, dyHist, dxHist, flips)
	if slices.Min(dyHist[:]) == 0 || slices.Min(dxHist[:]) == 0 || flips < n/2-45 || flips > n/2+45 {
		t.Errorf("draws do not look uniform: rows %v, columns %v, %d flips of %d", dyHist, dxHist, flips, n)
	}

	// torchvision on the same bytes and draws.
	reqDraws := make([][3]int, n)
	for i, d := range draws {
		f := 0
		if d.flip {
			f = 1
		}
		reqDraws[i] = [3]int{d.dy, d.dx, f}
	}
	ref := startReference(t, "augment", map[string]any{"n": n, "h": h, "w": w, "pad": pad, "draws": reqDraws},
		map[string][]byte{"images.u8": synth.Pixels})
	evalOurs, evalLabels := run(synth, datasets.CIFAR10Test(batch))
	ref.wait(t)
	var info struct {
		Torch, Torchvision string
		Mean, Std          []float64
		MeanF32            []float32 `json:"mean_f32"`
		StdF32             []float32 `json:"std_f32"`
		RandomCrop         struct {
			Padding     any
			Fill        float64
			PaddingMode string `json:"padding_mode"`
			PadIfNeeded bool   `json:"pad_if_needed"`
		} `json:"random_crop"`
		FlipP float64 `json:"flip_p"`
	}
	ref.readJSON(t, "augment.json", &info)
	t.Logf("reference: torch %s, torchvision %s; Normalize(%v, %v); RandomCrop(32, padding=%v): fill %v, padding_mode %q, pad_if_needed %v; RandomHorizontalFlip p %v",
		info.Torch, info.Torchvision, info.Mean, info.Std, info.RandomCrop.Padding, info.RandomCrop.Fill,
		info.RandomCrop.PaddingMode, info.RandomCrop.PadIfNeeded, info.FlipP)
	if !slices.Equal(info.MeanF32, datasets.CIFAR10Mean) || !slices.Equal(info.StdF32, datasets.CIFAR10Std) {
		t.Errorf("normalisation: ours mean %v std %v, the authors' %v %v", datasets.CIFAR10Mean, datasets.CIFAR10Std, info.MeanF32, info.StdF32)
	}
	if info.RandomCrop.Fill != 0 || info.RandomCrop.PaddingMode != "constant" || info.FlipP != 0.5 {
		t.Errorf("torchvision's RandomCrop pads with %v (%s), flips with p %v; ours pads with 0 and flips with p 0.5",
			info.RandomCrop.Fill, info.RandomCrop.PaddingMode, info.FlipP)
	}

	ntot := n * 3 * hw
	flat := func(imgs [][]float32, order []int) []float32 {
		f := make([]float32, ntot)
		for k, img := range imgs {
			copy(f[order[k]*3*hw:], img)
		}
		return f
	}
	identity := make([]int, n)
	for i := range identity {
		identity[i] = i
	}
	if !slices.Equal(evalLabels, synth.Labels) {
		t.Fatalf("evaluation iterator labels out of order")
	}
	oursTrain, oursEval := flat(ours, served), flat(evalOurs, identity)
	compare := func(name string, a, b []float32) (maxAbs float64, exact int) {
		worst := -1
		for i := range a {
			d := math.Abs(float64(a[i]) - float64(b[i]))
			if d > maxAbs || math.IsNaN(d) {
				maxAbs, worst = d, i
			}
			if a[i] == b[i] {
				exact++
			}
		}
		t.Logf("%s: max |Δ| %.3g, %d of %d values bit-identical", name, maxAbs, exact, len(a))
		if worst >= 0 && maxAbs > tol {
			i := worst / (3 * hw)
			c, p := worst%(3*hw)/hw, worst%hw
			t.Logf("  worst at image %d (draw %+v), channel %d, row %d, column %d: %g vs %g", i, draws[i], c, p/w, p%w, a[worst], b[worst])
		}
		return maxAbs, exact
	}
	refTrain := ref.readFloats(t, "train.f32", ntot)
	refFunc := ref.readFloats(t, "functional.f32", ntot)
	refWrong := ref.readFloats(t, "pad_after_norm.f32", ntot)
	refEval := ref.readFloats(t, "test.f32", ntot)
	if d, _ := compare("torchvision train transforms vs their functional form", refTrain, refFunc); d != 0 {
		t.Errorf("the reference's two forms differ by %g", d)
	}
	if d, _ := compare("ours (CIFAR10Train) vs torchvision RandomCrop(32, padding=4)+RandomHorizontalFlip+ToTensor+Normalize", oursTrain, refTrain); d > tol {
		t.Errorf("training input differs from torchvision's by %g > %g", d, tol)
	}
	if d, _ := compare("ours (CIFAR10Test) vs torchvision ToTensor+Normalize", oursEval, refEval); d > tol {
		t.Errorf("evaluation input differs from torchvision's by %g > %g", d, tol)
	}
	if d, _ := compare("ours vs the wrong variant 'pad with 0 after Normalize'", oursTrain, refWrong); d < 1 {
		t.Errorf("padding after normalisation differs from ours by only %g: the check has no power", d)
	}
	// The value of a padded pixel: (0 − mean)/std, as torchvision's.
	for i, d := range draws {
		if d.dy == 0 { // row 0..pad−1 of the output is padding
			for c := range 3 {
				want := (0 - datasets.CIFAR10Mean[c]) / datasets.CIFAR10Std[c]
				got, theirs := oursTrain[(i*3+c)*hw], refTrain[(i*3+c)*hw]
				if got != want || theirs != want {
					t.Errorf("image %d channel %d: padded pixel %g (torchvision %g), want (0−mean)/std = %g", i, c, got, theirs, want)
				}
			}
			t.Logf("padded pixel (R, G, B) = (%.6f, %.6f, %.6f), torchvision (%.6f, %.6f, %.6f)",
				oursTrain[i*3*hw], oursTrain[(i*3+1)*hw], oursTrain[(i*3+2)*hw], refTrain[i*3*hw], refTrain[(i*3+1)*hw], refTrain[(i*3+2)*hw])
			break
		}
	}
}
