package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestClusterFlagErrors: the cluster flags used where they mean nothing are
// errors (exit 2) that say how to use them.
func TestClusterFlagErrors(t *testing.T) {
	toy := "internal/harness/testdata/toy-chain.yaml"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-submit", "pbs"}, "the only scheduler is slurm"},
		{[]string{"-dry-run"}, "-dry-run goes with -submit slurm"},
		{[]string{"-sbatch-args", "--partition=cpu"}, "-sbatch-args goes with -submit slurm"},
		{[]string{"-submit", "slurm", "-run", "abc"}, "exclude each other"},
		{[]string{"-submit", "slurm", "-plan"}, "do not combine"},
		{[]string{"-run", "abc", "-force"}, "do not combine"},
		{[]string{"-collect", "-force"}, "-collect computes nothing"},
		{[]string{"-collect", "-submit", "slurm"}, "-collect computes nothing"},
		{[]string{"-spec", toy, "-submit", "slurm", "-dry-run", "-sbatch-args", "--comment='x"}, "unterminated ' quote"},
	}
	for _, tt := range tests {
		code, out, errs := runCmd(t, tt.args...)
		if code != 2 || !strings.Contains(out+errs, tt.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s%s", tt.args, code, tt.want, out, errs)
		}
	}
}

// TestRunUnknownKey: a worker given a key the plan lacks fails (exit 1)
// saying what to do.
func TestRunUnknownKey(t *testing.T) {
	code, out, errs := runCmd(t, "-spec", "internal/harness/testdata/toy-chain.yaml", "-run", "feed", "-cache", t.TempDir())
	if code != 1 || !strings.Contains(errs, "no run of profile quick has the key feed") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}

// TestRunOutsideCheckout: a worker runs in the cache, outside any checkout,
// with the spec file copied there: the missing repository root is no error.
func TestRunOutsideCheckout(t *testing.T) {
	spec, err := filepath.Abs("internal/harness/testdata/toy-chain.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	code, out, errs := runCmd(t, "-spec", spec, "-run", "feed", "-cache", t.TempDir())
	if code != 1 || strings.Contains(errs, "go.mod") || !strings.Contains(errs, "has the key feed") {
		t.Errorf("exit %d, want 1 and the unknown key (not a missing go.mod)\n%s%s", code, out, errs)
	}
}
