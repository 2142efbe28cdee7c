package claims

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/provenance"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

var testHost = &provenance.Host{Commit: "test", GoVersion: "go", CPUModel: "cpu"}

// loadSpec reads experiments/specs/<name>.yaml with the shared runs of
// experiments/specs/shared, applying the replacements old → new to its text
// (to shrink a test run).
func loadSpec(t testing.TB, name string, replace ...string) *spec.Spec {
	t.Helper()
	dir := filepath.Join("..", "..", "specs")
	shared, err := spec.LoadShared(os.DirFS(dir), spec.SharedDir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name+".yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("%s does not contain %q", file, replace[i])
		}
		text = strings.ReplaceAll(text, replace[i], replace[i+1])
	}
	s, err := spec.ParseUsing(file, []byte(text), shared)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runSpecs executes the specs' runs for profile into a temporary cache and
// results folder and returns the records by "experiment/run".
func runSpecs(t *testing.T, profile string, specs ...*spec.Spec) (map[string]*record.Record, *harness.Summary) {
	t.Helper()
	plan, err := harness.Resolve(specs, profile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	opt := harness.Options{Cache: &harness.Cache{Dir: filepath.Join(dir, "cache")}, ResultsDir: filepath.Join(dir, "results"),
		Jobs: 2, Out: &out, Host: testHost}
	sum, err := harness.Execute(context.Background(), plan, opt)
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, out.String())
	}
	t.Logf("harness output:\n%s", out.String())
	recs, err := harness.Records(opt.ResultsDir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*record.Record{}
	for _, r := range recs {
		m[r.Experiment+"/"+r.Run] = r
	}
	return m, sum
}

// mustOK returns the record of experiment/run and fails unless its status
// is ok.
func mustOK(t *testing.T, recs map[string]*record.Record, name string) *record.Record {
	t.Helper()
	r := recs[name]
	if r == nil {
		t.Fatalf("no record %s", name)
	}
	if r.Status != record.StatusOK {
		t.Fatalf("%s: status %s: %s", name, r.Status, r.Error)
	}
	return r
}
