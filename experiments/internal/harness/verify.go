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
//	runs/<key>/artifacts.json     SHA-256 of result.json and of every artifact, written after them
//	runs/<key>/checkpoint.sha256  SHA-256 of the checkpoint, written with it

func (c *Cache) manifestPath(key string) string {
	return filepath.Join(c.runDir(key), "artifacts.json")
}
func (c *Cache) ckptSumPath(key string) string { return c.ckptPath(key) + ".sha256" }

func sum256(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// manifest is artifacts.json: the checksums of a cached result and of its
// artifacts, written after both.
type manifest struct {
	Result    string            `json:"result"`    // SHA-256 of result.json
	Artifacts map[string]string `json:"artifacts"` // file name → SHA-256
}

// writeManifest records the checksums of key's result and of every file in
// its artifact folder.
func (c *Cache) writeManifest(key string) error {
	res, err := os.ReadFile(c.resultPath(key))
	if err != nil {
		return err
	}
	m := manifest{Result: sum256(res), Artifacts: map[string]string{}}
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
		m.Artifacts[e.Name()] = sum256(data)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return record.WriteFileAtomic(c.manifestPath(key), append(data, '\n'))
}

// verifyEntry returns why key's cached result cannot be trusted, or "": its
// result.json or an artifact is missing or does not match its checksum. A
// result cached before manifests existed is trusted once: its manifest is
// written from the files found now.
func (c *Cache) verifyEntry(key string) string {
	data, err := os.ReadFile(c.manifestPath(key))
	if errors.Is(err, os.ErrNotExist) {
		if err := c.writeManifest(key); err != nil {
			return "its files cannot be read: " + err.Error()
		}
		return ""
	}
	var m manifest
	if err != nil || json.Unmarshal(data, &m) != nil || m.Result == "" {
		return "its manifest " + c.manifestPath(key) + " is damaged"
	}
	if b, err := os.ReadFile(c.resultPath(key)); err != nil || sum256(b) != m.Result {
		return "its result " + c.resultPath(key) + " does not match its checksum"
	}
	names := make([]string, 0, len(m.Artifacts))
	for n := range m.Artifacts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := filepath.Join(c.artifactDir(key), n)
		b, err := os.ReadFile(p)
		switch {
		case err != nil:
			return fmt.Sprintf("its artifact %s is missing", p)
		case sum256(b) != m.Artifacts[n]:
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
