package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/continuousnet/repro/experiments/internal/harness"
)

// showRun writes the merged parameters of the run named name
// ("experiment/run", or "experiment/group" for every seed of a seeds list)
// with the file:line of each value, after the name, profile and key of each
// of its runs.
func showRun(w io.Writer, p *harness.Plan, name string) error {
	var found []*harness.Target
	var names []string
	for _, t := range p.Targets {
		names = append(names, t.Name())
		if t.Name() == name || (t.Run.Group != "" && t.Experiment+"/"+t.Run.Group == name) {
			found = append(found, t)
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("-show %q: no run of profile %s has that name (EXPERIMENT/RUN, as -list prints them); runs: %s", name, p.Profile, strings.Join(names, ", "))
	}
	for _, t := range found {
		fmt.Fprintf(w, "%s  profile %s  key %s\n", t.Name(), p.Profile, t.Unit.Key)
	}
	// The runs of a seeds list differ in their seed only.
	fmt.Fprint(w, found[0].Run.Show())
	return nil
}
