package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// SharedDir is the folder, below the specs folder, of the shared-runs files.
const SharedDir = "shared"

// kindDefaults is what a file's defaults give every run of one kind.
type kindDefaults struct {
	line     int // the kind's key
	seedLine int
	seed     uint64
	seedSet  bool
	seeds    map[string][]uint64
	params   *yaml.Node            // nil when absent
	profiles map[string]*yaml.Node // profile → overrides
	used     bool
}

// Defaults are a file's `defaults:` mapping, kind → {seed | seeds, params,
// profiles}: the values every run of that kind in the same file starts from,
// so that the parameters most runs share are written once. A run's params
// are laid over the defaults' params and its profile overrides over the
// defaults' overrides of the same profile (mappings merge key by key, other
// values replace), and the profile's merged overrides then over the merged
// params, as for a run without defaults. A run that writes seed or seeds
// keeps them. Defaults apply within their file only, so every value of a
// run still comes from the file that declares it.
type Defaults map[string]*kindDefaults

var defaultsKeys = []string{"seed", "seeds", "params", "profiles"}

func parseDefaults(file string, n *yaml.Node) (Defaults, error) {
	out := Defaults{}
	if n == nil {
		return out, nil
	}
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return nil, errorf(file, n.Line, "defaults: want a mapping of kind names to {seeds, params, profiles}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kind, v := n.Content[i].Value, n.Content[i+1]
		what := "defaults." + kind
		m, err := fields(file, v, what, defaultsKeys)
		if err != nil {
			return nil, err
		}
		d := &kindDefaults{line: n.Content[i].Line, profiles: map[string]*yaml.Node{}}
		if sv := m["seed"]; sv != nil {
			if m["seeds"] != nil {
				return nil, errorf(file, m["seeds"].Line, "%s.seeds: defaults have either seed or seeds; remove seed", what)
			}
			if err := sv.Decode(&d.seed); err != nil || sv.Kind != yaml.ScalarNode || sv.Tag != "!!int" {
				return nil, errorf(file, sv.Line, "%s.seed: want a non-negative integer, got %q", what, sv.Value)
			}
			d.seedSet, d.seedLine = true, sv.Line
		}
		if sv := m["seeds"]; sv != nil {
			if d.seeds, err = parseSeeds(file, sv); err != nil {
				return nil, err
			}
			d.seedLine = sv.Line
		}
		if pv := m["params"]; pv != nil {
			if pv.Kind != yaml.MappingNode {
				return nil, errorf(file, pv.Line, "%s.params: want a mapping of parameter names to values", what)
			}
			d.params = pv
		}
		if pv := m["profiles"]; pv != nil {
			pm, err := fields(file, pv, what+".profiles", Profiles)
			if err != nil {
				return nil, err
			}
			for p, o := range pm {
				if o.Kind != yaml.MappingNode {
					return nil, errorf(file, o.Line, "%s.profiles.%s: want a mapping of parameter overrides", what, p)
				}
				d.profiles[p] = o
			}
		}
		out[kind] = d
	}
	return out, nil
}

// apply merges the defaults of d's kind into d.
func (defs Defaults) apply(file string, d *RunDecl) error {
	k := defs[d.Kind]
	if k == nil {
		return nil
	}
	k.used = true
	if k.params != nil {
		line, col := d.Params.Line, d.Params.Column
		d.Params = merge(k.params, d.Params)
		d.Params.Line, d.Params.Column = line, col // a missing key is the run's to add
	}
	for p, o := range k.profiles {
		if own := d.Profiles[p]; own != nil {
			d.Profiles[p] = merge(o, own)
		} else {
			d.Profiles[p] = o
		}
	}
	if d.Seeds == nil && !d.seedSet {
		if k.seeds != nil {
			if hasMatrixSeed(d) {
				return errorf(file, d.Line, "run %q has a matrix seed and its kind's defaults a seeds list (line %d); write seed: 0 in the run to opt out", d.Name, k.line)
			}
			d.Seeds, d.seedLine = k.seeds, k.seedLine
		} else if k.seedSet {
			d.Seed, d.seedLine = k.seed, k.seedLine
		}
	}
	return nil
}

func hasMatrixSeed(d *RunDecl) bool {
	for _, ax := range d.Matrix {
		if ax.Key == "seed" {
			return true
		}
	}
	return false
}

// checkUsed rejects defaults for a kind no run of the file has: a
// misspelled kind would otherwise give nothing to anyone, silently.
func (defs Defaults) checkUsed(file string) error {
	var unused []string
	for kind, k := range defs {
		if !k.used {
			unused = append(unused, kind)
		}
	}
	if len(unused) == 0 {
		return nil
	}
	sort.Strings(unused)
	k := defs[unused[0]]
	return errorf(file, k.line, "defaults for kind %q: no run of this file has that kind; defaults apply to the runs of their own file (fix the kind's name or remove the entry)", unused[0])
}

// Shared holds the runs declared once for several experiments, in the
// shared-runs files (specs/shared/*.yaml). A shared-runs file has the
// `defaults` and `runs` of a spec and nothing else; an experiment lists one
// of its runs with `- use: NAME`, and the run then belongs to that
// experiment as if written there (its needs are names of the experiment's
// runs), with the same parameters and so the same key in every experiment
// that uses it: it is computed once. Run names are unique across the files.
type Shared struct {
	Files []*Spec
	runs  map[string]*RunDecl
}

// ParseShared decodes one shared-runs file.
func ParseShared(file string, data []byte) (*Spec, error) {
	root, err := parseDoc(file, data)
	if err != nil {
		return nil, err
	}
	m, err := fields(file, root, "a shared-runs file", sharedKeys)
	if err != nil {
		return nil, err
	}
	if m["runs"] == nil {
		return nil, errorf(file, root.Line, "the shared-runs file has no \"runs\" (required)")
	}
	s := &Spec{File: file, Name: strings.TrimSuffix(path.Base(file), ".yaml")}
	if err := s.parseRuns(m["defaults"], m["runs"], nil); err != nil {
		return nil, err
	}
	return s, nil
}

// NewShared indexes the runs of shared-runs files by name.
func NewShared(files ...*Spec) (*Shared, error) {
	sh := &Shared{Files: files, runs: map[string]*RunDecl{}}
	for _, f := range files {
		for _, d := range f.Runs {
			if prev := sh.runs[d.Name]; prev != nil {
				return nil, errorf(f.File, d.Line, "shared run %q is declared twice (first at %s:%d); a shared run is declared once", d.Name, prev.Src.File, prev.Line)
			}
			sh.runs[d.Name] = d
		}
	}
	return sh, nil
}

// LoadShared reads every *.yaml file of dir in fsys as a shared-runs file.
// A missing dir holds no shared runs.
func LoadShared(fsys fs.FS, dir string) (*Shared, error) {
	files, err := parseDir(fsys, dir, ParseShared)
	if errors.Is(err, fs.ErrNotExist) {
		return NewShared()
	} else if err != nil {
		return nil, err
	}
	return NewShared(files...)
}

// parseDir parses every *.yaml file directly in dir of fsys with parse, in
// file-name order.
func parseDir(fsys fs.FS, dir string, parse func(file string, data []byte) (*Spec, error)) ([]*Spec, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []*Spec
	for _, e := range ents {
		if e.IsDir() || path.Ext(e.Name()) != ".yaml" {
			continue
		}
		p := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		s, err := parse(p, data)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Names lists the shared runs' names, sorted.
func (sh *Shared) Names() []string {
	if sh == nil {
		return nil
	}
	out := make([]string, 0, len(sh.runs))
	for n := range sh.runs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// useOf returns the value of a runs entry that is `use: NAME`, else nil.
func useOf(rn *yaml.Node) *yaml.Node {
	if rn.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(rn.Content); i += 2 {
		if rn.Content[i].Value == "use" {
			return rn.Content[i+1]
		}
	}
	return nil
}

// lookup resolves the `use` entry rn of file, whose value is u.
func (sh *Shared) lookup(file string, rn, u *yaml.Node) (*RunDecl, error) {
	if len(rn.Content) != 2 {
		return nil, errorf(file, rn.Line, "a `use` entry holds only use: NAME; a run that differs from the shared one is a run of its own (write it with name, kind and params)")
	}
	name, err := str(file, u, "use")
	if err != nil {
		return nil, err
	}
	if sh == nil || len(sh.runs) == 0 {
		return nil, errorf(file, u.Line, "use: %q: no shared runs are loaded (they live in specs/%s/*.yaml)", name, SharedDir)
	}
	d := sh.runs[name]
	if d == nil {
		return nil, errorf(file, u.Line, "use: no shared run is named %q%s; shared runs: %s", name, suggest(name, sh.Names()), strings.Join(sh.Names(), ", "))
	}
	return d, nil
}

// Show writes a run's fully merged parameters, one top-level parameter a
// line in the order the merge produced, each with the file:line that set
// its value (for a value written as a block, the line of its key), after
// the run's kind and seed. It is what -show prints: where each value of a
// run built from defaults, a shared run and profile overrides comes from.
func (r *Run) Show() string {
	var b strings.Builder
	at := func(line int) string { return fmt.Sprintf("%s:%d", r.Spec.File, line) }
	seedLine := r.Line
	if r.Decl.seedLine > 0 {
		seedLine = r.Decl.seedLine
	}
	for _, ax := range r.Decl.Matrix {
		if ax.Key == "seed" {
			seedLine = ax.Line
		}
	}
	rows := [][2]string{{"kind: " + r.Kind, at(r.KindLine)}, {fmt.Sprintf("seed: %d", r.Seed), at(seedLine)}, {"params:", at(r.Params.Line)}}
	for i := 0; i+1 < len(r.Params.Content); i += 2 {
		k := r.Params.Content[i].Value
		rows = append(rows, [2]string{"  " + k + ": " + flow(r.Params.Content[i+1]), at(LineOf(r.Params, k))})
	}
	w := 0
	for _, row := range rows {
		if len(row[0]) <= 48 { // a longer value is not worth the others' padding
			w = max(w, len(row[0]))
		}
	}
	for _, row := range rows {
		fmt.Fprintf(&b, "%-*s  # %s\n", w, row[0], row[1])
	}
	return b.String()
}

// flow writes a value on one line, as YAML flow style.
func flow(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = flow(c)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case yaml.MappingNode:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+": "+flow(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return fmt.Sprintf("%q", n.Value)
	}
	return n.Value
}
