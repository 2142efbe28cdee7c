package datasets

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataDir(t *testing.T) {
	def, err := DefaultDataDir()
	if err != nil {
		t.Skip("no user cache directory:", err)
	}
	for _, tc := range []struct {
		flag, env, want, from string
	}{
		{"/from/flag", "/from/env", "/from/flag", "flag"},
		{"", "/from/env", "/from/env", "$CNET_DATA"},
		{"", "", def, "default"},
	} {
		t.Setenv(EnvDataDir, tc.env)
		dir, from, err := DataDir(tc.flag)
		if err != nil || dir != tc.want || from != tc.from {
			t.Errorf("DataDir(%q) with CNET_DATA=%q = %q, %q, %v; want %q, %q", tc.flag, tc.env, dir, from, err, tc.want, tc.from)
		}
	}
	if !strings.HasSuffix(filepath.ToSlash(def), "continuousnet/data") {
		t.Errorf("default data dir %q", def)
	}
}

func TestLoadFromDataDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadCIFAR10(dir); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "cifar-10-binary.tar.gz") {
		t.Fatalf("empty dir: error %v, want ErrNotFound naming the official archive", err)
	}
	// An image folder directory is the last resort.
	for i, f := range []string{"train/cat/1.png", "train/dog/2.png", "test/ship/3.png"} {
		writeFile(t, filepath.Join(dir, "cifar10", "images", filepath.FromSlash(f)), encodePNG(t, testImage(32, 32, i)))
	}
	folder, src, err := Load(dir, "cifar10")
	if err != nil || !strings.Contains(src.Format, "directory") || folder.Train.Len() != 2 || folder.Test.Labels[0] != 8 {
		t.Fatalf("image folder directory: %v, source %q", err, src.Format)
	}
	if err := os.RemoveAll(filepath.Join(dir, "cifar10", "images")); err != nil {
		t.Fatal(err)
	}
	names, files := cifar10Files()
	for _, n := range names {
		writeFile(t, filepath.Join(dir, "cifar10", filepath.FromSlash(n)), files[n])
	}
	sp, src, err := Load(dir, "cifar10")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src.Format, "extracted") {
		t.Errorf("source %q, want the extracted binary", src.Format)
	}
	checkCIFARSmall(t, sp)
	// An incomplete extracted release is reported as such.
	if err := os.Remove(filepath.Join(dir, "cifar10", "cifar-10-batches-bin", "test_batch.bin")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCIFAR10(dir); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "test_batch.bin is missing") {
		t.Fatalf("incomplete: error %v", err)
	}
	// The official archive is preferred and verified by its published MD5,
	// which a home-made archive cannot match.
	writeFile(t, filepath.Join(dir, "cifar10", "cifar-10-binary.tar.gz"), tarGz(t, names, files))
	if _, err := LoadCIFAR10(dir); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "c32a1d4ab5d03f1284b67883e8d87530") {
		t.Fatalf("home-made archive: error %v, want a checksum mismatch against the published MD5", err)
	}
}

func TestDownload(t *testing.T) {
	content := []byte("the dataset's bytes")
	compressed := gz(t, idxBytes(IDXLabelsMagic, []int{3}, []byte{1, 2, 3}))
	md := md5.Sum(content)
	raw := sha256.Sum256(idxBytes(IDXLabelsMagic, []int{3}, []byte{1, 2, 3}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/data.bin":
			w.Write(content)
		case "/labels.gz":
			w.Write(compressed)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		f    File
		want string // error substring, "" for success
	}{
		{"md5", File{Path: "a/data.bin", URL: srv.URL + "/data.bin", Sum: Checksum{Algorithm: "md5", Hex: hex.EncodeToString(md[:])}}, ""},
		{"sha256 of decompressed", File{Path: "b/labels.gz", URL: srv.URL + "/labels.gz", Sum: Checksum{Algorithm: "sha256", Hex: hex.EncodeToString(raw[:]), OfDecompressed: true}}, ""},
		{"mismatch", File{Path: "c/data.bin", URL: srv.URL + "/data.bin", Sum: Checksum{Algorithm: "md5", Hex: strings.Repeat("0", 32)}}, "checksum mismatch"},
		{"not found", File{Path: "d/none.bin", URL: srv.URL + "/none.bin", Sum: Checksum{Algorithm: "md5", Hex: strings.Repeat("0", 32)}}, "404"},
		{"no address", File{Path: "e/x.bin"}, "no download address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Download(context.Background(), srv.Client(), dir, tc.f)
			dst := filepath.Join(dir, filepath.FromSlash(tc.f.Path))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := VerifyFile(dst, tc.f.Sum); err != nil {
					t.Fatal(err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.want)
				}
				if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a failed download left %s behind (%v)", dst, err)
				}
			}
			// No temporary file (a hidden file beside dst) survives.
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".*"))
			if len(leftovers) > 0 {
				t.Fatalf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestSourcesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Sources() {
		seen[s.Dataset] = true
		if len(s.Files) == 0 || s.read == nil {
			t.Errorf("%s %q: no files or no reader", s.Dataset, s.Format)
		}
		for _, f := range s.Files {
			want := map[string]int{"md5": 32, "sha256": 64}[f.Sum.Algorithm]
			if !f.Sum.IsZero() && len(f.Sum.Hex) != want {
				t.Errorf("%s: checksum %s has %d hex digits", f.Path, f.Sum, len(f.Sum.Hex))
			}
		}
	}
	for _, n := range DatasetNames() {
		if !seen[n] {
			t.Errorf("dataset %s has no source", n)
		}
	}
}
