package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/harness/toykind"
	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

func init() { toykind.Register() }

var host = &provenance.Host{Commit: "test", GoVersion: "go", CPUModel: "cpu"}

func parse(t testing.TB, name, src string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func load(t testing.TB, files ...string) []*spec.Spec {
	t.Helper()
	var out []*spec.Spec
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, parse(t, f, string(data)))
	}
	return out
}

func resolve(t testing.TB, profile string, specs ...*spec.Spec) *harness.Plan {
	t.Helper()
	p, err := harness.Resolve(specs, profile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type dirs struct{ cache, results string }

func newDirs(t *testing.T) dirs {
	d := t.TempDir()
	return dirs{filepath.Join(d, "cache"), filepath.Join(d, "results")}
}

func execute(t *testing.T, ctx context.Context, p *harness.Plan, d dirs, mod func(*harness.Options)) (*harness.Summary, string) {
	t.Helper()
	var out bytes.Buffer
	opt := harness.Options{Cache: &harness.Cache{Dir: d.cache}, ResultsDir: d.results, Jobs: 2, Out: &out, Host: host,
		MachineLock: filepath.Join(filepath.Dir(d.cache), "machine.lock")}
	if mod != nil {
		mod(&opt)
	}
	sum, err := harness.Execute(ctx, p, opt)
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, out.String())
	}
	return sum, out.String()
}

func readRecord(t *testing.T, d dirs, exp, run string) *record.Record {
	t.Helper()
	r, err := record.Read(harness.RecordPath(d.results, exp, run))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// resultBytes is the computed part of a record: what must not depend on
// interruptions, scheduling or the machine's clock.
func resultBytes(t *testing.T, r *record.Record) string {
	t.Helper()
	b, err := json.Marshal(struct {
		M map[string]float64
		S []record.Series
		K string
		C map[string]any
	}{r.Metrics, r.Series, r.Key, r.Config})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGoldenKey(t *testing.T) {
	p := resolve(t, spec.Quick, load(t, "toy-chain.yaml")...)
	got := map[string]string{}
	for _, tg := range p.Targets {
		got[tg.Run.Name] = tg.Unit.Key
	}
	// If the key computation changes on purpose, every cached result is
	// recomputed: update these only then.
	want := map[string]string{
		"walk/0.5": "d1c77f7d9a1d926ba208639ed0729914a284b6593ecb363965025a489737fb16",
		"walk/0.9": "ffca0d9d1fd94f333dc12abe612e4c2d0457bdfa342d7703504d360ef8bd3dd8",
		"total":    "b94088c5c8a967999ab56377e151c91a26d6ecda071871245721367a0260ebb7",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("key of %s = %s, want %s", name, got[name], w)
		}
	}
	// What the key hashes, spelled out.
	cfg, err := json.Marshal(p.Targets[0].Unit.Config)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"dataset":"","kind":"toy","needs":null,"params":{"decay":0.5,"mode":"walk","steps":20},"schema":1,"seed":1,"version":1}`; string(cfg) != want {
		t.Errorf("config of walk/0.5:\n%s\nwant\n%s", cfg, want)
	}
	// The smoke profile changes the walks' params, and through them the
	// key of the run that needs them.
	ps := resolve(t, spec.Smoke, load(t, "toy-chain.yaml")...)
	for i, tg := range ps.Targets {
		if tg.Unit.Key == p.Targets[i].Unit.Key {
			t.Errorf("%s: smoke and quick keys are equal", tg.Run.Name)
		}
	}
}

func TestKeyIgnoresNamesAndOrder(t *testing.T) {
	a := parse(t, "a.yaml", "name: a\nruns:\n  - name: x\n    kind: toy\n    seed: 3\n    params: {steps: 2, decay: 0.5, mode: walk}\n")
	b := parse(t, "b.yaml", "name: b\nruns:\n  - name: other/name\n    kind: toy\n    seed: 3\n    params:\n      mode: walk\n      decay: 0.50\n      steps: 2\n")
	c := parse(t, "c.yaml", "name: c\nruns:\n  - name: x\n    kind: toy\n    seed: 4\n    params: {steps: 2, decay: 0.5, mode: walk}\n")
	p := resolve(t, spec.Quick, a, b, c)
	if len(p.Units) != 2 || p.Targets[0].Unit != p.Targets[1].Unit || p.Targets[2].Unit == p.Targets[0].Unit {
		t.Errorf("want runs a/x and b/other/name to share a unit and c/x (another seed) to differ; got %d units", len(p.Units))
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown kind", "name: x\nruns:\n  - name: a\n    kind: tyo\n", []string{"x.yaml:4:", `unknown kind "tyo"`, "toy, toy-exclusive, toy-records"}},
		{"misspelled param", "name: x\nruns:\n  - name: a\n    kind: toy\n    params:\n      steps: 1\n      decya: 1\n      mode: walk\n", []string{"x.yaml:7:", `"decya"`, `did you mean "decay"`, "valid keys: steps, decay, mode, panic_at"}},
		{"missing param", "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, mode: walk}\n", []string{"x.yaml:5:", `missing "decay"`}},
		{"bad value", "name: x\nruns:\n  - name: a\n    kind: toy\n    params:\n      steps: 1\n      decay: 1\n      mode: wlak\n", []string{"x.yaml:8:", `unknown mode "wlak"`, "valid choices: sum, walk"}},
		{"profile override misspelled", "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, decay: 1, mode: walk}\n    profiles:\n      quick: {stpes: 3}\n", []string{"x.yaml:7:", `"stpes"`}},
		// Every profile is validated, whichever runs: a typo under paper:
		// must not wait for the first paper run.
		{"other profile misspelled", "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, decay: 1, mode: walk}\n    profiles:\n      paper: {stpes: 3}\n", []string{"profile paper:", "x.yaml:7:", `"stpes"`}},
		{"other profile bad value", "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, decay: 1, mode: walk}\n    profiles:\n      smoke: {mode: wlak}\n", []string{"profile smoke:", "x.yaml:7:", `unknown mode "wlak"`}},
		{"not finite", "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, decay: .nan, mode: walk}\n", []string{"x.yaml:5:", "params.decay: want a finite number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := harness.Resolve([]*spec.Spec{parse(t, "x.yaml", tt.src)}, spec.Quick)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSecondInvocationComputesNothing(t *testing.T) {
	d := newDirs(t)
	p := resolve(t, spec.Quick, load(t, "toy-chain.yaml", "toy-shared.yaml")...)
	sum, out := execute(t, context.Background(), p, d, nil)
	if sum.Ran != 3 || sum.Cached != 0 || sum.Failed != 0 {
		t.Fatalf("first: %s\n%s", sum, out)
	}
	if sum.Written != 4 {
		t.Errorf("first: wrote %d records, want 4 (one per target)", sum.Written)
	}
	total := readRecord(t, d, "toy-chain", "total")
	w5, w9 := readRecord(t, d, "toy-chain", "walk/0.5"), readRecord(t, d, "toy-chain", "walk/0.9")
	if got, want := total.Metrics["x"], w5.Metrics["x"]+w9.Metrics["x"]+3; got != want {
		t.Errorf("total x = %v, want the sum of its needs + 3 = %v", got, want)
	}
	shared := readRecord(t, d, "toy-shared", "same-walk")
	if shared.Key != w5.Key || resultBytes(t, shared) != resultBytes(t, w5) || shared.Experiment != "toy-shared" {
		t.Errorf("the shared run's record differs from toy-chain's walk/0.5")
	}

	sum2, out2 := execute(t, context.Background(), p, d, nil)
	if sum2.Ran != 0 || sum2.Cached != 3 || sum2.Written != 0 || sum2.Pruned != 0 {
		t.Errorf("second: %+v", sum2)
	}
	if !strings.Contains(sum2.String(), "nothing to compute") {
		t.Errorf("second summary %q does not say nothing was computed", sum2.String())
	}
	if strings.Contains(out2, "started") {
		t.Errorf("second invocation started runs:\n%s", out2)
	}

	// A lost results folder is rebuilt from the cache without computing.
	if err := os.RemoveAll(d.results); err != nil {
		t.Fatal(err)
	}
	sum3, _ := execute(t, context.Background(), p, d, nil)
	if sum3.Ran != 0 || sum3.Written != 4 {
		t.Errorf("after removing results: ran %d, wrote %d; want 0, 4", sum3.Ran, sum3.Written)
	}
	// -force recomputes, to the same bytes.
	sum4, _ := execute(t, context.Background(), p, d, func(o *harness.Options) { o.Force = true })
	if sum4.Ran != 3 {
		t.Errorf("-force: ran %d, want 3", sum4.Ran)
	}
	if got := readRecord(t, d, "toy-chain", "total"); resultBytes(t, got) != resultBytes(t, total) {
		t.Errorf("-force changed the result")
	}
}

// Committed records are the reference, not a cache: a fresh cache computes
// every run again and compares each record with the committed one of the
// same key it replaces.
func TestReproductionOfCommittedRecords(t *testing.T) {
	d := newDirs(t)
	chain := load(t, "toy-chain.yaml")[0]
	p := resolve(t, spec.Quick, chain)
	first, _ := execute(t, context.Background(), p, d, nil)
	if got, want := harness.ReproductionLine(first.Reproduced), "reproduction: 0 of 0 recomputed records identical to the committed ones (timings aside); 3 without a committed record of the same key"; got != want {
		t.Errorf("nothing committed yet: %q, want %q", got, want)
	}
	fresh := dirs{filepath.Join(t.TempDir(), "cache"), d.results}
	// -plan says, before computing, which records will be compared.
	planText := func(cacheDir string) string {
		opt := planOpt(2, false)
		opt.ResultsDir = d.results
		var b bytes.Buffer
		c := &harness.Cache{Dir: cacheDir}
		harness.WritePlan(&b, p, harness.Estimate(p, c, opt), opt)
		return b.String()
	}
	if want, got := "committed records: 3 of the 3 records to compute have one of the same key, compared after computing (reproduction.md)\n", planText(fresh.cache); !strings.Contains(got, want) {
		t.Errorf("plan lacks %q:\n%s", want, got)
	}
	sum, _ := execute(t, context.Background(), p, fresh, nil)
	if sum.Ran != 3 || sum.Cached != 0 || len(sum.Reproduced) != 3 {
		t.Fatalf("fresh cache, committed records: %s, %d compared", sum, len(sum.Reproduced))
	}
	for _, r := range sum.Reproduced {
		if !r.Identical {
			t.Errorf("%s differs from its committed record: %v", r.Target, r.Deltas)
		}
	}
	// A committed record that says something else is reported, metric by
	// metric and series by series (timings aside).
	path := harness.RecordPath(d.results, "toy-chain", "total")
	rec := readRecord(t, d, "toy-chain", "total")
	rec.Metrics["x"] += 0.5
	rec.Series[0].Y[0] += 1
	if err := record.Write(path, rec); err != nil {
		t.Fatal(err)
	}
	sum, _ = execute(t, context.Background(), p, dirs{filepath.Join(t.TempDir(), "cache"), d.results}, nil)
	report := string(harness.ReproductionReport(sum.Reproduced))
	for _, want := range []string{"2 of 3 recomputed records identical", "`toy-chain/total`: differs", "metric x: committed", "(Δ -0.5)",
		"points differ", "`toy-chain/walk/0.5`: identical"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	// A committed record of another key (other settings) is not compared.
	rec.Key = "another"
	if err := record.Write(path, rec); err != nil {
		t.Fatal(err)
	}
	plan := planText(filepath.Join(t.TempDir(), "cache"))
	for _, want := range []string{"total                                    will run, time unknown (never measured); its committed record has another key\n",
		"committed records: 2 of the 3 records to compute have one of the same key, compared after computing (reproduction.md); 1 have one of another key\n"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	sum, _ = execute(t, context.Background(), p, dirs{filepath.Join(t.TempDir(), "cache"), d.results}, nil)
	if want, report := "`toy-chain/total`: not compared, the committed record has another key", string(harness.ReproductionReport(sum.Reproduced)); !strings.Contains(report, want) {
		t.Errorf("report lacks %q:\n%s", want, report)
	}
}

// -collect computes nothing: cached runs are written (total, though one
// of the walks it needs is gone, is cached itself), a run missing from the
// cache is skipped saying so, and the committed record of a skipped run
// stays.
func TestCollectComputesNothing(t *testing.T) {
	d := newDirs(t)
	p := resolve(t, spec.Quick, load(t, "toy-chain.yaml")[0])
	execute(t, context.Background(), p, d, nil)
	var walk *harness.Target
	for _, tg := range p.Targets {
		if tg.Run.Name == "walk/0.9" {
			walk = tg
		}
	}
	if err := os.Remove(filepath.Join(d.cache, "runs", walk.Unit.Key, "result.json")); err != nil {
		t.Fatal(err)
	}
	before := readRecord(t, d, "toy-chain", "walk/0.9")
	sum, out := execute(t, context.Background(), p, d, func(o *harness.Options) { o.Collect = true })
	if sum.Ran != 0 || sum.Cached != 2 || sum.Skipped != 1 {
		t.Fatalf("-collect: %s\n%s", sum, out)
	}
	for _, want := range []string{"walk/0.9", "not in the cache, and -collect computes nothing"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if after := readRecord(t, d, "toy-chain", "walk/0.9"); after.Status != record.StatusOK || after.Key != before.Key {
		t.Errorf("the committed record of the skipped run was replaced: status %s", after.Status)
	}
	if _, err := os.Stat(filepath.Join(d.cache, "runs", walk.Unit.Key, "result.json")); err == nil {
		t.Errorf("-collect computed the missing run")
	}
}

func TestPanicFailsOnlyThatRun(t *testing.T) {
	src := `name: x
runs:
  - name: bad
    kind: toy
    params: {steps: 5, decay: 1, mode: sum, panic_at: 2}
  - name: good
    kind: toy
    params: {steps: 5, decay: 1, mode: sum}
  - name: error
    kind: toy
    params: {steps: 5, decay: 1, mode: sum, fail_at: 3}
  - name: after-bad
    kind: toy
    needs: [bad]
    params: {steps: 1, decay: 1, mode: sum}
  - name: missing-data
    kind: toy
    params: {steps: 1, decay: 1, mode: sum, skip: "no data here"}
`
	d := newDirs(t)
	p := resolve(t, spec.Quick, parse(t, "x.yaml", src))
	sum, out := execute(t, context.Background(), p, d, nil)
	if sum.Ran != 1 || sum.Failed != 2 || sum.Skipped != 2 {
		t.Fatalf("%s\n%s", sum, out)
	}
	tests := []struct{ run, status, err string }{
		{"bad", record.StatusFailed, "panic: toy: told to panic at step 2"},
		{"good", record.StatusOK, ""},
		{"error", record.StatusFailed, "told to fail at step 3"},
		{"after-bad", record.StatusSkipped, "needs bad, which failed"},
		{"missing-data", record.StatusSkipped, "no data here"},
	}
	for _, tt := range tests {
		r := readRecord(t, d, "x", tt.run)
		if r.Status != tt.status || !strings.Contains(r.Error, tt.err) || (tt.err == "") != (r.Error == "") {
			t.Errorf("%s: status %q error %q; want %q containing %q", tt.run, r.Status, r.Error, tt.status, tt.err)
		}
	}
	// Failures and skips are never cache hits.
	sum2, _ := execute(t, context.Background(), p, d, nil)
	if sum2.Cached != 1 || sum2.Failed != 2 || sum2.Skipped != 2 {
		t.Errorf("second: %s", sum2)
	}
}

// The log shows a skip's root reason in full once; later skips for the same
// reason, and the runs that need them, show it shortened. The records keep
// the full reason.
func TestSkipReasonShownOnce(t *testing.T) {
	reason := "toy data not found in /nowhere; download it from somewhere far away, or point TOY_DATA at a folder that holds it"
	src := `name: x
runs:
  - name: a
    kind: toy
    params: {steps: 1, decay: 1, mode: sum, skip: "` + reason + `"}
  - name: b
    kind: toy
    params: {steps: 2, decay: 1, mode: sum, skip: "` + reason + `"}
  - name: c
    kind: toy
    needs: [a]
    params: {steps: 1, decay: 1, mode: sum}
`
	d := newDirs(t)
	sum, out := execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", src)), d, func(o *harness.Options) { o.Jobs = 1 })
	if sum.Skipped != 3 {
		t.Fatalf("%s\n%s", sum, out)
	}
	if n := strings.Count(out, reason); n != 1 {
		t.Errorf("the reason appears %d times in the log, want 1:\n%s", n, out)
	}
	for _, w := range []string{"skipped: toy data not found in /nowhere; download it from somewhere f… (as above)", "which was skipped (as above)"} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %q:\n%s", w, out)
		}
	}
	for _, run := range []string{"a", "b", "c"} {
		if r := readRecord(t, d, "x", run); !strings.Contains(r.Error, reason) {
			t.Errorf("record %s: error %q lacks the full reason", run, r.Error)
		}
	}
}

func TestSkipKeepsCommittedResult(t *testing.T) {
	d := newDirs(t)
	ok := "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, decay: 1, mode: sum}\n"
	execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", ok)), d, nil)
	before, err := os.ReadFile(harness.RecordPath(d.results, "x", "a"))
	if err != nil {
		t.Fatal(err)
	}
	skip := strings.Replace(ok, "mode: sum", `mode: sum, skip: "dataset missing"`, 1)
	sum, _ := execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", skip)), d, nil)
	after, _ := os.ReadFile(harness.RecordPath(d.results, "x", "a"))
	if sum.Skipped != 1 || !bytes.Equal(before, after) {
		t.Errorf("a skipped run overwrote an ok record (skipped %d)", sum.Skipped)
	}
}

func TestFailFast(t *testing.T) {
	src := `name: x
runs:
  - name: fail
    kind: toy
    params: {steps: 2, decay: 1, mode: sum, fail_at: 1}
  - name: later
    kind: toy
    needs: [fail]
    params: {steps: 1, decay: 1, mode: sum}
  - name: other
    kind: toy
    params: {steps: 1, decay: 2, mode: sum}
`
	d := newDirs(t)
	sum, out := execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", src)), d, func(o *harness.Options) { o.FailFast, o.Jobs = true, 1 })
	if sum.Failed != 1 || sum.Ran != 0 {
		t.Errorf("-failfast with one job: %s\n%s", sum, out)
	}
}

// sharedAndTimed is a spec of n shared runs s0… and n exclusive (timing)
// runs e0…, each sleeping sleepMS per step.
func sharedAndTimed(n, sleepMS int) string {
	var b strings.Builder
	b.WriteString("name: x\nruns:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: s%d\n    kind: toy\n    params: {steps: 3, decay: %d, mode: sum, sleep_ms: %d}\n", i, i, sleepMS)
		fmt.Fprintf(&b, "  - name: e%d\n    kind: toy-exclusive\n    params: {steps: 3, decay: %d, mode: sum, sleep_ms: %d}\n", i, i, sleepMS)
	}
	return b.String()
}

func TestExclusiveRunsAlone(t *testing.T) {
	d := newDirs(t)
	toykind.ExclusiveOverlap.Store(0)
	var threads []int
	sum, _ := execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", sharedAndTimed(4, 5))), d, func(o *harness.Options) {
		o.Jobs = 3
		o.SetThreads = func(n int) int { threads = append(threads, n); return 1 }
	})
	if sum.Ran != 8 {
		t.Fatalf("%s", sum)
	}
	if n := toykind.ExclusiveOverlap.Load(); n != 0 {
		t.Errorf("%d exclusive runs ran beside another run", n)
	}
	r := readRecord(t, d, "x", "e0")
	if r.Provenance.Jobs != 1 || r.Provenance.Threads < 1 {
		t.Errorf("exclusive run's provenance: jobs %d threads %d; want jobs 1", r.Provenance.Jobs, r.Provenance.Threads)
	}
	if s := readRecord(t, d, "x", "s0"); s.Provenance.Jobs != 3 {
		t.Errorf("shared run's provenance: jobs %d, want 3", s.Provenance.Jobs)
	}
	if len(threads) == 0 {
		t.Errorf("SetThreads never called")
	}
}

// TestThreadsOption: a positive Options.Threads is the thread count of every
// run, exclusive ones included, and is what their provenance records.
func TestThreadsOption(t *testing.T) {
	src := `name: x
runs:
  - name: s
    kind: toy
    params: {steps: 2, decay: 1, mode: sum}
  - name: e
    kind: toy-exclusive
    params: {steps: 2, decay: 2, mode: sum}
`
	d := newDirs(t)
	var set []int
	sum, _ := execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", src)), d, func(o *harness.Options) {
		o.Jobs, o.Threads = 1, 1
		o.SetThreads = func(n int) int { set = append(set, n); return 1 }
	})
	if sum.Ran != 2 {
		t.Fatalf("%s", sum)
	}
	for _, run := range []string{"s", "e"} {
		if r := readRecord(t, d, "x", run); r.Provenance.Threads != 1 {
			t.Errorf("run %s: provenance threads %d, want 1", run, r.Provenance.Threads)
		}
	}
	for _, n := range set {
		if n != 1 {
			t.Errorf("SetThreads(%d) called; want only 1 (calls %v)", n, set)
		}
	}
}

// TestInterruptResumes cancels the context while a run is in flight: it
// writes nothing, keeps its checkpoint, and the next invocation resumes it to
// the same result as an uninterrupted run.
func TestInterruptResumes(t *testing.T) {
	blocking := "name: x\nruns:\n  - name: a\n    kind: toy\n    seed: 5\n    params: {steps: 12, decay: 0.7, mode: walk, block_at: 6}\n" +
		"  - name: b\n    kind: toy\n    needs: [a]\n    params: {steps: 1, decay: 1, mode: sum}\n"
	d := newDirs(t)
	p := resolve(t, spec.Quick, parse(t, "x.yaml", blocking))
	sum := runUntilBlocked(t, p, d)
	if sum.Interrupted != 2 || sum.Ran != 0 || sum.Failed != 0 || sum.Skipped != 0 {
		t.Fatalf("interrupted: %s", sum)
	}
	key := p.Units[0].Key
	if _, err := os.Stat(filepath.Join(d.results, "runs")); !os.IsNotExist(err) {
		t.Errorf("an interrupted invocation wrote records (%v)", err)
	}
	if (&harness.Cache{Dir: d.cache}).Result(key) != nil {
		t.Errorf("an interrupted run left a cached result")
	}
	if !(&harness.Cache{Dir: d.cache}).HasCheckpoint(key) {
		t.Fatalf("no checkpoint after the interruption")
	}
	sum2, _ := execute(t, context.Background(), p, d, nil)
	if sum2.Ran != 2 {
		t.Fatalf("resume: %s", sum2)
	}
	ref := newDirs(t)
	plain := strings.Replace(blocking, ", block_at: 6", "", 1)
	execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", plain)), ref, nil)
	if got, want := resultBytes(t, readRecord(t, d, "x", "a")), resultBytes(t, readRecord(t, ref, "x", "a")); got != want {
		t.Errorf("resumed run's result differs from an uninterrupted run:\n%s\n%s", got, want)
	}
}

const childEnv = "HARNESS_TEST_KILL_CHILD"

var killSpec = "name: x\nruns:\n  - name: a\n    kind: toy\n    seed: 9\n    params: {steps: 15, decay: 0.8, mode: walk, kill_at: 7}\n"

// TestKillChild is the child of TestKillResumes: it runs a spec whose run
// kills its own process (SIGKILL, as kill -9) at step 7.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestKillResumes")
	}
	d := dirs{filepath.Join(dir, "cache"), filepath.Join(dir, "results")}
	execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", killSpec)), d, nil)
	t.Fatal("the run was meant to kill this process")
}

// TestKillResumes kills a run with SIGKILL mid-way (in a child process),
// checks that nothing partial was left, and resumes it to the same result
// bytes as an uninterrupted run.
func TestKillResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child: %v (want killed)\n%s", err, out)
	}
	d := dirs{filepath.Join(dir, "cache"), filepath.Join(dir, "results")}
	p := resolve(t, spec.Quick, parse(t, "x.yaml", killSpec))
	c := &harness.Cache{Dir: d.cache}
	if c.Result(p.Units[0].Key) != nil {
		t.Errorf("a killed run left a cached result")
	}
	if _, err := os.Stat(harness.RecordPath(d.results, "x", "a")); !os.IsNotExist(err) {
		t.Errorf("a killed run left a record (%v)", err)
	}
	if !c.HasCheckpoint(p.Units[0].Key) {
		t.Fatalf("a killed run left no checkpoint")
	}
	// No temporary files are left beside the checkpoint either.
	filepath.WalkDir(dir, func(path string, de os.DirEntry, err error) error {
		if err == nil && strings.Contains(de.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
	sum, out2 := execute(t, context.Background(), p, d, nil)
	if sum.Ran != 1 || !strings.Contains(out2, "resumed") {
		t.Fatalf("resume: %s\n%s", sum, out2)
	}
	ref := newDirs(t)
	plain := strings.Replace(killSpec, ", kill_at: 7", "", 1)
	execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", plain)), ref, nil)
	if got, want := resultBytes(t, readRecord(t, d, "x", "a")), resultBytes(t, readRecord(t, ref, "x", "a")); got != want {
		t.Errorf("resumed run's result differs from an uninterrupted run:\n%s\n%s", got, want)
	}
}

func TestPlanAndList(t *testing.T) {
	d := newDirs(t)
	p := resolve(t, spec.Quick, load(t, "toy-chain.yaml", "toy-shared.yaml")...)
	c := &harness.Cache{Dir: d.cache}
	var b bytes.Buffer
	harness.WritePlan(&b, p, harness.Estimate(p, c, planOpt(2, false)), planOpt(2, false))
	if !strings.Contains(b.String(), "3 to run, 0 cached") || !strings.Contains(b.String(), "never measured") {
		t.Errorf("plan before running:\n%s", b.String())
	}
	execute(t, context.Background(), p, d, nil)
	b.Reset()
	lines := harness.Estimate(p, c, planOpt(2, false))
	harness.WritePlan(&b, p, lines, planOpt(2, false))
	if !strings.Contains(b.String(), "0 to run, 3 cached") {
		t.Errorf("plan after running:\n%s", b.String())
	}
	// The records were computed at commit "test", which git cannot compare.
	for _, l := range lines {
		if !l.Cached || l.Stale == "" {
			t.Errorf("%s: cached %v stale %q; want cached and flagged", l.Target.Name(), l.Cached, l.Stale)
		}
	}
	// With -force everything would run, now with measured estimates.
	b.Reset()
	harness.WritePlan(&b, p, harness.Estimate(p, c, planOpt(2, true)), planOpt(2, true))
	if !strings.Contains(b.String(), "3 to run") || strings.Contains(b.String(), "never measured") {
		t.Errorf("plan with -force:\n%s", b.String())
	}
	b.Reset()
	harness.List(&b, p)
	for _, w := range []string{"toy-chain", "walk/0.5", "needs walk/0.5, walk/0.9", "4 run(s), 3 distinct"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("list lacks %q:\n%s", w, b.String())
		}
	}
}

// A run whose dataset is missing, and every run that needs it, is planned
// with its estimate (a user sizes the job before fetching data) and the
// reason it will skip until the data is here.
func TestPlanMissingDataset(t *testing.T) {
	src := `name: x
runs:
  - name: a
    kind: toy
    params: {steps: 3, decay: 1, mode: sum, missing: "toy data not found in /nowhere"}
  - name: b
    kind: toy
    needs: [a]
    params: {steps: 3, decay: 1, mode: sum}
  - name: c
    kind: toy
    params: {steps: 3, decay: 1, mode: sum}
`
	p := resolve(t, spec.Quick, parse(t, "x.yaml", src))
	c := &harness.Cache{Dir: newDirs(t).cache}
	lines := harness.Estimate(p, c, planOpt(2, false))
	var b bytes.Buffer
	harness.WritePlan(&b, p, lines, planOpt(2, false))
	for _, l := range lines {
		if want := l.Target.Run.Name != "c"; (l.Missing != "") != want {
			t.Errorf("%s: Missing %q; want it set: %v", l.Target.Name(), l.Missing, want)
		}
	}
	for _, w := range []string{"3 to run, 0 cached", "2 of them skip until their dataset is here: toy data not found in /nowhere"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("plan lacks %q:\n%s", w, b.String())
		}
	}
}

// Select matches names like go test -run; the default selection (no
// -only) leaves out the opt-in specs, which a matching -only selects.
func TestSelect(t *testing.T) {
	specs := load(t, "toy-chain.yaml", "toy-shared.yaml")
	specs = append(specs, parse(t, "toy-extra.yaml", "name: toy-extra\nopt_in: true\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, decay: 1, mode: sum}\n"))
	tests := []struct {
		only string // "" for the default selection
		want []string
	}{
		{"", []string{"toy-chain", "toy-shared"}},
		{"shared", []string{"toy-shared"}},
		{"extra", []string{"toy-extra"}},
		{"^toy-", []string{"toy-chain", "toy-shared", "toy-extra"}},
	}
	for _, tt := range tests {
		var re *regexp.Regexp
		if tt.only != "" {
			re = regexp.MustCompile(tt.only)
		}
		got, err := harness.Select(specs, re)
		if err != nil {
			t.Fatalf("Select(%q): %v", tt.only, err)
		}
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("Select(%q) = %v, want %v", tt.only, names, tt.want)
		}
	}
	if _, err := harness.Select(specs, regexp.MustCompile("^nope$")); err == nil || !strings.Contains(err.Error(), "toy-chain, toy-shared, toy-extra") {
		t.Errorf("Select(nope): %v; want an error listing the experiments", err)
	}
}

func TestProgressDisplay(t *testing.T) {
	src := "name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 3, decay: 1, mode: sum}\n"
	for _, term := range []bool{false, true} {
		d := newDirs(t)
		_, out := execute(t, context.Background(), resolve(t, spec.Quick, parse(t, "x.yaml", src)), d, func(o *harness.Options) { o.Terminal = term })
		if !strings.Contains(out, "x/a started") || !strings.Contains(out, "x/a done in") {
			t.Errorf("terminal=%v output:\n%q", term, out)
		}
		stamped := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d x/a started$`).MatchString(out)
		if stamped == term {
			t.Errorf("terminal=%v: timestamped lines %v:\n%q", term, stamped, out)
		}
	}
}

// BenchmarkResolveAndLookup measures the harness's own overhead for a large
// spec set: expansion, strict decoding, hashing and the cache look-up of
// every run.
func BenchmarkResolveAndLookup(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("name: big\nruns:\n  - name: r{steps}-{decay}-{seed}\n    kind: toy\n    matrix:\n      steps: [")
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&sb, "%d,", i)
	}
	sb.WriteString("51]\n      decay: [0.1, 0.2, 0.3, 0.4, 0.5]\n      seed: [1, 2, 3, 4]\n    params: {steps: 1, decay: 1, mode: walk}\n")
	s := parse(b, "big.yaml", sb.String())
	c := &harness.Cache{Dir: b.TempDir()}
	b.ResetTimer()
	for range b.N {
		p := resolve(b, spec.Paper, s)
		for _, u := range p.Units {
			if c.Result(u.Key) != nil {
				b.Fatal("unexpected hit")
			}
		}
	}
	b.ReportMetric(float64(51*5*4), "runs/op")
}

// TestHarnessErrorDoesNotHang: a results folder that cannot be written is
// the harness's own error; the runs that need the affected ones are not
// left waiting.
func TestHarnessErrorDoesNotHang(t *testing.T) {
	d := newDirs(t)
	if err := os.WriteFile(d.results, []byte("a file, not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := resolve(t, spec.Quick, load(t, "toy-chain.yaml")...)
	var out bytes.Buffer
	sum, err := harness.Execute(context.Background(), p, harness.Options{Cache: &harness.Cache{Dir: d.cache}, ResultsDir: d.results, Jobs: 2, Out: &out, Host: host})
	if err == nil {
		t.Fatalf("no error; summary %s", sum)
	}
	if !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("error %v does not name the cause", err)
	}
}

// Records of runs an experiment no longer defines (renamed, or repeated over
// seeds) are removed from its record folder when it runs, so its tables are
// built from current runs only; other experiments' folders are left alone.
func TestStaleRecordsPruned(t *testing.T) {
	d := newDirs(t)
	chain := load(t, "toy-chain.yaml")[0]
	stale := harness.RecordPath(d.results, "toy-chain", "walk/0.7")
	other := harness.RecordPath(d.results, "another-experiment", "walk/0.7")
	for _, p := range []string{stale, other} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if sum, _ := execute(t, context.Background(), resolve(t, spec.Quick, chain), d, nil); sum.Pruned != 0 {
		t.Errorf("pruned %d records without PruneStale", sum.Pruned)
	}
	prune := func(o *harness.Options) { o.PruneStale = true }
	sum, out := execute(t, context.Background(), resolve(t, spec.Quick, chain), d, prune)
	if sum.Pruned != 1 || !strings.Contains(out, "removed 1 record(s)") {
		t.Errorf("pruned %d: %s\n%s", sum.Pruned, sum, out)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale record still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another experiment's record was touched: %v", err)
	}
	for _, run := range []string{"walk/0.5", "walk/0.9", "total"} {
		if _, err := os.Stat(harness.RecordPath(d.results, "toy-chain", run)); err != nil {
			t.Errorf("%s: %v", run, err)
		}
	}
	if sum, _ := execute(t, context.Background(), resolve(t, spec.Quick, chain), d, prune); sum.Pruned != 0 {
		t.Errorf("second run pruned %d", sum.Pruned)
	}
}

// FuzzResolve checks that no spec makes planning panic: parsing, expansion
// of every profile, strict decoding, validation and run keys (the path a
// non-finite float once crashed). The seed corpus runs as a normal test.
func FuzzResolve(f *testing.F) {
	f.Add("name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1, decay: .nan, mode: walk}\n")
	f.Add("name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: 1.5, decay: 1, mode: walk}\n")
	f.Add("name: x\nruns:\n  - name: a\n    kind: toy\n    seeds: {smoke: [1], quick: [1, 2], paper: [3]}\n    params: {steps: 1, decay: .inf, mode: walk}\n")
	f.Add("name: x\nruns:\n  - name: w{decay}\n    kind: toy\n    matrix: {decay: [0.5, -.inf]}\n    params: {steps: 2, decay: 1, mode: walk}\n  - {name: s, kind: toy, needs: [w0.5], params: {steps: 1, decay: 1, mode: sum}}\n")
	f.Add("name: x\nruns:\n  - name: a\n    kind: toy\n    params: {steps: ~, decay: 1, mode: walk}\n")
	f.Fuzz(func(t *testing.T, src string) {
		s, err := spec.Parse("fuzz-input", []byte(src))
		if err != nil {
			return
		}
		for _, p := range spec.Profiles {
			if plan, err := harness.Resolve([]*spec.Spec{s}, p); err == nil {
				for _, u := range plan.Units {
					if len(u.Key) != 64 {
						t.Fatalf("key %q", u.Key)
					}
				}
			}
		}
	})
}

// Two invocations on one cache (here two executions at once, with their own
// open files, as two processes would have): every key is computed once, and
// no timing run of one overlaps a run of the other.
func TestInvocationsShareACache(t *testing.T) {
	plan := resolve(t, spec.Quick, parse(t, "x.yaml", sharedAndTimed(3, 20)))
	d := newDirs(t)
	lock := filepath.Join(filepath.Dir(d.cache), "machine.lock")
	toykind.ExclusiveOverlap.Store(0)
	var wg sync.WaitGroup
	sums := make([]*harness.Summary, 2)
	errs := make([]error, 2)
	outs := make([]bytes.Buffer, 2)
	for i := range 2 {
		wg.Go(func() {
			results := filepath.Join(t.TempDir(), "results")
			sums[i], errs[i] = harness.Execute(context.Background(), plan, harness.Options{Cache: &harness.Cache{Dir: d.cache},
				ResultsDir: results, Jobs: 2, Out: &outs[i], Host: host, MachineLock: lock})
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("invocation %d: %v\n%s", i, errs[i], outs[i].String())
		}
	}
	if ran, cached := sums[0].Ran+sums[1].Ran, sums[0].Cached+sums[1].Cached; ran != 6 || cached != 6 {
		t.Errorf("ran %d, cached %d; want every one of the 6 keys computed once and taken once\n%s\n%s", ran, cached, outs[0].String(), outs[1].String())
	}
	if n := toykind.ExclusiveOverlap.Load(); n != 0 {
		t.Errorf("%d exclusive runs ran beside another run", n)
	}
}

// A cached result whose artifact is deleted or altered is no hit: the run
// that made it is computed again (the plan and the output say why) and
// gives the record of an undisturbed run.
func TestDamagedArtifactHeals(t *testing.T) {
	chain := "name: x\nruns:\n  - name: a\n    kind: toy\n    seed: 5\n    params: {steps: 4, decay: 0.7, mode: walk}\n" +
		"  - name: b\n    kind: toy\n    needs: [a]\n    params: {steps: 1, decay: 1, mode: sum}\n"
	for _, damage := range []struct {
		name string
		do   func(path string) error
	}{
		{"deleted", os.Remove},
		{"byte flipped", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[0] ^= 1
			return os.WriteFile(p, b, 0o644)
		}},
	} {
		t.Run(damage.name, func(t *testing.T) {
			d := newDirs(t)
			p := resolve(t, spec.Quick, parse(t, "x.yaml", chain))
			execute(t, context.Background(), p, d, nil)
			want := resultBytes(t, readRecord(t, d, "x", "a"))
			artifact := filepath.Join(d.cache, "runs", p.Units[0].Key, "artifacts", "x.bin")
			if err := damage.do(artifact); err != nil {
				t.Fatal(err)
			}
			fresh := dirs{d.cache, filepath.Join(t.TempDir(), "results")} // no committed records to fall back on
			var plan bytes.Buffer
			harness.WritePlan(&plan, p, harness.Estimate(p, &harness.Cache{Dir: d.cache}, planOpt(1, false)), planOpt(1, false))
			if !strings.Contains(plan.String(), "will run again (its artifact") {
				t.Errorf("plan:\n%s", plan.String())
			}
			sum, out := execute(t, context.Background(), p, fresh, nil)
			if sum.Ran != 1 || sum.Cached != 1 || sum.Failed != 0 || !strings.Contains(out, "x/a: computing it again: its artifact "+artifact) {
				t.Errorf("%s\n%s", sum, out)
			}
			if got := resultBytes(t, readRecord(t, fresh, "x", "a")); got != want {
				t.Errorf("record after healing differs:\n%s\n%s", got, want)
			}
			if _, err := os.Stat(artifact); err != nil {
				t.Errorf("artifact not rewritten: %v", err)
			}
		})
	}
}

// runUntilBlocked executes p and cancels it when a toy run reaches its
// block_at step (the runs in flight keep their checkpoints).
func runUntilBlocked(t *testing.T, p *harness.Plan, d dirs) *harness.Summary {
	t.Helper()
	// A signal left by an earlier test (several runs of one plan that
	// blocked at once) would cancel this one before it blocks. Tests in
	// this package do not run in parallel, so nothing else reads it now.
	for len(toykind.Blocked) > 0 {
		<-toykind.Blocked
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-toykind.Blocked:
			cancel()
		case <-ctx.Done():
		}
	}()
	sum, _ := execute(t, ctx, p, d, nil)
	return sum
}

// A checkpoint that fails its checksum is moved aside (named in the output)
// and the run starts afresh, ending with the record of an undisturbed run.
func TestDamagedCheckpointRestarts(t *testing.T) {
	blocking := "name: x\nruns:\n  - name: a\n    kind: toy\n    seed: 5\n    params: {steps: 12, decay: 0.7, mode: walk, block_at: 6}\n"
	d := newDirs(t)
	p := resolve(t, spec.Quick, parse(t, "x.yaml", blocking))
	runUntilBlocked(t, p, d)
	ckpt := filepath.Join(d.cache, "runs", p.Units[0].Key, "checkpoint")
	b, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(ckpt, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The same run (block_at is not part of the key) without the block: a
	// fresh start must not block again.
	plain := resolve(t, spec.Quick, parse(t, "x.yaml", strings.Replace(blocking, ", block_at: 6", "", 1)))
	if plain.Units[0].Key != p.Units[0].Key {
		t.Fatal("block_at changed the key")
	}
	sum, out := execute(t, context.Background(), plain, d, nil)
	if sum.Ran != 1 || !strings.Contains(out, "the checkpoint "+ckpt+" failed its checksum: moved to "+ckpt+".corrupt-") {
		t.Fatalf("%s\n%s", sum, out)
	}
	if aside, _ := filepath.Glob(ckpt + ".corrupt-*"); len(aside) != 1 {
		t.Errorf("damaged checkpoint kept as %v", aside)
	}
	ref := newDirs(t)
	execute(t, context.Background(), plain, ref, nil)
	if got, want := resultBytes(t, readRecord(t, d, "x", "a")), resultBytes(t, readRecord(t, ref, "x", "a")); got != want {
		t.Errorf("restarted run's result differs from an undisturbed run:\n%s\n%s", got, want)
	}
}

func TestTimingNames(t *testing.T) {
	for name, want := range map[string]bool{
		"train_seconds": true, "train_seconds/euler": true, "scratch_over_refined_time": true, "infer_ms_per_image": true,
		"acc_full_test": false, "steps_per_epoch": false, "rk4_eul_slope": false,
	} {
		if got := harness.IsTiming(name); got != want {
			t.Errorf("IsTiming(%q) = %v", name, got)
		}
	}
}
