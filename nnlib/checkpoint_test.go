package nnlib

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/nnlib/rng"
)

func writeTestCheckpoint(t *testing.T) (string, []byte) {
	t.Helper()
	tr := newTrainer(2)
	tr.step(4, 8)
	path := filepath.Join(t.TempDir(), "model.ckpt")
	if err := SaveCheckpoint(path, tr.net.set, tr.opt, []*rng.Stream{tr.data}, map[string]string{"epoch": "1"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestCheckpointCorruption(t *testing.T) {
	path, good := writeTestCheckpoint(t)
	if _, err := ReadCheckpoint(path); err != nil {
		t.Fatalf("intact checkpoint: %v", err)
	}
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"wrong magic", append([]byte("PK\x03\x04XXXX"), good[8:]...), "bad magic"},
		{"header only", good[:10], "truncated"},
		{"truncated", good[:len(good)-100], "truncated"},
		{"padded", append(append([]byte(nil), good...), 0), "truncated or padded"},
		{"flipped payload byte", flip(len(good) / 2), "checksum"},
		{"flipped checksum byte", flip(len(good) - 1), "checksum"},
		{"future version", flip(9), "version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.ckpt")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadCheckpoint(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not name the file and %q", err, c.want)
			}
			if c.want == "bad magic" && !errors.Is(err, ErrNotCheckpoint) {
				t.Errorf("error %q does not wrap ErrNotCheckpoint", err)
			}
		})
	}
	if _, err := ReadCheckpoint(filepath.Join(t.TempDir(), "missing.ckpt")); err == nil || !strings.Contains(err.Error(), "missing.ckpt") {
		t.Errorf("missing file: error %v does not name it", err)
	}
}

func TestCheckpointModelMismatch(t *testing.T) {
	path, _ := writeTestCheckpoint(t)
	other := NewParamSet()
	other.NewParam("stem.weight", 8, 3, 3, 3)
	_, err := LoadCheckpoint(path, other, nil, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("loading into a different model: error %v, want one naming %s", err, path)
	}
	tr := newTrainer(2)
	c, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Optimizer.Kind = "adam" // the state of an optimizer of another kind
	if err := c.Restore(tr.net.set, NewSGD(0.1, 0.9, 0), nil); err == nil || !strings.Contains(err.Error(), `"adam"`) {
		t.Fatalf("restoring another optimizer's state into SGD: error %v, want one naming its kind", err)
	}
	if _, err := LoadCheckpoint(path, tr.net.set, nil, []*rng.Stream{rng.New(1, "augment")}); err == nil || !strings.Contains(err.Error(), "augment") {
		t.Fatalf("restoring an absent rng stream: error %v", err)
	}
}

// FuzzReadCheckpoint checks that no input makes the reader panic.
func FuzzReadCheckpoint(f *testing.F) {
	tr := newTrainer(2)
	c, err := Capture(tr.net.set, tr.opt, []*rng.Stream{tr.data}, map[string]string{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.encode())
	f.Fuzz(func(t *testing.T, payload []byte) {
		// exercise the payload decoder behind a valid header and checksum
		d := &decoder{b: payload}
		d.checkpoint()
		decodeCheckpoint(payload)
	})
}
