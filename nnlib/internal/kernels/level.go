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

// EnvVar is the environment variable that selects the kernel level.
const EnvVar = "CNET_KERNELS"

// level is the level in use; set once by init and by SetLevel in tests.
var level = detect()

// CurrentLevel returns the kernel level in use.
func CurrentLevel() Level { return level }

// MaxLevel returns the highest level this CPU and build support (the level
// in use may be lower: see detect).
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

// detect picks the level at start-up (see chooseLevel); an unparseable
// CNET_KERNELS is reported on stderr and ignored, never silently taken as
// a different level.
func detect() Level {
	l, err := chooseLevel(os.Getenv(EnvVar), maxLevel(), host)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v; using the default level %v\n", err, l)
	}
	return l
}

// chooseLevel returns the level env names (at most maxL) or, when env is
// empty, cpu's default (see defaultLevel); an unparseable env gives the
// default and the parse error.
func chooseLevel(env string, maxL Level, cpu CPU) (Level, error) {
	if env == "" {
		return defaultLevel(maxL, cpu), nil
	}
	want, err := ParseLevel(env)
	if err != nil {
		return defaultLevel(maxL, cpu), err
	}
	return min(want, maxL), nil
}

// A CPU identifies the processor: its vendor string (CPUID leaf 0, e.g.
// "AuthenticAMD") and its family and model numbers as lscpu and
// /proc/cpuinfo show them. The zero CPU is an unknown one (another
// architecture, or the purego build).
type CPU struct {
	Vendor        string
	Family, Model int
}

// String returns e.g. "AuthenticAMD family 25 model 17", or "unknown".
func (c CPU) String() string {
	if c.Vendor == "" {
		return "unknown"
	}
	return fmt.Sprintf("%s family %d model %d", c.Vendor, c.Family, c.Model)
}

// host is the CPU this process runs on, read with CPUID for the choice of
// level (the harness's provenance reads the same numbers from
// /proc/cpuinfo, next to the model name).
var host = func() CPU {
	v, f, m := cpuIdent()
	return CPU{Vendor: v, Family: f, Model: m}
}()

// preferredLevels lowers the default level on CPU families where nnlib's
// lower level measured faster than its highest one; CNET_KERNELS still
// selects any supported level. An entry rests on an interleaved A/B of the
// training-step benchmarks at both levels on that family (nnlib/README.md).
var preferredLevels = []struct {
	vendor string
	family int
	level  Level
}{
	// AMD family 25: Zen 4 runs AVX-512 on 256-bit units, and nnlib's AVX2
	// level (panel-looping in-place GEMM kernels) trains faster there
	// (Zen 3, the same family, has no AVX-512).
	{"AuthenticAMD", 25, AVX2},
}

// defaultLevel returns maxL, lowered to cpu's preferred level if
// preferredLevels has one for its family.
func defaultLevel(maxL Level, cpu CPU) Level {
	for _, p := range preferredLevels {
		if p.vendor == cpu.Vendor && p.family == cpu.Family && p.level < maxL {
			return p.level
		}
	}
	return maxL
}
