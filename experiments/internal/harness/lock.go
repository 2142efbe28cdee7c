package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Two invocations may share a cache (two terminals, or jobs of a cluster on
// a shared filesystem). Advisory file locks keep them from computing a key
// twice and from timing at once:
//
//   - a unit holds <cache>/locks/<key>.lock exclusively while it runs; the
//     invocation that waited for it then finds the result in the cache and
//     takes it as cached;
//   - exclusive (timing) runs hold the machine lock exclusively and every
//     other run holds it shared, as the in-process lock does between the
//     runs of one invocation, so no two processes time at once and no shared
//     run of another process disturbs a timing run.

// EnvMachineLock names the machine-wide lock file of timing runs (default:
// continuousnet-exclusive.lock in the system's temporary folder).
const EnvMachineLock = "CNET_MACHINE_LOCK"

func (c *Cache) lockPath(key string) string { return filepath.Join(c.Dir, "locks", key+".lock") }

// machineLockPath is the lock file timing runs share across processes.
func machineLockPath(opt Options) string {
	if opt.MachineLock != "" {
		return opt.MachineLock
	}
	if p := os.Getenv(EnvMachineLock); p != "" {
		return p
	}
	return filepath.Join(os.TempDir(), "continuousnet-exclusive.lock")
}

// RunWithPrivateMachineLock runs a test binary's tests (m is its
// *testing.M) with CNET_MACHINE_LOCK pointing at a lock file in a new
// temporary folder, removed afterwards, and returns m.Run's exit code. Test
// binaries call it from TestMain, os.Exit(RunWithPrivateMachineLock(m)):
// their toy runs' timings are not results, and they must neither wait for
// a real run that holds the machine's lock while it trains nor make one
// wait.
func RunWithPrivateMachineLock(m interface{ Run() int }) int {
	dir, err := os.MkdirTemp("", "cnet-machine-lock-")
	if err != nil {
		panic("harness.RunWithPrivateMachineLock: " + err.Error())
	}
	defer os.RemoveAll(dir)
	os.Setenv(EnvMachineLock, filepath.Join(dir, "machine.lock"))
	return m.Run()
}

// lockPoll is how often a blocked lock is tried again.
const lockPoll = 100 * time.Millisecond

// acquire takes an advisory lock on path (exclusive or shared), trying
// again every lockPoll until ctx is done; waiting is called once if the lock
// is held by another process. The returned function releases the lock.
func acquire(ctx context.Context, path string, exclusive bool, waiting func()) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	told := false
	for {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlock(f); f.Close() }, nil
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
