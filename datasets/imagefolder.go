package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// maxImageFile bounds one image file; CIFAR's are about 1 KB.
const maxImageFile = 16 << 20

// imageEntry is one image found in an image folder.
type imageEntry struct {
	file  string // path for errors: a file, or "archive.tar.gz:member"
	test  bool
	label int
	base  string  // file name, the sort key within a class
	data  []byte  // the encoded image (archives), or nil (directories: read from file)
	pix   []uint8 // the decoded image, when decoded already (archives)
}

// ReadImageFolder reads an image folder: train/<class>/*.{png,jpg,jpeg} and
// test/<class>/*.{png,jpg,jpeg}, from path, a directory or a gzip-compressed
// tar archive (members may sit under one top folder). classes fixes the label
// order: the images of the folder classes[i] get label i, and a class folder
// not in the list is an error. Every image must be h×w pixels; it is stored
// as 3 channels (R, G, B; a grey image is repeated over the three). Within a
// split, images are ordered by label, then file name. The images are decoded
// in parallel, after image.DecodeConfig has checked each header. name
// prefixes the datasets' names ("cifar10" → "cifar10/train").
func ReadImageFolder(path, name string, classes []string, h, w int) (*Split, error) {
	return readImageFolder(path, name, classes, h, w, Checksum{})
}

func readImageFolder(p, name string, classes []string, h, w int, sum Checksum) (*Split, error) {
	if h <= 0 || w <= 0 || len(classes) == 0 {
		panic(fmt.Sprintf("datasets: ReadImageFolder: image size %d×%d and %d classes must be positive", h, w, len(classes)))
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, missingErr(p, err)
	}
	if !st.IsDir() {
		f, err := os.Open(p)
		if err != nil {
			return nil, missingErr(p, err)
		}
		defer f.Close()
		return decodeImageFolderArchive(f, p, name, classes, h, w, sum)
	}
	var entries []imageEntry
	label := classLabels(classes)
	err = filepath.WalkDir(p, func(fp string, de fs.DirEntry, err error) error {
		if err != nil {
			return fileErr(fp, -1, "", err)
		}
		if de.IsDir() || !de.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(p, fp)
		e, ok, err := classify(fp, filepath.ToSlash(rel), label, classes)
		if ok {
			entries = append(entries, e)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return buildImageFolder(entries, p, name, classes, h, w)
}

func classLabels(classes []string) map[string]int {
	label := make(map[string]int, len(classes))
	for i, c := range classes {
		label[c] = i
	}
	return label
}

// DecodeImageFolderArchive reads an image folder (see [ReadImageFolder])
// from r, a gzip-compressed tar archive; file names the archive in errors.
func DecodeImageFolderArchive(r io.Reader, file, name string, classes []string, h, w int) (*Split, error) {
	if h <= 0 || w <= 0 || len(classes) == 0 {
		panic(fmt.Sprintf("datasets: DecodeImageFolderArchive: image size %d×%d and %d classes must be positive", h, w, len(classes)))
	}
	return decodeImageFolderArchive(r, file, name, classes, h, w, Checksum{})
}

func decodeImageFolderArchive(r io.Reader, p, name string, classes []string, h, w int, sum Checksum) (*Split, error) {
	// Decoding runs while the archive is read: the reading goroutine hands
	// each image to GOMAXPROCS workers, which decode it into a slot of a
	// chunked pixel arena (e.pix); buildImageFolder then puts the slots in
	// order. Member bytes are carved from a byte arena too, to spare the
	// garbage collector 60,000 small allocations.
	type job struct {
		seq int
		e   imageEntry
		dst []uint8
	}
	const chunk = 1024
	size := 3 * h * w
	var (
		entries  []imageEntry
		label    = classLabels(classes)
		hh       = sum.hashOrNil()
		jobs     = make(chan job, 256)
		failed   atomic.Bool
		mu       sync.Mutex
		firstErr error
		errSeq   = -1
		wg       sync.WaitGroup
		pixArena []uint8
		arena    []byte
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if failed.Load() {
					continue
				}
				if err := decodeImage(&j.e, j.dst, h, w); err != nil {
					mu.Lock()
					if errSeq < 0 || j.seq < errSeq {
						firstErr, errSeq = err, j.seq
					}
					mu.Unlock()
					failed.Store(true)
				}
			}
		}()
	}
	err := walkTarGzReader(p, r, hh, func(member string, size64 int64, r io.Reader) error {
		if !isImageName(member) {
			return nil
		}
		file := p + ":" + member
		e, ok, err := classify(file, member, label, classes)
		if err != nil || !ok {
			return err
		}
		if size64 < 0 || size64 > maxImageFile {
			return formatErr(file, -1, fixReplace, "member of %d bytes is larger than the %d allowed", size64, maxImageFile)
		}
		n := int(size64)
		if len(arena) < n {
			arena = make([]byte, max(n, 1<<20))
		}
		e.data, arena = arena[:n:n], arena[n:]
		if _, err := io.ReadFull(r, e.data); err != nil {
			return fileErr(file, -1, fixRedownload, fmt.Errorf("%w: reading: %v", ErrFormat, err))
		}
		if len(pixArena) == 0 {
			pixArena = make([]uint8, chunk*size)
		}
		e.pix, pixArena = pixArena[:size:size], pixArena[size:]
		entries = append(entries, e)
		jobs <- job{seq: len(entries) - 1, e: e, dst: e.pix}
		return nil
	})
	close(jobs)
	wg.Wait()
	if err == nil && hh != nil {
		err = sum.check(p, hh)
	}
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return nil, err
	}
	return buildImageFolder(entries, p, name, classes, h, w)
}

// buildImageFolder orders the entries, decodes them and splits them.
func buildImageFolder(entries []imageEntry, p, name string, classes []string, h, w int) (*Split, error) {
	slices.SortFunc(entries, func(a, b imageEntry) int {
		switch {
		case a.test != b.test:
			if a.test {
				return 1
			}
			return -1
		case a.label != b.label:
			return a.label - b.label
		}
		return strings.Compare(a.base, b.base)
	})
	nTrain := 0
	for _, e := range entries {
		if !e.test {
			nTrain++
		}
	}
	if nTrain == 0 || nTrain == len(entries) {
		missing := "train"
		if nTrain > 0 {
			missing = "test"
		}
		return nil, fileErr(p, -1, "an image folder holds train/<class>/*.jpg and test/<class>/*.jpg", fmt.Errorf("%w: no images under %s/", fs.ErrNotExist, missing))
	}
	size := 3 * h * w
	pixels := make([]uint8, len(entries)*size)
	labels := make([]int, len(entries))
	if err := decodeAll(entries, pixels, labels, h, w); err != nil {
		return nil, err
	}
	mk := func(split string, lo, hi int) *Dataset {
		return &Dataset{Name: name + "/" + split, Source: p, Classes: classes, C: 3, H: h, W: w,
			Pixels: pixels[lo*size : hi*size : hi*size], Labels: labels[lo:hi:hi]}
	}
	return &Split{Train: mk("train", 0, nTrain), Test: mk("test", nTrain, len(entries))}, nil
}

func isImageName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return !strings.HasPrefix(path.Base(name), ".")
	}
	return false
}

// classify places the file at rel (slash path relative to the folder root):
// it must end in train|test/<class>/<file>. Non-image files are skipped.
func classify(file, rel string, label map[string]int, classes []string) (imageEntry, bool, error) {
	if !isImageName(rel) {
		return imageEntry{}, false, nil
	}
	parts := strings.Split(rel, "/")
	n := len(parts)
	if n < 3 || (parts[n-3] != "train" && parts[n-3] != "test") {
		return imageEntry{}, false, formatErr(file, -1, "put every image in train/<class>/ or test/<class>/", "image outside a train/<class>/ or test/<class>/ folder")
	}
	l, ok := label[parts[n-2]]
	if !ok {
		return imageEntry{}, false, formatErr(file, -1, "rename the folder to one of the classes or remove it",
			"unknown class folder %q; the classes are %s", parts[n-2], strings.Join(classes, ", "))
	}
	return imageEntry{file: file, test: parts[n-3] == "test", label: l, base: parts[n-1]}, true, nil
}

// decodeAll decodes entries[i] into pixels[i·3hw:] on GOMAXPROCS workers and
// reports the error of the lowest failing index, so the result does not
// depend on scheduling.
func decodeAll(entries []imageEntry, pixels []uint8, labels []int, h, w int) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(entries)/64))
	size := 3 * h * w
	var next atomic.Int64
	var failed atomic.Bool
	errs := make([]error, workers)
	errAt := make([]int, workers)
	var wg sync.WaitGroup
	for k := range workers {
		errAt[k] = len(entries)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(entries) {
					return
				}
				e := &entries[i]
				labels[i] = e.label
				if e.pix != nil {
					copy(pixels[i*size:(i+1)*size], e.pix)
					continue
				}
				if err := decodeImage(e, pixels[i*size:(i+1)*size], h, w); err != nil {
					errs[k], errAt[k] = err, i
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	best := -1
	for k := range workers {
		if errs[k] != nil && (best < 0 || errAt[k] < errAt[best]) {
			best = k
		}
	}
	if best >= 0 {
		return errs[best]
	}
	return nil
}

// decodeImage checks the header of one image, decodes it and writes it to
// dst as R, G, B planes.
func decodeImage(e *imageEntry, dst []uint8, h, w int) error {
	data := e.data
	if data == nil {
		st, err := os.Stat(e.file)
		if err != nil {
			return missingErr(e.file, err)
		}
		if st.Size() > maxImageFile {
			return formatErr(e.file, -1, fixReplace, "file of %d bytes is too large for an image", st.Size())
		}
		if data, err = os.ReadFile(e.file); err != nil {
			return missingErr(e.file, err)
		}
	}
	// Pick the decoder by the magic bytes and call it directly: image.Decode
	// would wrap the reader in a fresh bufio.Reader (4 KB) twice per image.
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		decodeConfig, decode = png.DecodeConfig, png.Decode
	default:
		return formatErr(e.file, -1, fixReplace, "not a PNG or JPEG image (unknown magic bytes)")
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return formatErr(e.file, -1, fixReplace, "not a readable PNG or JPEG image: %v", err)
	}
	if cfg.Width != w || cfg.Height != h {
		return formatErr(e.file, -1, fixReplace, "image is %d×%d pixels, want %d×%d", cfg.Width, cfg.Height, w, h)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return formatErr(e.file, -1, fixReplace, "decoding: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		return formatErr(e.file, -1, fixReplace, "decoded image is %d×%d pixels, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
	toPlanes(img, dst, h, w)
	return nil
}

// toPlanes writes img's pixels to dst as R, G, B planes of h×w bytes
// (alpha is dropped: colours are taken as stored).
func toPlanes(img image.Image, dst []uint8, h, w int) {
	r, g, b := dst[:h*w], dst[h*w:2*h*w], dst[2*h*w:3*h*w]
	min := img.Bounds().Min
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			yrow := m.Y[m.YOffset(min.X, min.Y+y):]
			crow := m.COffset(min.X, min.Y+y)
			k := y * w
			switch m.SubsampleRatio {
			case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422:
				// Chroma is shared by pairs of columns; min is (0, 0) for decoded images.
				if min.X%2 == 0 {
					cb, cr := m.Cb[crow:crow+(w+1)/2], m.Cr[crow:crow+(w+1)/2]
					for x := range w {
						r[k+x], g[k+x], b[k+x] = color.YCbCrToRGB(yrow[x], cb[x/2], cr[x/2])
					}
					continue
				}
			case image.YCbCrSubsampleRatio444:
				cb, cr := m.Cb[crow:crow+w], m.Cr[crow:crow+w]
				for x := range w {
					r[k+x], g[k+x], b[k+x] = color.YCbCrToRGB(yrow[x], cb[x], cr[x])
				}
				continue
			}
			for x := range w {
				ci := m.COffset(min.X+x, min.Y+y)
				r[k+x], g[k+x], b[k+x] = color.YCbCrToRGB(yrow[x], m.Cb[ci], m.Cr[ci])
			}
		}
	case *image.Gray:
		for y := range h {
			o := m.PixOffset(min.X, min.Y+y)
			row := m.Pix[o : o+w]
			copy(r[y*w:], row)
			copy(g[y*w:], row)
			copy(b[y*w:], row)
		}
	case *image.NRGBA:
		for y := range h {
			o := m.PixOffset(min.X, min.Y+y)
			row := m.Pix[o : o+4*w]
			for x := range w {
				k := y*w + x
				r[k], g[k], b[k] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(min.X+x, min.Y+y)).(color.NRGBA)
				k := y*w + x
				r[k], g[k], b[k] = c.R, c.G, c.B
			}
		}
	}
}
