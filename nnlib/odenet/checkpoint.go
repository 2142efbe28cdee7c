package odenet

import (
	"encoding/json"
	"fmt"

	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

// MetaConfigKey is the checkpoint metadata key holding the net's Config as
// JSON (its current K, Nt, scheme and knot rule included), so a refined
// model can be rebuilt with the right number of pieces before loading.
const MetaConfigKey = "odenet.config"

// SaveCheckpoint writes m's parameters and BatchNorm state, opt's state
// (nil for none), the RNG streams and meta, plus m's Config under
// MetaConfigKey, atomically to path (nnlib's checkpoint format).
func SaveCheckpoint(path string, m *Net, opt nnlib.Optimizer, streams []*rng.Stream, meta map[string]string) error {
	cfg, err := json.Marshal(m.cfg)
	if err != nil {
		return fmt.Errorf("odenet: saving %s: %w", path, err)
	}
	all := map[string]string{MetaConfigKey: string(cfg)}
	for k, v := range meta {
		if k == MetaConfigKey {
			return fmt.Errorf("odenet: saving %s: metadata key %q is reserved", path, k)
		}
		all[k] = v
	}
	return nnlib.SaveCheckpoint(path, m.Params, opt, streams, all)
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint, builds the
// net its configuration describes and restores the parameters, BatchNorm
// state, opt (nil to skip) and streams. It returns the net and the
// checkpoint's metadata. Errors name the file and what is wrong.
func LoadCheckpoint(path string, opt nnlib.Optimizer, streams []*rng.Stream) (*Net, map[string]string, error) {
	c, err := nnlib.ReadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	raw, ok := c.Meta[MetaConfigKey]
	if !ok {
		return nil, nil, fmt.Errorf("odenet: checkpoint %s has no %q metadata: it was not written by odenet.SaveCheckpoint", path, MetaConfigKey)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return nil, nil, fmt.Errorf("odenet: checkpoint %s: %w", path, err)
	}
	// The initial values are overwritten by the checkpoint; the stream only
	// fills them.
	m, err := New(cfg, rng.New(0, "odenet.load"))
	if err != nil {
		return nil, nil, fmt.Errorf("odenet: checkpoint %s: %w", path, err)
	}
	if err := c.Restore(m.Params, opt, streams); err != nil {
		return nil, nil, fmt.Errorf("odenet: checkpoint %s: %w", path, err)
	}
	return m, c.Meta, nil
}
