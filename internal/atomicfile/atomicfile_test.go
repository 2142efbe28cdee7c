package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path string
		data       string
		wantErr    bool
	}{
		{"new file in a new folder", "a/b/f.json", "one", false},
		{"replaces an existing file", "a/b/f.json", "two, longer", false},
		{"empty", "empty", "", false},
		{"a folder in the way", "a", "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.path)
			err := Write(path, []byte(tt.data))
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tt.data {
				t.Fatalf("read %q, %v; want %q", got, err, tt.data)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
			}
		})
	}
	// No temporary file is left behind, after a success or a failure.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") {
			t.Errorf("left behind %s", p)
		}
		return nil
	})
}
