package odenet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/continuousnet/repro/integrators"
	"github.com/continuousnet/repro/nnlib/internal/enum"
)

// Unit is the layer order of the residual unit h inside R.
type Unit int

const (
	// PreActivation is BN → ReLU → conv3×3 → BN → ReLU → conv3×3, the
	// "activation-first" unit of the paper's final runs (RefineNetActFirst).
	PreActivation Unit = iota
	// ConvReLUBN is conv3×3 → ReLU → BN → conv3×3 → ReLU → BN, the unit of
	// the authors' earlier runs.
	ConvReLUBN
)

// String returns the unit's name as used in specs.
func (u Unit) String() string { return unitNames.String(u) }

// ParseUnit returns the unit named "pre-activation" or "conv-relu-bn".
func ParseUnit(name string) (Unit, error) {
	v, err := unitNames.Parse(name)
	if err != nil {
		return 0, fmt.Errorf("odenet: %w", err)
	}
	return v, nil
}

// UnitNames returns the valid names of a residual unit, in value order.
func UnitNames() []string { return unitNames.All() }

// unitNames names the residual units (in value order).
var unitNames = enum.New[Unit]("residual unit", "pre-activation", "conv-relu-bn")

// Basis is the function space of θ(t) in every ODE block.
type Basis int

const (
	// PiecewiseConstant holds K pieces; piece k covers [k/K, (k+1)/K). The
	// paper's basis.
	PiecewiseConstant Basis = iota
	// PiecewiseLinear holds K+1 nodal values θ_j = θ(j/K) of conv weights,
	// conv biases and SkipInit scalars, linearly interpolated in between
	// (continuous in depth); BatchNorm stays piecewise-constant with K
	// pieces. A stage between nodes evaluates each conv at both nodes and
	// blends the outputs (conv is affine in θ), so it costs two convs.
	PiecewiseLinear
)

// String returns the basis' name as used in specs.
func (b Basis) String() string { return basisNames.String(b) }

// ParseBasis returns the basis named "piecewise-constant" or
// "piecewise-linear".
func ParseBasis(name string) (Basis, error) {
	v, err := basisNames.Parse(name)
	if err != nil {
		return 0, fmt.Errorf("odenet: %w", err)
	}
	return v, nil
}

// BasisNames returns the valid names of a basis, in value order.
func BasisNames() []string { return basisNames.All() }

// basisNames names the basiss (in value order).
var basisNames = enum.New[Basis]("basis", "piecewise-constant", "piecewise-linear")

// weightPieces returns the length of the leading axis of conv weights,
// biases and SkipInit scalars for k pieces.
func (b Basis) weightPieces(k int) int {
	if b == PiecewiseLinear {
		return k + 1
	}
	return k
}

// Stem is the input convolution of the network (always without bias,
// followed by BN and ReLU).
type Stem int

const (
	// Stem3x3 is a 3×3 conv with padding 1 (32×32 stays 32×32): the
	// architecture figure and the authors' post-v1 code.
	Stem3x3 Stem = iota
	// Stem7x7 is the arXiv-v1 code's 7×7 conv with padding 1 (32×32 becomes
	// 28×28).
	Stem7x7
)

// String returns the stem's name as used in specs.
func (s Stem) String() string { return stemNames.String(s) }

// ParseStem returns the stem named "3x3" or "7x7".
func ParseStem(name string) (Stem, error) {
	v, err := stemNames.Parse(name)
	if err != nil {
		return 0, fmt.Errorf("odenet: %w", err)
	}
	return v, nil
}

// StemNames returns the valid names of a stem, in value order.
func StemNames() []string { return stemNames.All() }

// stemNames names the stems (in value order).
var stemNames = enum.New[Stem]("stem", "3x3", "7x7")

func (s Stem) kernel() int {
	if s == Stem7x7 {
		return 7
	}
	return 3
}

// Config describes a ContinuousNet: the architecture, its weight basis and
// its initial manifestation.
type Config struct {
	// Width is α, the channels of the first ODE block (then 2α and 4α).
	Width int
	// Classes is the number of outputs of the linear head.
	Classes int
	// InChannels is the number of image channels (3 for CIFAR).
	InChannels int
	// Pieces is K, the number of pieces of θ(t) of every ODE block.
	Pieces int
	// Basis is the function space of θ(t); the zero value is the paper's
	// PiecewiseConstant.
	Basis Basis
	// Steps is Nt, the number of integration steps on [0, 1]; 0 means K.
	Steps int
	// Scheme is the Runge-Kutta tableau; nil means Euler.
	Scheme *integrators.Tableau
	// KnotRule is which piece a stage on a knot reads (see the package
	// documentation); the zero value is integrators.NextPiece, the authors'
	// runs.
	KnotRule integrators.KnotRule
	// Unit is the residual unit's layer order.
	Unit Unit
	// Stem is the input convolution.
	Stem Stem
	// SkipInit adds a learnable scalar per piece (and one per stitch) that
	// multiplies the residual branch. Without it the scalar is 1.
	SkipInit bool
	// SkipInitValue is the initial value of every SkipInit scalar: 0 in the
	// paper (every block starts as the identity).
	SkipInitValue float32
	// Epsilon is ε, the time scale of every ODE block (> 0): dx/dt = ε·R.
	Epsilon float64
	// FinalBN adds BN-ReLU after the last ODE block (the pre-activation
	// network needs it; the arXiv-v1 parameter counts include it).
	FinalBN bool
}

// DefaultConfig returns the network of nnlib/testdata/bench/torch_reference.py
// and the authors' post-v1 code: α = 16, 10 classes, 3×3 stem, the
// pre-activation unit with SkipInit (initialised to 0 here, as in the
// paper; the timing script starts it at 0.1), ε = 1, a final BN-ReLU, K = 1
// piece, Euler with Nt = K and the NextPiece knot rule.
func DefaultConfig() Config {
	return Config{
		Width: 16, Classes: 10, InChannels: 3, Pieces: 1,
		Scheme: integrators.MustBuiltin("euler"), KnotRule: integrators.NextPiece,
		Unit: PreActivation, Stem: Stem3x3, SkipInit: true, Epsilon: 1, FinalBN: true,
	}
}

// V1Config returns DefaultConfig with the arXiv-v1 code's 7×7 stem: the
// network whose parameter counts paper/README.md lists (172,863 at K = 1 for
// α = 16).
func V1Config() Config {
	c := DefaultConfig()
	c.Stem = Stem7x7
	return c
}

// withDefaults fills Steps and Scheme.
func (c Config) withDefaults() Config {
	if c.Scheme == nil {
		c.Scheme = integrators.MustBuiltin("euler")
	}
	if c.Steps == 0 {
		c.Steps = c.Pieces
	}
	return c
}

// Validate reports the first field that is out of range, naming it.
func (c Config) Validate() error {
	switch {
	case c.Width < 1:
		return fmt.Errorf("odenet: Config.Width = %d, want ≥ 1", c.Width)
	case c.Classes < 1:
		return fmt.Errorf("odenet: Config.Classes = %d, want ≥ 1", c.Classes)
	case c.InChannels < 1:
		return fmt.Errorf("odenet: Config.InChannels = %d, want ≥ 1", c.InChannels)
	case c.Pieces < 1:
		return fmt.Errorf("odenet: Config.Pieces (K) = %d, want ≥ 1", c.Pieces)
	case c.Steps < 0:
		return fmt.Errorf("odenet: Config.Steps (Nt) = %d, want ≥ 1 (or 0 for Nt = K)", c.Steps)
	case c.KnotRule != integrators.NextPiece && c.KnotRule != integrators.OwnPiece:
		return fmt.Errorf("odenet: Config.KnotRule = %d is not a known rule (next-piece or own-piece)", int(c.KnotRule))
	case c.Basis != PiecewiseConstant && c.Basis != PiecewiseLinear:
		return fmt.Errorf("odenet: Config.Basis = %d is not a known basis (piecewise-constant or piecewise-linear)", int(c.Basis))
	case c.Unit != PreActivation && c.Unit != ConvReLUBN:
		return fmt.Errorf("odenet: Config.Unit = %d is not a known unit (pre-activation or conv-relu-bn)", int(c.Unit))
	case c.Stem != Stem3x3 && c.Stem != Stem7x7:
		return fmt.Errorf("odenet: Config.Stem = %d is not a known stem (3x3 or 7x7)", int(c.Stem))
	case !(c.Epsilon > 0) || math.IsInf(c.Epsilon, 0):
		return fmt.Errorf("odenet: Config.Epsilon (ε) = %v, want a finite value > 0", c.Epsilon)
	case math.IsNaN(float64(c.SkipInitValue)) || math.IsInf(float64(c.SkipInitValue), 0):
		return fmt.Errorf("odenet: Config.SkipInitValue = %v, want a finite value", c.SkipInitValue)
	}
	return nil
}

// NumParams returns the number of trainable scalars of the network with
// this configuration, by formula (tested against the built model). With
// C_b ∈ {α, 2α, 4α} each ODE block holds, per piece, two 3×3 convs with
// bias (18C²+2C), two BatchNorms (4C) and a SkipInit scalar (1): the
// paper's per-K increment Σ_b (18C_b² + 6C_b + 1). The piecewise-linear
// basis has K+1 values of the convs and SkipInit scalars and K of the
// BatchNorms.
func (c Config) NumParams() int {
	a := c.Width
	skip := 0
	if c.SkipInit {
		skip = 1
	}
	k := c.Stem.kernel()
	n := k*k*c.InChannels*a + 2*a // stem conv, stem BN
	w := c.Basis.weightPieces(c.Pieces)
	for _, ch := range []int{a, 2 * a, 4 * a} {
		n += w*(18*ch*ch+2*ch+skip) + c.Pieces*4*ch
	}
	for _, s := range [][2]int{{a, 2 * a}, {2 * a, 4 * a}} {
		ci, co := s[0], s[1]
		n += ci*co + (9*ci*co + co) + (9*co*co + co) + 4*co + skip
	}
	if c.FinalBN {
		n += 2 * 4 * a
	}
	return n + 4*a*c.Classes + c.Classes
}

// configJSON is Config as data (checkpoint metadata).
type configJSON struct {
	Width         int              `json:"width"`
	Classes       int              `json:"classes"`
	InChannels    int              `json:"in_channels"`
	Pieces        int              `json:"pieces"`
	Basis         string           `json:"basis"`
	Steps         int              `json:"steps"`
	Scheme        integrators.Spec `json:"scheme"`
	KnotRule      string           `json:"knot_rule"`
	Unit          string           `json:"unit"`
	Stem          string           `json:"stem"`
	SkipInit      bool             `json:"skip_init"`
	SkipInitValue float32          `json:"skip_init_value"`
	Epsilon       float64          `json:"epsilon"`
	FinalBN       bool             `json:"final_bn"`
}

// MarshalJSON writes the configuration as data, the scheme as its exact
// tableau (integrators.Spec).
func (c Config) MarshalJSON() ([]byte, error) {
	c = c.withDefaults()
	return json.Marshal(configJSON{
		Width: c.Width, Classes: c.Classes, InChannels: c.InChannels, Pieces: c.Pieces, Steps: c.Steps,
		Basis: c.Basis.String(), Scheme: c.Scheme.Spec(), KnotRule: c.KnotRule.String(), Unit: c.Unit.String(), Stem: c.Stem.String(),
		SkipInit: c.SkipInit, SkipInitValue: c.SkipInitValue, Epsilon: c.Epsilon, FinalBN: c.FinalBN,
	})
}

// UnmarshalJSON reads what MarshalJSON wrote; unknown fields, unknown
// names and an invalid tableau are errors naming the field.
func (c *Config) UnmarshalJSON(data []byte) error {
	var j configJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("odenet: config: %w", err)
	}
	tab, err := j.Scheme.Tableau()
	if err != nil {
		return fmt.Errorf("odenet: config field scheme: %w", err)
	}
	rule, err := integrators.ParseKnotRule(j.KnotRule)
	if err != nil {
		return fmt.Errorf("odenet: config field knot_rule: %w", err)
	}
	basis, err := ParseBasis(j.Basis)
	if err != nil {
		return fmt.Errorf("odenet: config field basis: %w", err)
	}
	unit, err := ParseUnit(j.Unit)
	if err != nil {
		return fmt.Errorf("odenet: config field unit: %w", err)
	}
	stem, err := ParseStem(j.Stem)
	if err != nil {
		return fmt.Errorf("odenet: config field stem: %w", err)
	}
	*c = Config{Width: j.Width, Classes: j.Classes, InChannels: j.InChannels, Pieces: j.Pieces, Steps: j.Steps,
		Basis: basis, Scheme: tab, KnotRule: rule, Unit: unit, Stem: stem, SkipInit: j.SkipInit, SkipInitValue: j.SkipInitValue,
		Epsilon: j.Epsilon, FinalBN: j.FinalBN}
	return c.Validate()
}
