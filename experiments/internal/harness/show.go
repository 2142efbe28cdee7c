package harness

import (
	"fmt"
	"io"
	"runtime"
	"slices"
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
		if s.OptIn {
			fmt.Fprint(w, "  (opt-in)")
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
	// Source says where the estimate comes from: SourceCache (the costs
	// measured in the cache for this configuration and thread count) or
	// SourceModel (the committed cost model); "" when cached or unknown.
	Source  string
	Machine *CostMachine // the cost model's entry, for SourceModel
	Note    string       // how the model's costs were carried over (see CostModel.Estimate)
	// Committed is, for a run that will compute, the key relation of the
	// committed record in EstimateOptions.ResultsDir: CommittedSame,
	// CommittedOther, or "" (none, or no ResultsDir).
	Committed string
	// Missing is non-empty when the run will skip because its dataset (or
	// that of a run it needs) is not here: why (Unit.Missing).
	Missing string
}

// The committed record of a run that will compute.
const (
	CommittedSame  = "same key"  // it will be compared with the new record
	CommittedOther = "other key" // settings, data or code version differ
)

// Where an estimate comes from.
const (
	SourceCache = "cache"
	SourceModel = "model"
)

// EstimateOptions say how the plan's runs would run and where their costs
// come from.
type EstimateOptions struct {
	Root    string // repository root, to compare cached results' commits with HEAD
	Jobs    int    // -jobs
	Threads int    // -threads (0: the -jobs rule, as Options.Threads)
	Force   bool   // -force: cached runs would run again
	// Model is the committed cost model (nil: only the cache's measured
	// costs), ModelPath its file as the plan names it.
	Model     *CostModel
	ModelPath string
	// Level is this machine's kernel level (nnlib.KernelLevel()).
	Level string
	// Procs is the cores the runs share; 0 means GOMAXPROCS.
	Procs int
	// ResultsDir holds the committed records ("": none); a run that will
	// compute says whether its committed record has the same key, so that
	// it will be compared with it (see Reproduction).
	ResultsDir string
}

func (o EstimateOptions) procs() int {
	if o.Procs > 0 {
		return o.Procs
	}
	return runtime.GOMAXPROCS(0)
}

// runThreads is the nnlib threads a unit would run with (the rule of
// Execute): exclusive units get every core, shared ones procs/jobs, and
// -threads, when set, fixes both.
func runThreads(u *Unit, procs, jobs, threads int) int {
	if threads > 0 {
		return min(threads, procs)
	}
	if u.Kind.Exclusive() {
		return procs
	}
	return max(1, procs/max(1, jobs))
}

// Estimate says, without running anything, what Execute would do: which
// targets are cached (and which of those were computed at a commit whose
// source folders differ from HEAD), which would run, and how long they
// should take. A run's estimate comes from the costs measured in the cache
// (costs.json) for its exact configuration and thread count when there are
// some, else from the committed cost model (opt.Model) for its kind's work.
func Estimate(plan *Plan, c *Cache, opt EstimateOptions) []PlanLine {
	costs := c.Costs()
	cached, healed := map[*Unit]*record.Record{}, map[*Unit]string{}
	if !opt.Force {
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
				files, err := provenance.ChangedFiles(opt.Root, rec.Provenance.Commit, dirs)
				switch {
				case err != nil:
					stale = "cannot compare its commit with HEAD: " + firstLine(err.Error())
				case len(files) > 0:
					stale = fmt.Sprintf("computed at %s; changed since in %s: %s", short(rec.Provenance.Commit), strings.Join(dirs, ", "), fileList(files, 3))
				}
				changed[dk] = stale
			}
			if stale == "" && rec.Provenance.Dirty {
				stale = "computed from a dirty tree"
			}
			l.Stale = stale
		} else {
			// Without its dataset a run's key is not the one it will have,
			// so only runs whose data is here are compared.
			l.Missing = u.Missing
			if opt.ResultsDir != "" && l.Missing == "" {
				if old, err := record.Read(RecordPath(opt.ResultsDir, t.Experiment, t.Run.Name)); err == nil {
					l.Committed = CommittedOther
					if old.Key == u.Key {
						l.Committed = CommittedSame
					}
				}
			}
			l.Resume = c.HasCheckpoint(u.Key) && !opt.Force
			threads := runThreads(u, opt.procs(), opt.Jobs, opt.Threads)
			if est, ok := u.Kind.(Estimator); ok {
				class, units := est.Work(u.Params)
				if ce, ok := costs[costClass(class, threads)]; ok {
					l.Estimate, l.Source = time.Duration(ce.SecondsPerUnit*units*float64(time.Second)), SourceCache
				}
			}
			if wc, ok := u.Kind.(WorkCounter); ok && l.Source == "" {
				if e, ok := opt.Model.Estimate(wc.WorkParts(u.Params), opt.Level, threads); ok {
					l.Estimate, l.Source, l.Machine, l.Note = time.Duration(e.Seconds*float64(time.Second)), SourceModel, e.Machine, e.Note
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// WritePlan prints the lines of Estimate, a total ("estimated ≈ 30 h on 2
// cores") and where the estimates come from: how many from the cache's
// measured costs, and for the cost model, the machine, kernel level,
// threads, commits and dates of the records each entry used was fitted
// from, and how its costs were carried over to this machine.
func WritePlan(w io.Writer, plan *Plan, lines []PlanLine, opt EstimateOptions) {
	jobs := max(1, opt.Jobs)
	var shared, excl, longest time.Duration
	unknown, run, cached, fromCache := 0, 0, 0, 0
	missing := map[string]int{} // runs that will skip, by reason
	var missingOrder []string
	committed := map[string]int{} // by PlanLine.Committed, over targets that will compute
	seen := map[*Unit]bool{}
	var machines []*CostMachine
	notes := map[string]int{}
	var noteOrder []string
	for _, l := range lines {
		state := "cached"
		switch {
		case l.Cached && l.Stale != "":
			state += ", STALE? " + l.Stale
		case l.Cached:
		default:
			state = "will run"
			if l.Missing != "" {
				state = "will skip until its dataset is here (below); then run"
			}
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
				state += ", " + FormatEstimate(l.Estimate)
				if l.Source == SourceCache {
					state += " (measured in the cache)"
				}
			}
		}
		if !seen[l.Target.Unit] {
			seen[l.Target.Unit] = true
			if !l.Cached && l.Missing != "" {
				if missing[l.Missing] == 0 {
					missingOrder = append(missingOrder, l.Missing)
				}
				missing[l.Missing]++
			}
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
				if l.Source == SourceCache {
					fromCache++
				}
				if l.Machine != nil && !slices.Contains(machines, l.Machine) {
					machines = append(machines, l.Machine)
				}
				if l.Note != "" {
					if notes[l.Note] == 0 {
						noteOrder = append(noteOrder, l.Note)
					}
					notes[l.Note]++
				}
			}
		}
		if !l.Cached && l.Missing == "" {
			committed[l.Committed]++
			if l.Committed == CommittedOther {
				state += "; its committed record has another key"
			}
		}
		fmt.Fprintf(w, "%-28s %-40s %s\n", l.Target.Experiment, l.Target.Run.Name, state)
	}
	// Exclusive runs run alone; shared ones spread over the jobs but take
	// at least as long as the longest.
	total := excl + max(longest, shared/time.Duration(jobs))
	fmt.Fprintf(w, "profile %s: %d to run, %d cached", plan.Profile, run, cached)
	on := fmt.Sprintf(" on %d cores", opt.procs())
	if opt.procs() == 1 {
		on = " on 1 core"
	}
	switch {
	case run == 0:
	case unknown == run:
		fmt.Fprintf(w, "; time unknown (never measured)")
	case unknown > 0:
		fmt.Fprintf(w, "; estimated %s%s plus %d never measured", FormatEstimate(total), on, unknown)
	default:
		fmt.Fprintf(w, "; estimated %s%s", FormatEstimate(total), on)
	}
	fmt.Fprintln(w)
	for _, m := range missingOrder {
		fmt.Fprintf(w, "  %d of them skip until their dataset is here: %s\n", missing[m], m)
	}
	if opt.ResultsDir != "" && committed[CommittedSame]+committed[CommittedOther] > 0 {
		fmt.Fprintf(w, "committed records: %d of the %d records to compute have one of the same key, compared after computing (reproduction.md)",
			committed[CommittedSame], committed[CommittedSame]+committed[CommittedOther]+committed[""])
		if n := committed[CommittedOther]; n > 0 {
			fmt.Fprintf(w, "; %d have one of another key", n)
		}
		fmt.Fprintln(w)
	}
	if fromCache > 0 {
		fmt.Fprintf(w, "estimates: %d of %d from the costs measured in the cache (costs.json), the rest from the cost model\n", fromCache, run-unknown)
	}
	for _, mc := range machines {
		fmt.Fprintf(w, "cost model %s, fitted from the runs of record in %s: %s\n", opt.ModelPath, opt.Model.Records, opt.Model.Describe(mc))
	}
	for _, n := range noteOrder {
		fmt.Fprintf(w, "  %d run(s): %s\n", notes[n], n)
	}
}

// fileList names up to n files, then how many more: "a.go, b.go, c.go and 9 more".
func fileList(files []string, n int) string {
	if len(files) <= n {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:n], ", "), len(files)-n)
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
