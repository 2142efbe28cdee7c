// Package datatest gives tests of any package access to the real datasets.
//
// A test that needs data calls [Dir] (or [CIFAR10], [FashionMNIST]): when
// CNET_DATA is unset, or the dataset is not in it, the test is skipped — or,
// when CNET_REQUIRE_DATA=1 (as CI sets it), it fails, so that missing data
// can never pass silently as a skip. Loaded datasets are shared by all the
// tests of a test binary. [TorchPython] does the same for the PyTorch
// oracles (CNET_REQUIRE_TORCH=1).
package datatest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
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

// Load returns the dataset name ("cifar10", "cifar100", "fashion-mnist")
// from the data directory, loading and verifying it once per test binary
// (datasets.LoadOnce).
// It skips (fails) t when the dataset is absent and fails t when it is
// present but does not load or verify.
func Load(t testing.TB, name string) *datasets.Split {
	t.Helper()
	split, err := datasets.LoadOnce(Dir(t), name)
	if err != nil {
		if errors.Is(err, datasets.ErrNotFound) {
			SkipOrFail(t, err.Error())
		}
		t.Fatal(err)
	}
	return split
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

// The PyTorch oracles (the model's twin, the data pipeline against PIL and
// torchvision) run a Python interpreter that has Debian's python3-torch,
// python3-torchvision and python3-pil.
const (
	EnvTorchPython  = "CNET_TORCH_PYTHON"  // the interpreter (default /usr/bin/python3: the PATH python3 may lack torch)
	EnvRequireTorch = "CNET_REQUIRE_TORCH" // "1": a missing interpreter or module fails the test instead of skipping it
)

// TorchSkipOrFail skips t with reason, or fails it when CI=true or
// CNET_REQUIRE_TORCH=1 (CI must run the oracles).
func TorchSkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" || os.Getenv(EnvRequireTorch) == "1" {
		t.Fatalf("%s (CI=true or %s=1 makes this a failure)", reason, EnvRequireTorch)
	}
	t.Skip(reason + " (install python3-torch python3-torchvision python3-pil, or set " + EnvTorchPython + ")")
}

// TorchPython returns the interpreter of the PyTorch oracles after checking
// that it finds modules, or skips (fails, see TorchSkipOrFail) t. It only
// looks the modules up; a module that is installed but fails to import is
// the caller's to report when its script runs.
func TorchPython(t testing.TB, modules ...string) string {
	t.Helper()
	python := os.Getenv(EnvTorchPython)
	if python == "" {
		python = "/usr/bin/python3"
	}
	if _, err := exec.LookPath(python); err != nil {
		TorchSkipOrFail(t, fmt.Sprintf("no Python interpreter for the PyTorch oracles: %v", err))
	}
	if len(modules) == 0 {
		return python
	}
	quoted := make([]string, len(modules))
	for i, m := range modules {
		quoted[i] = strconv.Quote(m)
	}
	find := "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in (" + strings.Join(quoted, ", ") + ",)))"
	if out, err := exec.Command(python, "-c", find).CombinedOutput(); err != nil {
		TorchSkipOrFail(t, fmt.Sprintf("%s lacks one of %s (%v %s)", python, strings.Join(modules, ", "), err, strings.TrimSpace(string(out))))
	}
	return python
}
