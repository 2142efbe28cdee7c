package report_test

import (
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/claims"
	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite the records in testdata/records with the harness's layout")

// TestFixturesHaveHarnessLayout checks that the records the golden tests
// read are the records the harness writes today for seed 1 of the quick
// profile of the committed specs: one file per run of each experiment a
// fixture exists for (a shared run in every experiment that uses it), at
// the harness's path, with its run name, group, kind, key, profile, seed and config
// (schema, kind, version, params, seed, needs, dataset; the data folder
// empty, so datasets read "missing"), and, for a training run, the
// steps_per_epoch metric of its parameters. Metrics and series stay the
// fixtures' own (made-up) results. After a change to the specs or the
// record layout, regenerate the fixtures with
//
//	go test ./experiments/internal/report -run TestFixturesHaveHarnessLayout -update-fixtures
//
// (a missing copy of a shared run is made from the fixture of the same key
// in another experiment) and then the golden files with -update, reviewing
// both diffs.
func TestFixturesHaveHarnessLayout(t *testing.T) {
	t.Setenv("CNET_DATA", t.TempDir())
	specs, err := spec.LoadFS(os.DirFS(filepath.Join("..", "..", "specs")), ".")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := harness.Resolve(specs, spec.Quick)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "records")
	path := func(tg *harness.Target) string {
		return filepath.Join(dir, tg.Experiment, filepath.Base(harness.RecordPath("", tg.Experiment, tg.Run.Name)))
	}
	// The targets of seed 1, by path and by experiment/run.
	byPath, byName := map[string]*harness.Target{}, map[string]*harness.Target{}
	for _, tg := range plan.Targets {
		if tg.Run.Group != "" && tg.Run.Seed != 1 {
			continue
		}
		byPath[path(tg)] = tg
		byName[tg.Name()] = tg
	}
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	have := map[string]*record.Record{} // the harness's path → fixture
	byKey := map[string]*record.Record{}
	exps := map[string]bool{} // the experiments with fixtures
	for _, f := range files {
		r, err := record.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		tg := byName[r.Experiment+"/"+r.Run]
		if tg == nil {
			t.Errorf("%s: the quick profile has no run %s/%s: delete the fixture, or rename it to a run the specs define", f, r.Experiment, r.Run)
			continue
		}
		if have[path(tg)] != nil {
			t.Errorf("%s: a second fixture of %s", f, tg.Name())
			continue
		}
		want := harnessLayout(t, tg, r)
		if *updateFixtures {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			if err := record.Write(path(tg), want); err != nil {
				t.Fatal(err)
			}
			r = want
		} else if f != path(tg) || r.Run != want.Run || r.Group != want.Group || r.Kind != want.Kind || r.Key != want.Key ||
			r.Profile != want.Profile || !slices.Equal(r.Provenance.Seeds, want.Provenance.Seeds) ||
			!reflect.DeepEqual(r.Config, want.Config) || !reflect.DeepEqual(r.Metrics, want.Metrics) {
			t.Errorf("%s: not what the harness writes for %s (file %s, run %s, group %q, kind %s, key %.12s, config %v); run with -update-fixtures",
				f, tg.Name(), path(tg), want.Run, want.Group, want.Kind, want.Key, want.Config)
		}
		have[path(tg)] = r
		byKey[r.Key] = r
		exps[tg.Experiment] = true
	}
	// Every run of an experiment that has fixtures, shared runs included.
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		tg := byPath[p]
		if have[p] != nil || !exps[tg.Experiment] {
			continue
		}
		src := byKey[tg.Unit.Key]
		if !*updateFixtures || src == nil {
			t.Errorf("%s: missing: the harness writes a record of %s there (with -update-fixtures, a copy of the fixture of key %.12s if one exists)", p, tg.Name(), tg.Unit.Key)
			continue
		}
		cp := *src
		cp.Experiment = tg.Experiment
		if err := record.Write(p, harnessLayout(t, tg, &cp)); err != nil {
			t.Fatal(err)
		}
	}
}

// harnessLayout returns r with the run name, group, kind, key, profile,
// seed, config and (for a training run) steps_per_epoch metric the harness
// writes for tg.
func harnessLayout(t *testing.T, tg *harness.Target, r *record.Record) *record.Record {
	t.Helper()
	want := *r
	want.Experiment, want.Run, want.Group = tg.Experiment, tg.Run.Name, tg.Run.Group
	want.Kind, want.Key, want.Profile = tg.Unit.Kind.Name(), tg.Unit.Key, spec.Quick
	want.Provenance.Seeds = []uint64{tg.Run.Seed}
	b, err := json.Marshal(tg.Unit.Config)
	if err != nil {
		t.Fatal(err)
	}
	want.Config = nil
	if err := json.Unmarshal(b, &want.Config); err != nil {
		t.Fatal(err)
	}
	if p, ok := tg.Unit.Params.(*claims.TrainParams); ok {
		want.Metrics = map[string]float64{}
		maps.Copy(want.Metrics, r.Metrics)
		want.Metrics["steps_per_epoch"] = float64(p.StepsPerEpoch())
	}
	return &want
}
