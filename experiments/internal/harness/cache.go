package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// Cache is the folder that holds, per run key:
//
//	runs/<key>/result.json        the record of a successful run (the only cache hit)
//	runs/<key>/artifacts.json     the SHA-256 of result.json and of each artifact (a hit needs them to match)
//	runs/<key>/failed.json        the record of the last failure (never a hit)
//	runs/<key>/checkpoint         the last checkpoint of an unfinished run
//	runs/<key>/checkpoint.sha256  its SHA-256 (a mismatch moves it aside)
//	runs/<key>/artifacts/         what later runs need (trained weights)
//	locks/<key>.lock              held while an invocation computes the key
//
// and costs.json, the measured seconds per unit of work per cost class.
// Every file is written to a temporary file and renamed. See verify.go and
// lock.go for how a damaged entry heals and how invocations share a cache.
type Cache struct {
	Dir string

	mu sync.Mutex
}

// DefaultCacheDir returns the user's cache folder for the harness.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache folder (%v); pass -cache DIR", err)
	}
	return filepath.Join(d, "continuousnet"), nil
}

func (c *Cache) runDir(key string) string     { return filepath.Join(c.Dir, "runs", key) }
func (c *Cache) resultPath(key string) string { return filepath.Join(c.runDir(key), "result.json") }
func (c *Cache) failedPath(key string) string { return filepath.Join(c.runDir(key), "failed.json") }
func (c *Cache) ckptPath(key string) string   { return filepath.Join(c.runDir(key), "checkpoint") }
func (c *Cache) artifactDir(key string) string {
	return filepath.Join(c.runDir(key), "artifacts")
}

// Result returns the cached successful record of key, or nil. A record that
// does not parse (another schema, a damaged file) is no hit.
func (c *Cache) Result(key string) *record.Record {
	r, err := record.Read(c.resultPath(key))
	if err != nil || r.Status != record.StatusOK || r.Key != key {
		return nil
	}
	return r
}

// HasCheckpoint reports whether an unfinished run of key left a checkpoint.
func (c *Cache) HasCheckpoint(key string) bool {
	_, err := os.Stat(c.ckptPath(key))
	return err == nil
}

// Forget removes everything cached for key (for -force).
func (c *Cache) Forget(key string) error {
	return os.RemoveAll(c.runDir(key))
}

type costEntry struct {
	SecondsPerUnit float64   `json:"seconds_per_unit"`
	Measured       time.Time `json:"measured"`
}

func (c *Cache) costsPath() string { return filepath.Join(c.Dir, "costs.json") }

// Costs returns the measured cost per unit of each class.
func (c *Cache) Costs() map[string]costEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readCosts()
}

func (c *Cache) readCosts() map[string]costEntry {
	out := map[string]costEntry{}
	data, err := os.ReadFile(c.costsPath())
	if err == nil {
		_ = json.Unmarshal(data, &out) // a damaged file only loses estimates
	}
	return out
}

// SetCost records a measured cost. The read-modify-write holds the file
// lock <cache>/locks/costs.lock as well as the in-process mutex, so
// processes sharing the cache (cluster jobs, two terminals) do not lose each
// other's updates.
func (c *Cache) SetCost(class string, secondsPerUnit float64, when time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	release, err := acquire(context.Background(), filepath.Join(c.Dir, "locks", "costs.lock"), true, nil)
	if err != nil {
		return err
	}
	defer release()
	m := c.readCosts()
	m[class] = costEntry{SecondsPerUnit: secondsPerUnit, Measured: when}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return record.WriteFileAtomic(c.costsPath(), append(data, '\n'))
}

// RecordPath returns where the record of run (of experiment) lives under a
// results folder: <results>/runs/<experiment>/<run with / as __>.json.
func RecordPath(resultsDir, experiment, run string) string {
	return filepath.Join(resultsDir, "runs", experiment, strings.ReplaceAll(run, "/", "__")+".json")
}

// writeTarget writes rec to path unless the file already holds the same
// bytes, or rec is skipped and the file holds a successful record (a
// machine without the data must not erase a committed result), or the file
// holds the same skip or failure (same key and error). It reports whether
// it wrote.
func writeTarget(path string, rec *record.Record) (bool, error) {
	data, err := record.Marshal(rec)
	if err != nil {
		return false, err
	}
	old, err := os.ReadFile(path)
	if err == nil {
		if string(old) == string(data) {
			return false, nil
		}
		if rec.Status != record.StatusOK {
			if prev, err := record.Unmarshal(old); err == nil {
				if rec.Status == record.StatusSkipped && prev.Status == record.StatusOK {
					return false, nil
				}
				// The same skip or failure again: keep the file, so
				// re-running does not churn committed records.
				if prev.Status == rec.Status && prev.Key == rec.Key && prev.Error == rec.Error {
					return false, nil
				}
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	return true, record.WriteFileAtomic(path, data)
}
