package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuousnet/repro/datasets/datatest"
	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/slurm"
)

// TestRealSlurm submits to a real Slurm (.ci/slurm-test brings up a
// one-node one and sets CNET_SLURM_TEST=1) from a clean clone of HEAD: two
// experiments of the smoke profile that share a run, submitted twice at the
// same moment, must compute each key once and leave every key cached (and
// -plan with nothing to run); a spec whose training diverges must leave that
// job failed and its dependant cancelled, never run, and the collecting
// invocation must name the failed run's Slurm log.
func TestRealSlurm(t *testing.T) {
	if os.Getenv("CNET_SLURM_TEST") != "1" {
		t.Skip("needs a running Slurm: .ci/slurm-test brings up a one-node one and runs this test")
	}
	datatest.RequirePresent(t, "cifar10")
	wd, _ := os.Getwd()
	repo, err := provenance.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	clone, cache, bin := filepath.Join(tmp, "repo"), filepath.Join(tmp, "cache"), filepath.Join(tmp, "experiments")
	if out, err := exec.Command("git", "clone", "-q", repo, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	build := exec.Command("go", "build", "-o", bin, "./experiments")
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	exp := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = clone
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return code, string(out)
	}
	sel := []string{"-profile", "smoke", "-only", "^(coarsening|incremental-training)$", "-cache", cache}
	const keys = 6 // 7 runs: train/rk4-classic-refined is in both experiments

	// Two submissions at the same moment: the second waits for the first's
	// lock and reuses its queued jobs.
	start := time.Now()
	var wg sync.WaitGroup
	var outs [2]string
	var codes [2]int
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], outs[i] = exp(append([]string{"-submit", "slurm"}, sel...)...)
		}()
	}
	wg.Wait()
	submitted := 0
	for i := range outs {
		if codes[i] != 0 {
			t.Fatalf("-submit %d exited %d\n%s", i, codes[i], outs[i])
		}
		m := regexp.MustCompile(`submitted (\d+) job\(s\)`).FindStringSubmatch(outs[i])
		if m == nil {
			t.Fatalf("-submit %d: no summary\n%s", i, outs[i])
		}
		n, _ := strconv.Atoi(m[1])
		submitted += n
		t.Logf("-submit %d:\n%s", i, outs[i])
	}
	if submitted != keys {
		t.Errorf("the two submissions submitted %d jobs together, want %d (one per key)", submitted, keys)
	}
	waitQueue(t, 4*time.Minute)
	t.Logf("smoke jobs done %s after the submissions", time.Since(start).Round(time.Second))

	// Each key was computed by exactly one job.
	ran := map[string]int{}
	logs, _ := filepath.Glob(filepath.Join(cache, "slurm", "logs", "*.out"))
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		for _, m := range regexp.MustCompile(`worker: key ([0-9a-f]{64}) ran`).FindAllStringSubmatch(string(data), -1) {
			ran[m[1]]++
		}
	}
	if len(ran) != keys {
		t.Errorf("%d keys computed, want %d: %v", len(ran), keys, ran)
	}
	for k, n := range ran {
		if n != 1 {
			t.Errorf("key %s computed %d times", k, n)
		}
	}
	if code, out := exp(append([]string{"-plan"}, sel...)...); code != 0 || !strings.Contains(out, "profile smoke: 0 to run, 6 cached") {
		t.Errorf("-plan after the jobs: exit %d, want 0 to run, 6 cached\n%s", code, out)
	}
	if code, out := exp(append([]string{"-collect"}, sel...)...); code != 0 || !strings.Contains(out, "nothing to compute: all 6 run(s) are cached") {
		t.Errorf("collecting: exit %d, want everything cached\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(clone, "results", "smoke", "runs", "coarsening", "summary__seed1.json")); err != nil {
		t.Errorf("collecting wrote no record: %v", err)
	}

	// A run made to fail: its dependant is cancelled by Slurm, not run.
	div := []string{"-profile", "smoke", "-spec", "experiments/testdata/slurm/diverge.yaml", "-cache", cache}
	if code, out := exp(append([]string{"-submit", "slurm"}, div...)...); code != 0 || !strings.Contains(out, "submitted 2 job(s)") {
		t.Fatalf("-submit diverge: exit %d\n%s", code, out)
	}
	waitQueue(t, 2*time.Minute)
	subs := submissions(t, cache)
	train, sweep := subs["diverge/train"], subs["diverge/sweep"]
	if train == nil || sweep == nil {
		t.Fatalf("no submission records for diverge/train and diverge/sweep: %v", subs)
	}
	if state := jobState(t, train.JobID); state != "FAILED" {
		t.Errorf("the diverging training's job is %s, want FAILED", state)
	}
	if state := jobState(t, sweep.JobID); state != "CANCELLED" {
		t.Errorf("its dependant's job is %s, want CANCELLED (not pending, not run)", state)
	}
	if _, err := os.Stat(sweep.Log); err == nil {
		t.Errorf("the cancelled dependant ran: its log %s exists", sweep.Log)
	}
	for _, f := range []string{"result.json", "failed.json"} {
		if _, err := os.Stat(filepath.Join(cache, "runs", sweep.Key, f)); err == nil {
			t.Errorf("the cancelled dependant left %s", f)
		}
	}
	// Collecting computes nothing: the failed training is reported with its
	// log and skipped, not recomputed here; the exit status says runs are
	// missing.
	if code, out := exp(append([]string{"-collect"}, div...)...); code != 1 || !strings.Contains(out, "FAILED on Slurm: diverge/train (job "+train.JobID+")") || !strings.Contains(out, train.Log) ||
		!strings.Contains(out, "not in the cache, and -collect computes nothing; it failed: ") {
		t.Errorf("collecting diverge: exit %d, want 1, the failed run with its log %s, and it skipped\n%s", code, train.Log, out)
	}
	if _, err := os.Stat(filepath.Join(cache, "runs", sweep.Key, "result.json")); err == nil {
		t.Errorf("-collect computed the cancelled sweep")
	}
	t.Logf("real-Slurm test done in %s", time.Since(start).Round(time.Second))
}

// waitQueue waits until this user has no job left in Slurm's queue.
func waitQueue(t *testing.T, limit time.Duration) {
	t.Helper()
	u, _ := user.Current()
	deadline := time.Now().Add(limit)
	for {
		out, err := exec.Command("squeue", "-h", "-u", u.Username, "-o", slurm.SqueueFormat).Output()
		if err != nil {
			t.Fatalf("squeue: %v", err)
		}
		active, err := slurm.ParseSqueue(string(out))
		if err != nil {
			t.Fatal(err)
		}
		if len(active) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still queued after %s:\n%s", limit, out)
		}
		time.Sleep(time.Second)
	}
}

// submissions reads the cache's submission records by run name.
func submissions(t *testing.T, cache string) map[string]*slurm.Submission {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(cache, "slurm", "jobs", "*.json"))
	out := map[string]*slurm.Submission{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var s slurm.Submission
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[s.Run] = &s
	}
	return out
}

// jobState is the state scontrol reports for a finished job (kept for
// MinJobAge; there is no accounting).
func jobState(t *testing.T, id string) string {
	t.Helper()
	out, err := exec.Command("scontrol", "show", "job", id).Output()
	if err != nil {
		t.Fatalf("scontrol show job %s: %v", id, err)
	}
	m := regexp.MustCompile(`JobState=(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("scontrol show job %s: no JobState\n%s", id, out)
	}
	return string(m[1])
}
