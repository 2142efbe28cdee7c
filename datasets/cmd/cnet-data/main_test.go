package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/datasets/datatest"
)

// writeCIFAR10Extracted writes a small extracted CIFAR-10 binary release
// (2 records per batch file) under dir/cifar10/cifar-10-batches-bin.
func writeCIFAR10Extracted(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "cifar10", "cifar-10-batches-bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		rec := make([]byte, 2*3073)
		rec[0], rec[3073] = byte(i), byte(9-i)
		if err := os.WriteFile(filepath.Join(bin, f), rec, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func TestRun(t *testing.T) {
	var served []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served = append(served, r.URL.Path)
		w.Write([]byte("not the dataset"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, dir string)
		args   []string
		code   int
		want   []string
		served int
		absent string // a file that must not exist afterwards
	}{
		{"present and missing", func(t *testing.T, dir string) { writeCIFAR10Extracted(t, dir) }, []string{"-download=false"}, 0,
			[]string{"== cifar10", "train:", "10 images of 3x32x32", "airplane 1, automobile 1", "test:", "2 images", "status:   OK", "none published",
				"== cifar100", "MISSING", "cifar-100-binary.tar.gz  md5:03b5dce01913d631647c71ecec9e9cb8  from https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
				"download: skipped", "summary:", "cifar10        present and verified", "cifar100       MISSING: the CIFAR-100 rows of Table 1 (paper profile) SKIP",
				"fashion-mnist  MISSING: no experiment uses it", "every dataset present verifies, and the quick profile has all it needs"}, 0, ""},
		{"nothing", func(t *testing.T, dir string) {}, []string{"-download=false"}, 1,
			[]string{"cifar10        MISSING: claims (b), (c), (d) and the CIFAR row of (a) SKIP", "result: INCOMPLETE", "will SKIP"}, 0, ""},
		{"short record", func(t *testing.T, dir string) {
			bin := writeCIFAR10Extracted(t, dir)
			if err := os.WriteFile(filepath.Join(bin, "data_batch_3.bin"), make([]byte, 3073+5), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"-download=false"}, 1, []string{"FAILED", "data_batch_3.bin: record 1", "short record", "result: FAILED"}, 0, ""},
		{"incomplete", func(t *testing.T, dir string) {
			bin := writeCIFAR10Extracted(t, dir)
			os.Remove(filepath.Join(bin, "test_batch.bin"))
		}, []string{"-download=false"}, 1, []string{"INCOMPLETE", "test_batch.bin is missing"}, 0, ""},
		{"download fails verification", func(t *testing.T, dir string) {}, []string{"-mirror", srv.URL + "/mirror"}, 1,
			[]string{"download: " + srv.URL + "/mirror/cifar-10-binary.tar.gz ... failed", "checksum mismatch", "MISSING", "result: INCOMPLETE"}, 3, "cifar10/cifar-10-binary.tar.gz"},
		{"bad flag", func(t *testing.T, dir string) {}, []string{"-nonsense"}, 2, nil, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served = nil
			dir := t.TempDir()
			tc.setup(t, dir)
			var out, errOut bytes.Buffer
			code := run(append([]string{"-data", dir}, tc.args...), &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out.String(), errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if len(served) != tc.served {
				t.Errorf("%d downloads requested, want %d: %v", len(served), tc.served, served)
			}
			if tc.absent != "" {
				if _, err := os.Stat(filepath.Join(dir, tc.absent)); err == nil {
					t.Errorf("%s exists after a failed download", tc.absent)
				}
			}
		})
	}
}

// TestRunRealData is `make data`'s acceptance check on $CNET_DATA.
func TestRunRealData(t *testing.T) {
	dir := datatest.Dir(t)
	var out, errOut bytes.Buffer
	code := run([]string{"-data", dir, "-download=false"}, &out, &errOut)
	t.Log("\n" + out.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, w := range []string{"50000 images of 3x32x32", "airplane 5000", "10000 images of 3x32x32", "truck 1000",
		"60000 images of 1x28x28", "Ankle boot 6000", "Ankle boot 1000"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q", w)
		}
	}
}
