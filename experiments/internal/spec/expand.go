package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Expand resolves the spec for one profile: each run's parameters are its
// params, then the profile's overrides (mappings merged key by key, other
// values replaced), then one value of each matrix key. A run with a seeds
// list is repeated once per seed of the profile, named NAME/seedS (Group
// NAME); a need of such a group means the run of the same seed for a seeded
// run, and every seed, in listed order, for a run with one seed. Runs come out in a
// deterministic order in which every run follows the runs it needs: the
// spec's order, matrix keys in written order with the last varying fastest,
// moved only as far as its needs require.
func (s *Spec) Expand(profile string) ([]*Run, error) {
	if !slices.Contains(Profiles, profile) {
		return nil, fmt.Errorf("unknown profile %q; valid profiles: %s", profile, strings.Join(Profiles, ", "))
	}
	var runs []*Run
	byName := map[string]*Run{}
	for _, d := range s.Runs {
		src := d.Src
		if src == nil {
			src = s
		}
		count := 1
		for _, ax := range d.Matrix {
			count *= len(ax.Values)
			if count > MaxRuns || len(runs)+count > MaxRuns {
				return nil, errorf(src.File, ax.Line, "the matrix expands to more than %d runs", MaxRuns)
			}
		}
		base := d.Params
		if o := d.Profiles[profile]; o != nil {
			base = merge(base, o)
		}
		seeds := []uint64{d.Seed}
		if d.Seeds != nil {
			seeds = d.Seeds[profile]
		}
		if len(runs)+count*len(seeds) > MaxRuns {
			return nil, errorf(src.File, d.Line, "the run expands to more than %d runs", MaxRuns)
		}
		idx := make([]int, len(d.Matrix))
		for n := 0; n < count; n++ {
			params := base
			seed := d.Seed
			vals := map[string]string{}
			for i, ax := range d.Matrix {
				v := ax.Values[idx[i]]
				vals[ax.Key] = render(v)
				if ax.Key == "seed" {
					seed, _ = strconv.ParseUint(v.Value, 10, 64) // checked by Parse
					continue
				}
				params = set(params, ax.Key, v)
			}
			name, err := fill(src.File, d.Line, d.Name, vals)
			if err != nil {
				return nil, err
			}
			var needs []string
			for _, nd := range d.Needs {
				need, err := fill(src.File, d.Line, nd, vals)
				if err != nil {
					return nil, err
				}
				needs = append(needs, need)
			}
			for _, sd := range seeds {
				if d.Seeds != nil {
					seed = sd
				}
				r := &Run{Spec: src, Decl: d, Name: name, Kind: d.Kind, Seed: seed, Params: params, Needs: needs,
					Profile: profile, Line: d.Line, KindLine: d.KindLine}
				if len(vals) > 0 {
					r.Matrix = vals
				}
				if d.Seeds != nil {
					r.Group, r.Name = name, name+SeedSuffix(seed)
				}
				if !runNameRE.MatchString(r.Name) || strings.Contains(r.Name, "__") {
					return nil, errorf(src.File, d.Line, "run name %q: use letters, digits, '.', '_', '-' and '/' between parts (no \"__\")", r.Name)
				}
				if prev := byName[r.Name]; prev != nil {
					return nil, errorf(src.File, d.Line, "run name %q is used twice in experiment %s (first at %s); put every matrix key in the name as {key}, and use a shared run once", r.Name, s.Name, prev.Where())
				}
				byName[r.Name] = r
				runs = append(runs, r)
			}
			// Advance the matrix counter, last key fastest.
			for i := len(idx) - 1; i >= 0; i-- {
				idx[i]++
				if idx[i] < len(d.Matrix[i].Values) {
					break
				}
				idx[i] = 0
			}
		}
	}
	groups := map[string][]string{} // group → its runs' names, in seed order
	for _, r := range runs {
		if r.Group != "" {
			groups[r.Group] = append(groups[r.Group], r.Name)
		}
	}
	for _, r := range runs {
		var needs []string
		for _, nd := range r.Needs {
			if nd == r.Name || nd == r.Group {
				return nil, errorf(r.Spec.File, r.Line, "run %q needs itself", r.Name)
			}
			members, isGroup := groups[nd]
			switch {
			case byName[nd] != nil:
				needs = append(needs, nd)
			case isGroup && r.Group != "":
				// A seeded run needs the run of its own seed.
				name := nd + SeedSuffix(r.Seed)
				if byName[name] == nil {
					return nil, errorf(r.Spec.File, r.Line, "run %q (seed %d) needs %q, which has no seed %d; give both runs the same seeds", r.Name, r.Seed, nd, r.Seed)
				}
				needs = append(needs, name)
			case isGroup:
				// A run with one seed needs every seed of a seeded run.
				needs = append(needs, members...)
			case s.shared != nil && s.shared.runs[nd] != nil:
				return nil, errorf(r.Spec.File, r.Line, "run %q needs the shared run %q, which experiment %s does not use; add `- use: %s` to the runs of %s", r.Name, nd, s.Name, nd, s.File)
			default:
				return nil, errorf(r.Spec.File, r.Line, "run %q needs %q, which experiment %s does not define; runs: %s", r.Name, nd, s.Name, names(runs, 20))
			}
		}
		r.Needs = needs
	}
	return order(runs, byName)
}

// order sorts runs so that each follows its needs, keeping the spec order
// otherwise; a cycle is an error.
func order(runs []*Run, byName map[string]*Run) ([]*Run, error) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[*Run]int{}
	out := make([]*Run, 0, len(runs))
	var visit func(r *Run, path []string) error
	visit = func(r *Run, path []string) error {
		switch state[r] {
		case done:
			return nil
		case visiting:
			return errorf(r.Spec.File, r.Line, "runs need each other in a cycle: %s", strings.Join(append(path, r.Name), " → "))
		}
		state[r] = visiting
		for _, nd := range r.Needs {
			if err := visit(byName[nd], append(path, r.Name)); err != nil {
				return err
			}
		}
		state[r] = done
		out = append(out, r)
		return nil
	}
	for _, r := range runs {
		if err := visit(r, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func names(runs []*Run, max int) string {
	var b strings.Builder
	for i, r := range runs {
		if i == max {
			fmt.Fprintf(&b, ", … (%d more)", len(runs)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.Name)
	}
	return b.String()
}

// fill replaces {key} placeholders in a run name with matrix values.
func fill(file string, line int, tmpl string, vals map[string]string) (string, error) {
	var err error
	out := placeRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		k := m[1 : len(m)-1]
		v, ok := vals[k]
		if !ok && err == nil {
			err = errorf(file, line, "%q uses {%s}, which is not a matrix key of this run", tmpl, k)
		}
		return v
	})
	return out, err
}

// render writes a matrix value for a run name: a scalar as written, a list
// as its items joined by '-', e.g. [1, 2, 4] → "1-2-4".
func render(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = render(c)
		}
		return strings.Join(parts, "-")
	}
	return "x"
}

// merge returns base with over's keys laid on top: mappings merge key by key,
// anything else is replaced. Neither input is modified.
func merge(base, over *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := *base
	out.Content = append([]*yaml.Node(nil), base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		j := find(&out, k.Value)
		if j < 0 {
			out.Content = append(out.Content, k, v)
			continue
		}
		out.Content[j+1] = merge(out.Content[j+1], v)
	}
	return &out
}

// set returns mapping m with key set to v, m unmodified.
func set(m *yaml.Node, key string, v *yaml.Node) *yaml.Node {
	out := *m
	out.Content = append([]*yaml.Node(nil), m.Content...)
	if j := find(&out, key); j >= 0 {
		out.Content[j+1] = v
		return &out
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: v.Line, Column: v.Column}
	out.Content = append(out.Content, k, v)
	return &out
}

func find(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}
