package odenet

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// WriteCheckpoint writes the bytes SaveCheckpoint puts in a file, and
// ReadCheckpoint reads them back into the same net, so callers holding
// bytes need no temporary file.
func TestCheckpointStreams(t *testing.T) {
	m := newTiny(t, tinyConfig(2, ConvReLUBN), 5)
	meta := map[string]string{"epoch": "2"}
	var buf bytes.Buffer
	if err := WriteCheckpoint(&buf, m, nil, []*rng.Stream{rng.New(3, "data")}, meta); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "net.ckpt")
	if err := SaveCheckpoint(path, m, nil, []*rng.Stream{rng.New(3, "data")}, meta); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), file) {
		t.Fatalf("WriteCheckpoint wrote %d bytes that differ from SaveCheckpoint's %d", buf.Len(), len(file))
	}
	stream := rng.New(99, "data")
	l, got, err := ReadCheckpoint(bytes.NewReader(buf.Bytes()), nil, []*rng.Stream{stream})
	if err != nil {
		t.Fatal(err)
	}
	if got["epoch"] != "2" || stream.Uint64() != rng.New(3, "data").Uint64() {
		t.Errorf("metadata %v or stream not restored", got)
	}
	sameCheckpoint(t, snapshot(t, m), snapshot(t, l))

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"foreign bytes", []byte("not a checkpoint"), nnlib.ErrNotCheckpoint},
		{"truncated", buf.Bytes()[:buf.Len()/2], nil},
		{"empty", nil, nnlib.ErrNotCheckpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadCheckpoint(bytes.NewReader(tt.data), nil, nil)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}
