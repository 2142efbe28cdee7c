package slurm_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/harness/toykind"
	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/slurm"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

func init() { toykind.Register() }

// fakeSlurm puts an sbatch and a squeue on PATH: sbatch appends its
// arguments (one line per job, NUL-separated) to <dir>/sbatch.log and prints
// the next job id (100, 101, …); squeue prints <dir>/queue.
func fakeSlurm(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	scripts := map[string]string{
		"sbatch": `#!/bin/sh
d=$(dirname "$0")
n=$(cat "$d/next" 2>/dev/null || echo 100)
printf '%s\0' "$@" >>"$d/sbatch.log"; echo >>"$d/sbatch.log"
echo $((n + 1)) >"$d/next"
echo "$n"
`,
		"squeue": `#!/bin/sh
cat "$(dirname "$0")/queue" 2>/dev/null
exit 0
`,
	}
	for name, src := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// sbatchCalls reads the fake sbatch's log: one argument list per job.
func sbatchCalls(t *testing.T, dir string) [][]string {
	data, err := os.ReadFile(filepath.Join(dir, "sbatch.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		calls = append(calls, strings.Split(strings.TrimSuffix(line, "\x00"), "\x00"))
	}
	return calls
}

func toyPlan(t *testing.T, files ...string) *harness.Plan {
	t.Helper()
	var specs []*spec.Spec
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("..", "harness", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, s)
	}
	p, err := harness.Resolve(specs, "quick") // toy-shared repeats a walk of toy-chain at this profile
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func arg(args []string, prefix string) string {
	for _, a := range args {
		if strings.HasPrefix(a, prefix) {
			return strings.TrimPrefix(a, prefix)
		}
	}
	return ""
}

// TestSubmit submits the toy chain (two walks and a total that needs them;
// toy-shared holds one of the walks again) through a fake sbatch: one job
// per key, the total after both walks, records of each job in the cache;
// then again with those jobs queued (all reused), and with one walk cached
// (no job, no dependency on it).
func TestSubmit(t *testing.T) {
	dir := fakeSlurm(t)
	cacheDir := t.TempDir()
	cache := &harness.Cache{Dir: cacheDir}
	p := toyPlan(t, "toy-chain.yaml", "toy-shared.yaml")
	if len(p.Targets) != 4 || len(p.Units) != 3 {
		t.Fatalf("toy plan: %d targets, %d units; want 4, 3", len(p.Targets), len(p.Units))
	}
	opt := slurm.Options{Config: slurm.Config{Binary: "/bin/experiments", CacheDir: cacheDir, Profile: "smoke"}, Threads: 3, Commit: "abc", Out: &bytes.Buffer{}}
	sum, err := slurm.Submit(context.Background(), p, cache, opt)
	if err != nil {
		t.Fatal(err)
	}
	calls := sbatchCalls(t, dir)
	if sum.Submitted != 3 || sum.Reused != 0 || sum.Cached != 0 || len(calls) != 3 {
		t.Fatalf("first submission: %+v, %d sbatch calls; want 3 submitted", sum, len(calls))
	}
	for i, want := range []string{"", "", "afterok:100:101"} {
		if got := arg(calls[i], "--dependency="); got != want {
			t.Errorf("job %d: --dependency=%q, want %q", i, got, want)
		}
		if got := arg(calls[i], "--cpus-per-task="); got != "3" {
			t.Errorf("job %d: --cpus-per-task=%q, want the shared runs' threads, 3", i, got)
		}
		if got, want := arg(calls[i], "--job-name="), slurm.JobName(p.Units[i].Key, cacheDir); got != want {
			t.Errorf("job %d: --job-name=%q, want %q", i, got, want)
		}
		if !strings.Contains(arg(calls[i], "--wrap="), "-run "+p.Units[i].Key) {
			t.Errorf("job %d runs %q, not its key", i, arg(calls[i], "--wrap="))
		}
	}
	s := slurm.ReadSubmission(cacheDir, p.Units[2].Key)
	if s == nil || s.JobID != "102" || s.Commit != "abc" || s.Run != "toy-chain/total" || !strings.HasSuffix(s.Log, "-102.out") {
		t.Errorf("submission record of total: %+v", s)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "slurm", "logs")); err != nil {
		t.Errorf("no log folder: %v", err)
	}

	// The same jobs queued: nothing submitted, every job reused.
	var queue strings.Builder
	for i, u := range p.Units {
		state := "PENDING"
		if i == 0 {
			state = "RUNNING"
		}
		queue.WriteString([]string{"100", "101", "102"}[i] + "|" + slurm.JobName(u.Key, cacheDir) + "|" + state + "\n")
	}
	queue.WriteString("99|someone-else|RUNNING\n")
	if err := os.WriteFile(filepath.Join(dir, "queue"), []byte(queue.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = slurm.Submit(context.Background(), p, cache, opt)
	if err != nil || sum.Submitted != 0 || sum.Reused != 3 || len(sbatchCalls(t, dir)) != 3 {
		t.Errorf("second submission with the jobs queued: %+v, %v, %d sbatch calls; want all reused", sum, err, len(sbatchCalls(t, dir)))
	}

	// The first walk cached (computed locally), the queue empty: two jobs,
	// the total depending on the second walk's only.
	os.Remove(filepath.Join(dir, "queue"))
	os.Remove(filepath.Join(dir, "sbatch.log"))
	var out bytes.Buffer
	if _, err := harness.Execute(context.Background(), toyPlan(t, "toy-shared.yaml"), harness.Options{
		Cache: cache, Jobs: 1, Out: &out, Host: &provenance.Host{Commit: "abc"}, MachineLock: filepath.Join(t.TempDir(), "m.lock"),
	}); err != nil {
		t.Fatal(err)
	}
	sum, err = slurm.Submit(context.Background(), p, cache, opt)
	calls = sbatchCalls(t, dir)
	if err != nil || sum.Submitted != 2 || sum.Cached != 1 || len(calls) != 2 {
		t.Fatalf("with walk/0.5 cached: %+v, %v, %d calls; want 2 submitted, 1 cached", sum, err, len(calls))
	}
	if got := arg(calls[1], "--dependency="); got != "afterok:103" {
		t.Errorf("total: --dependency=%q, want afterok:103 (the uncached walk's job)", got)
	}
}

// TestSubmitDryRun prints a runnable script and runs no sbatch.
func TestSubmitDryRun(t *testing.T) {
	dir := fakeSlurm(t)
	cacheDir := t.TempDir()
	p := toyPlan(t, "toy-chain.yaml")
	var out bytes.Buffer
	opt := slurm.Options{Config: slurm.Config{Binary: "/bin/experiments", CacheDir: cacheDir, Profile: "smoke"}, DryRun: true, Threads: 1, Out: &out}
	sum, err := slurm.Submit(context.Background(), p, &harness.Cache{Dir: cacheDir}, opt)
	if err != nil || sum.Submitted != 3 {
		t.Fatalf("dry run: %+v, %v", sum, err)
	}
	if calls := sbatchCalls(t, dir); len(calls) != 0 {
		t.Errorf("a dry run ran sbatch %d times", len(calls))
	}
	got := out.String()
	for _, want := range []string{"# toy-chain/walk/0.5\nJ1=$(sbatch --parsable ", "J3=$(sbatch ", "--dependency=afterok:$J1:$J2 "} {
		if !strings.Contains(got, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "$(sbatch ") != 3 {
		t.Errorf("dry run: want one sbatch line per key (3):\n%s", got)
	}
}

// A run whose dataset is missing here would get another key on nodes that
// have the data, so the submission refuses, submitting nothing, dry run or
// not.
func TestSubmitRefusesMissingData(t *testing.T) {
	dir := fakeSlurm(t)
	src := "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 2, decay: 1, mode: sum, missing: \"toy data not found in /nowhere\"}\n" +
		"  - name: b\n    kind: toy\n    params: {steps: 2, decay: 1, mode: sum}\n"
	s, err := spec.Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := harness.Resolve([]*spec.Spec{s}, "quick")
	if err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{false, true} {
		cacheDir := t.TempDir()
		var out bytes.Buffer
		opt := slurm.Options{Config: slurm.Config{Binary: "/bin/experiments", CacheDir: cacheDir, Profile: "quick"}, DryRun: dry, Threads: 1, Out: &out}
		sum, err := slurm.Submit(context.Background(), p, &harness.Cache{Dir: cacheDir}, opt)
		if err == nil || !strings.Contains(err.Error(), "nothing submitted: 1 run(s)") || !strings.Contains(err.Error(), "toy data not found in /nowhere") {
			t.Errorf("dry run %v: %+v, %v; want the missing dataset named", dry, sum, err)
		}
		if strings.Contains(out.String(), "sbatch") {
			t.Errorf("dry run %v printed jobs:\n%s", dry, out.String())
		}
	}
	if calls := sbatchCalls(t, dir); len(calls) != 0 {
		t.Errorf("sbatch ran %d times", len(calls))
	}
}

// TestReport names the Slurm log of a submitted run that failed.
func TestReport(t *testing.T) {
	fakeSlurm(t)
	cacheDir := t.TempDir()
	cache := &harness.Cache{Dir: cacheDir}
	p := toyPlan(t, "toy-shared.yaml")
	opt := slurm.Options{Config: slurm.Config{Binary: "/bin/experiments", CacheDir: cacheDir, Profile: "smoke"}, Threads: 1, Out: &bytes.Buffer{}}
	if _, err := slurm.Submit(context.Background(), p, cache, opt); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n := slurm.Report(&out, p, cache); n != 1 || !strings.Contains(out.String(), "no result from Slurm: toy-shared/same-walk (job 100") ||
		!strings.Contains(out.String(), filepath.Join(cacheDir, "slurm", "logs")) {
		t.Errorf("Report: %d lines\n%s", n, out.String())
	}
}
