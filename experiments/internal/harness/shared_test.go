package harness_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// A wrong value in a shared run, or in the defaults it starts from, is
// reported at its own file and line, not at the experiment that uses it;
// and a run used by two experiments is one unit.
func TestSharedRunErrorsNameTheirFile(t *testing.T) {
	const shared = `defaults:
  toy:
    params:
      steps: 3
      decay: 0.5
    profiles:
      paper: {mode: %s}
runs:
  - name: walk
    kind: toy
    params: {mode: walk, decay: %s}
`
	tests := []struct {
		name, mode, decay string
		want              []string // substrings of the error; none: no error
	}{
		{"fine", "walk", "0.5", nil},
		{"bad value in the run", "walk", "fast", []string{"specs/shared/toys.yaml:11:", "`fast` into float64", `run "walk"`}},
		{"bad value in the defaults' profile", "jump", "0.5", []string{"profile paper:", "specs/shared/toys.yaml:7:", `unknown mode "jump"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(strings.Replace(shared, "%s", tt.mode, 1), "%s", tt.decay, 1)
			fsys := fstest.MapFS{
				"specs/shared/toys.yaml": {Data: []byte(src)},
				"specs/a.yaml":           {Data: []byte("name: a\nruns:\n  - use: walk\n")},
				"specs/b.yaml":           {Data: []byte("name: b\nruns:\n  - use: walk\n")},
			}
			specs, err := spec.LoadFS(fsys, "specs")
			if err != nil {
				t.Fatal(err)
			}
			plan, err := harness.Resolve(specs, spec.Quick)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(plan.Units) != 1 || len(plan.Targets) != 2 {
					t.Errorf("%d units for %d targets, want the shared run once", len(plan.Units), len(plan.Targets))
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
