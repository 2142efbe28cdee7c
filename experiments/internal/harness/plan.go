package harness

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// Plan is the resolved work of one invocation: the units (one per distinct
// run key) in an order where each follows those it needs, and the targets
// (one per spec run) that map onto them.
type Plan struct {
	Profile string
	Units   []*Unit
	Targets []*Target
	Specs   []*spec.Spec
}

// Unit is one distinct computation. Several targets (the same run written in
// two specs) share a unit when their keys are equal.
type Unit struct {
	Key     string
	Kind    Kind
	Params  Params
	Seed    uint64
	Dataset string
	// Missing is non-empty when the dataset of the unit or of a unit it
	// needs is not here: why (DatasetFingerprinter). The unit will skip.
	Missing string
	Config  map[string]any // what the key was computed from
	Needs   []*Unit        // in the order of the first target's needs
	Targets []*Target
}

// Target is one run of one spec.
type Target struct {
	Experiment string
	Run        *spec.Run
	Unit       *Unit
}

// Name returns "experiment/run".
func (t *Target) Name() string { return t.Experiment + "/" + t.Run.Name }

// Select returns the specs whose name matches only, like go test -run. No
// match is an error listing the experiments. A nil only is the default
// selection: every spec but the opt-in ones (spec.Spec.OptIn), which run
// only when only names them, so that the default reproduction does not pay
// for experiments beyond the paper's claims.
func Select(specs []*spec.Spec, only *regexp.Regexp) ([]*spec.Spec, error) {
	if only == nil {
		var out []*spec.Spec
		for _, s := range specs {
			if !s.OptIn {
				out = append(out, s)
			}
		}
		return out, nil
	}
	var out []*spec.Spec
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
		if only.MatchString(s.Name) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-only %q matches no experiment; experiments: %s", only, strings.Join(names, ", "))
	}
	return out, nil
}

// Resolve expands the specs for profile, decodes and validates every run's
// parameters into its kind's struct and computes the run keys. The other
// profiles are expanded and validated too (and then dropped), so a mistake
// under paper: is reported by the first smoke run, not days later.
func Resolve(specs []*spec.Spec, profile string) (*Plan, error) {
	for _, other := range spec.Profiles {
		if other == profile {
			continue
		}
		if _, err := resolve(specs, other); err != nil {
			return nil, fmt.Errorf("profile %s: %w", other, err)
		}
	}
	return resolve(specs, profile)
}

func resolve(specs []*spec.Spec, profile string) (*Plan, error) {
	p := &Plan{Profile: profile, Specs: specs}
	byKey := map[string]*Unit{}
	for _, s := range specs {
		runs, err := s.Expand(profile)
		if err != nil {
			return nil, err
		}
		local := map[string]*Unit{}
		for _, r := range runs {
			u, err := resolveRun(r, local)
			if err != nil {
				return nil, err
			}
			if prev := byKey[u.Key]; prev != nil {
				u = prev
			} else {
				byKey[u.Key] = u
				p.Units = append(p.Units, u)
			}
			local[r.Name] = u
			t := &Target{Experiment: s.Name, Run: r, Unit: u}
			u.Targets = append(u.Targets, t)
			p.Targets = append(p.Targets, t)
		}
	}
	return p, nil
}

func resolveRun(r *spec.Run, local map[string]*Unit) (*Unit, error) {
	k, ok := Lookup(r.Kind)
	if !ok {
		return nil, fmt.Errorf("%s:%d: run %q: unknown kind %q; valid kinds: %s", r.Spec.File, r.KindLine, r.Name, r.Kind, strings.Join(Kinds(), ", "))
	}
	params := k.NewParams()
	if err := spec.DecodeStrict(r.Spec.File, r.Params, params); err != nil {
		return nil, fmt.Errorf("%s (run %q, kind %q)", err, r.Name, r.Kind)
	}
	if err := params.Validate(); err != nil {
		line := r.Line
		if fe, ok := err.(*spec.FieldError); ok {
			line = spec.LineOf(r.Params, fe.Field)
		}
		return nil, fmt.Errorf("%s:%d: run %q: %v", r.Spec.File, line, r.Name, err)
	}
	u := &Unit{Kind: k, Params: params, Seed: r.Seed}
	if d, ok := k.(DatasetFingerprinter); ok {
		u.Dataset, u.Missing = d.Dataset(params)
	}
	var needKeys []string
	for _, n := range r.Needs {
		nu := local[n] // Expand ordered needs first
		u.Needs = append(u.Needs, nu)
		needKeys = append(needKeys, nu.Key)
		if u.Missing == "" {
			u.Missing = nu.Missing
		}
	}
	pj, err := canonical(params)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: run %q: its parameters have no run key (%v); write finite numbers", r.Spec.File, r.Line, r.Name, err)
	}
	u.Config = map[string]any{
		"schema":  record.SchemaVersion,
		"kind":    k.Name(),
		"version": k.Version(),
		"params":  pj,
		"seed":    r.Seed,
		"needs":   needKeys,
		"dataset": u.Dataset,
	}
	u.Key = Key(u.Config)
	return u, nil
}

// canonical turns v into plain JSON values (maps, slices, json.Number...)
// whose encoding has sorted keys.
func canonical(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Key returns the hex SHA-256 of the canonical JSON encoding of config
// (encoding/json sorts map keys, so equal configurations hash equally).
func Key(config map[string]any) string {
	b, err := json.Marshal(config)
	if err != nil {
		panic(fmt.Sprintf("harness.Key: %v", err))
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
