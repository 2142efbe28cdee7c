package harness

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// Env is what a run receives besides its context.
type Env struct {
	Experiment string // the spec that asked for the run (the first, when several share it)
	Run        string // the run's name in that spec
	Profile    string // informational only: a kind must not branch on it (the profile is not in the key; put what differs in Params)
	Key        string // the run key
	Seed       uint64
	Params     Params // the decoded, validated parameters (the kind's own type)
	// Threads is the number of nnlib threads this run may use; the harness
	// has already set it (nnlib's thread count is process-wide).
	Threads int
	// ArtifactDir is a folder under the run key in the cache, kept across
	// interruptions and after success, for what later runs need (trained
	// weights). Write into it with WriteArtifact. It is not in results/.
	ArtifactDir string
	// Needs are the runs this run needs, in the order the spec lists them.
	Needs []Dep

	cache    *Cache
	progress func(Progress)
	logf     func(string)
}

// Dep is a finished run that the current run needs.
type Dep struct {
	Run         string         // its name in the spec
	Group       string         // the name before its seed suffix, for a run of a seeds list (spec.Run.Group)
	Key         string         // its run key
	Record      *record.Record // its result record (status ok)
	ArtifactDir string         // its artifact folder in the cache
}

// Need returns the needed run called name. Asking for a run the spec does
// not list in needs is a programming error and panics.
func (e *Env) Need(name string) *Dep {
	for i := range e.Needs {
		if e.Needs[i].Run == name {
			return &e.Needs[i]
		}
	}
	names := make([]string, len(e.Needs))
	for i, d := range e.Needs {
		names[i] = d.Run
	}
	panic(fmt.Sprintf("harness.Env.Need: run %q does not need %q (its needs: %s)", e.Run, name, strings.Join(names, ", ")))
}

// SaveCheckpoint stores the run's state atomically, replacing the previous
// checkpoint. A run killed at any moment resumes from the last one saved.
// Save everything the rest of the run depends on (weights, optimizer and
// RNG state, the step, partial results) so the resumed run ends with the
// same result as an uninterrupted one.
func (e *Env) SaveCheckpoint(data []byte) error {
	return e.cache.saveCheckpoint(e.Key, data)
}

// LoadCheckpoint returns the last checkpoint saved by this run key, and
// false when there is none (a fresh start). A checkpoint that fails its
// checksum is moved aside, with a line saying where, and the run starts
// afresh.
func (e *Env) LoadCheckpoint() ([]byte, bool, error) {
	data, ok, note, err := e.cache.loadCheckpoint(e.Key)
	if note != "" {
		e.Logf("%s", note)
	}
	return data, ok, err
}

// WriteArtifact writes a file into ArtifactDir atomically. name must be a
// plain file name.
func (e *Env) WriteArtifact(name string, data []byte) error {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		panic(fmt.Sprintf("harness.Env.WriteArtifact: %q is not a plain file name", name))
	}
	return record.WriteFileAtomic(filepath.Join(e.ArtifactDir, name), data)
}

// Progress is a run's progress report. Zero fields are not shown.
type Progress struct {
	Done, Total float64 // work done and total in any unit (steps, epochs): gives the ETA
	Epoch       int
	Epochs      int
	Loss        float64
	Acc         float64 // accuracy as a fraction in [0,1]
	Note        string  // a short phrase, e.g. "sweep Nt=4"
}

// Report sends a progress report; the harness throttles its display.
func (e *Env) Report(p Progress) {
	if e.progress != nil {
		e.progress(p)
	}
}

// Logf logs a line attributed to the run.
func (e *Env) Logf(format string, args ...any) {
	if e.logf != nil {
		e.logf(fmt.Sprintf(format, args...))
	}
}

func (p Progress) String() string {
	var parts []string
	if p.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("epoch %d/%d", p.Epoch, p.Epochs))
	} else if p.Epoch > 0 {
		parts = append(parts, fmt.Sprintf("epoch %d", p.Epoch))
	}
	if p.Loss != 0 {
		parts = append(parts, fmt.Sprintf("loss %.4g", p.Loss))
	}
	if p.Acc != 0 {
		parts = append(parts, fmt.Sprintf("acc %.2f%%", 100*p.Acc))
	}
	if p.Total > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%%", 100*p.Done/p.Total))
	}
	if p.Note != "" {
		parts = append(parts, p.Note)
	}
	return strings.Join(parts, " ")
}

// eta estimates the time left from the rate of progress since the first
// report of this start (a resumed run starts part-way).
type eta struct {
	t0    time.Time
	done0 float64
	set   bool
}

func (e *eta) update(now time.Time, p Progress) time.Duration {
	if p.Total <= 0 {
		return -1
	}
	if !e.set {
		e.t0, e.done0, e.set = now, p.Done, true
		return -1
	}
	dt := now.Sub(e.t0)
	dd := p.Done - e.done0
	if dd <= 0 || dt <= 0 {
		return -1
	}
	return time.Duration(float64(dt) * (p.Total - p.Done) / dd)
}
