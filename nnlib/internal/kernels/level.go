package kernels

import (
	"fmt"
	"os"
	"strings"
)

// A Level is an instruction-set level for which kernels are implemented.
type Level int

// The kernel levels, lowest first.
const (
	Generic Level = iota // pure Go
	AVX2                 // AVX2 + FMA assembly
	AVX512               // AVX-512F assembly
)

// String returns the level's name as accepted by CNET_KERNELS.
func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel parses a level name ("generic", "avx2", "avx512").
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "generic", "go", "purego":
		return Generic, nil
	case "avx2":
		return AVX2, nil
	case "avx512", "avx-512":
		return AVX512, nil
	}
	return Generic, fmt.Errorf("kernels: unknown kernel level %q (valid: generic, avx2, avx512)", s)
}

// EnvVar is the environment variable that caps the kernel level.
const EnvVar = "CNET_KERNELS"

// level is the level in use; set once by init and by SetLevel in tests.
var level = detect()

// CurrentLevel returns the kernel level in use.
func CurrentLevel() Level { return level }

// MaxLevel returns the highest level this CPU and build support.
func MaxLevel() Level { return maxLevel() }

// SetLevel switches to level l (at most MaxLevel) and returns the previous
// level. It is meant for tests and benchmarks that compare levels; it must
// not be called while kernels run.
func SetLevel(l Level) Level {
	if l < Generic || l > maxLevel() {
		panic(fmt.Sprintf("kernels: SetLevel(%v) above the supported maximum %v", l, maxLevel()))
	}
	prev := level
	level = l
	return prev
}

// detect picks the highest supported level, capped by CNET_KERNELS. An
// unparseable value is reported on stderr and ignored, never silently
// taken as a different level.
func detect() Level {
	l := maxLevel()
	if s, ok := os.LookupEnv(EnvVar); ok && s != "" {
		want, err := ParseLevel(s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%v; using %v\n", err, l)
			return l
		}
		if want < l {
			l = want
		}
	}
	return l
}
