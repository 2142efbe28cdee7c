package harness_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuousnet/repro/experiments/internal/harness"
)

// TestRunKey runs units by key as cluster jobs do: only the unit asked for
// runs, nothing is written outside the cache, a unit whose need is not
// cached fails after NeedsWait, and an unknown key is an error that says
// what to do.
func TestRunKey(t *testing.T) {
	p := resolve(t, "smoke", load(t, "toy-chain.yaml")...)
	byName := map[string]*harness.Unit{}
	for _, tg := range p.Targets {
		byName[tg.Run.Name] = tg.Unit
	}
	d := newDirs(t)
	cache := &harness.Cache{Dir: d.cache}
	opt := func(out *bytes.Buffer) harness.Options {
		return harness.Options{Cache: cache, Out: out, Host: host, MachineLock: filepath.Join(t.TempDir(), "machine.lock")}
	}
	defer func(w time.Duration) { harness.NeedsWait = w }(harness.NeedsWait)
	harness.NeedsWait = 0

	tests := []struct {
		run, outcome, err string
	}{
		{"total", "", "not in the cache"}, // its walks have not run
		{"walk/0.5", harness.OutcomeRan, ""},
		{"walk/0.5", harness.OutcomeCached, ""},
		{"walk/0.9", harness.OutcomeRan, ""},
		{"total", harness.OutcomeRan, ""},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		outcome, msg, err := harness.RunKey(context.Background(), p, byName[tt.run].Key, opt(&out))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want one containing %q", tt.run, err, tt.err)
			}
			continue
		}
		if err != nil || outcome != tt.outcome {
			t.Errorf("%s: outcome %q (%s), err %v; want %q\n%s", tt.run, outcome, msg, err, tt.outcome, out.String())
		}
	}
	if cache.Result(byName["total"].Key) == nil {
		t.Error("total has no result in the cache")
	}
	if _, err := os.Stat(d.results); err == nil {
		t.Errorf("RunKey wrote into a results folder %s", d.results)
	}
	if _, _, err := harness.RunKey(context.Background(), p, "feed", opt(&bytes.Buffer{})); err == nil || !strings.Contains(err.Error(), "submit again") {
		t.Errorf("unknown key: %v", err)
	}
}

// TestCostsSharedByProcesses updates costs.json from many Cache values at
// once (each with its own mutex, as separate processes have): the file lock
// keeps every update.
func TestCostsSharedByProcesses(t *testing.T) {
	dir := t.TempDir()
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &harness.Cache{Dir: dir}
			if err := c.SetCost(fmt.Sprintf("class%d", i), float64(i), time.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := len((&harness.Cache{Dir: dir}).Costs()); got != n {
		t.Errorf("costs.json holds %d classes after %d concurrent updates", got, n)
	}
}
