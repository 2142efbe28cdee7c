package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// writeIDXRelease writes a tiny Fashion-MNIST-shaped release (3 train and 2
// test images of 4×5) to dir, gzip-compressed or raw, and returns the
// SHA-256 of each decompressed file.
func writeIDXRelease(t *testing.T, dir string, compress bool) map[string]Checksum {
	sums := map[string]Checksum{}
	put := func(base string, content []byte) {
		h := sha256.Sum256(content)
		sums[base] = Checksum{Algorithm: "sha256", Hex: hex.EncodeToString(h[:]), OfDecompressed: true}
		if compress {
			writeFile(t, filepath.Join(dir, base+".gz"), gz(t, content))
		} else {
			writeFile(t, filepath.Join(dir, base), content)
		}
	}
	pix := func(n int) []byte {
		b := make([]byte, n*20)
		for i := range b {
			b[i] = byte(i * 3)
		}
		return b
	}
	put("train-images-idx3-ubyte", idxBytes(IDXImagesMagic, []int{3, 4, 5}, pix(3)))
	put("train-labels-idx1-ubyte", idxBytes(IDXLabelsMagic, []int{3}, []byte{9, 0, 4}))
	put("t10k-images-idx3-ubyte", idxBytes(IDXImagesMagic, []int{2, 4, 5}, pix(2)))
	put("t10k-labels-idx1-ubyte", idxBytes(IDXLabelsMagic, []int{2}, []byte{1, 2}))
	return sums
}

func TestReadIDX(t *testing.T) {
	for _, compress := range []bool{true, false} {
		dir := t.TempDir()
		sums := writeIDXRelease(t, dir, compress)
		for _, verify := range []bool{false, true} {
			var s map[string]Checksum
			if verify {
				s = sums
			}
			sp, err := readIDXSplit(dir, "fashion-mnist", FashionMNISTClasses, s)
			if err != nil {
				t.Fatalf("gzip=%v verify=%v: %v", compress, verify, err)
			}
			tr := sp.Train
			if tr.Len() != 3 || tr.C != 1 || tr.H != 4 || tr.W != 5 || tr.Labels[0] != 9 || tr.Image(1)[0] != byte(20*3) || sp.Test.Len() != 2 {
				t.Fatalf("gzip=%v: got %d images %dx%dx%d labels %v", compress, tr.Len(), tr.C, tr.H, tr.W, tr.Labels)
			}
			if tr.Classes[9] != "Ankle boot" {
				t.Fatalf("class 9 = %q", tr.Classes[9])
			}
		}
		for _, read := range []func(string) (*Split, error){ReadFashionMNIST, ReadMNIST} {
			sp, err := read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if sp.Train.Len() != 3 || sp.Test.Len() != 2 || len(sp.Train.Classes) != 10 {
				t.Fatalf("%s: %d/%d images, %d classes", sp.Train.Name, sp.Train.Len(), sp.Test.Len(), len(sp.Train.Classes))
			}
		}
	}
}

func TestIDXCorrupt(t *testing.T) {
	good := idxBytes(IDXImagesMagic, []int{2, 2, 2}, make([]byte, 8))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"wrong magic", idxBytes(0x00000903, []int{2, 2, 2}, make([]byte, 8)), "bad IDX magic number 0x00000903"},
		{"no magic", []byte{0, 0}, "reading the IDX magic"},
		{"truncated header", good[:9], "reading IDX dimension 1"},
		{"truncated data", good[:len(good)-1], "the file is truncated"},
		{"trailing data", append(bytes.Clone(good), 7), "longer than"},
		{"huge dims", idxBytes(IDXImagesMagic, []int{1 << 20, 1 << 20, 1}, nil), "more than"},
		{"truncated gzip", gz(t, good)[:20], "x.idx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeIDX(bytes.NewReader(tc.data), "x.idx")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.idx") {
				t.Fatalf("error %v, want one naming x.idx and %q", err, tc.want)
			}
		})
	}
	// File-level errors: swapped files, a label out of range, a checksum mismatch, a missing file.
	for _, tc := range []struct {
		name   string
		mutate func(dir string, sums map[string]Checksum)
		want   []string
	}{
		{"images file holds labels", func(dir string, _ map[string]Checksum) {
			writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), gz(t, idxBytes(IDXLabelsMagic, []int{3}, []byte{1, 2, 3})))
		}, []string{"train-images-idx3-ubyte.gz", "want 0x00000803"}},
		{"label out of range", func(dir string, _ map[string]Checksum) {
			writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), gz(t, idxBytes(IDXLabelsMagic, []int{2}, []byte{1, 10})))
		}, []string{"t10k-labels-idx1-ubyte.gz", "record 1", "label 10"}},
		{"count mismatch", func(dir string, _ map[string]Checksum) {
			writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), gz(t, idxBytes(IDXLabelsMagic, []int{1}, []byte{1})))
		}, []string{"t10k-labels-idx1-ubyte.gz", "1 labels for 2 images"}},
		{"checksum mismatch", func(dir string, sums map[string]Checksum) {
			s := sums["t10k-images-idx3-ubyte"]
			s.Hex = strings.Repeat("0", 64)
			sums["t10k-images-idx3-ubyte"] = s
		}, []string{"t10k-images-idx3-ubyte.gz", "checksum mismatch", "decompressed"}},
		{"missing file", func(dir string, _ map[string]Checksum) {
			if err := removeFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz")); err != nil {
				t.Fatal(err)
			}
		}, []string{"train-labels-idx1-ubyte", "make data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sums := writeIDXRelease(t, dir, true)
			tc.mutate(dir, sums)
			if tc.name != "checksum mismatch" {
				sums = nil // structural errors are caught without checksums
			}
			_, err := readIDXSplit(dir, "fashion-mnist", FashionMNISTClasses, sums)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *FileError", err)
			}
		})
	}
}
