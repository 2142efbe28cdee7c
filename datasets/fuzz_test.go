package datasets

import (
	"bytes"
	"errors"
	"testing"
)

// The fuzz targets feed arbitrary bytes to the readers of outside input:
// each must return a dataset that validates, or a *FileError, and never
// panic or allocate without bound. Seeds: f.Add below and testdata/fuzz.

func FuzzCIFARBinary(f *testing.F) {
	f.Add(cifarRecords(2, 0))
	f.Add(cifarRecords(1, 3)[:100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, decode := range []func() (*Dataset, error){
			func() (*Dataset, error) { return DecodeCIFAR10(bytes.NewReader(data), "fuzz.bin") },
			func() (*Dataset, error) { return DecodeCIFAR100(bytes.NewReader(data), "fuzz.bin") },
		} {
			d, err := decode()
			checkFuzzResult(t, err, d)
		}
	})
}

func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(IDXImagesMagic, []int{2, 2, 3}, make([]byte, 12)))
	f.Add(idxBytes(IDXLabelsMagic, []int{3}, []byte{1, 2, 3}))
	f.Add(gz(f, idxBytes(IDXLabelsMagic, []int{2}, []byte{1, 9})))
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := DecodeIDX(bytes.NewReader(data), "fuzz.idx")
		if err != nil {
			checkFuzzResult(t, err, nil)
			return
		}
		total := 1
		for _, d := range idx.Dims {
			total *= d
		}
		if total != len(idx.Data) {
			t.Fatalf("dims %v but %d data bytes", idx.Dims, len(idx.Data))
		}
		if idx.Magic == IDXImagesMagic && idx.Dims[0] <= len(idx.Data) {
			labels := &IDX{Magic: IDXLabelsMagic, Dims: []int{idx.Dims[0]}, Data: make([]byte, idx.Dims[0])}
			d, err := IDXDataset("fuzz", idx, "fuzz.idx", labels, "labels", MNISTClasses)
			checkFuzzResult(t, err, d)
		}
	})
}

func FuzzImageFolder(f *testing.F) {
	f.Add(tarGz(f, []string{"train/cat/a.png", "test/dog/b.png"}, map[string][]byte{
		"train/cat/a.png": encodePNG(f, testImage(4, 4, 1)), "test/dog/b.png": encodePNG(f, testImage(4, 4, 2))}))
	f.Add(tarGz(f, []string{"train/cat/a.jpg", "test/cat/b.jpg"}, map[string][]byte{
		"train/cat/a.jpg": encodeJPEG(f, testImage(4, 4, 1)), "test/cat/b.jpg": encodeJPEG(f, testImage(4, 4, 2))}))
	f.Add(tarGz(f, []string{"train/cow/a.png"}, map[string][]byte{"train/cow/a.png": encodePNG(f, testImage(4, 4, 1))}))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := DecodeImageFolderArchive(bytes.NewReader(data), "fuzz.tar.gz", "fuzz", testClasses, 4, 4)
		if err != nil {
			checkFuzzResult(t, err, nil)
			return
		}
		checkFuzzResult(t, nil, sp.Train)
		checkFuzzResult(t, nil, sp.Test)
	})
}

func checkFuzzResult(t *testing.T, err error, d *Dataset) {
	t.Helper()
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) || fe.File == "" {
			t.Fatalf("error %q is not a *FileError naming the file", err)
		}
		return
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Len() == 0 {
		t.Fatal("an empty dataset without an error")
	}
}
