package odenet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

func TestCheckpointRoundTrip(t *testing.T) {
	x, y := tinyBatch(30)
	dir := t.TempDir()
	for _, tc := range []struct {
		refined bool
		basis   Basis
	}{{false, PiecewiseConstant}, {true, PiecewiseConstant}, {true, PiecewiseLinear}} {
		refined := tc.refined
		cfg := tinyConfig(2, ConvReLUBN)
		cfg.Basis = tc.basis
		cfg.Scheme, cfg.KnotRule = integrators.MustBuiltin("rk4-38"), integrators.OwnPiece
		m := newTiny(t, cfg, 31)
		opt := nnlib.NewSGD(0.01, 0.9, 5e-4)
		step := func(m *Net) {
			g := nnlib.NewGraph(true)
			m.Params.ZeroGrad()
			g.Backward(g.SoftmaxCrossEntropy(m.Forward(g, g.Input(x, 3, tinyN, tinyHW, tinyHW)), y))
			opt.Step(m.Params.Params())
		}
		step(m)
		if refined {
			if err := m.Refine(opt, RefineOptions{Noise: 0.1, Rand: rng.New(2, "refine"), KeepOptimizerState: true}); err != nil {
				t.Fatal(err)
			}
			step(m)
			m.SetSteps(5)
		}
		stream := rng.New(7, "data")
		stream.Uint64()
		path := filepath.Join(dir, "net.ckpt")
		if err := SaveCheckpoint(path, m, opt, []*rng.Stream{stream}, map[string]string{"epoch": "3"}); err != nil {
			t.Fatal(err)
		}
		opt2 := nnlib.NewSGD(0, 0.9, 5e-4) // the learning rate comes from the checkpoint
		stream2 := rng.New(99, "data")
		l, meta, err := LoadCheckpoint(path, opt2, []*rng.Stream{stream2})
		if err != nil {
			t.Fatal(err)
		}
		if meta["epoch"] != "3" {
			t.Errorf("metadata epoch = %q, want 3", meta["epoch"])
		}
		if got, want := l.Config(), m.Config(); got.Pieces != want.Pieces || got.Steps != want.Steps ||
			got.Scheme.ID() != want.Scheme.ID() || got.KnotRule != want.KnotRule || got.Unit != want.Unit || got.Basis != want.Basis {
			t.Errorf("loaded config %+v, want %+v", got, want)
		}
		sameCheckpoint(t, snapshot(t, m), snapshot(t, l))
		if stream.Uint64() != stream2.Uint64() {
			t.Error("rng stream not restored")
		}
		if !bitEqual(logits(m, false, x), logits(l, false, x)) {
			t.Error("loaded net computes different logits")
		}
		// Training continues identically: same optimizer state.
		step(m)
		opt = opt2
		step(l)
		sameCheckpoint(t, snapshot(t, m), snapshot(t, l))
	}
}

func TestLoadCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	m := newTiny(t, tinyConfig(1, PreActivation), 1)
	plain := filepath.Join(dir, "plain.ckpt")
	if err := nnlib.SaveCheckpoint(plain, m.Params, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCheckpoint(plain, nil, nil); err == nil || !strings.Contains(err.Error(), MetaConfigKey) {
		t.Errorf("checkpoint without config: error %v, want one naming %q", err, MetaConfigKey)
	}
	if err := SaveCheckpoint(filepath.Join(dir, "x.ckpt"), m, nil, nil, map[string]string{MetaConfigKey: "x"}); err == nil {
		t.Error("reserved metadata key accepted")
	}
	bad := filepath.Join(dir, "bad.ckpt")
	if err := os.WriteFile(bad, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCheckpoint(bad, nil, nil); err == nil || !strings.Contains(err.Error(), "bad.ckpt") {
		t.Errorf("corrupt file: error %v, want one naming the file", err)
	}
}
