package claims

import (
	"reflect"
	"slices"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

var cifarSpecs = []string{"rk-consistency", "incremental-training", "coarsening"}

// Every spec resolves in every profile, and a shared run used by several
// experiments (the shared training runs and the refined net's sweep) has
// one key.
func TestSpecsResolveAndShareRuns(t *testing.T) {
	var specs []*spec.Spec
	for _, n := range append([]string{"resnets-as-integrators"}, cifarSpecs...) {
		specs = append(specs, loadSpec(t, n))
	}
	for _, prof := range spec.Profiles {
		plan, err := harness.Resolve(specs, prof)
		if err != nil {
			t.Fatalf("%s: %v", prof, err)
		}
		keys := map[string]string{}
		for _, tg := range plan.Targets {
			if k, ok := keys[tg.Run.Name]; ok && k != tg.Unit.Key && tg.Run.Group != "summary" {
				t.Errorf("%s: run %s has two keys (%s in %s)", prof, tg.Run.Name, tg.Unit.Key[:8], tg.Experiment)
			}
			keys[tg.Run.Name] = tg.Unit.Key
		}
		shared := 0
		for _, u := range plan.Units {
			if len(u.Targets) > 1 {
				shared++
			}
		}
		// train/euler-scratch, train/rk4-classic-refined and the refined
		// sweep, once per seed.
		seeds := map[string]int{spec.Smoke: 1, spec.Quick: 3, spec.Paper: 5}[prof]
		if shared != 3*seeds {
			t.Errorf("%s: %d units shared between specs, want 3 × %d seeds", prof, shared, seeds)
		}
	}
}

// The quick profile as fixed before its first run: spot-check the settings that decide the budget.
func TestQuickProfileSettings(t *testing.T) {
	var specs []*spec.Spec
	for _, n := range cifarSpecs {
		specs = append(specs, loadSpec(t, n))
	}
	plan, err := harness.Resolve(specs, spec.Quick)
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]string{}
	seeds := map[string][]uint64{}
	for _, u := range plan.Units {
		p, ok := u.Params.(*TrainParams)
		if !ok {
			continue
		}
		name := u.Targets[0].Run.Group
		models[name] = p.Scheme
		seeds[name] = append(seeds[name], u.Seed)
		if p.TrainPerClass != 500 || p.EvalPerClass != 200 || p.FinalPerClass != 0 || p.Width != 16 || p.Stem != "3x3" ||
			p.Batch != 128 || !p.DropLast || p.Epochs != 15 || p.LR != 0.1 || p.Momentum != 0.9 || p.WeightDecay != 5e-4 ||
			len(p.LRSteps) != 2 || p.LRSteps[0] != 9 || p.LRSteps[1] != 12 || p.LRGamma != 0.1 || p.CropPad != 4 || !p.Flip ||
			p.Unit != "conv-relu-bn" || p.BN != "per-piece" || p.SkipInit || p.Epsilon != 1 {
			t.Errorf("%s: %+v", name, p)
		}
		if got := p.StepsPerEpoch(); got != 39 { // floor(5,000 / 128): the 8-image rest is dropped
			t.Errorf("%s: %d steps per epoch, want 39", name, got)
		}
	}
	if len(models) != 5 {
		t.Errorf("training runs %v, want the quick profile's 5 models", models)
	}
	for name, s := range seeds {
		if !slices.Equal(s, []uint64{1, 2, 3}) {
			t.Errorf("%s: seeds %v, want 1, 2, 3", name, s)
		}
	}
}

// The specs' nets have the authors' parameter counts (paper/README.md, The model):
// the quick (and paper rk-consistency) ReLU-before-BN nets are the
// notebook's "SingleSegment" nets (170,810 at K = 1, 463,130 at K = 4), the
// paper profile's Table 1 nets the v1 code's (172,863 at K = 1, 3,193,596 at
// K = 32).
func TestSpecParameterCounts(t *testing.T) {
	var specs []*spec.Spec
	for _, n := range cifarSpecs {
		specs = append(specs, loadSpec(t, n))
	}
	want := map[string]map[string]int{
		spec.Quick: {"train/euler-k1": 170810, "train/rk4-classic-k1": 170810, "train/euler-scratch": 463130,
			"train/rk4-classic-scratch": 463130, "train/rk4-classic-refined": 170810},
		spec.Paper: {"train/euler-k1": 170810, "train/rk4-classic-k1": 170810, "train/euler-scratch": 3193596,
			"train/rk4-classic-scratch": 3193596, "train/rk4-classic-refined": 172863},
	}
	for prof, counts := range want {
		plan, err := harness.Resolve(specs, prof)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range plan.Units {
			p, ok := u.Params.(*TrainParams)
			if !ok {
				continue
			}
			name := u.Targets[0].Run.Group
			if got := p.ModelConfig().NumParams(); got != counts[name] {
				t.Errorf("%s %s: %d parameters at K0 = %d, want %d", prof, name, got, p.K0, counts[name])
			}
		}
	}
}

// The opt-in extensions experiment: left out of the default selection; its
// piecewise-linear net is train/rk4-classic-scratch in every parameter but
// the basis, in every profile; and the nets it shares (the refined net it
// θ-coarsens, the piecewise-constant net it compares with) have the keys
// they have in the paper's experiments, so they are computed once.
func TestExtensionsSpec(t *testing.T) {
	ext := loadSpec(t, "extensions")
	if !ext.OptIn {
		t.Error("extensions is not opt_in: make reproduce would run it")
	}
	specs := []*spec.Spec{ext}
	for _, n := range cifarSpecs {
		specs = append(specs, loadSpec(t, n))
	}
	for _, prof := range spec.Profiles {
		plan, err := harness.Resolve(specs, prof)
		if err != nil {
			t.Fatalf("%s: %v", prof, err)
		}
		keys := map[string][]string{} // run (seed 1) → keys in every experiment
		params := map[string]TrainParams{}
		for _, tg := range plan.Targets {
			if tg.Run.Seed != 1 {
				continue
			}
			keys[tg.Run.Group] = append(keys[tg.Run.Group], tg.Unit.Key)
			if p, ok := tg.Unit.Params.(*TrainParams); ok {
				params[tg.Run.Group] = *p
			}
		}
		for _, run := range []string{"train/rk4-classic-refined", "train/rk4-classic-scratch"} {
			if ks := keys[run]; len(ks) < 2 || slices.ContainsFunc(ks, func(k string) bool { return k != ks[0] }) {
				t.Errorf("%s: %s has keys %v, want one key in several experiments", prof, run, ks)
			}
		}
		lin, con := params["train/rk4-classic-linear"], params["train/rk4-classic-scratch"]
		if lin.Basis != "piecewise-linear" || con.Basis != "" {
			t.Errorf("%s: bases %q and %q", prof, lin.Basis, con.Basis)
		}
		lin.Basis, lin.model, con.model = "", nil, nil
		if !reflect.DeepEqual(lin, con) {
			t.Errorf("%s: the piecewise-linear net differs from train/rk4-classic-scratch beyond its basis:\n%+v\n%+v", prof, lin, con)
		}
	}
}
