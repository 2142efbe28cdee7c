package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// cifarRecords writes n records in the official CIFAR-10 binary format:
// label i%10, pixel bytes a function of (record, byte).
func cifarRecords(n, seed int) []byte {
	var b []byte
	for i := range n {
		b = append(b, byte((i+seed)%10))
		for j := range cifarImage {
			b = append(b, byte(i*7+j*13+seed))
		}
	}
	return b
}

// tarGz packs files (name → content, in the given order) into a .tar.gz.
func tarGz(t testing.TB, names []string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range names {
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cifar10Files returns a small CIFAR-10 binary release: per-batch record
// counts 3, 2, 2, 1, 2 and 4 test records.
func cifar10Files() (names []string, files map[string][]byte) {
	files = map[string][]byte{}
	counts := []int{3, 2, 2, 1, 2, 4}
	for i, base := range append(append([]string(nil), cifar10Format.train...), cifar10Format.test...) {
		name := "cifar-10-batches-bin/" + base
		names = append(names, name)
		files[name] = cifarRecords(counts[i], i*100)
	}
	names = append(names, "cifar-10-batches-bin/batches.meta.txt")
	files["cifar-10-batches-bin/batches.meta.txt"] = []byte("airplane\n")
	return names, files
}

// testImage returns an h×w RGB image whose pixels depend on seed.
func testImage(h, w, seed int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x*8 + seed), G: uint8(y*8 + 3*seed), B: uint8(x*y + seed), A: 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// idxBytes encodes an IDX file of unsigned bytes.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func removeFile(p string) error { return os.Remove(p) }
