package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/harness/toykind"
	"github.com/continuousnet/repro/experiments/internal/record"
)

func init() { toykind.Register() }

// TestMain: a machine lock of the package's own (see
// harness.RunWithPrivateMachineLock).
func TestMain(m *testing.M) { os.Exit(harness.RunWithPrivateMachineLock(m)) }

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestFromSubfolder runs -list, -plan and a real invocation from a
// subfolder of the repository: the spec path is relative to the working
// directory, the outputs go under the repository root (here a temporary
// copy with its own go.mod, so the test writes nothing into the checkout).
func TestFromSubfolder(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("internal", "harness", "testdata", "toy-chain.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "toy-chain.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(root, "cache")
	t.Chdir(sub)

	code, out, errs := runCmd(t, "-spec", "../toy-chain.yaml", "-list")
	if code != 0 || !strings.Contains(out, "walk/0.9") {
		t.Fatalf("-list: %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, "-spec", "../toy-chain.yaml", "-plan", "-cache", cache)
	if code != 0 || !strings.Contains(out, "3 to run, 0 cached") {
		t.Fatalf("-plan: %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, "-spec", "../toy-chain.yaml", "-cache", cache, "-profile", "smoke")
	if code != 0 || !strings.Contains(out, "ran 3, cached 0") {
		t.Fatalf("run: %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(root, "results", "smoke", "runs", "toy-chain", "walk__0.5.json")); err != nil {
		t.Errorf("smoke record not under <root>/results/smoke/runs: %v", err)
	}
	// Every invocation rebuilds the outputs, also when it computes nothing:
	// a deleted output (or one a kill between the last record and the
	// rebuild left stale) comes back.
	verdicts := filepath.Join(root, "results", "smoke", "verdicts.md")
	if err := os.Remove(verdicts); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "-spec", "../toy-chain.yaml", "-cache", cache, "-profile", "smoke")
	if _, err := os.Stat(verdicts); code != 0 || err != nil || !strings.Contains(out, "nothing to compute") || !strings.Contains(out, "3 records in") {
		t.Errorf("run after a lost rebuild: %d, verdicts %v\n%s", code, err, out)
	}
	// Runs skipped here (as CIFAR runs are without the data) keep the
	// records already there, and the summary says the outputs show those.
	skipping := strings.Replace(string(src), "      mode: walk\n", "      mode: walk\n      skip: no toy data here\n", 1)
	if err := os.MkdirAll(filepath.Join(root, "a", "skip"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "skip", "toy-chain.yaml"), []byte(skipping), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCmd(t, "-spec", "../skip/toy-chain.yaml", "-cache", cache, "-profile", "smoke")
	if code != 0 || !strings.Contains(out, "3 skipped run(s) keep the records already in") {
		t.Errorf("run with every run skipped: %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCmd(t, "-tables")
	if code != 0 || !strings.Contains(out, "0 records") {
		t.Errorf("-tables for quick (no records): %d\n%s", code, out)
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "-only"},
		{[]string{"-profile", "fast"}, 2, "valid profiles: smoke, quick, paper"},
		{[]string{"-jobs", "0"}, 2, "at least 1"},
		{[]string{"-threads", "-1"}, 2, "-threads -1"},
		{[]string{"-spec", "internal/harness/testdata/toy-chain.yaml", "-only", "("}, 2, "-only"},
		{[]string{"-spec", "internal/harness/testdata/toy-chain.yaml", "-only", "nothing"}, 2, "matches no experiment"},
		{[]string{"-spec", "no-such.yaml"}, 2, "no-such.yaml"},
		{[]string{"extra"}, 2, "unexpected arguments"},
	}
	for _, tt := range tests {
		code, out, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(out+errs, tt.want) {
			t.Errorf("%v: exit %d, want %d; output lacks %q?\n%s%s", tt.args, code, tt.code, tt.want, out, errs)
		}
	}
}

func TestEmbeddedSpecsParse(t *testing.T) {
	code, out, errs := runCmd(t, "-list")
	if code != 0 {
		t.Errorf("-list with the embedded specs: %d\n%s%s", code, out, errs)
	}
}

// The opt-in extensions experiment is left out of a plain invocation (and
// named at the end of -list), selected by -only, and its runs are found by
// -show without -only.
func TestOptInExperiment(t *testing.T) {
	t.Setenv("CNET_DATA", t.TempDir())
	const run = "extensions/theta-coarsen/rk4-classic-refined"
	code, out, errs := runCmd(t, "-list")
	if code != 0 || strings.Contains(out, "theta-coarsen/") || !strings.Contains(out, "opt-in experiment extensions (not run by default): go run ./experiments -only extensions") {
		t.Errorf("-list: %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, "-list", "-only", "^extensions$")
	if code != 0 || !strings.Contains(out, "theta-coarsen/rk4-classic-refined") || !strings.Contains(out, "train/rk4-classic-linear") || strings.Contains(out, "opt-in experiment") {
		t.Errorf("-list -only extensions: %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, "-show", run, "-profile", "smoke")
	if code != 0 || !strings.Contains(out, "kind: cifar-theta-coarsen") || !strings.Contains(out, "specs/extensions.yaml:") {
		t.Errorf("-show %s: %d\n%s%s", run, code, out, errs)
	}
}

// After a run, an experiment without verdict rows (extensions) names its
// tables where the claims print their verdict lines; one with verdicts
// does not.
func TestRegenerateNamesTablesWithoutVerdicts(t *testing.T) {
	recs, err := record.ReadDir(filepath.Join("internal", "report", "testdata", "records"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, figs := filepath.Join(dir, "results"), filepath.Join(dir, "figures")
	for _, tt := range []struct {
		experiments []string
		want        []string
		not         []string
	}{
		{[]string{"extensions"}, []string{"extensions (no verdicts): " + filepath.Join(res, "extensions-coarsening.md"),
			"extensions (no verdicts): " + filepath.Join(res, "extensions-basis.md")}, []string{"claim "}},
		{[]string{"coarsening"}, []string{"claim d:"}, []string{"(no verdicts)"}},
	} {
		var b bytes.Buffer
		if err := regenerate(&b, "quick", res, figs, recs, tt.experiments); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.experiments, w, b.String())
			}
		}
		for _, n := range tt.not {
			if strings.Contains(b.String(), n) {
				t.Errorf("%v: output has %q:\n%s", tt.experiments, n, b.String())
			}
		}
	}
}
