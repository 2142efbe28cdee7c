package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testClasses = []string{"cat", "dog", "frog"}

// folderFiles returns an image folder of PNGs (lossless, so pixels can be
// compared exactly): 2 train and 1 test image per class, plus a README and
// a JPEG to exercise both decoders.
func folderFiles(t *testing.T) (names []string, files map[string][]byte, imgs map[string]*image.NRGBA) {
	files, imgs = map[string][]byte{}, map[string]*image.NRGBA{}
	add := func(name string, data []byte) {
		names = append(names, name)
		files[name] = data
	}
	seed := 0
	// Test before train and files out of order: the reader sorts.
	for _, split := range []string{"test", "train"} {
		for _, c := range []string{"frog", "cat", "dog"} {
			for _, f := range []string{"b.png", "a.png"} {
				if split == "test" && f == "b.png" {
					continue
				}
				img := testImage(8, 6, seed)
				seed += 5
				name := "top/" + split + "/" + c + "/" + f
				imgs[name] = img
				add(name, encodePNG(t, img))
			}
		}
	}
	add("top/README.txt", []byte("not an image"))
	add("top/train/cat/c.jpg", encodeJPEG(t, testImage(8, 6, 99)))
	return names, files, imgs
}

func checkFolder(t *testing.T, sp *Split, imgs map[string]*image.NRGBA) {
	t.Helper()
	wantTrain := []string{"cat/a.png", "cat/b.png", "cat/c.jpg", "dog/a.png", "dog/b.png", "frog/a.png", "frog/b.png"}
	wantTest := []string{"cat/a.png", "dog/a.png", "frog/a.png"}
	for _, c := range []struct {
		d     *Dataset
		split string
		want  []string
	}{{sp.Train, "train", wantTrain}, {sp.Test, "test", wantTest}} {
		if c.d.Len() != len(c.want) || c.d.C != 3 || c.d.H != 8 || c.d.W != 6 {
			t.Fatalf("%s: %d images of %dx%dx%d, want %d of 3x8x6", c.d.Name, c.d.Len(), c.d.C, c.d.H, c.d.W, len(c.want))
		}
		for i, w := range c.want {
			class := w[:strings.Index(w, "/")]
			if got := c.d.Classes[c.d.Labels[i]]; got != class {
				t.Fatalf("%s image %d: class %s, want %s", c.d.Name, i, got, class)
			}
			img := imgs["top/"+c.split+"/"+w]
			if img == nil { // the JPEG: lossy, check only the size
				continue
			}
			px := c.d.Image(i)
			for y := range 8 {
				for x := range 6 {
					o := img.PixOffset(x, y)
					for ch := range 3 {
						if px[ch*48+y*6+x] != img.Pix[o+ch] {
							t.Fatalf("%s image %d (%s) channel %d pixel (%d,%d) = %d, want %d", c.d.Name, i, w, ch, y, x, px[ch*48+y*6+x], img.Pix[o+ch])
						}
					}
				}
			}
		}
	}
}

func TestReadImageFolder(t *testing.T) {
	names, files, imgs := folderFiles(t)
	dir := t.TempDir()
	for _, n := range names {
		writeFile(t, filepath.Join(dir, "folder", filepath.FromSlash(n)), files[n])
	}
	archive := tarGz(t, names, files)
	ap := writeFile(t, filepath.Join(dir, "folder.tar.gz"), archive)
	sum := sha256.Sum256(archive)
	for _, tc := range []struct {
		name, path string
		sum        Checksum
	}{
		{"directory", filepath.Join(dir, "folder"), Checksum{}},
		{"archive", ap, Checksum{}},
		{"archive verified", ap, Checksum{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := readImageFolder(tc.path, "toy", testClasses, 8, 6, tc.sum)
			if err != nil {
				t.Fatal(err)
			}
			checkFolder(t, sp, imgs)
		})
	}
}

func TestImageFolderCorrupt(t *testing.T) {
	names, files, _ := folderFiles(t)
	with := func(name string, data []byte) ([]string, map[string][]byte) {
		f := map[string][]byte{}
		for k, v := range files {
			f[k] = v
		}
		n := append([]string(nil), names...)
		if _, ok := f[name]; !ok {
			n = append(n, name)
		}
		f[name] = data
		return n, f
	}
	without := func(prefix string) ([]string, map[string][]byte) {
		var n []string
		for _, k := range names {
			if !strings.HasPrefix(k, prefix) {
				n = append(n, k)
			}
		}
		return n, files
	}
	good := tarGz(t, names, files)
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		names []string
		files map[string][]byte
		raw   []byte // instead of names/files
		sum   Checksum
		want  []string
	}{
		{name: "wrong size", want: []string{"top/train/dog/a.png", "image is 7×8 pixels, want 6×8"}},
		{name: "unknown class", want: []string{"top/train/horse/x.png", `unknown class folder "horse"`}},
		{name: "not an image", want: []string{"top/test/cat/a.png", "not a PNG or JPEG image"}},
		{name: "corrupt JPEG", want: []string{"top/test/dog/a.png", "not a readable PNG or JPEG"}},
		{name: "image outside class folder", want: []string{"top/train/x.png", "outside a train/<class>/"}},
		{name: "no test split", want: []string{"no images under test/"}},
		{name: "truncated archive", raw: good[:len(good)*2/3], want: []string{"download it again"}},
		{name: "checksum mismatch", raw: good, sum: Checksum{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}, want: []string{"checksum mismatch"}},
	} {
		switch tc.name {
		case "wrong size":
			tc.names, tc.files = with("top/train/dog/a.png", encodePNG(t, testImage(8, 7, 1)))
		case "unknown class":
			tc.names, tc.files = with("top/train/horse/x.png", encodePNG(t, testImage(8, 6, 1)))
		case "not an image":
			tc.names, tc.files = with("top/test/cat/a.png", []byte("\x89PNG garbage"))
		case "corrupt JPEG":
			tc.names, tc.files = with("top/test/dog/a.png", []byte("\xff\xd8\xff garbage"))
		case "image outside class folder":
			tc.names, tc.files = with("top/train/x.png", encodePNG(t, testImage(8, 6, 1)))
		case "no test split":
			tc.names, tc.files = without("top/test/")
		}
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw
			if raw == nil {
				raw = tarGz(t, tc.names, tc.files)
			}
			p := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".tar.gz"), raw)
			_, err := readImageFolder(p, "toy", testClasses, 8, 6, tc.sum)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.want, p) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *FileError", err)
			}
			// The same content as a directory gives the same kind of error.
			if tc.raw == nil {
				d := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
				for _, n := range tc.names {
					writeFile(t, filepath.Join(d, filepath.FromSlash(n)), tc.files[n])
				}
				_, err := ReadImageFolder(d, "toy", testClasses, 8, 6)
				if err == nil || !strings.Contains(err.Error(), tc.want[len(tc.want)-1]) {
					t.Errorf("directory: error %v, want one mentioning %q", err, tc.want[len(tc.want)-1])
				}
			}
		})
	}
	if _, err := ReadImageFolder(filepath.Join(dir, "nothing"), "toy", testClasses, 8, 6); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing folder: error %v, want one wrapping fs.ErrNotExist", err)
	}
}

func TestDecodeImageFolderArchiveReader(t *testing.T) {
	names, files, imgs := folderFiles(t)
	sp, err := DecodeImageFolderArchive(bytes.NewReader(tarGz(t, names, files)), "mem.tar.gz", "toy", testClasses, 8, 6)
	if err != nil {
		t.Fatal(err)
	}
	checkFolder(t, sp, imgs)
}
