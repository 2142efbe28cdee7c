package record

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := &Record{Schema: SchemaVersion, Experiment: "e", Run: "r", Kind: "k", Key: "abc", Profile: "smoke",
		Config: map[string]any{"b": 2.0, "a": "x"}, Status: StatusOK,
		Metrics: map[string]float64{"acc": 0.5}, Series: []Series{{Name: "s", X: []float64{1}, Y: []float64{2}}}}
	p := filepath.Join(dir, "sub", "r.json")
	if err := Write(p, r); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := Marshal(r)
	b2, _ := Marshal(got)
	if string(b1) != string(b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b1, b2)
	}
	all, err := ReadDir(dir)
	if err != nil || len(all) != 1 {
		t.Fatalf("ReadDir = %d records, %v; want 1, nil", len(all), err)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown field", `{"schema":1,"bogus":1}`, "bogus"},
		{"other schema", `{"schema":99}`, "schema 99"},
		{"truncated", `{"schema":1,`, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestReadDirMissing(t *testing.T) {
	recs, err := ReadDir(filepath.Join(t.TempDir(), "nope"))
	if err != nil || recs != nil {
		t.Fatalf("ReadDir(missing) = %v, %v; want nil, nil", recs, err)
	}
}

// TestWriteFileAtomic: new folders are created, an existing file is
// replaced, a folder in the way is an error, the mode is 0644, and no
// temporary file is left behind after a success or a failure.
func TestWriteFileAtomic(t *testing.T) {
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
			err := WriteFileAtomic(path, []byte(tt.data))
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
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") {
			t.Errorf("left behind %s", p)
		}
		return nil
	})
}
