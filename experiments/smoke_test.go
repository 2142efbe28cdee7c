package main

import (
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/datasets/datatest"
)

// TestSmokeProfile runs every embedded experiment at the smoke profile, as a
// user would (`go run ./experiments -profile smoke`), in a temporary
// repository, and checks that each experiment wrote its figure or table and
// that every claim has verdict rows, none of them ERROR or FAIL (smoke
// verdicts only check that each metric was produced and is finite).
// Without CIFAR-10 the CIFAR experiments must SKIP (CNET_REQUIRE_DATA=1
// turns that into a failure).
func TestSmokeProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the smoke profile takes about a minute")
	}
	datatest.RequirePresent(t, "cifar10")
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	code, out, errs := runCmd(t, "-profile", "smoke", "-cache", filepath.Join(root, "cache"))
	if code != 0 {
		t.Fatalf("smoke run exited %d\n%s%s", code, out, errs)
	}
	res, figs := filepath.Join(root, "results", "smoke"), filepath.Join(root, "figures", "smoke")
	for _, f := range []string{
		filepath.Join(figs, "figure3.png"), filepath.Join(figs, "figure3.svg"), filepath.Join(res, "oscillator.md"),
		filepath.Join(figs, "figure4.png"), filepath.Join(figs, "figure4.svg"),
		filepath.Join(res, "table1.md"), filepath.Join(res, "table1.csv"), filepath.Join(figs, "table1-loss.png"),
		filepath.Join(res, "coarsening.md"), filepath.Join(figs, "coarsening.png"),
		filepath.Join(res, "verdicts.md"),
	} {
		fi, err := os.Stat(f)
		if err != nil || fi.Size() == 0 {
			t.Errorf("missing or empty output %s (%v)", f, err)
			continue
		}
		if strings.HasSuffix(f, ".png") {
			r, _ := os.Open(f)
			if _, err := png.DecodeConfig(r); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			r.Close()
		}
	}
	rows := readCSV(t, filepath.Join(res, "verdicts.csv"))
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	perClaim := map[string]int{}
	for _, r := range rows[1:] {
		perClaim[r[col["claim"]]]++
		if v := r[col["verdict"]]; v == "ERROR" || v == "FAIL" {
			t.Errorf("smoke verdict %s for %s/%s: %s", v, r[col["experiment"]], r[col["metric"]], r[col["reason"]])
		}
	}
	for _, c := range []string{"a", "b", "c", "d"} {
		if perClaim[c] == 0 {
			t.Errorf("claim %s has no smoke verdict rows", c)
		}
	}
	t.Logf("smoke verdict rows per claim: %v", perClaim)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %d rows, %v", path, len(rows), err)
	}
	return rows
}
