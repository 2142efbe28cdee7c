// Package provenance collects where and how results are computed: the
// commit and dirty flag of the source tree, Go version, CPU model and
// features. It also finds the repository root and tells whether source
// folders changed since a commit, so the harness can flag stale results.
package provenance

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/cpu"
)

// Host is what does not change during one invocation.
type Host struct {
	Commit    string // full hash, or "unknown"
	Dirty     bool
	GoVersion string
	GOOS      string
	GOARCH    string
	CPUModel  string
	// CPUFamily and CPUModelID are /proc/cpuinfo's "cpu family" and
	// "model" (0 where unknown): AMD's model name "AMD EPYC" is the same for
	// Zen 4 (family 25) and Zen 5 (family 26).
	CPUFamily, CPUModelID int
	CPUFeatures           []string
}

// OutputDirs are the repository folders the harness writes; changes in
// them do not make the tree dirty.
var OutputDirs = []string{"results", "figures"}

// Collect gathers the host facts for the repository at root. The commit
// comes from running git in root, or, without git, from the build info
// (which GOFLAGS=-buildvcs=false leaves without it; its dirty flag would also
// count the outputs). Dirty means a tracked file differs from
// the commit or an untracked file exists, outside OutputDirs.
func Collect(root string) Host {
	h := Host{
		GoVersion:   runtime.Version(),
		GOOS:        runtime.GOOS,
		GOARCH:      runtime.GOARCH,
		CPUFeatures: Features(),
		Commit:      "unknown",
	}
	h.CPUModel, h.CPUFamily, h.CPUModelID = cpuInfo()
	c, err := git(root, "rev-parse", "HEAD")
	if err != nil {
		if c, dirty, ok := fromBuildInfo(); ok {
			h.Commit, h.Dirty = c, dirty
		}
		return h
	}
	h.Commit = strings.TrimSpace(c)
	// Outputs are not sources: writing results must not make the next
	// records "dirty".
	args := []string{"status", "--porcelain", "--", "."}
	for _, d := range OutputDirs {
		args = append(args, ":(exclude)"+d)
	}
	if st, err := git(root, args...); err == nil {
		h.Dirty = strings.TrimSpace(st) != ""
	}
	return h
}

func fromBuildInfo() (commit string, dirty, ok bool) {
	bi, found := debug.ReadBuildInfo()
	if !found {
		return "", false, false
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit, ok = s.Value, true
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return commit, dirty, ok
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", errors.New(strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// ChangedFiles lists the files under dirs (relative to root) that differ
// between commit and HEAD and that can change what a build computes, in
// git's order; none when nothing changed. Tests (*_test.go), testdata
// folders and Markdown are left out: go build reads none of them. It
// answers with an error when git cannot tell (no git, unknown commit).
func ChangedFiles(root, commit string, dirs []string) ([]string, error) {
	if commit == "" || commit == "unknown" {
		return nil, errors.New("no commit recorded")
	}
	args := append([]string{"diff", "--name-only", commit, "HEAD", "--"}, dirs...)
	args = append(args, ":(exclude,glob)**/*_test.go", ":(exclude,glob)**/testdata/**", ":(exclude,glob)**/*.md")
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return nil, errors.New(msg)
		}
		return nil, err
	}
	var files []string
	for _, f := range strings.Split(string(out), "\n") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// cpuInfo returns the first processor's model name, family and model
// number from /proc/cpuinfo (GOARCH, 0, 0 where there is none).
func cpuInfo() (name string, family, model int) {
	name = runtime.GOARCH
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return name, 0, 0
	}
	defer f.Close()
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() && seen < 3 {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "model name":
			name, seen = v, seen+1
		case "cpu family":
			family, _ = strconv.Atoi(v)
			seen++
		case "model":
			model, _ = strconv.Atoi(v)
			seen++
		}
	}
	return name, family, model
}

// Features lists the CPU features that matter to the kernels.
func Features() []string {
	var out []string
	add := func(name string, has bool) {
		if has {
			out = append(out, name)
		}
	}
	switch runtime.GOARCH {
	case "amd64", "386":
		add("sse4.2", cpu.X86.HasSSE42)
		add("avx", cpu.X86.HasAVX)
		add("avx2", cpu.X86.HasAVX2)
		add("fma", cpu.X86.HasFMA)
		add("avx512f", cpu.X86.HasAVX512F)
		add("avx512bw", cpu.X86.HasAVX512BW)
		add("avx512dq", cpu.X86.HasAVX512DQ)
		add("avx512vl", cpu.X86.HasAVX512VL)
	case "arm64":
		add("asimd", cpu.ARM64.HasASIMD)
		add("fphp", cpu.ARM64.HasFPHP)
		add("sve", cpu.ARM64.HasSVE)
	}
	return out
}

// RepoRoot walks up from dir to the folder holding go.mod.
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod found in " + dir + " or any folder above it; run from inside the repository")
		}
		d = parent
	}
}
