package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// levels returns every level this build and CPU can run.
func levels() []Level {
	var ls []Level
	for l := Generic; l <= MaxLevel(); l++ {
		ls = append(ls, l)
	}
	return ls
}

// forEachLevel runs f as a subtest at each level, restoring the level after.
func forEachLevel(t *testing.T, f func(t *testing.T, l Level)) {
	t.Helper()
	for _, l := range levels() {
		t.Run(l.String(), func(t *testing.T) {
			prev := SetLevel(l)
			defer SetLevel(prev)
			f(t, l)
		})
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

const sentinel = float32(-12345.5)

// guarded returns a slice of length n inside a larger buffer filled with
// sentinels, and a check that the sentinels outside [off, off+n) are intact.
func guarded(n, off int) (s []float32, check func(t *testing.T, what string)) {
	const guard = 37
	buf := make([]float32, off+n+guard)
	for i := range buf {
		buf[i] = sentinel
	}
	s = buf[off : off+n : off+n]
	return s, func(t *testing.T, what string) {
		t.Helper()
		for i := 0; i < off; i++ {
			if buf[i] != sentinel {
				t.Fatalf("%s: wrote before the output at %d", what, i-off)
			}
		}
		for i := off + n; i < len(buf); i++ {
			if buf[i] != sentinel {
				t.Fatalf("%s: wrote past the output at +%d", what, i-off-n)
			}
		}
	}
}

// mustPanic checks that f panics with a message containing every part.
func mustPanic(t *testing.T, name string, f func(), parts ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("%s: did not panic", name)
		}
		msg := fmt.Sprint(r)
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Fatalf("%s: panic %q does not mention %q", name, msg, p)
			}
		}
	}()
	f()
}

func sameBits(a, b float32) bool {
	if math.IsNaN(float64(a)) && math.IsNaN(float64(b)) {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}
