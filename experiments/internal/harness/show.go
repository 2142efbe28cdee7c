package harness

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// List writes the experiments, their runs for the plan's profile and the
// registered kinds.
func List(w io.Writer, plan *Plan) {
	for _, s := range plan.Specs {
		fmt.Fprintf(w, "%s", s.Name)
		if s.Claim != "" {
			fmt.Fprintf(w, "  (claim %s)", s.Claim)
		}
		if s.Title != "" {
			fmt.Fprintf(w, "  %s", s.Title)
		}
		fmt.Fprintln(w)
		for _, t := range plan.Targets {
			if t.Experiment != s.Name {
				continue
			}
			fmt.Fprintf(w, "    %-40s %-14s seed %-4d key %s", t.Run.Name, t.Run.Kind, t.Run.Seed, t.Unit.Key[:12])
			if len(t.Run.Needs) > 0 {
				fmt.Fprintf(w, "  needs %s", strings.Join(t.Run.Needs, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "profile %s: %d run(s), %d distinct; kinds: %s\n", plan.Profile, len(plan.Targets), len(plan.Units), strings.Join(Kinds(), ", "))
}

// PlanLine is one target's line in -plan.
type PlanLine struct {
	Target   *Target
	Cached   bool
	Stale    string        // non-empty: why the cached result may be out of date
	Resume   bool          // an unfinished run left a checkpoint
	Healed   string        // non-empty: why a cached result is computed again (damaged artifacts)
	Estimate time.Duration // -1 when unknown; 0 when cached
}

// Estimate says, without running anything, what Execute would do: which
// targets are cached (and which of those were computed at a commit whose
// source folders differ from HEAD), which would run, and how long they
// should take from the measured costs.
func Estimate(plan *Plan, c *Cache, root string, jobs int, force bool) []PlanLine {
	costs := c.Costs()
	cached, healed := map[*Unit]*record.Record{}, map[*Unit]string{}
	if !force {
		cached, healed = lookup(plan, c)
	}
	type diffKey struct{ commit, dirs string }
	changed := map[diffKey]string{}
	var out []PlanLine
	for _, t := range plan.Targets {
		u := t.Unit
		l := PlanLine{Target: t, Estimate: -1, Healed: healed[u]}
		rec := cached[u]
		if rec != nil {
			l.Cached, l.Estimate = true, 0
			dirs := DefaultSourceDirs
			if sd, ok := u.Kind.(SourceDirs); ok {
				dirs = sd.SourceDirs()
			}
			dk := diffKey{rec.Provenance.Commit, strings.Join(dirs, " ")}
			stale, ok := changed[dk]
			if !ok {
				ch, err := provenance.Changed(root, rec.Provenance.Commit, dirs)
				switch {
				case err != nil:
					stale = "cannot compare its commit with HEAD: " + firstLine(err.Error())
				case ch:
					stale = fmt.Sprintf("computed at %s; %s changed since", short(rec.Provenance.Commit), strings.Join(dirs, ", "))
				}
				changed[dk] = stale
			}
			if stale == "" && rec.Provenance.Dirty {
				stale = "computed from a dirty tree"
			}
			l.Stale = stale
		} else {
			l.Resume = c.HasCheckpoint(u.Key) && !force
			if est, ok := u.Kind.(Estimator); ok {
				class, units := est.Work(u.Params)
				threads := max(1, runtime.GOMAXPROCS(0)/max(1, jobs))
				if u.Kind.Exclusive() {
					threads = runtime.GOMAXPROCS(0)
				}
				if ce, ok := costs[costClass(class, threads)]; ok {
					l.Estimate = time.Duration(ce.SecondsPerUnit * units * float64(time.Second))
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// WritePlan prints the lines of Estimate and a total.
func WritePlan(w io.Writer, plan *Plan, lines []PlanLine, jobs int) {
	var shared, excl, longest time.Duration
	unknown, run, cached := 0, 0, 0
	seen := map[*Unit]bool{}
	for _, l := range lines {
		state := "cached"
		switch {
		case l.Cached && l.Stale != "":
			state += ", STALE? " + l.Stale
		case l.Cached:
		default:
			state = "will run"
			if l.Resume {
				state = "will resume"
			}
			if l.Healed != "" {
				state += " again (" + l.Healed + ")"
			}
			if seen[l.Target.Unit] {
				state += " (shared with an earlier run)"
			} else if l.Estimate < 0 {
				state += ", time unknown (never measured)"
			} else {
				state += ", ~" + l.Estimate.Round(time.Second).String()
			}
		}
		if !seen[l.Target.Unit] {
			seen[l.Target.Unit] = true
			switch {
			case l.Cached:
				cached++
			case l.Estimate < 0:
				run++
				unknown++
			default:
				run++
				if l.Target.Unit.Kind.Exclusive() {
					excl += l.Estimate
				} else {
					shared += l.Estimate
					longest = max(longest, l.Estimate)
				}
			}
		}
		fmt.Fprintf(w, "%-28s %-40s %s\n", l.Target.Experiment, l.Target.Run.Name, state)
	}
	// Exclusive runs run alone; shared ones spread over the jobs but take
	// at least as long as the longest.
	total := excl + max(longest, shared/time.Duration(max(1, jobs)))
	fmt.Fprintf(w, "profile %s: %d to run, %d cached", plan.Profile, run, cached)
	switch {
	case run == 0:
	case unknown == run:
		fmt.Fprintf(w, "; time unknown (never measured)")
	case unknown > 0:
		fmt.Fprintf(w, "; estimated %s plus %d never measured", total.Round(time.Second), unknown)
	default:
		fmt.Fprintf(w, "; estimated %s", total.Round(time.Second))
	}
	fmt.Fprintln(w)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func firstLine(s string) string {
	f, _, _ := strings.Cut(s, "\n")
	return f
}

// ProfileDirs returns the results and figures folders of a profile under
// the repository root: results/ and figures/ for quick, results/<profile>/
// and figures/<profile>/ otherwise.
func ProfileDirs(root, profile string) (results, figures string) {
	if profile == spec.Quick {
		return root + "/results", root + "/figures"
	}
	return root + "/results/" + profile, root + "/figures/" + profile
}
