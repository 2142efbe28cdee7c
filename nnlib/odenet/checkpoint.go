package odenet

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// MetaConfigKey is the checkpoint metadata key holding the net's Config as
// JSON (its current K, Nt, scheme and knot rule included), so a refined
// model can be rebuilt with the right number of pieces before loading.
const MetaConfigKey = "odenet.config"

// WriteCheckpoint writes m's parameters and BatchNorm state, opt's state
// (nil for none), the RNG streams and meta, plus m's Config under
// MetaConfigKey, to w in nnlib's checkpoint format. SaveCheckpoint writes
// the same bytes to a file.
func WriteCheckpoint(w io.Writer, m *Net, opt nnlib.Optimizer, streams []*rng.Stream, meta map[string]string) error {
	c, err := capture(m, opt, streams, meta)
	if err != nil {
		return fmt.Errorf("odenet: saving a checkpoint: %w", err)
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("odenet: saving a checkpoint: %w", err)
	}
	return nil
}

// SaveCheckpoint is WriteCheckpoint to path, atomically.
func SaveCheckpoint(path string, m *Net, opt nnlib.Optimizer, streams []*rng.Stream, meta map[string]string) error {
	c, err := capture(m, opt, streams, meta)
	if err != nil {
		return fmt.Errorf("odenet: saving %s: %w", path, err)
	}
	return nnlib.WriteCheckpoint(path, c)
}

// capture takes a checkpoint of m (with its Config in the metadata).
func capture(m *Net, opt nnlib.Optimizer, streams []*rng.Stream, meta map[string]string) (*nnlib.Checkpoint, error) {
	cfg, err := json.Marshal(m.cfg)
	if err != nil {
		return nil, err
	}
	all := map[string]string{MetaConfigKey: string(cfg)}
	for k, v := range meta {
		if k == MetaConfigKey {
			return nil, fmt.Errorf("metadata key %q is reserved", k)
		}
		all[k] = v
	}
	return nnlib.Capture(m.Params, opt, streams, all)
}

// ReadCheckpoint reads a checkpoint written by WriteCheckpoint (or
// SaveCheckpoint) from r, builds the net its configuration describes and
// restores the parameters, BatchNorm state, opt (nil to skip) and streams.
// It returns the net and the checkpoint's metadata.
func ReadCheckpoint(r io.Reader, opt nnlib.Optimizer, streams []*rng.Stream) (*Net, map[string]string, error) {
	c, err := nnlib.DecodeCheckpoint(r)
	if err != nil {
		return nil, nil, err
	}
	return restoreNet(c, "the checkpoint", opt, streams)
}

// LoadCheckpoint is ReadCheckpoint from the file path. Errors name the file
// and what is wrong.
func LoadCheckpoint(path string, opt nnlib.Optimizer, streams []*rng.Stream) (*Net, map[string]string, error) {
	c, err := nnlib.ReadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	return restoreNet(c, "checkpoint "+path, opt, streams)
}

// restoreNet builds the net c describes and restores c into it; what names
// the checkpoint in errors.
func restoreNet(c *nnlib.Checkpoint, what string, opt nnlib.Optimizer, streams []*rng.Stream) (*Net, map[string]string, error) {
	raw, ok := c.Meta[MetaConfigKey]
	if !ok {
		return nil, nil, fmt.Errorf("odenet: %s has no %q metadata: it was not written by odenet.SaveCheckpoint", what, MetaConfigKey)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return nil, nil, fmt.Errorf("odenet: %s: %w", what, err)
	}
	// The initial values are overwritten by the checkpoint; the stream only
	// fills them.
	m, err := New(cfg, rng.New(0, "odenet.load"))
	if err != nil {
		return nil, nil, fmt.Errorf("odenet: %s: %w", what, err)
	}
	if err := c.Restore(m.Params, opt, streams); err != nil {
		return nil, nil, fmt.Errorf("odenet: %s: %w", what, err)
	}
	return m, c.Meta, nil
}
