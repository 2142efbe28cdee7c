package spec

import (
	"fmt"
	"testing"
)

func sprint(v any) string { return fmt.Sprint(v) }

// FuzzParse checks that no input makes the spec reader panic: parsing,
// expansion for every profile and strict decoding of every run's params.
// The seed corpus runs as a normal test.
func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add("name: x\nruns:\n  - name: a{k}\n    kind: toy\n    matrix: {k: [1, [2, 3]], seed: [1, 2]}\n    params: {steps: 1, opt: {lr: 1, momentum: 0}}\n")
	f.Add("name: x\nruns:\n  - name: a\n    kind: toy\n    params: *x\n")
	f.Add("name: x\nruns:\n  - {name: a, kind: toy, needs: [a]}\n")
	f.Add("[1, 2")
	f.Add("name: x\nruns:\n  - name: a\n    kind: toy\n    profiles: {smoke: {opt: [1]}}\n    params: {steps: 1, opt: {lr: 1, momentum: 0}}\n")
	f.Add("a: &a [*a, *a]\n")
	f.Add("")
	f.Add("name: x\ndefaults:\n  toy: {seeds: [1, 2], params: {steps: 1, opt: {lr: 1, momentum: 0}}, profiles: {smoke: {steps: 2}}}\nruns:\n  - {name: a, kind: toy}\n  - {name: b, kind: toy, seed: 3, params: {opt: {lr: 2}}}\n")
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse("fuzz-input", []byte(src))
		if err != nil {
			return
		}
		for _, p := range Profiles {
			runs, err := s.Expand(p)
			if err != nil {
				continue
			}
			for _, r := range runs {
				var dp demoParams
				_ = DecodeStrict("fuzz-input", r.Params, &dp)
				var m map[string]any
				_ = DecodeStrict("fuzz-input", r.Params, &m)
			}
		}
	})
}
