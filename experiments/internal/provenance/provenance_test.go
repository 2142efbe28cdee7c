package provenance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRoot(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := RepoRoot(sub); err == nil {
		t.Fatalf("RepoRoot without go.mod: want an error")
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, sub, filepath.Join(root, "a")} {
		got, err := RepoRoot(dir)
		if err != nil || got != root {
			t.Errorf("RepoRoot(%s) = %q, %v; want %q", dir, got, err, root)
		}
	}
}

func TestCollect(t *testing.T) {
	h := Collect(".")
	if h.GoVersion == "" || h.GOARCH == "" || h.CPUModel == "" {
		t.Errorf("Collect: missing fields: %+v", h)
	}
	if h.Commit == "" {
		t.Errorf("Collect: empty commit (want a hash or \"unknown\")")
	}
}

func TestChangedNoCommit(t *testing.T) {
	if _, err := ChangedFiles(".", "unknown", []string{"."}); err == nil {
		t.Errorf("ChangedFiles with an unknown commit: want an error")
	}
}

// TestDirtyIgnoresOutputs builds a small git repository: a change under
// results/ leaves it clean, a change to a source file makes it dirty.
func TestDirtyIgnoresOutputs(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	root := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q")
	write("src.go", "package x\n")
	write("results/r.json", "{}\n")
	run("add", ".")
	run("commit", "-q", "-m", "first")
	h := Collect(root)
	if len(h.Commit) != 40 || h.Dirty {
		t.Fatalf("fresh repository: commit %q dirty %v", h.Commit, h.Dirty)
	}
	write("results/r.json", "{\"changed\": true}\n")
	write("figures/new.svg", "<svg/>\n")
	if Collect(root).Dirty {
		t.Errorf("a change under results/ or figures/ made the tree dirty")
	}
	write("src.go", "package y\n")
	write("src_test.go", "package y\n")
	write("testdata/in.txt", "x\n")
	write("README.md", "# x\n")
	if !Collect(root).Dirty {
		t.Errorf("a changed source file did not make the tree dirty")
	}
	if ch, err := ChangedFiles(root, h.Commit, []string{"results"}); err != nil || len(ch) != 0 {
		t.Errorf("ChangedFiles(results) since HEAD = %q, %v; want none (git diff compares commits)", ch, err)
	}
	run("add", ".")
	run("commit", "-q", "-m", "second")
	want := []string{"figures/new.svg", "results/r.json", "src.go"} // not the test, testdata or Markdown
	if ch, err := ChangedFiles(root, h.Commit, []string{"."}); err != nil || strings.Join(ch, " ") != strings.Join(want, " ") {
		t.Errorf("ChangedFiles since the first commit = %q, %v; want %q", ch, err, want)
	}
}
