package report_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/claims"
	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite the records in testdata/records with the harness's layout")

// TestFixturesHaveHarnessLayout checks that every record the golden tests
// read has the layout the harness writes today: the kind, key and config
// (schema, kind, version, params, seed, needs, dataset) the harness
// resolves for that run of the quick profile of the committed specs (seed
// 1 of a seeded run; the data folder empty, so datasets read "missing"),
// and, for a training run, the steps_per_epoch metric of its parameters.
// Metrics and series stay the fixtures' own (made-up) results. After a
// change to the specs or the record layout, regenerate the fixtures with
//
//	go test ./experiments/internal/report -run TestFixturesHaveHarnessLayout -update-fixtures
//
// and then the golden files with -update, reviewing both diffs.
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
	units := map[string]*harness.Unit{} // experiment/run (a seeded run: its group, seed 1)
	for _, tg := range plan.Targets {
		name := tg.Name()
		if tg.Run.Group != "" {
			if tg.Run.Seed != 1 {
				continue
			}
			name = tg.Experiment + "/" + tg.Run.Group
		}
		units[name] = tg.Unit
	}
	files, err := filepath.Glob(filepath.Join("testdata", "records", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		r, err := record.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		u := units[r.Experiment+"/"+r.Run]
		if u == nil {
			t.Errorf("%s: the quick profile has no run %s/%s", f, r.Experiment, r.Run)
			continue
		}
		want := *r
		want.Kind, want.Key = u.Kind.Name(), u.Key
		b, err := json.Marshal(u.Config)
		if err != nil {
			t.Fatal(err)
		}
		want.Config = nil
		if err := json.Unmarshal(b, &want.Config); err != nil {
			t.Fatal(err)
		}
		if p, ok := u.Params.(*claims.TrainParams); ok {
			want.Metrics = map[string]float64{}
			for k, v := range r.Metrics {
				want.Metrics[k] = v
			}
			want.Metrics["steps_per_epoch"] = float64(p.StepsPerEpoch())
		}
		if *updateFixtures {
			if err := record.Write(f, &want); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if r.Kind != want.Kind || r.Key != want.Key || !reflect.DeepEqual(r.Config, want.Config) || !reflect.DeepEqual(r.Metrics, want.Metrics) {
			t.Errorf("%s: not the layout the harness writes for %s/%s (kind %s, key %.12s, config %v); run with -update-fixtures",
				f, r.Experiment, r.Run, want.Kind, want.Key, want.Config)
		}
	}
}
