// Package datatest gives tests of any package access to the real datasets.
//
// A test that needs data calls [Dir] (or [CIFAR10], [FashionMNIST]): when
// CNET_DATA is unset, or the dataset is not in it, the test is skipped — or,
// when CNET_REQUIRE_DATA=1 (as CI sets it), it fails, so that missing data
// can never pass silently as a skip. Loaded datasets are shared by all the
// tests of a test binary.
package datatest

import (
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/continuousnet/repro/datasets"
)

// Required reports whether CNET_REQUIRE_DATA=1.
func Required() bool { return os.Getenv(datasets.EnvRequireData) == "1" }

// SkipOrFail skips t with reason, or fails it when data is required.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1 makes this a failure)", reason, datasets.EnvRequireData)
	}
	t.Skip(reason)
}

// Dir returns the data directory named by CNET_DATA, or skips (fails) t
// when it is unset.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(datasets.EnvDataDir)
	if dir == "" {
		SkipOrFail(t, "real data needed: set "+datasets.EnvDataDir+" to the data directory (see `make data`)")
	}
	return dir
}

type loaded struct {
	once  sync.Once
	split *datasets.Split
	err   error
}

var (
	mu    sync.Mutex
	cache = map[string]*loaded{}
)

// Load returns the dataset name ("cifar10", "cifar100", "fashion-mnist")
// from the data directory, loading and verifying it once per test binary.
// It skips (fails) t when the dataset is absent and fails t when it is
// present but does not load or verify.
func Load(t testing.TB, name string) *datasets.Split {
	t.Helper()
	dir := Dir(t)
	mu.Lock()
	l := cache[dir+"\x00"+name]
	if l == nil {
		l = &loaded{}
		cache[dir+"\x00"+name] = l
	}
	mu.Unlock()
	l.once.Do(func() { l.split, _, l.err = datasets.Load(dir, name) })
	if l.err != nil {
		if errors.Is(l.err, datasets.ErrNotFound) {
			SkipOrFail(t, l.err.Error())
		}
		t.Fatal(l.err)
	}
	return l.split
}

// CIFAR10 returns CIFAR-10 from the data directory (see [Load]).
// The datasets are shared: do not modify them.
func CIFAR10(t testing.TB) *datasets.Split { t.Helper(); return Load(t, "cifar10") }

// FashionMNIST returns Fashion-MNIST from the data directory (see [Load]).
func FashionMNIST(t testing.TB) *datasets.Split { t.Helper(); return Load(t, "fashion-mnist") }

// RequirePresent skips (fails, with CNET_REQUIRE_DATA=1) t unless one form
// of the dataset name is present in the data directory, without loading it:
// for tests whose code under test loads the data itself.
func RequirePresent(t testing.TB, name string) {
	t.Helper()
	dir := Dir(t)
	for _, s := range datasets.Sources() {
		if s.Dataset == name && s.Present(dir) {
			return
		}
	}
	SkipOrFail(t, name+" is not in "+dir+" (see `make data`)")
}
