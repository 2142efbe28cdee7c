package spec_test

import (
	"fmt"

	"github.com/continuousnet/repro/experiments/internal/spec"
)

func Example() {
	src := `name: demo
runs:
  - name: train/{scheme}
    kind: toy
    seed: 1
    matrix:
      scheme: [euler, rk4-38]
    params:
      epochs: 30
      scheme: euler
    profiles:
      smoke: {epochs: 1}
`
	s, err := spec.Parse("demo.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	runs, _ := s.Expand(spec.Smoke)
	for _, r := range runs {
		var p struct {
			Epochs int    `yaml:"epochs"`
			Scheme string `yaml:"scheme"`
		}
		if err := spec.DecodeStrict(s.File, r.Params, &p); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s seed %d: %+v\n", r.Name, r.Seed, p)
	}

	_, err = spec.Parse("demo.yaml", []byte("name: demo\nruns:\n  - name: a\n    kind: toy\n    parms: {}\n"))
	fmt.Println(err)
	// Output:
	// train/euler seed 1: {Epochs:1 Scheme:euler}
	// train/rk4-38 seed 1: {Epochs:1 Scheme:rk4-38}
	// demo.yaml:5: unknown key "parms" in a run (did you mean "params"?); valid keys: name, kind, seed, seeds, params, profiles, matrix, needs, use
}
