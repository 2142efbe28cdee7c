package datasets

import (
	"encoding/binary"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// IDX magic numbers of the (Fashion-)MNIST files: unsigned bytes with 3
// dimensions (images) or 1 (labels).
const (
	IDXImagesMagic = 0x00000803
	IDXLabelsMagic = 0x00000801
)

// maxIDX bounds the data of one IDX file (Fashion-MNIST's largest holds 47 MB).
const maxIDX = 1 << 30

// FashionMNISTClasses are Fashion-MNIST's class names in label order.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// MNISTClasses are MNIST's class names: the digits.
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// IDX is the content of an IDX file of unsigned bytes.
type IDX struct {
	Magic uint32 // 0x0000_08_NN: type 0x08 (uint8), NN dimensions
	Dims  []int  // big-endian dimension sizes from the header
	Data  []uint8
}

// DecodeIDX reads an IDX file of unsigned bytes (type code 0x08) from r,
// raw or gzip-compressed: the magic number, one big-endian uint32 per
// dimension, then exactly the product of the dimensions in bytes. name is
// used in errors.
func DecodeIDX(r io.Reader, name string) (*IDX, error) {
	zr, err := maybeGunzip(name, r)
	if err != nil {
		return nil, err
	}
	var head [4]byte
	if _, err := io.ReadFull(zr, head[:]); err != nil {
		return nil, formatErr(name, -1, fixRedownload, "reading the IDX magic number: %v", err)
	}
	magic := binary.BigEndian.Uint32(head[:])
	nd := int(magic & 0xff)
	if magic>>8 != 0x08 || nd < 1 || nd > 4 {
		return nil, formatErr(name, -1, "expected an IDX file of unsigned bytes (magic 0x00000801 labels or 0x00000803 images); "+fixRedownload,
			"bad IDX magic number 0x%08x", magic)
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		if _, err := io.ReadFull(zr, head[:]); err != nil {
			return nil, formatErr(name, -1, fixRedownload, "reading IDX dimension %d: %v", i, err)
		}
		dims[i] = int(binary.BigEndian.Uint32(head[:]))
		total *= int64(dims[i])
		if total > maxIDX {
			return nil, formatErr(name, -1, fixRedownload, "IDX dimensions %v describe more than %d bytes", dims[:i+1], maxIDX)
		}
	}
	data, err := io.ReadAll(io.LimitReader(zr, total+1))
	if err != nil {
		return nil, formatErr(name, -1, fixRedownload, "reading IDX data: %v", err)
	}
	if int64(len(data)) != total {
		if int64(len(data)) < total {
			return nil, formatErr(name, -1, fixRedownload, "IDX data is %d bytes, the header %v announces %d: the file is truncated", len(data), dims, total)
		}
		return nil, formatErr(name, -1, fixRedownload, "IDX data is longer than the %d bytes the header %v announces", total, dims)
	}
	// Reach the end of a gzip stream, so its checksum is verified.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, formatErr(name, -1, fixRedownload, "reading: %v", err)
	}
	return &IDX{Magic: magic, Dims: dims, Data: data}, nil
}

// ReadIDX reads the IDX file at path (raw or gzip-compressed).
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, missingErr(path, err)
	}
	defer f.Close()
	return DecodeIDX(f, path)
}

// IDXDataset joins an images file (magic 0x803, dimensions N×H×W) and a
// labels file (magic 0x801, dimension N) into a one-channel dataset.
// imagesName and labelsName are used in errors.
func IDXDataset(name string, images *IDX, imagesName string, labels *IDX, labelsName string, classes []string) (*Dataset, error) {
	if images.Magic != IDXImagesMagic {
		return nil, formatErr(imagesName, -1, "pass the images file (…-images-idx3-ubyte) here", "magic 0x%08x, want 0x%08x (images)", images.Magic, IDXImagesMagic)
	}
	if labels.Magic != IDXLabelsMagic {
		return nil, formatErr(labelsName, -1, "pass the labels file (…-labels-idx1-ubyte) here", "magic 0x%08x, want 0x%08x (labels)", labels.Magic, IDXLabelsMagic)
	}
	n, h, w := images.Dims[0], images.Dims[1], images.Dims[2]
	if labels.Dims[0] != n {
		return nil, formatErr(labelsName, -1, "use the labels file of the same split as "+imagesName, "%d labels for %d images", labels.Dims[0], n)
	}
	if n == 0 {
		return nil, formatErr(imagesName, -1, fixRedownload, "no images")
	}
	if h == 0 || w == 0 {
		return nil, formatErr(imagesName, -1, fixRedownload, "images of %d×%d pixels", h, w)
	}
	d := &Dataset{Name: name, Source: imagesName, Classes: classes, C: 1, H: h, W: w, Pixels: images.Data, Labels: make([]int, n)}
	for i, l := range labels.Data {
		if int(l) >= len(classes) {
			return nil, formatErr(labelsName, i, fixRedownload, "label %d outside [0, %d)", l, len(classes))
		}
		d.Labels[i] = int(l)
	}
	return d, nil
}

// idxFiles names the four files of an (Fashion-)MNIST release.
var idxFiles = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// ReadFashionMNIST reads Fashion-MNIST's four IDX files from dir, each
// either gzip-compressed (name.gz) or raw. It does not verify checksums;
// [LoadFashionMNIST] does.
func ReadFashionMNIST(dir string) (*Split, error) {
	return readIDXSplit(dir, "fashion-mnist", FashionMNISTClasses, nil)
}

// ReadMNIST reads MNIST's four IDX files (raw or .gz) from dir.
func ReadMNIST(dir string) (*Split, error) {
	return readIDXSplit(dir, "mnist", MNISTClasses, nil)
}

// idxPath returns dir/base.gz if it exists, else dir/base.
func idxPath(dir, base string) string {
	gz := filepath.Join(dir, base+".gz")
	if _, err := os.Stat(gz); err == nil {
		return gz
	}
	return filepath.Join(dir, base)
}

func readIDXSplit(dir, name string, classes []string, sums map[string]Checksum) (*Split, error) {
	var files [4]*IDX
	var paths [4]string
	for i, base := range idxFiles {
		p := idxPath(dir, base)
		paths[i] = p
		f, err := os.Open(p)
		if err != nil {
			return nil, missingErr(p, err)
		}
		var r io.Reader = f
		sum, verify := sums[base]
		var h hash.Hash
		if verify {
			zr, err := maybeGunzip(p, f)
			if err != nil {
				f.Close()
				return nil, err
			}
			h = sum.newHash()
			r = io.TeeReader(zr, h)
		}
		files[i], err = DecodeIDX(r, p)
		f.Close()
		if err != nil {
			return nil, err
		}
		if verify {
			if err := sum.check(p, h); err != nil {
				return nil, err
			}
		}
	}
	train, err := IDXDataset(name+"/train", files[0], paths[0], files[1], paths[1], classes)
	if err != nil {
		return nil, err
	}
	test, err := IDXDataset(name+"/test", files[2], paths[2], files[3], paths[3], classes)
	if err != nil {
		return nil, err
	}
	return &Split{Train: train, Test: test}, nil
}
