package kernels

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestDefaultLevel(t *testing.T) {
	amd := func(family int) CPU { return CPU{Vendor: "AuthenticAMD", Family: family, Model: 1} }
	tests := []struct {
		name string
		maxL Level
		cpu  CPU
		want Level
	}{
		{"Zen 4 with AVX-512: the AVX2 level", AVX512, amd(25), AVX2},
		{"Zen 3 (AVX2 at most)", AVX2, amd(25), AVX2},
		{"family 25 in the purego build", Generic, amd(25), Generic},
		{"Zen 5", AVX512, amd(26), AVX512},
		{"Intel with AVX-512", AVX512, CPU{Vendor: "GenuineIntel", Family: 6, Model: 143}, AVX512},
		{"unknown CPU", AVX512, CPU{}, AVX512},
	}
	for _, tt := range tests {
		if got := defaultLevel(tt.maxL, tt.cpu); got != tt.want {
			t.Errorf("%s: defaultLevel(%v, %v) = %v, want %v", tt.name, tt.maxL, tt.cpu, got, tt.want)
		}
	}
}

func TestChooseLevel(t *testing.T) {
	zen4 := CPU{Vendor: "AuthenticAMD", Family: 25, Model: 17}
	tests := []struct {
		env     string
		maxL    Level
		cpu     CPU
		want    Level
		wantErr bool
	}{
		{"", AVX512, zen4, AVX2, false},
		{"avx512", AVX512, zen4, AVX512, false}, // asked for: above the family's default
		{"AVX2", AVX512, CPU{}, AVX2, false},
		{"avx512", AVX2, CPU{}, AVX2, false}, // not above what the CPU supports
		{"generic", AVX512, zen4, Generic, false},
		{"avx1024", AVX512, zen4, AVX2, true}, // unparseable: the default, and the error
		{"", AVX512, CPU{}, AVX512, false},
	}
	for _, tt := range tests {
		got, err := chooseLevel(tt.env, tt.maxL, tt.cpu)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("chooseLevel(%q, %v, %v) = %v, %v; want %v, error %v", tt.env, tt.maxL, tt.cpu, got, err, tt.want, tt.wantErr)
		}
	}
}

// On amd64 with assembly the CPU identifies itself; the family and model
// match /proc/cpuinfo where there is one.
func TestHost(t *testing.T) {
	c := host
	if !hasAsm {
		if c != (CPU{}) {
			t.Errorf("host = %v without assembly, want the zero CPU", c)
		}
		return
	}
	if len(c.Vendor) != 12 || c.Family < 6 {
		t.Fatalf("host = %+v: want a 12-byte vendor and a family ≥ 6", c)
	}
	family, model, ok := procCPUInfo(t)
	if ok && (family != c.Family || model != c.Model) {
		t.Errorf("host = %v; /proc/cpuinfo says family %d model %d", c, family, model)
	}
}

// procCPUInfo returns the first processor's "cpu family" and "model" from
// /proc/cpuinfo (ok false when it has none, as on some VMs).
func procCPUInfo(t *testing.T) (family, model int, ok bool) {
	t.Helper()
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	got := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(got) < 2 {
		k, v, found := strings.Cut(sc.Text(), ":")
		if k = strings.TrimSpace(k); found && (k == "cpu family" || k == "model") {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				got[k] = n
			}
		}
	}
	f2, ok2 := got["cpu family"]
	m, ok3 := got["model"]
	return f2, m, ok2 && ok3
}
