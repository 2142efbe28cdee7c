package datatest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/continuousnet/repro/datasets"
)

// fakeTB records how a helper ended a test, without ending the real one.
type fakeTB struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) { f.failed, f.msg = true, fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Skip(args ...any)  { f.skipped, f.msg = true, fmt.Sprint(args...); runtime.Goexit() }

func runFake(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestSkipOrFail(t *testing.T) {
	empty := t.TempDir()
	bad := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bad, "cifar10", "cifar-10-batches-bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		if err := os.WriteFile(filepath.Join(bad, "cifar10", "cifar-10-batches-bin", f), []byte("short"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, dir, require string
		load               bool
		failed, skipped    bool
		msg                string
	}{
		{"unset, not required", "", "", false, false, true, "set CNET_DATA"},
		{"unset, required", "", "1", false, true, false, "CNET_REQUIRE_DATA=1"},
		{"absent, not required", empty, "", true, false, true, "cifar10 not found"},
		{"absent, required", empty, "1", true, true, false, "cifar10 not found"},
		{"present but corrupt", bad, "", true, true, false, "short record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(datasets.EnvDataDir, tc.dir)
			t.Setenv(datasets.EnvRequireData, tc.require)
			f := runFake(t, func(tb testing.TB) {
				if tc.load {
					CIFAR10(tb)
				} else {
					Dir(tb)
				}
			})
			if f.failed != tc.failed || f.skipped != tc.skipped || !strings.Contains(f.msg, tc.msg) {
				t.Fatalf("failed=%v skipped=%v msg=%q; want failed=%v skipped=%v and a message with %q", f.failed, f.skipped, f.msg, tc.failed, tc.skipped, tc.msg)
			}
		})
	}
}
