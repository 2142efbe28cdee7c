package harness_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// The fault-injection suite: two experiments that share a training-like run
// (walk/0.5, which checkpoints every step and leaves an artifact that the
// sums read) are run undisturbed once; then, for each fault, a copy of the
// cache and results is damaged — a process killed at a drawn step, a cache
// file truncated, flipped or deleted, a record deleted or truncated — and
// the experiments run again. Every outcome must be the undisturbed records
// (metrics, series, key and configuration; timings aside) or a failure whose
// message names the file to fix; never a silently different record, never a
// panic. The table of outcomes is logged.

const (
	faultA = "name: fa\nruns:\n" +
		"  - name: walk/{decay}\n    kind: toy\n    seed: 3\n    matrix: {decay: [0.5, 0.9]}\n    params: {steps: 20, decay: 0.5, mode: walk}\n" +
		"  - name: total\n    kind: toy\n    needs: [walk/0.5, walk/0.9]\n    params: {steps: 2, decay: 1, mode: sum}\n"
	faultB = "name: fb\nruns:\n" +
		"  - name: walk/{decay}\n    kind: toy\n    seed: 3\n    matrix: {decay: [0.5]}\n    params: {steps: 20, decay: 0.5, mode: walk}\n" +
		"  - name: timed\n    kind: toy-exclusive\n    needs: [walk/0.5]\n    params: {steps: 2, decay: 1, mode: sum}\n"
	faultChildEnv = "HARNESS_TEST_FAULT_CHILD" // dir:kill_at for the child of a kill fault
)

func faultPlan(t *testing.T, extra string) *harness.Plan {
	t.Helper()
	a := strings.Replace(faultA, "mode: walk}", "mode: walk"+extra+"}", 1)
	return resolve(t, spec.Quick, parse(t, "fa.yaml", a), parse(t, "fb.yaml", faultB))
}

// TestFaultChild is the process a kill fault kills: it runs the plan with
// walk/0.5 set to SIGKILL itself at the step drawn by its parent.
func TestFaultChild(t *testing.T) {
	arg := os.Getenv(faultChildEnv)
	if arg == "" {
		t.Skip("only runs as the child of TestFaultInjection")
	}
	dir, step, _ := strings.Cut(arg, ":")
	execute(t, context.Background(), faultPlan(t, ", kill_at: "+step), dirs{filepath.Join(dir, "cache"), filepath.Join(dir, "results")}, nil)
	t.Fatal("the run was meant to kill this process")
}

func TestFaultInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ref := newDirs(t)
	p := faultPlan(t, "")
	if sum, out := execute(t, context.Background(), p, ref, nil); sum.Ran != 4 { // walk/0.5 is one unit of both experiments
		t.Fatalf("undisturbed run: %s\n%s", sum, out)
	}
	want := map[string]string{}
	for _, tg := range p.Targets {
		want[tg.Name()] = resultBytes(t, readRecord(t, ref, tg.Experiment, tg.Run.Name))
	}
	walk := p.Targets[0].Unit.Key // fa/walk/0.5, shared with fb
	interrupted := newDirs(t)     // a cache whose walk/0.5 stopped at step 8 (checkpoint kept)
	runUntilBlocked(t, faultPlan(t, ", block_at: 8"), interrupted)

	type fault struct {
		name   string
		from   dirs               // the state the fault is injected into (copied)
		fresh  bool               // rerun with an empty results folder (the cache alone answers)
		inject func(d dirs) error // nil: a kill fault
		kill   int                // step at which walk/0.5 kills its process
	}
	file := func(d dirs, rel string) string { return filepath.Join(d.cache, "runs", walk, rel) }
	damage := map[string]func(string) error{
		"truncate": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(p, b[:len(b)/2], 0o644)
		},
		"flip a byte": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)*2/3] ^= 0x04
			return os.WriteFile(p, b, 0o644)
		},
		"delete": os.Remove,
	}
	var faults []fault
	for _, how := range []string{"truncate", "flip a byte", "delete"} {
		for _, rel := range []string{"result.json", "artifacts.json", "artifacts/x.bin"} {
			faults = append(faults, fault{name: how + " " + rel, from: ref, fresh: true,
				inject: func(d dirs) error { return damage[how](file(d, rel)) }})
		}
		faults = append(faults, fault{name: how + " costs.json", from: ref, fresh: true,
			inject: func(d dirs) error { return damage[how](filepath.Join(d.cache, "costs.json")) }})
		for _, rel := range []string{"checkpoint", "checkpoint.sha256"} {
			faults = append(faults, fault{name: how + " " + rel + " (interrupted run)", from: interrupted,
				inject: func(d dirs) error { return damage[how](file(d, rel)) }})
		}
		if how != "flip a byte" { // a committed record is git's to protect; a damaged one must not load
			faults = append(faults, fault{name: how + " the record of walk/0.5 (no cache)", from: ref,
				inject: func(d dirs) error {
					if err := os.RemoveAll(d.cache); err != nil {
						return err
					}
					return damage[how](harness.RecordPath(d.results, "fa", "walk/0.5"))
				}})
		}
	}
	draw := rand.New(rand.NewPCG(2026, 12))
	for range 3 {
		faults = append(faults, fault{name: "", from: dirs{}, kill: 1 + draw.IntN(19)})
	}
	if len(faults) < 20 {
		t.Fatalf("%d faults, want at least 20", len(faults))
	}

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\toutcome\trecords equal")
	for _, f := range faults {
		d := newDirs(t)
		name := f.name
		if f.kill > 0 {
			name = fmt.Sprintf("SIGKILL at step %d of walk/0.5", f.kill)
			cmd := exec.Command(os.Args[0], "-test.run=^TestFaultChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d", faultChildEnv, filepath.Dir(d.cache), f.kill))
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("%s: child: %v (want killed)\n%s", name, err, out)
			}
		} else {
			if err := os.CopyFS(filepath.Dir(d.cache), os.DirFS(filepath.Dir(f.from.cache))); err != nil {
				t.Fatal(err)
			}
			if err := f.inject(d); err != nil {
				t.Fatalf("%s: injecting: %v", name, err)
			}
		}
		if f.fresh {
			d.results = filepath.Join(t.TempDir(), "results")
		}
		var out bytes.Buffer
		sum, err := harness.Execute(context.Background(), p, harness.Options{Cache: &harness.Cache{Dir: d.cache}, ResultsDir: d.results,
			Jobs: 2, Out: &out, Host: host, MachineLock: filepath.Join(filepath.Dir(d.cache), "machine.lock")})
		outcome, equal := "", "yes"
		switch {
		case err != nil:
			outcome = "failed: " + err.Error()
			if !strings.Contains(err.Error(), filepath.Dir(d.cache)) {
				t.Errorf("%s: the failure names no file: %v", name, err)
			}
			equal = "–"
		case sum.Failed > 0:
			outcome = fmt.Sprintf("%d run(s) failed", sum.Failed)
			t.Errorf("%s: %s\n%s", name, sum, out.String())
		default:
			outcome = fmt.Sprintf("ran %d, cached %d", sum.Ran, sum.Cached)
			for _, tg := range p.Targets {
				if got := resultBytes(t, readRecord(t, d, tg.Experiment, tg.Run.Name)); got != want[tg.Name()] {
					equal = "NO: " + tg.Name()
					t.Errorf("%s: %s differs from the undisturbed record:\n%s\n%s", name, tg.Name(), got, want[tg.Name()])
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, outcome, equal)
	}
	tw.Flush()
	t.Logf("%d faults:\n%s", len(faults), table.String())
}
