// Package harness runs experiment specs: it resolves each spec's runs for a
// profile into units of work keyed by a hash of everything that determines
// their result, schedules the units that are not cached in parallel (with
// dependencies between them), checkpoints and resumes them, writes their
// result records atomically and reports progress.
//
// What a run computes is a Kind, registered once by the package that
// implements it (usually from an init function):
//
//	harness.Register(myKind{})
//
// A kind receives its decoded parameters and everything else through *Env.
package harness

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// Params is a kind's parameter struct. The harness decodes a run's merged
// YAML parameters into a fresh one strictly (see spec.DecodeStrict) and then
// calls Validate, which checks values and names against their registries
// (schemes, models, datasets). Return spec.Invalid(field, choices, ...) for
// a bad value so the error points at the line that set it.
type Params interface {
	Validate() error
}

// Kind is one kind of computation a run can perform.
type Kind interface {
	// Name is the kind's name as written in specs (e.g. "cifar-train").
	Name() string
	// Version is the kind's algorithm version. It is part of every run key:
	// bump it when a change to the computation changes results, and every
	// cached result of the kind is recomputed.
	Version() int
	// NewParams returns a pointer to a new, zero parameter struct.
	NewParams() Params
	// Exclusive reports whether the kind's timing is a result, so its runs
	// must run with nothing else running (they get every core).
	Exclusive() bool
	// Run computes the result. It must honour ctx (return ctx.Err() soon
	// after it is cancelled), save checkpoints with env.SaveCheckpoint so an
	// interrupted run resumes, and produce the same Result whether or not it
	// was interrupted. Return Skip(...) when it cannot run here (e.g. its
	// dataset is missing).
	Run(ctx context.Context, env *Env) (*Result, error)
}

// Result is what a run computed; the harness adds the rest of the record.
// Metrics must be finite.
type Result struct {
	Metrics map[string]float64
	Series  []record.Series
}

// Estimator is implemented by kinds that can tell how much work a run is,
// so -plan can estimate its time from measured costs. Class names the
// configuration whose cost per unit is measured (e.g. model size, batch and
// scheme); units is the amount of work (e.g. training steps).
type Estimator interface {
	Work(p Params) (class string, units float64)
}

// DatasetFingerprinter is implemented by kinds that read a dataset. The
// fingerprint (e.g. a hash of the files, or "missing") is part of the key,
// so a different dataset never yields a cache hit. missing is non-empty
// when the dataset is not here: why, and how to get it; such a run skips,
// and -plan says so instead of estimating it.
type DatasetFingerprinter interface {
	Dataset(p Params) (fingerprint, missing string)
}

// SourceDirs is implemented by kinds that say which source folders
// (relative to the repository root) their results depend on; -plan flags
// cached results whose commit differs from HEAD in them. The default is
// DefaultSourceDirs.
type SourceDirs interface {
	SourceDirs() []string
}

// DefaultSourceDirs are the folders a kind's results depend on unless it
// says otherwise.
var DefaultSourceDirs = []string{"nnlib", "integrators", "datasets", "experiments/internal"}

var (
	regMu    sync.RWMutex
	registry = map[string]Kind{}
)

// Register makes a kind available to specs. It panics if the name is empty
// or already registered, or if NewParams does not return a non-nil pointer
// to a struct (programming errors).
func Register(k Kind) {
	regMu.Lock()
	defer regMu.Unlock()
	name := k.Name()
	if name == "" {
		panic("harness.Register: empty kind name")
	}
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("harness.Register: kind %q registered twice", name))
	}
	p := k.NewParams()
	if v := reflect.ValueOf(p); v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("harness.Register: kind %q: NewParams returned %T, want a non-nil pointer to a struct", name, p))
	}
	registry[name] = k
}

// Lookup returns the kind registered under name.
func Lookup(name string) (Kind, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	k, ok := registry[name]
	return k, ok
}

// Kinds returns the registered kind names, sorted.
func Kinds() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// SkipError says a run cannot run here; the run's record gets status
// "skipped" with Reason.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns a *SkipError. Say what is missing and how to fix it, e.g.
// Skip("CIFAR-10 not found in $CNET_DATA; run `make data`").
func Skip(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// IsSkip reports whether err is (or wraps) a *SkipError and returns its reason.
func IsSkip(err error) (string, bool) {
	var s *SkipError
	if errors.As(err, &s) {
		return s.Reason, true
	}
	return "", false
}
