package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// A cache entry heals itself: a damaged result is no hit, a result whose
// artifacts are missing or changed is no hit (the run is computed again, and
// the plan says why), and a checkpoint that fails its checksum is moved
// aside, kept for inspection, and the run starts afresh.
//
//	runs/<key>/artifacts.json     SHA-256 of every artifact, written with result.json
//	runs/<key>/checkpoint.sha256  SHA-256 of the checkpoint, written with it

func (c *Cache) manifestPath(key string) string {
	return filepath.Join(c.runDir(key), "artifacts.json")
}
func (c *Cache) ckptSumPath(key string) string { return c.ckptPath(key) + ".sha256" }

func sum256(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// writeManifest records the checksum of every file in key's artifact
// folder.
func (c *Cache) writeManifest(key string) error {
	m := map[string]string{}
	ents, err := os.ReadDir(c.artifactDir(key))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(c.artifactDir(key), e.Name()))
		if err != nil {
			return err
		}
		m[e.Name()] = sum256(data)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return record.WriteFileAtomic(c.manifestPath(key), append(data, '\n'))
}

// verifyArtifacts returns why key's artifacts cannot be trusted, or "". A
// result cached before manifests existed is trusted once: its manifest is
// written from the artifacts found now.
func (c *Cache) verifyArtifacts(key string) string {
	data, err := os.ReadFile(c.manifestPath(key))
	if errors.Is(err, os.ErrNotExist) {
		if err := c.writeManifest(key); err != nil {
			return "its artifacts cannot be read: " + err.Error()
		}
		return ""
	}
	var m map[string]string
	if err != nil || json.Unmarshal(data, &m) != nil {
		return "its artifact manifest " + c.manifestPath(key) + " is damaged"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := filepath.Join(c.artifactDir(key), n)
		b, err := os.ReadFile(p)
		switch {
		case err != nil:
			return fmt.Sprintf("its artifact %s is missing", p)
		case sum256(b) != m[n]:
			return fmt.Sprintf("its artifact %s does not match its checksum", p)
		}
	}
	return ""
}

// dropResult removes key's result and manifest, so that the run is
// computed again (its artifacts are rewritten by it).
func (c *Cache) dropResult(key string) error {
	for _, p := range []string{c.resultPath(key), c.manifestPath(key)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// saveCheckpoint writes the checkpoint and then its checksum.
func (c *Cache) saveCheckpoint(key string, data []byte) error {
	if err := record.WriteFileAtomic(c.ckptPath(key), data); err != nil {
		return err
	}
	return record.WriteFileAtomic(c.ckptSumPath(key), []byte(sum256(data)+"\n"))
}

// loadCheckpoint returns key's checkpoint, false when there is none, and a
// note when one was there but failed its checksum: it is then renamed to
// checkpoint.corrupt-<time> and the run starts afresh. A checkpoint saved
// before checksums existed is taken as it is.
func (c *Cache) loadCheckpoint(key string) (data []byte, ok bool, note string, err error) {
	data, err = os.ReadFile(c.ckptPath(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, "", nil
	}
	if err != nil {
		return nil, false, "", err
	}
	want, err := os.ReadFile(c.ckptSumPath(key))
	if errors.Is(err, os.ErrNotExist) {
		return data, true, "", nil
	}
	if err == nil && string(want) == sum256(data)+"\n" {
		return data, true, "", nil
	}
	aside := c.ckptPath(key) + ".corrupt-" + time.Now().UTC().Format("20060102T150405")
	if err := os.Rename(c.ckptPath(key), aside); err != nil {
		return nil, false, "", fmt.Errorf("moving the damaged checkpoint %s aside: %w", c.ckptPath(key), err)
	}
	os.Remove(c.ckptSumPath(key))
	return nil, false, fmt.Sprintf("the checkpoint %s failed its checksum: moved to %s; starting afresh", c.ckptPath(key), aside), nil
}
