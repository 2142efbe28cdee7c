package claims

import (
	"errors"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/odenet"
)

func validTrainParams() *TrainParams {
	return &TrainParams{Dataset: "cifar10", TrainPerClass: 500, EvalPerClass: 200, Width: 16, Stem: "7x7",
		Unit: "pre-activation", BN: "per-piece", Epsilon: 1, Scheme: "rk4-38", K0: 2, KnotRule: "own-piece",
		RefineNoise: 0.1, Epochs: 15, Batch: 128, LR: 0.1, Momentum: 0.9, LRGamma: 0.1, EvalEvery: 5, EvalBatch: 128}
}

// Validate parses the model's named choices once: a bad name is a field
// error on its own parameter, and a valid one reaches ModelConfig as
// parsed.
func TestTrainParamsParsedOnce(t *testing.T) {
	tests := []struct {
		field string
		set   func(*TrainParams)
	}{
		{"stem", func(p *TrainParams) { p.Stem = "5x5" }},
		{"unit", func(p *TrainParams) { p.Unit = "bn-relu" }},
		{"scheme", func(p *TrainParams) { p.Scheme = "rk4" }}, // an alias of rk4-38: two spellings, two keys
		{"knot_rule", func(p *TrainParams) { p.KnotRule = "previous-piece" }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			p := validTrainParams()
			tt.set(p)
			var fe *spec.FieldError
			if err := p.Validate(); !errors.As(err, &fe) || fe.Field != tt.field || len(fe.Choices) == 0 {
				t.Fatalf("Validate: %v, want a field error on %s with its choices", err, tt.field)
			}
		})
	}
	p := validTrainParams()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := p.ModelConfig()
	if cfg.Stem != odenet.Stem7x7 || cfg.Unit != odenet.PreActivation || cfg.Scheme.ID() != "rk4-38" ||
		cfg.KnotRule != integrators.OwnPiece || p.Tableau() != cfg.Scheme {
		t.Errorf("ModelConfig %+v does not hold the parsed choices", cfg)
	}
}

func TestSweepParamsParsedOnce(t *testing.T) {
	p := &SweepParams{EvalSet: EvalSet{Dataset: "cifar10", EvalPerClass: 10, EvalBatch: 128}, Schemes: []string{"euler", "rk4-classic"}, Nts: []int{1}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	tabs := p.Tableaus()
	if len(tabs) != 2 || tabs[0].ID() != "euler" || tabs[1].ID() != "rk4-classic" {
		t.Errorf("Tableaus %v", tabs)
	}
	p.Schemes = []string{"euler", "rk4"}
	var fe *spec.FieldError
	if err := p.Validate(); !errors.As(err, &fe) || fe.Field != "schemes" {
		t.Errorf("Validate with an alias: %v, want a field error on schemes", err)
	}
}
