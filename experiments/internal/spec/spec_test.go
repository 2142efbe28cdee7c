package spec

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const good = `name: demo
claim: a
title: A demo
description: Runs a toy.
runs:
  - name: base
    kind: toy
    seed: 7
    params:
      steps: 10
      opt:
        lr: 0.1
        momentum: 0.9
    profiles:
      smoke:
        steps: 2
        opt:
          lr: 0.5
  - name: sweep/{scheme}-k{k}
    kind: toy
    needs: [base]
    matrix:
      scheme: [euler, rk4]
      k: [1, 2]
    params:
      steps: 3
      opt: {lr: 0.1, momentum: 0}
  - name: summary
    kind: toy
    needs: [sweep/euler-k1, sweep/rk4-k2]
    params: {steps: 1, opt: {lr: 0, momentum: 0}}
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            []string // substrings of the error
	}{
		{"misspelled run key", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    parms: {}\n", []string{"x.yaml:5:", `unknown key "parms"`, `did you mean "params"`, "valid keys: name, kind, seed, seeds, params, profiles, matrix, needs, use"}},
		{"misspelled spec key", "x.yaml", "name: x\ntitel: t\nruns:\n  - name: a\n    kind: toy\n", []string{"x.yaml:2:", `"titel"`, "valid keys: name, claim, title, description, opt_in, defaults, runs"}},
		{"opt_in not a boolean", "x.yaml", "name: x\nopt_in: yes please\nruns:\n  - {name: a, kind: toy}\n", []string{"x.yaml:2:", "opt_in: want true or false", `"yes please"`}},
		{"opt_in a list", "x.yaml", "name: x\nopt_in: [true]\nruns:\n  - {name: a, kind: toy}\n", []string{"x.yaml:2:", "opt_in: want true or false"}},
		{"duplicated key", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    params:\n      steps: 1\n      steps: 2\n", []string{"x.yaml:7:", `"steps" is duplicated (first at line 6)`}},
		{"duplicated top key", "x.yaml", "name: x\nname: y\nruns: []\n", []string{"x.yaml:2:", "duplicated"}},
		{"bad seed", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    seed: -1\n", []string{"x.yaml:5:", "seed"}},
		{"unknown profile", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    profiles:\n      fast: {}\n", []string{"x.yaml:6:", `"fast"`, "smoke, quick, paper"}},
		{"name differs from file", "specs/y.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n", []string{"specs/y.yaml:1:", "differs from its file name"}},
		{"no runs", "x.yaml", "name: x\n", []string{`no "runs"`}},
		{"missing kind", "x.yaml", "name: x\nruns:\n  - name: a\n", []string{"x.yaml:3:", `no "kind"`}},
		{"anchor", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    params: &p {steps: 1}\n", []string{"x.yaml:5:", "anchors"}},
		{"matrix not a list", "x.yaml", "name: x\nruns:\n  - name: a{k}\n    kind: toy\n    matrix: {k: 3}\n", []string{"x.yaml:5:", "matrix.k"}},
		{"two documents", "x.yaml", "name: x\nruns:\n  - {name: a, kind: toy}\n---\nname: y\n", []string{"one YAML document"}},
		{"syntax", "x.yaml", "name: x\nruns: [\n", []string{"x.yaml:"}},
		{"bad spec name", "x.yaml", "name: X_1\nruns:\n  - {name: a, kind: toy}\n", []string{"x.yaml:1:", "lower-case"}},
		{"empty file", "x.yaml", "", []string{"x.yaml: the spec is empty", "name", "runs"}},
		{"comments only", "x.yaml", "# nothing yet\n", []string{"x.yaml: the spec is empty"}},
		{"seed and seeds", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    seed: 1\n    seeds: [1, 2]\n", []string{"x.yaml:6:", "either seed or seeds"}},
		{"seeds empty", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: []\n", []string{"x.yaml:5:", "non-empty list of seeds"}},
		{"seeds negative", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: [1, -2]\n", []string{"x.yaml:5:", "seeds: want non-negative integers", `"-2"`}},
		{"seeds twice", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: [1, 2, 1]\n", []string{"seed 1 is listed twice"}},
		{"seeds profile missing", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: {smoke: [1], quick: [1, 2]}\n", []string{"x.yaml:5:", `profile "paper" has no seeds`}},
		{"seeds unknown profile", "x.yaml", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: {smoke: [1], quick: [1], paper: [1], fast: [1]}\n", []string{"x.yaml:5:", `"fast"`}},
		{"seeds and matrix seed", "x.yaml", "name: x\nruns:\n  - name: a{seed}\n    kind: toy\n    seeds: [1, 2]\n    matrix: {seed: [3]}\n", []string{"x.yaml:6:", "already has a seeds list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown need", "name: x\nruns:\n  - name: a\n    kind: toy\n    needs: [b]\n", []string{"x.yaml:3:", `needs "b"`, "runs: a"}},
		{"cycle", "name: x\nruns:\n  - name: a\n    kind: toy\n    needs: [b]\n  - name: b\n    kind: toy\n    needs: [a]\n", []string{"cycle", "a → b → a"}},
		{"self", "name: x\nruns:\n  - name: a\n    kind: toy\n    needs: [a]\n", []string{"needs itself"}},
		{"duplicate run", "name: x\nruns:\n  - name: a\n    kind: toy\n  - name: a\n    kind: toy\n", []string{"x.yaml:5:", `"a" is used twice in experiment x (first at x.yaml:3)`}},
		{"matrix not in name", "name: x\nruns:\n  - name: a\n    kind: toy\n    matrix: {k: [1, 2]}\n", []string{"used twice", "{key}"}},
		{"unknown placeholder", "name: x\nruns:\n  - name: a{j}\n    kind: toy\n", []string{"{j}", "not a matrix key"}},
		{"bad run name", "name: x\nruns:\n  - name: a b\n    kind: toy\n", []string{`"a b"`}},
		{"too many plain runs", "name: x\nruns:\n" + plainRuns(MaxRuns+1), []string{"more than 10000 runs"}},
		{"too many seeds", "name: x\nruns:\n  - name: a{i}\n    kind: toy\n    seeds: [1, 2, 3]\n    matrix:\n      i: [" + intList(MaxRuns/3+1) + "]\n", []string{"more than 10000 runs"}},
		{"too many", "name: x\nruns:\n  - name: a{i}-{j}\n    kind: toy\n    matrix:\n      i: [" + strings.Repeat("1,", 200) + "1]\n      j: [" + strings.Repeat("1,", 200) + "1]\n", []string{"more than 10000 runs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("x.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = s.Expand(Quick)
			if err == nil {
				t.Fatalf("Expand: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

type optParams struct {
	LR       float64 `yaml:"lr"`
	Momentum float64 `yaml:"momentum"`
}

type demoParams struct {
	Steps int       `yaml:"steps"`
	Opt   optParams `yaml:"opt"`
	K     int       `yaml:"k" spec:"optional"`
	Sch   string    `yaml:"scheme" spec:"optional"`
}

func TestExpand(t *testing.T) {
	s, err := Parse("demo.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		profile string
		want    []string // name: decoded params
	}{
		{Quick, []string{
			"base seed=7 {10 {0.1 0.9} 0 }",
			"sweep/euler-k1 seed=0 {3 {0.1 0} 1 euler}",
			"sweep/euler-k2 seed=0 {3 {0.1 0} 2 euler}",
			"sweep/rk4-k1 seed=0 {3 {0.1 0} 1 rk4}",
			"sweep/rk4-k2 seed=0 {3 {0.1 0} 2 rk4}",
			"summary seed=0 {1 {0 0} 0 }",
		}},
		{Smoke, []string{
			"base seed=7 {2 {0.5 0.9} 0 }",
			"sweep/euler-k1 seed=0 {3 {0.1 0} 1 euler}",
			"sweep/euler-k2 seed=0 {3 {0.1 0} 2 euler}",
			"sweep/rk4-k1 seed=0 {3 {0.1 0} 1 rk4}",
			"sweep/rk4-k2 seed=0 {3 {0.1 0} 2 rk4}",
			"summary seed=0 {1 {0 0} 0 }",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			runs, err := s.Expand(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				var p demoParams
				if err := DecodeStrict(s.File, r.Params, &p); err != nil {
					t.Fatalf("%s: %v", r.Name, err)
				}
				got = append(got, r.Name+" seed="+itoa(r.Seed)+" "+sprint(p))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Expand(%s):\n%s\nwant\n%s", tt.profile, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	// The base params are not modified by merging.
	if again, _ := s.Expand(Quick); again[0].Params.Content[1].Value != "10" {
		t.Errorf("Expand modified the spec's params")
	}
}

// A seeds list repeats a run per seed of the profile; needs follow: a seeded
// run needs the run of its seed, a run with one seed needs every seed.
func TestExpandSeeds(t *testing.T) {
	src := `name: x
runs:
  - name: summary/k{k}
    kind: toy
    needs: ["sweep/k{k}"]
    matrix: {k: [1, 2]}
  - name: sweep/k{k}
    kind: toy
    seeds: {smoke: [1], quick: [1, 2, 3], paper: [1, 2, 3, 4, 5]}
    matrix: {k: [1, 2]}
    needs: ["train/k{k}", data]
  - name: train/k{k}
    kind: toy
    seeds: {smoke: [1], quick: [1, 2, 3], paper: [1, 2, 3, 4, 5]}
    matrix: {k: [1, 2]}
  - name: data
    kind: toy
    seed: 9
`
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		profile string
		want    []string // name seed group <- needs, in execution order
	}{
		{Smoke, []string{
			"train/k1/seed1 1 train/k1 <- ",
			"data 9  <- ",
			"sweep/k1/seed1 1 sweep/k1 <- train/k1/seed1 data",
			"summary/k1 0  <- sweep/k1/seed1",
			"train/k2/seed1 1 train/k2 <- ",
			"sweep/k2/seed1 1 sweep/k2 <- train/k2/seed1 data",
			"summary/k2 0  <- sweep/k2/seed1",
		}},
		{Quick, []string{
			"train/k1/seed1 1 train/k1 <- ",
			"data 9  <- ",
			"sweep/k1/seed1 1 sweep/k1 <- train/k1/seed1 data",
			"train/k1/seed2 2 train/k1 <- ",
			"sweep/k1/seed2 2 sweep/k1 <- train/k1/seed2 data",
			"train/k1/seed3 3 train/k1 <- ",
			"sweep/k1/seed3 3 sweep/k1 <- train/k1/seed3 data",
			"summary/k1 0  <- sweep/k1/seed1 sweep/k1/seed2 sweep/k1/seed3",
			"train/k2/seed1 1 train/k2 <- ",
			"sweep/k2/seed1 1 sweep/k2 <- train/k2/seed1 data",
			"train/k2/seed2 2 train/k2 <- ",
			"sweep/k2/seed2 2 sweep/k2 <- train/k2/seed2 data",
			"train/k2/seed3 3 train/k2 <- ",
			"sweep/k2/seed3 3 sweep/k2 <- train/k2/seed3 data",
			"summary/k2 0  <- sweep/k2/seed1 sweep/k2/seed2 sweep/k2/seed3",
		}},
	} {
		runs, err := s.Expand(tt.profile)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range runs {
			got = append(got, fmt.Sprintf("%s %d %s <- %s", r.Name, r.Seed, r.Group, strings.Join(r.Needs, " ")))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", tt.profile, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
	if runs, _ := s.Expand(Paper); len(runs) != 2*(5+5+1)+1 {
		t.Errorf("paper: %d runs, want 23", len(runs))
	}
}

func TestExpandSeedsErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"need lacks the seed", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: [1, 2]\n    needs: [b]\n  - name: b\n    kind: toy\n    seeds: [1]\n",
			`run "a/seed2" (seed 2) needs "b", which has no seed 2`},
		{"group needs itself", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: [1, 2]\n    needs: [a]\n", "needs itself"},
		{"name clash", "name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: [1]\n  - name: a/seed1\n    kind: toy\n", "used twice"},
	} {
		s, err := Parse("x.yaml", []byte(tt.src))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if _, err := s.Expand(Quick); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestExpandOrdersNeedsFirst(t *testing.T) {
	src := "name: x\nruns:\n  - name: c\n    kind: toy\n    needs: [b]\n  - name: a\n    kind: toy\n  - name: b\n    kind: toy\n    needs: [a]\n"
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Expand(Paper)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Name)
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Errorf("order %v, want a,b,c", got)
	}
}

func TestDecodeStrictErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"misspelled", "steps: 1\nopt: {lr: 1, momentum: 0}\nstpes: 2\n", []string{"f.yaml:3:", `unknown key "stpes"`, `did you mean "steps"`, "valid keys: steps, opt, k, scheme"}},
		{"nested misspelled", "steps: 1\nopt:\n  lr: 1\n  momentun: 0\n", []string{"f.yaml:4:", "params.opt", `"momentun"`, "valid keys: lr, momentum"}},
		{"missing", "steps: 1\nopt: {lr: 1}\n", []string{"f.yaml:2:", `params.opt: missing "momentum"`}},
		{"missing top", "opt: {lr: 1, momentum: 0}\n", []string{"f.yaml:1:", `missing "steps"`}},
		{"wrong type", "steps: ten\nopt: {lr: 1, momentum: 0}\n", []string{"f.yaml:1:", "cannot unmarshal", "ten"}},
		{"list for scalar", "steps: [1]\nopt: {lr: 1, momentum: 0}\n", []string{"f.yaml:1:", "params.steps: want a single int"}},
		{"scalar for struct", "steps: 1\nopt: 3\n", []string{"f.yaml:2:", "params.opt: want a mapping"}},
		{"NaN", "steps: 1\nopt: {lr: .nan, momentum: 0}\n", []string{"f.yaml:2:", "params.opt.lr: want a finite number", ".nan"}},
		{"infinity", "steps: 1\nopt: {lr: 1, momentum: -.Inf}\n", []string{"f.yaml:2:", "params.opt.momentum: want a finite number"}},
		{"fraction for an integer", "steps: 15.7\nopt: {lr: 1, momentum: 0}\n", []string{"f.yaml:1:", "params.steps: want an integer, got 15.7"}},
		{"exponent for an integer", "steps: 1e3\nopt: {lr: 1, momentum: 0}\n", []string{"f.yaml:1:", "params.steps: want an integer"}},
		{"empty value", "steps:\nopt: {lr: 1, momentum: 0}\n", []string{"f.yaml:1:", "params.steps: empty value", "write the value"}},
		{"null value", "steps: 1\nopt: {lr: ~, momentum: 0}\n", []string{"f.yaml:2:", "params.opt.lr: empty value"}},
		{"null mapping", "steps: 1\nopt:\n", []string{"f.yaml:2:", "params.opt: empty value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &n); err != nil {
				t.Fatal(err)
			}
			var p demoParams
			err := DecodeStrict("f.yaml", n.Content[0], &p)
			if err == nil {
				t.Fatalf("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFieldErrorAndLineOf(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("steps: 1\nopt:\n  lr: 1\n  momentum: 0\n"), &n); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"steps": 1, "opt.momentum": 4, "opt.nothing": 2, "nothing": 1} {
		if got := LineOf(n.Content[0], path); got != want {
			t.Errorf("LineOf(%q) = %d, want %d", path, got, want)
		}
	}
	err := Invalid("scheme", []string{"rk4", "euler"}, "unknown scheme %q", "rk5")
	if got, want := err.Error(), `params.scheme: unknown scheme "rk5"; valid choices: euler, rk4`; got != want {
		t.Errorf("FieldError = %q, want %q", got, want)
	}
}

// TestRoundTrip: decoded parameters written back as YAML decode to the same
// values.
// opt_in marks a spec the default selection leaves out; absent, it is false.
func TestOptIn(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want bool
	}{
		{"name: x\nruns:\n  - {name: a, kind: toy}\n", false},
		{"name: x\nopt_in: false\nruns:\n  - {name: a, kind: toy}\n", false},
		{"name: x\nopt_in: true\nruns:\n  - {name: a, kind: toy}\n", true},
	} {
		s, err := Parse("x.yaml", []byte(tt.src))
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		if s.OptIn != tt.want {
			t.Errorf("%q: OptIn = %v, want %v", tt.src, s.OptIn, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	s, err := Parse("demo.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Expand(Paper)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		var p, q demoParams
		if err := DecodeStrict(s.File, r.Params, &p); err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		if err := DecodeStrict("again.yaml", n.Content[0], &q); err != nil {
			t.Fatalf("%s: %v\n%s", r.Name, err, b)
		}
		if p != q {
			t.Errorf("%s: round trip %+v → %+v", r.Name, p, q)
		}
	}
}

func TestSuggest(t *testing.T) {
	valid := []string{"params", "profiles", "needs"}
	for in, want := range map[string]string{"parms": ` (did you mean "params"?)`, "need": ` (did you mean "needs"?)`, "zzzzzz": ""} {
		if got := suggest(in, valid); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func itoa(u uint64) string { return strings.TrimSpace(strings.Replace(sprint(u), " ", "", -1)) }

// plainRuns writes n runs a0, a1, … of kind toy.
func plainRuns(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - {name: a%d, kind: toy}\n", i)
	}
	return b.String()
}

// intList writes "0, 1, …, n−1".
func intList(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i)
	}
	return strings.Join(parts, ", ")
}

// inlineParams embeds optParams inline: its keys are the outer struct's,
// checked as strictly.
type inlineParams struct {
	optParams `yaml:",inline"`
	Steps     int `yaml:"steps"`
}

func TestDecodeStrictInline(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // "": decodes
	}{
		{"ok", "lr: 0.5\nmomentum: 0.9\nsteps: 3\n", nil},
		{"unknown", "lr: 0.5\nmomentum: 0.9\nsteps: 3\nlrr: 1\n", []string{"f.yaml:4:", `unknown key "lrr"`, "valid keys: lr, momentum, steps"}},
		{"missing inline key", "lr: 0.5\nsteps: 3\n", []string{"f.yaml:1:", `missing "momentum"`}},
		{"nested form refused", "opt: {lr: 0.5, momentum: 0.9}\nsteps: 3\n", []string{`unknown key "opt"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &n); err != nil {
				t.Fatal(err)
			}
			var p inlineParams
			err := DecodeStrict("f.yaml", n.Content[0], &p)
			if tt.want == nil {
				if err != nil || p.LR != 0.5 || p.Momentum != 0.9 || p.Steps != 3 {
					t.Fatalf("got %+v, %v; want lr 0.5, momentum 0.9, steps 3", p, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
