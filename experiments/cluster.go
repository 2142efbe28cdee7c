package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/slurm"
)

// builtCommit is the commit a worker binary was built from, set by
// -submit's `go build -ldflags -X`: a job runs on a node where the checkout
// may have moved on (or is not visible at all), so its records take the
// commit from the binary.
var builtCommit string

// Exit status of the worker (-run) besides 0, 1 and 130: a skipped run
// (e.g. its dataset is missing on the node). Non-zero, so Slurm cancels its
// dependants instead of starting them to find no result.
const exitSkipped = 3

// clusterFlags are the flags of -submit and -run.
type clusterFlags struct {
	submit, runKey, sbatchArgs string
	dryRun                     bool
	collect                    bool // -collect: write the cached records and rebuild, compute nothing
}

// checkClusterFlags rejects the cluster flags used where they mean nothing.
func checkClusterFlags(f clusterFlags, list, plan, force, tables bool) error {
	switch {
	case f.submit != "" && f.submit != "slurm":
		return fmt.Errorf("-submit %q: the only scheduler is slurm (-submit slurm)", f.submit)
	case f.submit == "" && f.dryRun:
		return fmt.Errorf("-dry-run goes with -submit slurm (it prints the sbatch commands instead of running them)")
	case f.submit == "" && f.sbatchArgs != "":
		return fmt.Errorf("-sbatch-args goes with -submit slurm")
	case f.submit != "" && f.runKey != "":
		return fmt.Errorf("-submit and -run exclude each other: -run is what a submitted job runs")
	case (f.submit != "" || f.runKey != "") && (list || plan || force || tables):
		return fmt.Errorf("-submit and -run do not combine with -list, -plan, -force, -tables or -figures")
	case f.collect && (f.submit != "" || f.runKey != "" || force):
		return fmt.Errorf("-collect computes nothing: it does not combine with -submit, -run or -force")
	}
	return nil
}

// submitSlurm builds the worker binary of the commit (unless cached) and
// submits the plan's runs that are not cached, one sbatch job per key.
func submitSlurm(stdout, stderr io.Writer, p *harness.Plan, cache *harness.Cache, root, specFile string, f clusterFlags, jobs, threads int) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "experiments: -submit slurm: %v\n", err)
		return 1
	}
	extra, err := slurm.SplitArgs(f.sbatchArgs)
	if err != nil {
		fmt.Fprintf(stderr, "experiments: %v\n", err)
		return 2
	}
	cacheDir, err := filepath.Abs(cache.Dir)
	if err != nil {
		return fail(err)
	}
	cache = &harness.Cache{Dir: cacheDir}
	host := provenance.Collect(root)
	if host.Commit == "unknown" {
		return fail(fmt.Errorf("%s is not a git checkout: a job must run a committed version; submit from a clone", root))
	}
	if host.Dirty && !f.dryRun {
		return fail(fmt.Errorf("the tree at %s has uncommitted changes (git status): commit or stash them, so a job queued for days runs the code that was planned", root))
	}
	if host.Dirty {
		fmt.Fprintln(stdout, "# the tree has uncommitted changes: a real submission would refuse")
	}
	bin := filepath.Join(cacheDir, "bin", host.Commit+"-"+runtime.GOOS+"-"+runtime.GOARCH, "experiments")
	if !f.dryRun {
		if err := buildWorker(root, bin, host.Commit); err != nil {
			return fail(err)
		}
	}
	spec := ""
	if specFile != "" {
		if spec, err = copySpec(specFile, cacheDir, f.dryRun); err != nil {
			return fail(err)
		}
	}
	// The estimates follow the plan's thread rule (exclusive runs on all
	// the login node's cores): whole-node jobs get at least as many.
	estimates := planEstimates(p, cache, estimateOptions(stderr, root, jobs, threads, false))
	if threads == 0 {
		threads = max(1, runtime.GOMAXPROCS(0)/jobs)
	}
	opt := slurm.Options{
		Config:    slurm.Config{Binary: bin, CacheDir: cacheDir, Profile: p.Profile, Spec: spec, Extra: extra},
		DryRun:    f.dryRun,
		Threads:   threads,
		Estimates: estimates,
		Commit:    host.Commit,
		Out:       stdout,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := slurm.Submit(ctx, p, cache, opt)
	if sum != nil && !f.dryRun {
		fmt.Fprintf(stdout, "profile %s: %d run(s), %d distinct: submitted %d job(s), reused %d queued, %d cached (commit %s, cache %s)\n",
			p.Profile, len(p.Targets), len(p.Units), sum.Submitted, sum.Reused, sum.Cached, short(host.Commit), cacheDir)
		if len(sum.JobIDs) > 0 {
			fmt.Fprintf(stdout, "watch:   squeue -j %s\n", strings.Join(sum.JobIDs, ","))
			fmt.Fprintf(stdout, "logs:    %s\n", filepath.Join(cacheDir, "slurm", "logs"))
		}
		collect := "go run ./experiments -collect -profile " + p.Profile + " -cache " + slurm.Quote(cacheDir)
		if specFile != "" {
			collect += " -spec " + slurm.Quote(specFile)
		}
		fmt.Fprintf(stdout, "collect: %s   (when the jobs have ended: records, tables, figures, verdicts)\n", collect)
	}
	if sum != nil && f.dryRun {
		fmt.Fprintf(stdout, "# %d to submit, %d already queued, %d cached\n", sum.Submitted, sum.Reused, sum.Cached)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// planEstimates is harness.Estimate per unit (units without one left out):
// the cache's measured costs where it has some, else the committed cost
// model's, as -plan prints them.
func planEstimates(p *harness.Plan, cache *harness.Cache, opt harness.EstimateOptions) map[*harness.Unit]time.Duration {
	out := map[*harness.Unit]time.Duration{}
	for _, l := range harness.Estimate(p, cache, opt) {
		if l.Estimate > 0 {
			out[l.Target.Unit] = l.Estimate
		}
	}
	return out
}

// buildWorker builds the experiments command of root into bin (atomically)
// unless it is there: nodes need no Go toolchain, and every job of the
// commit runs the same binary.
func buildWorker(root, bin, commit string) error {
	if _, err := os.Stat(bin); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.builtCommit="+commit, "-o", tmp, "./experiments")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building the worker binary (go build ./experiments in %s): %v\n%s", root, err, out)
	}
	return os.Rename(tmp, bin)
}

// copySpec copies a -spec file into <cache>/specs/<sha256>/<its name>, so a
// job runs the spec as it was submitted, and returns the copy's path.
func copySpec(specFile, cacheDir string, dryRun bool) (string, error) {
	data, err := os.ReadFile(specFile)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	dst := filepath.Join(cacheDir, "specs", hex.EncodeToString(h[:8]), filepath.Base(specFile))
	if dryRun {
		return dst, nil
	}
	return dst, record.WriteFileAtomic(dst, data)
}

// runWorker is -run KEY: it runs the one unit of p whose key is key, writing
// only to the cache, and exits 0 (ran or cached), 1 (failed), 3 (skipped)
// or 130 (interrupted: SIGTERM at the time limit or scancel keeps the
// checkpoint).
func runWorker(stdout, stderr io.Writer, p *harness.Plan, cache *harness.Cache, key string, threads int) int {
	host := provenance.Collect(cache.Dir)
	if builtCommit != "" {
		host.Commit, host.Dirty = builtCommit, false
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done, watched := make(chan struct{}), make(chan struct{})
	// Runs before stop and waits for the watcher: the normal end says nothing,
	// and nothing is written after runWorker returns.
	defer func() { close(done); <-watched }()
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr, "experiments: -run: signalled; stopping the run (it keeps its checkpoint)")
		case <-done:
		}
	}()
	hostname, _ := os.Hostname()
	fmt.Fprintf(stdout, "worker: key %s, profile %s, commit %s, host %s, job %s, cache %s\n",
		key, p.Profile, short(host.Commit), hostname, os.Getenv("SLURM_JOB_ID"), cache.Dir)
	outcome, msg, err := harness.RunKey(ctx, p, key, harness.Options{
		Cache: cache, Jobs: 1, Threads: threads, Out: stdout, Host: &host,
		SetThreads: setThreads, KernelLevel: kernelLevel, ConvAlgorithm: convAlgorithm,
	})
	if err != nil {
		fmt.Fprintf(stderr, "experiments: -run %s: %v\n", key, err)
		return 1
	}
	fmt.Fprintf(stdout, "worker: key %s %s\n", key, outcome)
	switch outcome {
	case harness.OutcomeRan, harness.OutcomeCached:
		return 0
	case harness.OutcomeSkipped:
		fmt.Fprintf(stderr, "experiments: -run %s: skipped: %s\n", key, msg)
		return exitSkipped
	case harness.OutcomeInterrupted:
		return 130
	}
	fmt.Fprintf(stderr, "experiments: -run %s: %s\n", key, firstLine(msg))
	return 1
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
