package slurm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
)

// Client runs Slurm's commands. The zero value runs "sbatch" and "squeue"
// from PATH (tests put fakes there).
type Client struct {
	Sbatch, Squeue string
}

func (c Client) cmd(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

// Active returns job name → id of this user's jobs that may still run.
func (c Client) Active(ctx context.Context) (map[string]string, error) {
	args := []string{"-h", "-o", SqueueFormat}
	if u, err := user.Current(); err == nil {
		args = append(args, "-u", u.Username)
	}
	out, err := run(ctx, c.cmd(c.Squeue, "squeue"), args...)
	if err != nil {
		return nil, err
	}
	return ParseSqueue(out)
}

// Submit runs sbatch with args and returns the job id.
func (c Client) Submit(ctx context.Context, args []string) (string, error) {
	out, err := run(ctx, c.cmd(c.Sbatch, "sbatch"), args...)
	if err != nil {
		return "", err
	}
	return ParseJobID(out)
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("%s not found on PATH: run -submit slurm on a machine where Slurm's commands work (a login node)", name)
		}
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:] // the last line says why (squeue prints its attempts first)
		}
		return "", fmt.Errorf("%s: %v: %s", name, err, msg)
	}
	return out.String(), nil
}

// Submission is the record of one job in the cache
// (<cache>/slurm/jobs/<key>.json): what the collecting invocation reports
// for a run that has no result.
type Submission struct {
	Key       string    `json:"key"`
	Run       string    `json:"run"` // experiment/run of its first target
	JobID     string    `json:"job_id"`
	JobName   string    `json:"job_name"`
	Log       string    `json:"log"`
	Commit    string    `json:"commit"`
	Submitted time.Time `json:"submitted"`
}

func submissionPath(cacheDir, key string) string {
	return filepath.Join(cacheDir, "slurm", "jobs", key+".json")
}

// ReadSubmission returns the last submission of key to the cache, or nil.
func ReadSubmission(cacheDir, key string) *Submission {
	data, err := os.ReadFile(submissionPath(cacheDir, key))
	if err != nil {
		return nil
	}
	var s Submission
	if json.Unmarshal(data, &s) != nil || s.Key != key {
		return nil
	}
	return &s
}

func writeSubmission(cacheDir string, s *Submission) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return record.WriteFileAtomic(submissionPath(cacheDir, s.Key), append(data, '\n'))
}

// Options of a submission.
type Options struct {
	Config
	Client  Client
	DryRun  bool // print the sbatch commands as a shell script; submit nothing
	Threads int  // nnlib threads (and --cpus-per-task) of a shared run
	// Estimates are the plan's estimated times per unit (from
	// harness.Estimate); a unit without one gets no --time.
	Estimates map[*harness.Unit]time.Duration
	Commit    string
	Out       io.Writer
	Now       func() time.Time // time.Now when nil
}

// Summary counts what a submission did.
type Summary struct {
	Submitted, Reused, Cached int
	JobIDs                    []string // of the jobs submitted or reused, in plan order
}

// Submit submits one job per unit of plan that is not cached (in the plan's
// order, which puts each unit after those it needs), with afterok
// dependencies on the jobs of its needs; a unit whose job is already queued
// or running (found by its job name) reuses that job. It holds
// <cache>/locks/submit.lock throughout, so two submissions at once see each
// other's jobs. An error stops it: the jobs submitted before stay, with
// their records, and the next submission reuses them.
func Submit(ctx context.Context, plan *harness.Plan, cache *harness.Cache, opt Options) (*Summary, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	cached := harness.CachedKeys(plan, cache)
	if err := checkData(plan, cached); err != nil {
		return nil, err
	}
	if !opt.DryRun {
		release, err := harness.LockFile(ctx, filepath.Join(cache.Dir, "locks", "submit.lock"), true, func() {
			fmt.Fprintln(opt.Out, "waiting for another submission to this cache to finish")
		})
		if err != nil {
			return nil, err
		}
		defer release()
		// Slurm does not create the folder of --output: a job whose log
		// cannot be opened dies before it starts.
		if err := os.MkdirAll(filepath.Join(opt.CacheDir, "slurm", "logs"), 0o755); err != nil {
			return nil, err
		}
	}
	active, err := opt.Client.Active(ctx)
	if err != nil {
		if !opt.DryRun {
			return nil, err
		}
		fmt.Fprintf(opt.Out, "# squeue failed (%v): queued jobs are not taken into account\n", err)
		active = map[string]string{}
	}
	sum := &Summary{}
	ids := map[string]string{} // key → job id (or $Jn in a dry run)
	if opt.DryRun {
		fmt.Fprintf(opt.Out, "# -submit slurm -dry-run: profile %s, cache %s; one sbatch per run key not cached\n", plan.Profile, opt.CacheDir)
	}
	for _, u := range plan.Units {
		if cached[u.Key] {
			sum.Cached++
			continue
		}
		name := JobName(u.Key, opt.CacheDir)
		if id, ok := active[name]; ok {
			ids[u.Key] = id
			sum.Reused++
			sum.JobIDs = append(sum.JobIDs, id)
			if opt.DryRun {
				fmt.Fprintf(opt.Out, "# %s: already queued as job %s\n", u.Targets[0].Name(), id)
			}
			continue
		}
		var deps []string
		for _, n := range u.Needs {
			if id, ok := ids[n.Key]; ok && !slices.Contains(deps, id) {
				deps = append(deps, id)
			}
		}
		j := Job{Key: u.Key, Label: u.Targets[0].Name(), Exclusive: u.Kind.Exclusive(), Threads: opt.Threads,
			Time: TimeLimit(opt.Estimates[u])}
		args := opt.Args(j, deps)
		if opt.DryRun {
			v := fmt.Sprintf("J%d", sum.Submitted+1)
			ids[u.Key] = "$" + v
			fmt.Fprintf(opt.Out, "# %s\n%s=$(sbatch %s)\n", names(u), v, quoteArgs(args))
			sum.Submitted++
			continue
		}
		id, err := opt.Client.Submit(ctx, args)
		if err != nil {
			return sum, fmt.Errorf("submitting %s: %w", u.Targets[0].Name(), err)
		}
		ids[u.Key] = id
		sum.Submitted++
		sum.JobIDs = append(sum.JobIDs, id)
		if err := writeSubmission(opt.CacheDir, &Submission{Key: u.Key, Run: u.Targets[0].Name(), JobID: id, JobName: name,
			Log: LogPath(opt.CacheDir, name, id), Commit: opt.Commit, Submitted: opt.Now().UTC()}); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// checkData refuses a submission with runs to compute whose dataset is not
// here: a run's key includes its data's checksum, computed at submission,
// so a job submitted without the data would look on the nodes for a key
// that their data does not give.
func checkData(plan *harness.Plan, cached map[string]bool) error {
	n, why := 0, ""
	for _, u := range plan.Units {
		if !cached[u.Key] && u.Missing != "" {
			n++
			why = u.Missing
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("nothing submitted: %d run(s) to compute need a dataset that is not here: %s. Run keys include the data's checksum, so submit where the data is present, from a folder the nodes see too", n, why)
}

// names lists the targets of u.
func names(u *harness.Unit) string {
	var n []string
	for _, t := range u.Targets {
		n = append(n, t.Name())
	}
	return strings.Join(n, ", ")
}

// quoteArgs quotes args for a shell, leaving a dry run's dependency on
// shell variables ($J1) unquoted so the printed script runs.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "--dependency=") {
			q[i] = a
		} else {
			q[i] = Quote(a)
		}
	}
	return strings.Join(q, " ")
}

// Report writes, for each unit of plan that is not cached but was
// submitted to Slurm from this cache, a line saying how its job ended and
// where its log is. It returns how many it wrote.
func Report(w io.Writer, plan *harness.Plan, cache *harness.Cache) int {
	cached := harness.CachedKeys(plan, cache)
	n := 0
	for _, u := range plan.Units {
		if cached[u.Key] {
			continue
		}
		s := ReadSubmission(cache.Dir, u.Key)
		if s == nil {
			continue
		}
		n++
		if f := cache.Failure(u.Key); f != nil && !f.Provenance.End.Before(s.Submitted) {
			first, _, _ := strings.Cut(f.Error, "\n")
			fmt.Fprintf(w, "FAILED on Slurm: %s (job %s): %s; log %s\n", names(u), s.JobID, first, s.Log)
			continue
		}
		fmt.Fprintf(w, "no result from Slurm: %s (job %s, submitted %s): still queued, cancelled (a needed run failed) or killed; log %s\n",
			names(u), s.JobID, s.Submitted.Format(time.RFC3339), s.Log)
	}
	return n
}
