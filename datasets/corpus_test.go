package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteFuzzCorpus regenerates testdata/fuzz when CNET_GEN_CORPUS=1:
// seeds in the official formats and typical corruptions of them.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CNET_GEN_CORPUS") != "1" {
		t.Skip("set CNET_GEN_CORPUS=1 to regenerate testdata/fuzz")
	}
	png := func(seed int) []byte { return encodePNG(t, testImage(4, 4, seed)) }
	folder := tarGz(t, []string{"train/cat/a.png", "train/frog/b.png", "test/dog/c.png"},
		map[string][]byte{"train/cat/a.png": png(1), "train/frog/b.png": png(2), "test/dog/c.png": png(3)})
	seeds := map[string]map[string][]byte{
		"FuzzCIFARBinary": {
			"two-records":  cifarRecords(2, 5),
			"short-record": cifarRecords(2, 5)[:2*(cifarImage+1)-7],
			"bad-label":    append([]byte{200}, make([]byte, cifarImage)...),
		},
		"FuzzIDX": {
			"images":        idxBytes(IDXImagesMagic, []int{2, 3, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
			"labels-gz":     gz(t, idxBytes(IDXLabelsMagic, []int{4}, []byte{0, 1, 2, 3})),
			"wrong-magic":   idxBytes(0x00000c03, []int{1, 1, 1}, []byte{0}),
			"truncated-gz":  gz(t, idxBytes(IDXImagesMagic, []int{2, 3, 2}, make([]byte, 12)))[:25],
			"zero-images":   idxBytes(IDXImagesMagic, []int{0, 28, 28}, nil),
			"huge-dims":     idxBytes(IDXImagesMagic, []int{60000, 60000, 60000}, nil),
			"trailing-data": idxBytes(IDXLabelsMagic, []int{1}, []byte{1, 2}),
		},
		"FuzzImageFolder": {
			"folder":        folder,
			"truncated":     folder[:len(folder)/2],
			"wrong-size":    tarGz(t, []string{"train/cat/a.png", "test/cat/b.png"}, map[string][]byte{"train/cat/a.png": png(1), "test/cat/b.png": encodePNG(t, testImage(5, 4, 1))}),
			"unknown-class": tarGz(t, []string{"train/cow/a.png"}, map[string][]byte{"train/cow/a.png": png(1)}),
			"jpeg":          tarGz(t, []string{"train/cat/a.jpg", "test/cat/b.jpg"}, map[string][]byte{"train/cat/a.jpg": encodeJPEG(t, testImage(4, 4, 1)), "test/cat/b.jpg": encodeJPEG(t, testImage(4, 4, 2))}),
		},
	}
	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
