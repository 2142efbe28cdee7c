package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/report"
)

// TestCommittedTablesMatchRecords rebuilds the quick profile's tables and
// verdicts from the committed records of the run of record
// (results/runs), as `make tables` does, and requires every committed
// table to be byte-identical to what the report makes of them: the report
// is tested on records the harness wrote, and a table edited by hand or
// left stale by a change of the report fails here. Figures are not
// compared (their bytes depend on the font rasteriser); the README and the
// reproduction report are not the report's.
func TestCommittedTablesMatchRecords(t *testing.T) {
	committed := filepath.Join("..", "results")
	recs, err := record.ReadDir(filepath.Join(committed, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("no committed records under results/runs")
	}
	dir := t.TempDir()
	sum, err := report.Regenerate(report.Options{Profile: "quick", ResultsDir: filepath.Join(dir, "results"),
		FiguresDir: filepath.Join(dir, "figures")}, recs)
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	for _, f := range sum.Files {
		if rel, err := filepath.Rel(filepath.Join(dir, "results"), f); err == nil && !strings.HasPrefix(rel, "..") {
			written = append(written, rel)
		}
	}
	entries, err := os.ReadDir(committed)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "README.md" || name == "reproduction.md" {
			continue
		}
		if !slices.Contains(written, name) {
			t.Errorf("results/%s is committed but the report makes no such table from results/runs: remove it or run `make tables`", name)
		}
	}
	for _, rel := range written {
		want, err := os.ReadFile(filepath.Join(committed, rel))
		if err != nil {
			t.Errorf("the report writes results/%s, which is not committed: run `make tables` and commit it", rel)
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, "results", rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("results/%s differs from what the report makes of results/runs: run `make tables` and commit it", rel)
		}
	}
}
