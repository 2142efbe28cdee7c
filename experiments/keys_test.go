package main

import (
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

var updateKeys = flag.Bool("update-keys", false, "rewrite testdata/runkeys.golden from the embedded specs")

// TestRunKeysUnchanged pins the run key of every run of every embedded spec
// in every profile. A key is what the cache and the committed records are
// looked up by, so a change in how the specs are written (shared runs,
// defaults) must leave every key as it was; a change that is meant to alter
// results changes keys on purpose and rewrites the golden file with
// -update-keys. The data folder is an empty one, so every dataset
// fingerprint reads "missing" whatever the machine holds.
func TestRunKeysUnchanged(t *testing.T) {
	t.Setenv("CNET_DATA", t.TempDir())
	specs, err := spec.LoadFS(specsFS, "specs")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, prof := range spec.Profiles {
		plan, err := harness.Resolve(specs, prof)
		if err != nil {
			t.Fatalf("%s: %v", prof, err)
		}
		for _, tg := range plan.Targets {
			fmt.Fprintf(&b, "%s %s %s\n", prof, tg.Name(), tg.Unit.Key)
		}
	}
	golden := filepath.Join("testdata", "runkeys.golden")
	if *updateKeys {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(b.String(), "\n")
	for i, w := range strings.Split(string(want), "\n") {
		if i >= len(got) || got[i] != w {
			g := "(none)"
			if i < len(got) {
				g = got[i]
			}
			t.Fatalf("%s:%d: run keys changed:\nwant %s\ngot  %s", golden, i+1, w, g)
		}
	}
	if len(got) != len(strings.Split(string(want), "\n")) {
		t.Fatalf("%d runs, want %d", len(got)-1, len(strings.Split(string(want), "\n"))-1)
	}
}

// Every shared run is used by an experiment (one nobody uses is dead text
// that still has to be kept valid), and no experiment declares a run of the
// same name as a shared one (a copy that could drift from it).
func TestSharedRunsUsedOnce(t *testing.T) {
	shared, err := spec.LoadShared(specsFS, path.Join("specs", spec.SharedDir))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := spec.LoadFS(specsFS, "specs")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, s := range specs {
		for _, d := range s.Runs {
			if d.Src != s {
				used[d.Name] = true
			} else if slices.Contains(shared.Names(), d.Name) {
				t.Errorf("%s:%d: run %q is also a shared run; write `- use: %s`", s.File, d.Line, d.Name, d.Name)
			}
		}
	}
	for _, n := range shared.Names() {
		if !used[n] {
			t.Errorf("shared run %q is used by no experiment", n)
		}
	}
}
