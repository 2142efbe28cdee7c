package spec

import (
	"strings"
	"testing"
	"testing/fstest"
)

const sharedSrc = `defaults:
  toy:
    seeds: {smoke: [1], quick: [1, 2], paper: [1, 2, 3]}
    params:
      steps: 10
      opt: {lr: 0.1, momentum: 0.9}
    profiles:
      smoke: {steps: 2}
runs:
  - name: train/a
    kind: toy
    params: {steps: 20}
  - name: train/b
    kind: toy
    params: {opt: {lr: 0.5}}
    profiles: {smoke: {opt: {momentum: 0}}}
  - name: eval/a
    kind: toy
    seed: 0
    needs: [train/a]
`

func sharedFS(extra map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"specs/shared/toys.yaml": {Data: []byte(sharedSrc)}}
	for name, src := range extra {
		fsys["specs/"+name] = &fstest.MapFile{Data: []byte(src)}
	}
	return fsys
}

// A used run is the shared declaration with its file's defaults merged in:
// the run's params over the defaults' params, its profile overrides over
// theirs, the defaults' seeds unless the run writes its own; and errors and
// -show name the shared file.
func TestSharedRunsAndDefaults(t *testing.T) {
	specs, err := LoadFS(sharedFS(map[string]string{
		"x.yaml": "name: x\nruns:\n  - use: train/a\n  - use: train/b\n  - use: eval/a\n",
		"y.yaml": "name: y\nruns:\n  - use: train/a\n",
	}), "specs")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("%d specs, want 2 (the shared file is no experiment)", len(specs))
	}
	tests := []struct {
		profile, run string
		seed         uint64
		want         demoParams
	}{
		{Quick, "train/a/seed2", 2, demoParams{Steps: 20, Opt: optParams{0.1, 0.9}}},
		{Smoke, "train/a/seed1", 1, demoParams{Steps: 2, Opt: optParams{0.1, 0.9}}},
		{Quick, "train/b/seed1", 1, demoParams{Steps: 10, Opt: optParams{0.5, 0.9}}},
		{Smoke, "train/b/seed1", 1, demoParams{Steps: 2, Opt: optParams{0.5, 0}}},
		{Paper, "eval/a", 0, demoParams{Steps: 10, Opt: optParams{0.1, 0.9}}},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.run, func(t *testing.T) {
			runs, err := specs[0].Expand(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			var r *Run
			for _, x := range runs {
				if x.Name == tt.run {
					r = x
				}
			}
			if r == nil {
				t.Fatalf("no run %s in %v", tt.run, names(runs, 99))
			}
			var got demoParams
			if err := DecodeStrict(r.Spec.File, r.Params, &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want || r.Seed != tt.seed {
				t.Errorf("seed %d, params %+v; want seed %d, %+v", r.Seed, got, tt.seed, tt.want)
			}
			if r.Spec.File != "specs/shared/toys.yaml" {
				t.Errorf("run declared in %s, want the shared file", r.Spec.File)
			}
		})
	}
	runs, err := specs[1].Expand(Quick)
	if err != nil {
		t.Fatal(err)
	}
	show := runs[0].Show()
	for _, want := range []string{
		"kind: toy", "# specs/shared/toys.yaml:11",
		"seed: 1", "# specs/shared/toys.yaml:3", // the defaults' seeds
		"steps: 20", "# specs/shared/toys.yaml:12", // the run's own value
		"opt: {lr: 0.1, momentum: 0.9}", "# specs/shared/toys.yaml:6", // the defaults'
	} {
		if !strings.Contains(show, want) {
			t.Errorf("Show lacks %q:\n%s", want, show)
		}
	}
}

func TestSharedErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // below specs/
		want  []string
	}{
		{"unknown shared run", map[string]string{"x.yaml": "name: x\nruns:\n  - use: train/c\n"},
			[]string{"specs/x.yaml:3:", `no shared run is named "train/c"`, `did you mean "train/a"?`, "eval/a, train/a, train/b"}},
		{"use with more keys", map[string]string{"x.yaml": "name: x\nruns:\n  - use: train/a\n    seed: 3\n"},
			[]string{"specs/x.yaml:3:", "holds only use: NAME"}},
		{"use twice", map[string]string{"x.yaml": "name: x\nruns:\n  - use: train/a\n  - use: train/a\n"},
			[]string{"specs/shared/toys.yaml:10:", `"train/a/seed1" is used twice in experiment x`, "use a shared run once"}},
		{"need not used", map[string]string{"x.yaml": "name: x\nruns:\n  - use: eval/a\n"},
			[]string{"specs/shared/toys.yaml:17:", `needs the shared run "train/a", which experiment x does not use`, "add `- use: train/a` to the runs of specs/x.yaml"}},
		{"shared run declared twice", map[string]string{"shared/more.yaml": "runs:\n  - {name: train/a, kind: toy}\n"},
			[]string{"specs/shared/toys.yaml:10:", `shared run "train/a" is declared twice (first at specs/shared/more.yaml:2)`}},
		{"shared file with a name", map[string]string{"shared/more.yaml": "name: more\nruns:\n  - {name: z, kind: toy}\n"},
			[]string{"specs/shared/more.yaml:1:", `unknown key "name" in a shared-runs file`, "valid keys: defaults, runs"}},
		{"defaults for a kind no run has", map[string]string{"x.yaml": "name: x\ndefaults:\n  tyo: {params: {steps: 1}}\nruns:\n  - {name: a, kind: toy}\n"},
			[]string{"specs/x.yaml:3:", `defaults for kind "tyo": no run of this file has that kind`}},
		{"defaults key misspelled", map[string]string{"x.yaml": "name: x\ndefaults:\n  toy: {param: {steps: 1}}\nruns:\n  - {name: a, kind: toy}\n"},
			[]string{"specs/x.yaml:3:", `unknown key "param" in defaults.toy`, `did you mean "params"?`}},
		{"defaults profile unknown", map[string]string{"x.yaml": "name: x\ndefaults:\n  toy: {profiles: {fast: {}}}\nruns:\n  - {name: a, kind: toy}\n"},
			[]string{"specs/x.yaml:3:", `"fast"`, "smoke, quick, paper"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := sharedFS(tt.files)
			specs, err := LoadFS(fsys, "specs")
			if err == nil {
				for _, s := range specs {
					if _, err = s.Expand(Quick); err != nil {
						break
					}
				}
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

// A spec parsed without shared runs says where they would come from.
func TestUseWithoutShared(t *testing.T) {
	_, err := Parse("x.yaml", []byte("name: x\nruns:\n  - use: train/a\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3:") || !strings.Contains(err.Error(), "no shared runs are loaded") {
		t.Fatalf("error %v", err)
	}
}
