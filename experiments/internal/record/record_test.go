package record

import (
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
