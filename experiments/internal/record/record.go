// Package record defines the result record of one run: what it computed
// (metrics and series), how (its resolved configuration) and where
// (provenance). Records are small JSON files under results/runs/, committed
// for the default profile, so a clean clone can regenerate every table,
// figure and verdict without recomputing anything. Checkpoints never go in a
// record; they live in the cache.
package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2/maybe"
)

// SchemaVersion is the version of the record format. Bump it when a field
// changes meaning; readers reject records of another version.
const SchemaVersion = 1

// Status of a run.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"  // the run returned an error or panicked; never a cache hit
	StatusSkipped = "skipped" // the run could not start (e.g. its dataset is missing); Error says why
)

// Record is the result of one run.
type Record struct {
	Schema     int    `json:"schema"`
	Experiment string `json:"experiment"` // spec name, e.g. "coarsening"
	Run        string `json:"run"`        // run name within the experiment, e.g. "train/rk4-classic-k1/seed2"
	// Group is the run's name without its seed suffix when the spec repeats
	// it for several seeds (e.g. "train/rk4-classic-k1"); tables and
	// verdicts summarise a group over its seeds.
	Group   string         `json:"group,omitempty"`
	Kind    string         `json:"kind"`    // experiment kind, e.g. "cifar-train"
	Key     string         `json:"key"`     // run key (hex SHA-256 of the resolved run)
	Profile string         `json:"profile"` // smoke, quick or paper
	Config  map[string]any `json:"config"`  // the resolved configuration the key was computed from
	Status  string         `json:"status"`
	Error   string         `json:"error,omitempty"`
	// Metrics are named scalar results (e.g. "acc_final", "train_seconds").
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Series are named curves (e.g. accuracy vs Nt, loss vs step).
	Series     []Series   `json:"series,omitempty"`
	Provenance Provenance `json:"provenance"`
}

// Series is a named curve of (X[i], Y[i]) points.
type Series struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"` // e.g. {"train":"euler","eval":"rk4-38"}
	XName  string            `json:"x_name,omitempty"`
	YName  string            `json:"y_name,omitempty"`
	X      []float64         `json:"x"`
	Y      []float64         `json:"y"`
}

// Provenance says where and how a record was computed.
type Provenance struct {
	Commit      string    `json:"commit"`
	Dirty       bool      `json:"dirty"`
	GoVersion   string    `json:"go_version"`
	GOOS        string    `json:"goos"`
	GOARCH      string    `json:"goarch"`
	CPUModel    string    `json:"cpu_model"`
	CPUFamily   int       `json:"cpu_family,omitempty"`   // /proc/cpuinfo's "cpu family" (AMD: 25 Zen 4, 26 Zen 5)
	CPUModelID  int       `json:"cpu_model_id,omitempty"` // its "model"
	CPUFeatures []string  `json:"cpu_features"`
	Kernels     string    `json:"kernels"`        // kernel level in use: avx512, avx2 or generic
	Conv        string    `json:"conv,omitempty"` // algorithm of stride-1 3×3 convolutions: winograd-f2x2-3x3 or im2col
	GOMAXPROCS  int       `json:"gomaxprocs"`
	Threads     int       `json:"threads"` // nnlib threads of this run
	Jobs        int       `json:"jobs"`    // concurrent runs allowed (-jobs)
	Seeds       []uint64  `json:"seeds,omitempty"`
	Dataset     string    `json:"dataset,omitempty"` // dataset fingerprint
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	WallSeconds float64   `json:"wall_seconds"`
}

// Metric returns the named metric and whether it exists.
func (r *Record) Metric(name string) (float64, bool) {
	v, ok := r.Metrics[name]
	return v, ok
}

// FindSeries returns the first series called name, or nil.
func (r *Record) FindSeries(name string) *Series {
	for i := range r.Series {
		if r.Series[i].Name == name {
			return &r.Series[i]
		}
	}
	return nil
}

// Marshal encodes r as indented JSON with a final newline. Map keys are
// sorted by encoding/json, so equal records give equal bytes.
func Marshal(r *Record) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Unmarshal decodes a record strictly: unknown fields and other schema
// versions are errors.
func Unmarshal(data []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("record schema %d, this build reads %d (re-run the experiment with -force)", r.Schema, SchemaVersion)
	}
	return &r, nil
}

// Read reads the record at path; errors name the file.
func Read(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Write writes r to path atomically: a temporary file in the same folder,
// synced, then renamed over path, so a crash never leaves a partial record.
func Write(path string, r *Record) error {
	data, err := Marshal(r)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to path (mode 0644 under the usual umask),
// creating its folder if needed, through a synced temporary file renamed
// over path (renameio), so that no reader, on this machine or another node
// of a shared filesystem, and no crash ever sees part of a file. It is the
// writer of the records and of the harness's files next to them.
func WriteFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return maybe.WriteFile(path, data, 0o644)
}

// ReadDir reads every *.json record under dir (recursively), sorted by path.
// A record that does not parse is an error naming its file; a missing dir
// gives no records and no error.
func ReadDir(dir string) ([]*Record, error) {
	var out []*Record
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && path == dir {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || filepath.Ext(path) != ".json" || filepath.Base(path)[0] == '.' {
			return nil
		}
		r, err := Read(path)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return out, err
}
