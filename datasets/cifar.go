package datasets

import (
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// CIFAR10Classes are CIFAR-10's class names in its official label order.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// CIFAR100Classes are CIFAR-100's fine class names in label order (as in the
// release's fine_label_names.txt).
var CIFAR100Classes = []string{
	"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
	"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
	"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
	"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
	"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
	"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
	"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
	"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
	"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
	"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
}

// cifarImage is the byte size of one CIFAR image: 32×32 pixels, R then G then B planes.
const cifarImage = 3 * 32 * 32

// maxBinaryFile bounds a CIFAR batch file (the official ones hold 10,000 or
// 50,000 records), so a corrupt size field cannot exhaust memory.
const maxBinaryFile = 1 << 30

// cifarFormat describes a CIFAR binary release.
type cifarFormat struct {
	name       string   // "cifar10"
	labelBytes int      // label bytes before each image
	labelIndex int      // which of them is the label used
	classes    []string // class names
	dir        string   // the folder inside the official archive
	train      []string // training batch files, in order
	test       []string // test batch files
}

var (
	cifar10Format = cifarFormat{name: "cifar10", labelBytes: 1, labelIndex: 0, classes: CIFAR10Classes,
		dir:   "cifar-10-batches-bin",
		train: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		test:  []string{"test_batch.bin"}}
	cifar100Format = cifarFormat{name: "cifar100", labelBytes: 2, labelIndex: 1, classes: CIFAR100Classes,
		dir: "cifar-100-binary", train: []string{"train.bin"}, test: []string{"test.bin"}}
)

// DecodeCIFAR10 reads CIFAR-10 binary records from r until EOF: each is one
// label byte and 3,072 pixel bytes (the R, G and B planes of a 32×32 image,
// rows top to bottom). name is used in errors and as the dataset's name.
func DecodeCIFAR10(r io.Reader, name string) (*Dataset, error) {
	return decodeCIFAR(r, name, cifar10Format)
}

// DecodeCIFAR100 reads CIFAR-100 binary records (a coarse label byte, a fine
// label byte, 3,072 pixel bytes) from r until EOF, keeping the fine labels.
func DecodeCIFAR100(r io.Reader, name string) (*Dataset, error) {
	return decodeCIFAR(r, name, cifar100Format)
}

func decodeCIFAR(r io.Reader, name string, f cifarFormat) (*Dataset, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBinaryFile+1))
	if err != nil {
		return nil, fileErr(name, -1, fixRedownload, fmt.Errorf("%w: reading: %v", ErrFormat, err))
	}
	if len(data) > maxBinaryFile {
		return nil, formatErr(name, -1, fixReplace, "larger than %d bytes: not a CIFAR batch file", maxBinaryFile)
	}
	return parseCIFAR(data, name, f)
}

func parseCIFAR(data []byte, name string, f cifarFormat) (*Dataset, error) {
	rec := f.labelBytes + cifarImage
	n := len(data) / rec
	if len(data) == 0 {
		return nil, formatErr(name, -1, fixRedownload, "empty: no %s records", f.name)
	}
	if len(data)%rec != 0 {
		return nil, formatErr(name, n, fixRedownload, "short record: %d bytes, a %s record has %d (%d label + %d pixel bytes)",
			len(data)%rec, f.name, rec, f.labelBytes, cifarImage)
	}
	d := &Dataset{Name: name, Source: name, Classes: f.classes, C: 3, H: 32, W: 32,
		Pixels: make([]uint8, n*cifarImage), Labels: make([]int, n)}
	for i := range n {
		r := data[i*rec : (i+1)*rec]
		l := int(r[f.labelIndex])
		if l >= len(f.classes) {
			return nil, formatErr(name, i, fixRedownload, "label %d outside [0, %d)", l, len(f.classes))
		}
		if f.labelBytes == 2 && int(r[0]) >= 20 {
			return nil, formatErr(name, i, fixRedownload, "coarse label %d outside [0, 20)", r[0])
		}
		d.Labels[i] = l
		copy(d.Pixels[i*cifarImage:], r[f.labelBytes:])
	}
	return d, nil
}

// ReadCIFAR10Binary reads CIFAR-10's official binary release from path: the
// archive cifar-10-binary.tar.gz, or a directory holding data_batch_1.bin …
// data_batch_5.bin and test_batch.bin (directly or in cifar-10-batches-bin/).
// It does not verify a checksum; [LoadCIFAR10] does.
func ReadCIFAR10Binary(path string) (*Split, error) {
	return readCIFARBinary(path, cifar10Format, Checksum{})
}

// ReadCIFAR100Binary reads CIFAR-100's binary release (cifar-100-binary.tar.gz,
// or a directory holding train.bin and test.bin), keeping the fine labels.
func ReadCIFAR100Binary(path string) (*Split, error) {
	return readCIFARBinary(path, cifar100Format, Checksum{})
}

func readCIFARBinary(p string, f cifarFormat, sum Checksum) (*Split, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, missingErr(p, err)
	}
	files := map[string]*Dataset{}
	want := append(append([]string(nil), f.train...), f.test...)
	if st.IsDir() {
		dir := p
		if _, err := os.Stat(filepath.Join(dir, f.dir)); err == nil {
			dir = filepath.Join(dir, f.dir)
		}
		for _, base := range want {
			fp := filepath.Join(dir, base)
			fh, err := os.Open(fp)
			if err != nil {
				return nil, missingErr(fp, err)
			}
			d, err := decodeCIFAR(fh, fp, f)
			fh.Close()
			if err != nil {
				return nil, err
			}
			files[base] = d
		}
	} else {
		var h hash.Hash
		if !sum.IsZero() {
			h = sum.newHash()
		}
		err := walkTarGz(p, h, func(name string, size int64, r io.Reader) error {
			base := path.Base(name)
			if !slices.Contains(want, base) {
				return nil
			}
			member := p + ":" + name
			data, err := readMember(member, size, r, maxBinaryFile)
			if err != nil {
				return err
			}
			d, err := parseCIFAR(data, member, f)
			if err != nil {
				return err
			}
			files[base] = d
			return nil
		})
		if err != nil {
			return nil, err
		}
		if h != nil {
			if err := sum.check(p, h); err != nil {
				return nil, err
			}
		}
	}
	for _, base := range want {
		if files[base] == nil {
			return nil, fileErr(p, -1, "use the official "+f.name+" binary release", fmt.Errorf("%w: member %s/%s is missing", fs.ErrNotExist, f.dir, base))
		}
	}
	return &Split{
		Train: concat(f.name+"/train", p, pick(files, f.train)),
		Test:  concat(f.name+"/test", p, pick(files, f.test)),
	}, nil
}

func pick(m map[string]*Dataset, keys []string) []*Dataset {
	out := make([]*Dataset, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// concat joins datasets of equal shape and classes.
func concat(name, source string, parts []*Dataset) *Dataset {
	n := 0
	for _, p := range parts {
		n += p.Len()
	}
	first := parts[0]
	d := &Dataset{Name: name, Source: source, Classes: first.Classes, C: first.C, H: first.H, W: first.W,
		Pixels: make([]uint8, 0, n*first.ImageSize()), Labels: make([]int, 0, n)}
	for _, p := range parts {
		d.Pixels = append(d.Pixels, p.Pixels...)
		d.Labels = append(d.Labels, p.Labels...)
	}
	return d
}
