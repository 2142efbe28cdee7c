package datasets

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// checkCIFARSmall checks a split read from cifar10Files against the records
// as written.
func checkCIFARSmall(t *testing.T, sp *Split) {
	t.Helper()
	_, files := cifar10Files()
	var train []byte
	for _, b := range cifar10Format.train {
		train = append(train, files["cifar-10-batches-bin/"+b]...)
	}
	for _, c := range []struct {
		d   *Dataset
		raw []byte
	}{{sp.Train, train}, {sp.Test, files["cifar-10-batches-bin/test_batch.bin"]}} {
		n := len(c.raw) / (cifarImage + 1)
		if c.d.Len() != n || c.d.C != 3 || c.d.H != 32 || c.d.W != 32 {
			t.Fatalf("%s: %d images of %dx%dx%d, want %d of 3x32x32", c.d.Name, c.d.Len(), c.d.C, c.d.H, c.d.W, n)
		}
		for i := range n {
			rec := c.raw[i*(cifarImage+1) : (i+1)*(cifarImage+1)]
			if c.d.Labels[i] != int(rec[0]) {
				t.Fatalf("%s image %d: label %d, want %d", c.d.Name, i, c.d.Labels[i], rec[0])
			}
			if !bytes.Equal(c.d.Image(i), rec[1:]) {
				t.Fatalf("%s image %d: pixels differ from the record", c.d.Name, i)
			}
		}
		if err := c.d.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if sp.Train.Name != "cifar10/train" || sp.Test.Name != "cifar10/test" || sp.Train.Classes[9] != "truck" {
		t.Fatalf("names %q %q, classes %v", sp.Train.Name, sp.Test.Name, sp.Train.Classes)
	}
}

func TestReadCIFAR10Binary(t *testing.T) {
	names, files := cifar10Files()
	dir := t.TempDir()
	for _, n := range names {
		writeFile(t, filepath.Join(dir, "extracted", filepath.FromSlash(n)), files[n])
	}
	// Members out of order: the reader must still concatenate batches 1..5.
	rev := append([]string(nil), names...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	archive := writeFile(t, filepath.Join(dir, "cifar-10-binary.tar.gz"), tarGz(t, rev, files))
	sum := md5.Sum(tarGz(t, rev, files))
	for _, tc := range []struct {
		name, path string
		sum        Checksum
	}{
		{"archive", archive, Checksum{}},
		{"archive verified", archive, Checksum{Algorithm: "md5", Hex: hex.EncodeToString(sum[:])}},
		{"directory", filepath.Join(dir, "extracted"), Checksum{}},
		{"batches directory", filepath.Join(dir, "extracted", "cifar-10-batches-bin"), Checksum{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := readCIFARBinary(tc.path, cifar10Format, tc.sum)
			if err != nil {
				t.Fatal(err)
			}
			checkCIFARSmall(t, sp)
		})
	}
}

func TestReadCIFAR100Binary(t *testing.T) {
	var train, test []byte
	for i := range 5 {
		rec := make([]byte, 2+cifarImage)
		rec[0], rec[1] = byte(i%20), byte(99-i)
		rec[2+i] = 200
		train = append(train, rec...)
		if i < 2 {
			test = append(test, rec...)
		}
	}
	dir := t.TempDir()
	p := writeFile(t, filepath.Join(dir, "c100.tar.gz"), tarGz(t, []string{"cifar-100-binary/train.bin", "cifar-100-binary/test.bin"},
		map[string][]byte{"cifar-100-binary/train.bin": train, "cifar-100-binary/test.bin": test}))
	sp, err := ReadCIFAR100Binary(p)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Train.Len() != 5 || sp.Test.Len() != 2 || sp.Train.Labels[3] != 96 || sp.Train.Image(3)[3] != 200 || len(sp.Train.Classes) != 100 {
		t.Fatalf("got %d/%d images, label[3]=%d, pixel=%d, %d classes", sp.Train.Len(), sp.Test.Len(), sp.Train.Labels[3], sp.Train.Image(3)[3], len(sp.Train.Classes))
	}
	if sp.Train.Classes[96] != "willow_tree" || sp.Train.Classes[0] != "apple" {
		t.Fatalf("class names: %q %q", sp.Train.Classes[96], sp.Train.Classes[0])
	}
}

// TestCIFARCorrupt checks that every kind of bad input is an error naming
// the file (and record), never a panic.
func TestCIFARCorrupt(t *testing.T) {
	names, files := cifar10Files()
	good := tarGz(t, names, files)
	goodSum := md5.Sum(good)
	short := map[string][]byte{}
	for k, v := range files {
		short[k] = v
	}
	short["cifar-10-batches-bin/data_batch_2.bin"] = files["cifar-10-batches-bin/data_batch_2.bin"][:cifarImage+1+100]
	badLabel := map[string][]byte{}
	for k, v := range files {
		badLabel[k] = v
	}
	bl := bytes.Clone(files["cifar-10-batches-bin/test_batch.bin"])
	bl[2*(cifarImage+1)] = 10
	badLabel["cifar-10-batches-bin/test_batch.bin"] = bl
	altered := bytes.Clone(good)
	altered[len(altered)/2] ^= 0xff
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content []byte // nil: no file
		sum     Checksum
		want    []string // substrings of the error
		is      error
	}{
		{"missing file", nil, Checksum{}, []string{"missing.tar.gz", "make data"}, nil},
		{"truncated archive", good[:len(good)/2], Checksum{}, []string{"truncated.tar.gz", "download it again"}, ErrFormat},
		{"altered byte", altered, Checksum{Algorithm: "md5", Hex: hex.EncodeToString(goodSum[:])}, []string{"altered.tar.gz"}, nil},
		{"checksum mismatch", good, Checksum{Algorithm: "md5", Hex: strings.Repeat("0", 32)}, []string{"mismatch.tar.gz", "checksum mismatch", "download it again"}, ErrChecksum},
		{"short record", tarGz(t, names, short), Checksum{}, []string{"short.tar.gz:cifar-10-batches-bin/data_batch_2.bin", "record 1", "short record"}, ErrFormat},
		{"label out of range", tarGz(t, names, badLabel), Checksum{}, []string{"label.tar.gz:cifar-10-batches-bin/test_batch.bin", "record 2", "label 10"}, ErrFormat},
		{"missing member", tarGz(t, names[1:], files), Checksum{}, []string{"member.tar.gz", "data_batch_1.bin is missing"}, nil},
		{"not gzip", []byte("hello, this is not an archive"), Checksum{}, []string{"notgz.tar.gz", "gzip"}, ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := map[string]string{"missing file": "missing.tar.gz", "truncated archive": "truncated.tar.gz", "altered byte": "altered.tar.gz",
				"checksum mismatch": "mismatch.tar.gz", "short record": "short.tar.gz", "label out of range": "label.tar.gz",
				"missing member": "member.tar.gz", "not gzip": "notgz.tar.gz"}[tc.name]
			p := filepath.Join(dir, file)
			if tc.content != nil {
				writeFile(t, p, tc.content)
			}
			_, err := readCIFARBinary(p, cifar10Format, tc.sum)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *FileError", err)
			}
		})
	}
}

func TestDecodeCIFARShortAndEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"one byte short", cifarRecords(3, 0)[:3*(cifarImage+1)-1], "record 2: malformed data: short record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeCIFAR10(bytes.NewReader(tc.data), "x.bin")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.bin") {
				t.Fatalf("error %v, want one naming x.bin and %q", err, tc.want)
			}
		})
	}
}
