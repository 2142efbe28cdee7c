package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/continuousnet/repro/experiments/internal/record"
)

// What a cluster submission needs from the harness: which units are cached,
// a file lock, the failure a job left, and the worker that runs one unit by
// its key. The scheduler (Slurm) orders, places and retries the jobs; the
// harness only runs one unit per job, under the same per-key lock as a local
// run.

// CachedKeys returns the keys of the plan's units whose result is in the
// cache and verifies, as Execute would take them.
func CachedKeys(plan *Plan, c *Cache) map[string]bool {
	cached, _ := lookup(plan, c)
	out := make(map[string]bool, len(cached))
	for u := range cached {
		out[u.Key] = true
	}
	return out
}

// LockFile takes an advisory lock (flock: the kernel releases it when the
// process dies) on path, exclusive or shared, waiting until ctx is done;
// waiting is called once if another process holds it. The returned
// function releases it.
func LockFile(ctx context.Context, path string, exclusive bool, waiting func()) (func(), error) {
	return acquire(ctx, path, exclusive, waiting)
}

// Failure returns the record of the last failure of key (nil when there is
// none or it does not parse).
func (c *Cache) Failure(key string) *record.Record {
	r, err := record.Read(c.failedPath(key))
	if err != nil || r.Key != key {
		return nil
	}
	return r
}

// NeedsWait is how long RunKey waits for the results of the runs a unit
// needs to appear in the cache: a shared filesystem may show a file written
// on another node late.
var NeedsWait = time.Minute

// needsPoll is how often RunKey looks again.
const needsPoll = 2 * time.Second

// RunKey runs the unit of plan whose key is key, as the job of a cluster
// does: it waits (up to NeedsWait) until every unit it needs is cached,
// since a scheduler counts a dependency on a purged job as satisfied, then
// executes it under its key lock (another job that computed it meanwhile
// makes it cached). Set opt.ResultsDir to "" to write only to the cache. It
// returns the unit's outcome (an Outcome constant) and its error or skip
// reason; err is for a key the plan lacks, a missing need or the harness's
// own failures.
func RunKey(ctx context.Context, plan *Plan, key string, opt Options) (outcome, msg string, err error) {
	var u *Unit
	for _, x := range plan.Units {
		if x.Key == key {
			u = x
		}
	}
	if u == nil {
		return "", "", fmt.Errorf("no run of profile %s has the key %s: the specs changed since the job was submitted, or the profile or -spec differs; submit again", plan.Profile, key)
	}
	deadline := time.Now().Add(NeedsWait)
	for _, n := range u.Needs {
		for opt.Cache.Result(n.Key) == nil {
			if time.Now().After(deadline) {
				return "", "", fmt.Errorf("%s needs %s (key %s), whose result is not in the cache %s after %s: its job failed, was cancelled or its files are not visible here; submit again", u.Targets[0].Name(), n.Targets[0].Name(), n.Key, opt.Cache.Dir, NeedsWait)
			}
			select {
			case <-ctx.Done():
				return OutcomeInterrupted, "not started", nil
			case <-time.After(needsPoll):
			}
		}
	}
	sub := &Plan{Profile: plan.Profile, Specs: plan.Specs}
	for _, x := range append(append([]*Unit{}, u.Needs...), u) {
		sub.Units = append(sub.Units, x)
		sub.Targets = append(sub.Targets, x.Targets...)
	}
	opt.Jobs, opt.PruneStale = 1, false
	sum, err := Execute(ctx, sub, opt)
	if sum == nil {
		return "", "", err
	}
	return sum.Outcome[key], sum.Errors[key], err
}
