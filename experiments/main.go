// Command experiments runs the paper's claims as declarative experiments.
//
//	go run ./experiments [-only REGEXP] [-spec FILE] [-profile smoke|quick|paper] [-jobs N]
//	                     [-list] [-plan] [-show RUN] [-force] [-failfast] [-cache DIR] [-tables] [-figures]
//	                     [-submit slurm [-dry-run] [-sbatch-args ARGS]] [-run KEY] [-collect]
//
// Each experiment is a YAML spec in experiments/specs (embedded in the
// binary; runs that several experiments use are declared once in
// specs/shared); the harness (experiments/internal/harness) expands it into
// runs, skips what is cached, runs the rest in parallel and writes one
// result record per run under results/, from which the report rebuilds
// tables, figures and verdicts. See experiments/README.md and `-h`.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/report"
	"github.com/continuousnet/repro/experiments/internal/slurm"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/paper"

	// The kinds register themselves from their packages' init functions.
	_ "github.com/continuousnet/repro/experiments/internal/claims"
)

//go:embed specs
var specsFS embed.FS

// regenerate rebuilds tables, figures and verdicts from the records alone
// and prints a line per claim for the experiments named (all when nil),
// with the paths of the full verdict tables.
func regenerate(w io.Writer, profile, resultsDir, figuresDir string, recs []*record.Record, experiments []string) error {
	s, err := report.Regenerate(report.Options{Profile: profile, ResultsDir: resultsDir, FiguresDir: figuresDir}, recs)
	if err != nil {
		return err
	}
	if err := report.PrintSummary(w, s.Verdicts, experiments, displayPath(filepath.Join(resultsDir, "verdicts.md")),
		displayPath(filepath.Join(resultsDir, "verdicts.csv"))); err != nil {
		return err
	}
	// An experiment without verdict rows (the opt-in extensions) names its
	// tables instead.
	for _, e := range slices.Sorted(maps.Keys(s.Tables)) {
		judged := slices.ContainsFunc(s.Verdicts, func(v paper.Verdict) bool { return v.Experiment == e })
		if judged || (experiments != nil && !slices.Contains(experiments, e)) {
			continue
		}
		for _, t := range s.Tables[e] {
			fmt.Fprintf(w, "%s (no verdicts): %s\n", e, displayPath(t))
		}
	}
	return nil
}

// displayPath is path relative to the working directory when it lies below
// it, else path.
func displayPath(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return path
}

// setThreads, kernelLevel and convAlgorithm connect the harness to nnlib's
// process-wide thread count, kernel level and convolution algorithm (the
// last two for provenance).
var (
	setThreads    = nnlib.SetThreads
	kernelLevel   = nnlib.KernelLevel
	convAlgorithm = nnlib.ConvAlgorithm
)

const usage = `Usage: go run ./experiments [flags]

Runs the paper's experiments. Each experiment is a YAML spec (experiments/specs/<name>.yaml,
embedded in the binary); its runs are expanded for the chosen profile, looked up in the cache
by a key that hashes everything that determines their result, and the missing ones are run in
parallel, each after the runs it needs. One result record per run is written to
results/runs/<experiment>/ (quick profile) or results/<profile>/runs/<experiment>/, and the
tables, figures and verdicts are rebuilt from the records.

Outputs go to the repository that holds the working directory (found by walking up to go.mod).

Flags:
`

const usageTail = `
Examples:
  go run ./experiments -list                        experiments and their runs
  go run ./experiments -show rk-consistency/train/rk4-classic-k1
                                                    a run's merged parameters, each with its file:line
  go run ./experiments -plan -profile paper         what would run, what is cached, estimated time
  go run ./experiments -fit-costs                   refit the cost model behind the estimates (make costmodel)
  go run ./experiments -only coarsening             one experiment (and the runs it needs)
  go run ./experiments -only extensions             the opt-in experiment beyond the paper (θ-coarsening, linear basis)
  go run ./experiments -profile smoke -jobs 2       the CI profile
  go run ./experiments -tables -figures             rebuild outputs from records only
  go run ./experiments -submit slurm -profile paper -cache /shared/cnet -dry-run
                                                    the sbatch commands of a cluster run (see experiments/README.md)

Ctrl-C stops the runs in flight: nothing partial is written, and the next invocation resumes them
from their last checkpoint. A finished run is never recomputed unless -force. Exit status: 0 when
everything ran or was cached (skips included), 1 when a run failed, 2 for a bad spec or flag,
130 when interrupted.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("experiments", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		only     = fs.String("only", "", "run only the experiments whose name matches this regular expression (like go test -run); without it, every experiment but the opt-in ones (-list names them)")
		specFile = fs.String("spec", "", "load the spec from this YAML `file` instead of the embedded specs")
		profile  = fs.String("profile", spec.Quick, "profile: smoke (CI, seconds), quick (default) or paper (the authors' settings)")
		jobs     = fs.Int("jobs", runtime.GOMAXPROCS(0), "runs at once; each shared run gets GOMAXPROCS/jobs nnlib threads, exclusive (timing) runs run alone with all")
		threads  = fs.Int("threads", 0, "nnlib threads of every run, shared or exclusive (0: the -jobs rule); recorded in each run's provenance")
		list     = fs.Bool("list", false, "list the experiments and their runs, then exit")
		show     = fs.String("show", "", "print the fully merged parameters of `run` EXPERIMENT/RUN (a seeded run's name with or without /seedN) with the file:line that set each value, then exit")
		plan     = fs.Bool("plan", false, "show what would run, what is cached (and possibly stale) and the estimated time, then exit")
		force    = fs.Bool("force", false, "recompute the selected runs even if cached (drops their checkpoints and artifacts)")
		failfast = fs.Bool("failfast", false, "stop at the first failed run (default: keep going)")
		cacheDir = fs.String("cache", "", "cache `folder` for results, checkpoints and artifacts (default: the user cache dir + /continuousnet)")
		tables   = fs.Bool("tables", false, "rebuild tables and verdicts from the result records only; compute nothing")
		figures  = fs.Bool("figures", false, "rebuild figures from the result records only; compute nothing")
		fitCost  = fs.Bool("fit-costs", false, "refit -plan's cost model from the runs of record ("+costModelRecords+") and write "+costModelFile+", then exit")
		cf       clusterFlags
	)
	fs.StringVar(&cf.submit, "submit", "", "submit the runs that are not cached to a `scheduler` (slurm), one job per run key, and exit; -cache must be on a filesystem every node sees")
	fs.BoolVar(&cf.dryRun, "dry-run", false, "with -submit: print the sbatch commands instead of running them")
	fs.StringVar(&cf.sbatchArgs, "sbatch-args", "", "with -submit slurm: more sbatch `arguments` for every job (e.g. \"--partition=cpu --account=me\")")
	fs.BoolVar(&cf.collect, "collect", false, "compute nothing: write the selected runs' cached records into the results folder and rebuild tables and figures; a run not in the cache is skipped, saying so (after -submit, so that a failed cluster job is not recomputed here)")
	fs.StringVar(&cf.runKey, "run", "", "run the one run whose `key` this is, writing only to the cache (what a submitted job runs)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, usageTail)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "experiments: unexpected arguments %q (flags only; see -h)\n", fs.Args())
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "experiments: %v\n", err)
		return code
	}
	if !slices.Contains(spec.Profiles, *profile) {
		return fail(2, fmt.Errorf("unknown profile %q; valid profiles: %s", *profile, strings.Join(spec.Profiles, ", ")))
	}
	if *jobs < 1 {
		return fail(2, fmt.Errorf("-jobs %d: want at least 1", *jobs))
	}
	if *threads < 0 {
		return fail(2, fmt.Errorf("-threads %d: want 0 (automatic) or at least 1", *threads))
	}
	if err := checkClusterFlags(cf, *list, *plan, *force, *tables || *figures); err != nil {
		return fail(2, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return fail(1, err)
	}
	// A job runs in the cache, outside any checkout: its missing root is no
	// error (and must not linger in err for the checks below).
	root, rootErr := provenance.RepoRoot(wd)
	if rootErr != nil && cf.runKey == "" {
		return fail(1, rootErr)
	}
	resultsDir, figuresDir := harness.ProfileDirs(root, *profile)

	if *fitCost {
		return fitCosts(stdout, stderr, root)
	}
	if *tables || *figures {
		return regen(stdout, stderr, *profile, resultsDir, figuresDir, nil)
	}

	var specs []*spec.Spec
	if *specFile != "" {
		data, err := os.ReadFile(*specFile)
		if err != nil {
			return fail(2, err)
		}
		shared, err := spec.LoadShared(specsFS, path.Join("specs", spec.SharedDir))
		if err != nil {
			return fail(2, err)
		}
		s, err := spec.ParseUsing(*specFile, data, shared)
		if err != nil {
			return fail(2, err)
		}
		specs = []*spec.Spec{s}
	} else if specs, err = spec.LoadFS(specsFS, "specs"); err != nil {
		return fail(2, err)
	}
	if len(specs) == 0 {
		fmt.Fprintln(stdout, "no experiment specs yet (experiments/specs/*.yaml); nothing to do")
		return 0
	}
	var re *regexp.Regexp
	if *only != "" {
		if re, err = regexp.Compile(*only); err != nil {
			return fail(2, fmt.Errorf("-only: %v", err))
		}
	}
	all := specs
	switch {
	case re != nil:
		specs, err = harness.Select(specs, re)
	case cf.runKey != "" || *specFile != "" || *show != "":
		// A job (-run) runs the run it was submitted for, -spec loads the spec
		// named and -show prints the run named: opt-in experiments included.
	default:
		specs, err = harness.Select(specs, nil) // the default selection: no opt-in experiment
	}
	if err != nil {
		return fail(2, err)
	}
	p, err := harness.Resolve(specs, *profile)
	if err != nil {
		return fail(2, err)
	}
	if *list {
		harness.List(stdout, p)
		if re == nil && *specFile == "" {
			printOptIn(stdout, all)
		}
		return 0
	}
	if *show != "" {
		if err := showRun(stdout, p, *show); err != nil {
			return fail(2, err)
		}
		return 0
	}
	if *cacheDir == "" {
		if *cacheDir, err = harness.DefaultCacheDir(); err != nil {
			return fail(2, err)
		}
	}
	cache := &harness.Cache{Dir: *cacheDir}
	switch {
	case cf.runKey != "":
		return runWorker(stdout, stderr, p, cache, cf.runKey, *threads)
	case cf.submit != "":
		return submitSlurm(stdout, stderr, p, cache, root, *specFile, cf, *jobs, *threads)
	}
	if *plan {
		opt := estimateOptions(stderr, root, *jobs, *threads, *force)
		opt.ResultsDir = resultsDir
		harness.WritePlan(stdout, p, harness.Estimate(p, cache, opt), opt)
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// finished is set before stop cancels ctx on return, so the watcher
	// tells a signal from the normal end and never writes after run returns.
	var finished atomic.Bool
	defer func() {
		finished.Store(true)
		stop()
	}()
	go func() {
		<-ctx.Done()
		if finished.Load() {
			return
		}
		stop() // a second Ctrl-C kills the process
		fmt.Fprintln(stderr, "experiments: interrupted; stopping the runs in flight (they keep their checkpoints; Ctrl-C again to kill)")
	}()
	fmt.Fprintf(stdout, "profile %s: %d run(s), %d distinct, jobs %d, cache %s\n", *profile, len(p.Targets), len(p.Units), *jobs, *cacheDir)
	slurm.Report(stdout, p, cache) // runs submitted to Slurm that left no result
	sum, err := harness.Execute(ctx, p, harness.Options{
		Cache: cache, ResultsDir: resultsDir, Root: root, Jobs: *jobs, Threads: *threads, Force: *force, FailFast: *failfast, Collect: cf.collect,
		Out: stdout, Terminal: harness.IsTerminal(os.Stdout), SetThreads: setThreads, KernelLevel: kernelLevel, ConvAlgorithm: convAlgorithm,
		PruneStale: *specFile == "", // the embedded specs are the experiments as committed
	})
	code := 0
	if err != nil {
		fmt.Fprintf(stderr, "experiments: %v\n", err)
		code = 1
	}
	if sum != nil {
		for _, t := range p.Targets {
			if sum.Outcome[t.Unit.Key] == harness.OutcomeFailed {
				fmt.Fprintf(stdout, "FAILED %s: %s\n", t.Name(), firstLine(sum.Errors[t.Unit.Key]))
			}
		}
		fmt.Fprintln(stdout, sum.String())
		if n := keptRecords(p, sum, resultsDir); n > 0 {
			fmt.Fprintf(stdout, "%d skipped run(s) keep the records already in %s: the tables and verdicts below show those, not results computed here\n", n, displayPath(resultsDir))
		}
		if sum.Failed > 0 || cf.collect && sum.Skipped > 0 {
			code = 1 // a failure, or a collection with runs missing from the cache
		}
		if len(sum.Reproduced) > 0 {
			if err := harness.WriteReproduction(resultsDir, sum.Reproduced); err != nil {
				fmt.Fprintf(stderr, "experiments: %v\n", err)
				code = 1
			}
			fmt.Fprintf(stdout, "%s: %s\n", harness.ReproductionLine(sum.Reproduced), displayPath(filepath.Join(resultsDir, "reproduction.md")))
		}
		// The tables and figures are rebuilt after every invocation, also
		// when nothing was computed (a second or so): `make figure3` always
		// leaves its figure drawn from the records by the current code, even
		// after a figure was deleted, the plotting code changed or a run was
		// killed between its last record and the rebuild.
		if c := regen(stdout, stderr, *profile, resultsDir, figuresDir, specNames(specs)); c != 0 && code == 0 {
			code = c
		}
		if sum.Interrupted > 0 && ctx.Err() != nil {
			code = 130
		}
	}
	return code
}

// keptRecords counts the targets of p that were skipped (or not computed)
// here but have a successful record in resultsDir, e.g. the committed
// records of CIFAR runs on a machine without the data: the outputs rebuilt
// from resultsDir show them.
func keptRecords(p *harness.Plan, sum *harness.Summary, resultsDir string) int {
	n := 0
	for _, t := range p.Targets {
		if o := sum.Outcome[t.Unit.Key]; o != harness.OutcomeSkipped && o != harness.OutcomeFailed {
			continue
		}
		if r, err := record.Read(harness.RecordPath(resultsDir, t.Experiment, t.Run.Name)); err == nil && r.Status == record.StatusOK {
			n++
		}
	}
	return n
}

// printOptIn names the opt-in experiments of specs, which the default
// selection leaves out, and how to run one.
func printOptIn(w io.Writer, specs []*spec.Spec) {
	for _, s := range specs {
		if s.OptIn {
			fmt.Fprintf(w, "opt-in experiment %s (not run by default): go run ./experiments -only %s\n", s.Name, s.Name)
		}
	}
}

// specNames lists the experiments of specs.
func specNames(specs []*spec.Spec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

// regen rebuilds the outputs of a profile from its records and summarises
// the verdicts of experiments (all when nil).
func regen(stdout, stderr io.Writer, profile, resultsDir, figuresDir string, experiments []string) int {
	recs, err := harness.Records(resultsDir)
	if err != nil {
		fmt.Fprintf(stderr, "experiments: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d records in %s\n", len(recs), resultsDir)
	if err := regenerate(stdout, profile, resultsDir, figuresDir, recs, experiments); err != nil {
		fmt.Fprintf(stderr, "experiments: %v\n", err)
		return 1
	}
	return 0
}

func firstLine(s string) string {
	f, _, _ := strings.Cut(s, "\n")
	return f
}
