package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/record"
)

// Options configure an execution.
type Options struct {
	Cache      *Cache
	ResultsDir string // records go to <ResultsDir>/runs/...; "" writes none (a cluster worker writes only to the cache)
	Root       string // repository root, for provenance
	Jobs       int    // runs at once (at least 1)
	// Threads, when positive, is the nnlib thread count of every run,
	// shared or exclusive (capped at GOMAXPROCS). Zero means GOMAXPROCS/Jobs
	// for shared runs and GOMAXPROCS for exclusive ones.
	Threads  int
	Force    bool // recompute cached runs (their checkpoints and artifacts are dropped)
	FailFast bool // stop at the first failure
	// Collect computes nothing: a run not in the cache is skipped, saying
	// so, and its dependants with it (collecting what cluster jobs
	// computed without recomputing a failed one here).
	Collect  bool
	Out      io.Writer
	Terminal bool // live progress lines instead of timestamped ones
	// SetThreads sets nnlib's process-wide thread count and returns the
	// previous one; nil leaves it alone (tests).
	SetThreads func(int) int
	// KernelLevel names the kernel level in use, for provenance.
	KernelLevel func() string
	// ConvAlgorithm names the convolution algorithm in use, for provenance.
	ConvAlgorithm func() string
	// Host is the provenance of this invocation; Collect(Root) if zero.
	Host *provenance.Host
	// MachineLock is the lock file that keeps timing runs of different
	// processes apart (see lock.go); "" means $CNET_MACHINE_LOCK, else one
	// in the system's temporary folder.
	MachineLock string
	// PruneStale removes, before running, the records of runs the plan's
	// experiments no longer define (see pruneStale). Set it only when the
	// plan holds the whole of each experiment's spec as committed: a
	// scratch spec named like an experiment would remove its records.
	PruneStale bool
}

// Outcome of a unit in an execution.
const (
	OutcomeCached      = "cached"
	OutcomeRan         = "ran"
	OutcomeFailed      = "failed"
	OutcomeSkipped     = "skipped"
	OutcomeInterrupted = "interrupted"
)

// Summary says what an execution did.
type Summary struct {
	Outcome     map[string]string // unit key → outcome
	Errors      map[string]string // unit key → error or skip reason
	Ran         int
	Cached      int
	Failed      int
	Skipped     int
	Interrupted int
	Written     int // records written under ResultsDir
	Pruned      int // stale records removed from ResultsDir (see pruneStale)
	Wall        time.Duration
	// Reproduced compares each record computed by this invocation with the
	// committed record of the same key it replaces (see reproduce.go).
	Reproduced []Reproduction
}

// String is the one-line summary printed at the end.
func (s *Summary) String() string {
	if s.Ran == 0 && s.Failed == 0 && s.Interrupted == 0 {
		if s.Skipped == 0 {
			return fmt.Sprintf("nothing to compute: all %d run(s) are cached (-force recomputes) [%s]", s.Cached, s.Wall.Round(time.Millisecond))
		}
		return fmt.Sprintf("nothing computed: %d run(s) cached, %d skipped (reasons above) [%s]", s.Cached, s.Skipped, s.Wall.Round(time.Millisecond))
	}
	line := fmt.Sprintf("ran %d, cached %d, failed %d, skipped %d", s.Ran, s.Cached, s.Failed, s.Skipped)
	if s.Interrupted > 0 {
		line += fmt.Sprintf(", interrupted %d (checkpoints kept: run again to resume)", s.Interrupted)
	}
	return line + fmt.Sprintf(" in %s", s.Wall.Round(time.Millisecond))
}

type executor struct {
	opt     Options
	plan    *Plan
	disp    *display
	host    provenance.Host
	threads int // nnlib threads of a shared run
	procs   int
	excl    sync.RWMutex

	mu  sync.Mutex
	sum *Summary
	// skipRoot is, for each skipped unit, the reason that started its chain
	// of skips (a missing dataset), so a dependant's reason names it once
	// instead of nesting every link (guarded by mu).
	skipRoot map[string]string
	// skipShown holds the root reasons the log has shown in full (guarded
	// by mu): later skips for the same reason show it shortened.
	skipShown map[string]bool
}

// lookup finds the units whose result is in the local cache and verifies
// (see verifyEntry); healed says why a cached result that does not is
// computed again. Committed records in the results folder are the reference
// a run is compared with, never a hit: a fresh clone recomputes everything.
func lookup(plan *Plan, c *Cache) (cached map[*Unit]*record.Record, healed map[*Unit]string) {
	cached, healed = map[*Unit]*record.Record{}, map[*Unit]string{}
	for _, u := range plan.Units {
		rec := c.Result(u.Key)
		if rec == nil {
			continue
		}
		if why := c.verifyEntry(u.Key); why != "" {
			healed[u] = why
			continue
		}
		cached[u] = rec
	}
	return cached, healed
}

// lockUnit takes the unit's key lock and the machine lock (exclusively for
// a timing run, shared otherwise), saying when it waits for another process.
func (e *executor) lockUnit(ctx context.Context, u *Unit, exclusive bool) (func(), error) {
	name := u.Targets[0].Name()
	machine, err := acquire(ctx, machineLockPath(e.opt), exclusive, func() {
		e.disp.line(name, "waiting for a timing run of another process ("+machineLockPath(e.opt)+")")
	})
	if err != nil {
		return nil, err
	}
	key, err := acquire(ctx, e.opt.Cache.lockPath(u.Key), true, func() {
		e.disp.line(name, "waiting: another process is computing this run")
	})
	if err != nil {
		machine()
		return nil, err
	}
	return func() { key(); machine() }, nil
}

// pruneStale removes, from the record folder of each experiment in the
// plan, the records of runs the experiment no longer defines (a run renamed
// or repeated over seeds): the plan expands every run of each of its
// experiments, so any other record there is stale, and tables built from it
// would mix old results with new ones. It returns how many it removed.
func pruneStale(plan *Plan, resultsDir string) (int, error) {
	want := map[string]bool{}
	exps := map[string]bool{}
	for _, t := range plan.Targets {
		want[RecordPath(resultsDir, t.Experiment, t.Run.Name)] = true
		exps[t.Experiment] = true
	}
	n := 0
	for exp := range exps {
		paths, err := filepath.Glob(filepath.Join(resultsDir, "runs", exp, "*.json"))
		if err != nil {
			return n, err
		}
		for _, p := range paths {
			if want[p] {
				continue
			}
			if err := os.Remove(p); err != nil {
				return n, fmt.Errorf("removing the stale record %s: %w", p, err)
			}
			n++
		}
	}
	return n, nil
}

// Execute runs every unit of the plan that is not cached, in parallel up to
// opt.Jobs, each after the units it needs, and writes the records of every
// target under opt.ResultsDir. A run's panic or error fails that run only
// (unless FailFast); runs that need a failed run are skipped. Cancelling
// ctx stops the runs in flight, which write nothing and keep their
// checkpoints. The error is non-nil only for the harness's own failures
// (e.g. a results folder it cannot write).
func Execute(ctx context.Context, plan *Plan, opt Options) (*Summary, error) {
	start := time.Now()
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	e := &executor{opt: opt, plan: plan, procs: runtime.GOMAXPROCS(0),
		sum: &Summary{Outcome: map[string]string{}, Errors: map[string]string{}}, skipRoot: map[string]string{}, skipShown: map[string]bool{}}
	if opt.Host != nil {
		e.host = *opt.Host
	} else {
		e.host = provenance.Collect(opt.Root)
	}
	e.threads = max(1, e.procs/opt.Jobs)
	if opt.Threads > 0 {
		e.threads = min(opt.Threads, e.procs)
	}
	if opt.SetThreads != nil {
		prev := opt.SetThreads(e.threads)
		defer opt.SetThreads(prev)
	}
	e.disp = newDisplay(opt.Out, opt.Terminal)
	defer e.disp.stop()

	var cached map[*Unit]*record.Record
	if opt.Force {
		for _, u := range plan.Units {
			if err := opt.Cache.Forget(u.Key); err != nil {
				return nil, err
			}
		}
	} else {
		var healed map[*Unit]string
		cached, healed = lookup(plan, opt.Cache)
		for _, u := range plan.Units {
			if why, ok := healed[u]; ok {
				fmt.Fprintf(opt.Out, "%s: computing it again: %s\n", u.Targets[0].Name(), why)
				if err := opt.Cache.dropResult(u.Key); err != nil {
					return nil, err
				}
			}
		}
	}
	var todo []*Unit
	for _, u := range plan.Units {
		rec := cached[u]
		if rec == nil {
			todo = append(todo, u)
			continue
		}
		e.finish(u, OutcomeCached, "")
		if err := e.writeTargets(u, rec); err != nil {
			return nil, err
		}
	}
	if opt.PruneStale && opt.ResultsDir != "" {
		n, err := pruneStale(plan, opt.ResultsDir)
		if err != nil {
			return nil, err
		}
		if e.sum.Pruned = n; n > 0 {
			fmt.Fprintf(opt.Out, "removed %d record(s) of runs the specs no longer define from %s\n", n, filepath.Join(opt.ResultsDir, "runs"))
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Jobs)
	done := make(chan *Unit, len(todo))
	pending := todo
	running := 0
	var harnessErr error
	for len(pending) > 0 || running > 0 {
		progressed := false
		for i := 0; i < len(pending); i++ {
			u := pending[i]
			ready, blocker := e.ready(u)
			if !ready {
				continue
			}
			pending = append(pending[:i:i], pending[i+1:]...)
			i--
			progressed = true
			switch {
			case blocker != nil && e.outcome(blocker) == "was interrupted":
				e.finish(u, OutcomeInterrupted, "not started")
				i = -1
			case blocker != nil:
				reason := fmt.Sprintf("needs %s, which %s", blocker.Targets[0].Run.Name, e.outcome(blocker))
				e.mu.Lock()
				if root, ok := e.skipRoot[blocker.Key]; ok {
					e.skipRoot[u.Key] = root
				}
				e.mu.Unlock()
				if err := e.record(u, nil, nil, &SkipError{Reason: reason}, time.Now(), 0); err != nil {
					harnessErr = errors.Join(harnessErr, err)
				}
				i = -1 // dependants of u may now be decidable
			case gctx.Err() != nil:
				e.finish(u, OutcomeInterrupted, "not started")
			default:
				running++
				g.Go(func() error {
					defer func() { done <- u }()
					err := e.runUnit(gctx, u)
					if err != nil && !errors.Is(err, errFailFast) {
						// The harness itself failed (e.g. a disk error):
						// the unit still needs an outcome for its dependants.
						e.finishOnce(u, OutcomeFailed, "harness: "+err.Error())
					}
					return err
				})
			}
		}
		if running == 0 {
			if !progressed && len(pending) > 0 {
				panic("harness.Execute: no runnable unit (dependency order broken)")
			}
			continue
		}
		<-done
		running--
	}
	if err := g.Wait(); err != nil && !errors.Is(err, errFailFast) && !errors.Is(err, context.Canceled) {
		harnessErr = errors.Join(harnessErr, err)
	}
	e.disp.stop()
	e.sum.Wall = time.Since(start)
	return e.sum, harnessErr
}

var errFailFast = errors.New("stopped at the first failure (-failfast)")

// ready reports whether all of u's needs are decided, and the first that
// did not succeed.
func (e *executor) ready(u *Unit) (bool, *Unit) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var blocker *Unit
	for _, n := range u.Needs {
		o, ok := e.sum.Outcome[n.Key]
		if !ok {
			return false, nil
		}
		if o != OutcomeCached && o != OutcomeRan && blocker == nil {
			blocker = n
		}
	}
	return true, blocker
}

func (e *executor) outcome(u *Unit) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.sum.Outcome[u.Key]
	switch o {
	case OutcomeFailed:
		return "failed"
	case OutcomeSkipped:
		return "was skipped (" + e.skipRoot[u.Key] + ")"
	}
	return "was interrupted"
}

// finishOnce is finish unless u already has an outcome.
func (e *executor) finishOnce(u *Unit, outcome, msg string) {
	e.mu.Lock()
	_, set := e.sum.Outcome[u.Key]
	e.mu.Unlock()
	if !set {
		e.finish(u, outcome, msg)
	}
}

func (e *executor) finish(u *Unit, outcome, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sum.Outcome[u.Key] = outcome
	if msg != "" {
		e.sum.Errors[u.Key] = msg
	}
	if _, ok := e.skipRoot[u.Key]; outcome == OutcomeSkipped && !ok {
		e.skipRoot[u.Key] = msg
	}
	switch outcome {
	case OutcomeCached:
		e.sum.Cached++
	case OutcomeRan:
		e.sum.Ran++
	case OutcomeFailed:
		e.sum.Failed++
	case OutcomeSkipped:
		e.sum.Skipped++
	case OutcomeInterrupted:
		e.sum.Interrupted++
	}
}

// runUnit runs one unit and records its outcome. It returns an error only
// to stop the group under -failfast.
func (e *executor) runUnit(ctx context.Context, u *Unit) error {
	exclusive := u.Kind.Exclusive()
	threads, jobs := runThreads(u, e.procs, e.opt.Jobs, e.opt.Threads), e.opt.Jobs
	if exclusive {
		e.excl.Lock()
		defer e.excl.Unlock()
		jobs = 1
		if e.opt.SetThreads != nil {
			prev := e.opt.SetThreads(threads)
			defer e.opt.SetThreads(prev)
		}
	} else {
		e.excl.RLock()
		defer e.excl.RUnlock()
	}
	if ctx.Err() != nil {
		e.finish(u, OutcomeInterrupted, "not started")
		return nil
	}
	t := u.Targets[0]
	if e.opt.Collect {
		reason := "not in the cache, and -collect computes nothing"
		if failed := e.opt.Cache.Failure(u.Key); failed != nil {
			reason += "; it failed: " + firstLine(failed.Error)
		}
		return e.record(u, nil, &Env{Threads: threads}, Skip("%s", reason), time.Now(), jobs)
	}
	release, err := e.lockUnit(ctx, u, exclusive)
	if err != nil {
		if ctx.Err() != nil {
			e.finish(u, OutcomeInterrupted, "not started")
			return nil
		}
		return e.fail(u, err, time.Now(), jobs, threads)
	}
	defer release()
	if rec := e.opt.Cache.Result(u.Key); rec != nil && !e.opt.Force && e.opt.Cache.verifyEntry(u.Key) == "" {
		// Another invocation computed it while this one waited.
		e.disp.line(t.Name(), "computed by another invocation sharing the cache")
		e.finish(u, OutcomeCached, "")
		return e.writeTargets(u, rec)
	}
	env := &Env{
		Experiment: t.Experiment, Run: t.Run.Name, Profile: e.plan.Profile, Key: u.Key,
		Seed: u.Seed, Params: u.Params, Threads: threads,
		ArtifactDir: e.opt.Cache.artifactDir(u.Key),
		cache:       e.opt.Cache,
	}
	if err := os.MkdirAll(env.ArtifactDir, 0o755); err != nil {
		return e.fail(u, err, time.Now(), jobs, threads)
	}
	for i, n := range u.Needs {
		dep := Dep{Run: t.Run.Needs[i], Group: n.Targets[0].Run.Group, Key: n.Key, Record: e.opt.Cache.Result(n.Key), ArtifactDir: e.opt.Cache.artifactDir(n.Key)}
		if dep.Record == nil {
			return e.fail(u, fmt.Errorf("the result of needed run %s (%s) is missing from the cache", dep.Run, n.Key), time.Now(), jobs, threads)
		}
		env.Needs = append(env.Needs, dep)
	}
	name := t.Name()
	resumed := e.opt.Cache.HasCheckpoint(u.Key)
	e.disp.start(name, resumed)
	defer e.disp.end(name)
	env.progress = func(p Progress) { e.disp.progress(name, p) }
	env.logf = func(s string) { e.disp.log(name, s) }

	start := time.Now()
	res, err := safeRun(ctx, u.Kind, env)
	if err != nil && ctx.Err() != nil {
		// Interrupted: write nothing; the checkpoint stays for the next start.
		e.finish(u, OutcomeInterrupted, err.Error())
		e.disp.line(name, "interrupted; will resume from its last checkpoint")
		return nil
	}
	if err == nil {
		err = checkResult(res)
	}
	if err := e.record(u, res, env, err, start, jobs); err != nil {
		return err
	}
	if err != nil {
		if _, skip := IsSkip(err); !skip && e.opt.FailFast {
			return errFailFast
		}
	}
	return nil
}

func (e *executor) fail(u *Unit, err error, start time.Time, jobs, threads int) error {
	env := &Env{Threads: threads}
	if rerr := e.record(u, nil, env, err, start, jobs); rerr != nil {
		return rerr
	}
	if e.opt.FailFast {
		return errFailFast
	}
	return nil
}

// safeRun calls the kind, turning a panic into an error with its stack.
func safeRun(ctx context.Context, k Kind, env *Env) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	res, err = k.Run(ctx, env)
	if err == nil && res == nil {
		err = errors.New("the kind returned neither a result nor an error")
	}
	return res, err
}

func checkResult(res *Result) error {
	for k, v := range res.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("metric %q is %v (records hold finite numbers only)", k, v)
		}
	}
	for _, s := range res.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("series %q: %d x values, %d y values", s.Name, len(s.X), len(s.Y))
		}
		for i := range s.X {
			if math.IsNaN(s.X[i]) || math.IsInf(s.X[i], 0) || math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
				return fmt.Errorf("series %q point %d is (%v, %v) (records hold finite numbers only)", s.Name, i, s.X[i], s.Y[i])
			}
		}
	}
	return nil
}

// record builds the record of u from its result or error, stores it in the
// cache (success → result.json, failure → failed.json, skip → nothing) and
// writes it for every target.
func (e *executor) record(u *Unit, res *Result, env *Env, runErr error, start time.Time, jobs int) error {
	end := time.Now()
	rec := &record.Record{
		Schema: record.SchemaVersion, Kind: u.Kind.Name(), Key: u.Key, Profile: e.plan.Profile,
		Config: u.Config, Status: record.StatusOK,
		Provenance: record.Provenance{
			Commit: e.host.Commit, Dirty: e.host.Dirty, GoVersion: e.host.GoVersion, GOOS: e.host.GOOS, GOARCH: e.host.GOARCH,
			CPUModel: e.host.CPUModel, CPUFamily: e.host.CPUFamily, CPUModelID: e.host.CPUModelID, CPUFeatures: e.host.CPUFeatures, GOMAXPROCS: e.procs, Jobs: jobs,
			Seeds: []uint64{u.Seed}, Dataset: u.Dataset, Start: start.UTC(), End: end.UTC(),
			WallSeconds: end.Sub(start).Seconds(),
		},
	}
	if env != nil {
		rec.Provenance.Threads = env.Threads
	}
	if e.opt.KernelLevel != nil {
		rec.Provenance.Kernels = e.opt.KernelLevel()
	}
	if e.opt.ConvAlgorithm != nil {
		rec.Provenance.Conv = e.opt.ConvAlgorithm()
	}
	t := u.Targets[0]
	rec.Experiment, rec.Run, rec.Group = t.Experiment, t.Run.Name, t.Run.Group
	var outcome, msg string
	switch reason, skip := IsSkip(runErr); {
	case skip:
		rec.Status, rec.Error = record.StatusSkipped, reason
		outcome, msg = OutcomeSkipped, reason
	case runErr != nil:
		rec.Status, rec.Error = record.StatusFailed, runErr.Error()
		outcome, msg = OutcomeFailed, runErr.Error()
		if err := record.Write(e.opt.Cache.failedPath(u.Key), rec); err != nil {
			return err
		}
	default:
		rec.Metrics, rec.Series = res.Metrics, res.Series
		outcome = OutcomeRan
		if err := record.Write(e.opt.Cache.resultPath(u.Key), rec); err != nil {
			return err
		}
		if err := e.opt.Cache.writeManifest(u.Key); err != nil {
			return err
		}
		os.Remove(e.opt.Cache.ckptPath(u.Key))
		os.Remove(e.opt.Cache.ckptSumPath(u.Key))
		os.Remove(e.opt.Cache.failedPath(u.Key))
		if est, ok := u.Kind.(Estimator); ok {
			if class, units := est.Work(u.Params); units > 0 {
				_ = e.opt.Cache.SetCost(costClass(class, rec.Provenance.Threads), rec.Provenance.WallSeconds/units, end)
			}
		}
	}
	e.finish(u, outcome, msg)
	if outcome == OutcomeSkipped {
		msg = e.skipLine(u, msg)
	}
	e.disp.line(t.Name(), describe(outcome, msg, end.Sub(start)))
	if outcome == OutcomeRan && e.opt.ResultsDir != "" {
		e.compareCommitted(u, rec)
	}
	return e.writeTargets(u, rec)
}

// skipLine is what the log shows for u's skip: the reason in full the
// first time its root reason appears, shortened after that, so that 36 runs
// without their dataset print the instructions once (their records keep the
// full reason).
func (e *executor) skipLine(u *Unit, msg string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	root := e.skipRoot[u.Key]
	if root == "" || !e.skipShown[root] {
		e.skipShown[root] = true
		return msg
	}
	if msg == root {
		short := firstLine(root)
		if r := []rune(short); len(r) > 60 {
			short = string(r[:60]) + "…"
		}
		return short + " (as above)"
	}
	return strings.Replace(msg, root, "as above", 1)
}

func describe(outcome, msg string, d time.Duration) string {
	switch outcome {
	case OutcomeRan:
		return fmt.Sprintf("done in %s", d.Round(time.Millisecond))
	case OutcomeSkipped:
		return "skipped: " + msg
	}
	first, _, _ := strings.Cut(msg, "\n")
	return "FAILED: " + first
}

func costClass(class string, threads int) string {
	return fmt.Sprintf("%s threads=%d", class, threads)
}

// writeTargets writes rec as the record of each of u's targets (none when
// ResultsDir is empty).
func (e *executor) writeTargets(u *Unit, rec *record.Record) error {
	if e.opt.ResultsDir == "" {
		return nil
	}
	for _, t := range u.Targets {
		r := *rec
		r.Experiment, r.Run, r.Group, r.Profile = t.Experiment, t.Run.Name, t.Run.Group, e.plan.Profile
		wrote, err := writeTarget(RecordPath(e.opt.ResultsDir, t.Experiment, t.Run.Name), &r)
		if err != nil {
			return err
		}
		if wrote {
			e.mu.Lock()
			e.sum.Written++
			e.mu.Unlock()
		}
	}
	return nil
}

// Records reads every record under <resultsDir>/runs, sorted by experiment
// and run.
func Records(resultsDir string) ([]*record.Record, error) {
	recs, err := record.ReadDir(resultsDir + string(os.PathSeparator) + "runs")
	if err != nil {
		return nil, err
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Experiment != recs[j].Experiment {
			return recs[i].Experiment < recs[j].Experiment
		}
		return recs[i].Run < recs[j].Run
	})
	return recs, nil
}
