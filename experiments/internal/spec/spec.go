// Package spec reads experiment specs: one YAML file per experiment that
// lists its runs, each with a kind, a seed, every hyper-parameter, how the
// parameters change per profile, an optional matrix expansion and the runs it
// needs. Specs are decoded strictly: an unknown, duplicated or missing key, a
// wrong type or a bad name is an error naming file:line and the valid
// choices, because a silently ignored typo in a hyper-parameter is a wrong
// experiment that looks right.
//
// A run that several experiments use is declared once, in a shared-runs file
// (specs/shared/*.yaml, see Shared), and an experiment lists it with
// `- use: NAME`; parameters that many runs of a file share are written once
// in the file's defaults, per kind (see Defaults). Every value of a run
// comes from the one file that declares the run, so errors name that file.
//
// The package knows nothing of what a kind computes; the harness decodes each
// run's merged parameters into the kind's own struct with DecodeStrict.
package spec

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The profiles, in increasing cost. Quick is the default.
const (
	Smoke = "smoke" // CI: seconds per experiment
	Quick = "quick" // the default: minutes to hours on a laptop
	Paper = "paper" // the authors' settings
)

// Profiles lists the valid profile names.
var Profiles = []string{Smoke, Quick, Paper}

// MaxRuns bounds the number of runs one spec may expand to, so a typo in a
// matrix cannot schedule a million runs.
const MaxRuns = 10000

// Spec is one experiment as written in its YAML file.
type Spec struct {
	File        string // where the spec was read from, for messages
	Name        string // experiment name; equals the file's base name (a shared-runs file: its base name)
	Claim       string // the paper claim(s) it tests, e.g. "a, b"
	Title       string
	Description string
	// OptIn marks an experiment that runs only when selected by name
	// (-only): one beyond the paper's claims, whose cost the default
	// reproduction should not pay (`opt_in: true`; default false).
	OptIn  bool
	Runs   []*RunDecl
	shared *Shared // where its `use` entries were looked up, for hints
}

// RunDecl is one entry of a spec's runs list before expansion, with its
// file's defaults for its kind already merged in (Params under the run's own
// params, Profiles under its own overrides, Seed or Seeds when the run names
// neither). An experiment's `- use: NAME` entry is the shared run's RunDecl
// itself.
type RunDecl struct {
	Src      *Spec  // the file that declares the run: the experiment, or a shared-runs file
	Line     int    // line of the entry in Src.File
	Name     string // may hold {key} placeholders filled by the matrix
	Kind     string
	KindLine int
	Seed     uint64
	// Seeds, when set, repeat the run once per seed of the profile (see
	// Expand); nil when the run has one seed, Seed.
	Seeds    map[string][]uint64
	Params   *yaml.Node            // a mapping node (empty when absent)
	Profiles map[string]*yaml.Node // profile name → mapping of parameter overrides
	Matrix   []Axis
	Needs    []string // run names, may hold {key} placeholders
	seedSet  bool     // the entry writes seed: (so the defaults' seeds do not apply)
	seedLine int      // the line that set Seed or Seeds (0: none did)
}

// Axis is one key of a matrix: the run is repeated for each value.
type Axis struct {
	Key    string // a top-level parameter name, or "seed"
	Line   int
	Values []*yaml.Node
}

// Run is one expanded run: its name is final and Params holds the merged
// parameters (base, then the profile's overrides, then the matrix values).
// Nodes keep their original lines, so errors point at the line that set the
// value.
type Run struct {
	// Spec is the file that declares the run (Decl.Src): the experiment's
	// spec, or the shared-runs file of a run the experiment uses. Every value
	// in Params comes from it, so Spec.File is the file of every line.
	Spec *Spec
	Decl *RunDecl
	Name string
	// Group is the name the run has before its seed suffix when it is one of
	// the runs a `seeds` list expands to (Name = Group + SeedSuffix(Seed)),
	// else "".
	Group    string
	Kind     string
	Seed     uint64
	Params   *yaml.Node
	Needs    []string // names of runs of the same spec, final
	Matrix   map[string]string
	Profile  string
	Line     int
	KindLine int
}

// Where returns "file:line" of the run's entry.
func (r *Run) Where() string { return fmt.Sprintf("%s:%d", r.Spec.File, r.Line) }

var (
	specNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	runNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$`)
	keyRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	placeRE    = regexp.MustCompile(`\{([^{}]*)\}`)
)

// errorf formats an error located at file:line.
func errorf(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
}

var (
	specKeys   = []string{"name", "claim", "title", "description", "opt_in", "defaults", "runs"}
	sharedKeys = []string{"defaults", "runs"}
	runKeys    = []string{"name", "kind", "seed", "seeds", "params", "profiles", "matrix", "needs", "use"}
)

// Parse decodes one spec that uses no shared run. file names it in
// messages; if it ends in .yaml its base name must equal the spec's name.
func Parse(file string, data []byte) (*Spec, error) { return ParseUsing(file, data, nil) }

// ParseUsing decodes one spec whose `use` entries name runs of shared (nil:
// no shared runs). file names it in messages; if it ends in .yaml its base
// name must equal the spec's name.
func ParseUsing(file string, data []byte, shared *Shared) (*Spec, error) {
	root, err := parseDoc(file, data)
	if err != nil {
		return nil, err
	}
	m, err := fields(file, root, "the spec", specKeys)
	if err != nil {
		return nil, err
	}
	s := &Spec{File: file, shared: shared}
	for _, k := range []string{"name", "runs"} {
		if m[k] == nil {
			return nil, errorf(file, root.Line, "the spec has no %q (required)", k)
		}
	}
	for k, dst := range map[string]*string{"name": &s.Name, "claim": &s.Claim, "title": &s.Title, "description": &s.Description} {
		if n := m[k]; n != nil {
			if *dst, err = str(file, n, k); err != nil {
				return nil, err
			}
		}
	}
	if n := m["opt_in"]; n != nil {
		if s.OptIn, err = boolean(file, n, "opt_in"); err != nil {
			return nil, err
		}
	}
	if !specNameRE.MatchString(s.Name) {
		return nil, errorf(file, m["name"].Line, "spec name %q: use lower-case letters, digits and '-'", s.Name)
	}
	if base := path.Base(strings.ReplaceAll(file, `\`, "/")); strings.HasSuffix(base, ".yaml") && strings.TrimSuffix(base, ".yaml") != s.Name {
		return nil, errorf(file, m["name"].Line, "spec name %q differs from its file name %q; rename one", s.Name, base)
	}
	if err := s.parseRuns(m["defaults"], m["runs"], shared); err != nil {
		return nil, err
	}
	return s, nil
}

// parseDoc reads the one YAML document of a spec file and checks its tree.
func parseDoc(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, fmt.Errorf("%s: the spec is empty; a spec holds at least name: and runs: (see experiments/specs/README.md)", file)
	} else if err != nil {
		return nil, fmt.Errorf("%s: %s", file, fixLines(file, err.Error()))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errorf(file, extra.Line, "a spec file holds one YAML document; remove the second one")
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("%s: empty spec", file)
	}
	root := doc.Content[0]
	if err := checkTree(file, root, 0); err != nil {
		return nil, err
	}
	return root, nil
}

// parseRuns reads a file's defaults and runs list into s.Runs; `use`
// entries are looked up in shared.
func (s *Spec) parseRuns(defaults, runs *yaml.Node, shared *Shared) error {
	defs, err := parseDefaults(s.File, defaults)
	if err != nil {
		return err
	}
	if runs.Kind != yaml.SequenceNode || len(runs.Content) == 0 {
		return errorf(s.File, runs.Line, "runs: want a non-empty list of runs")
	}
	for _, rn := range runs.Content {
		if u := useOf(rn); u != nil {
			d, err := shared.lookup(s.File, rn, u)
			if err != nil {
				return err
			}
			s.Runs = append(s.Runs, d)
			continue
		}
		d, err := parseRun(s.File, rn)
		if err != nil {
			return err
		}
		d.Src = s
		if err := defs.apply(s.File, d); err != nil {
			return err
		}
		s.Runs = append(s.Runs, d)
	}
	return defs.checkUsed(s.File)
}

func parseRun(file string, rn *yaml.Node) (*RunDecl, error) {
	m, err := fields(file, rn, "a run", runKeys)
	if err != nil {
		return nil, err
	}
	d := &RunDecl{Line: rn.Line, Profiles: map[string]*yaml.Node{}}
	for _, k := range []string{"name", "kind"} {
		if m[k] == nil {
			return nil, errorf(file, rn.Line, "the run has no %q (required)", k)
		}
	}
	if d.Name, err = str(file, m["name"], "name"); err != nil {
		return nil, err
	}
	if d.Kind, err = str(file, m["kind"], "kind"); err != nil {
		return nil, err
	}
	d.KindLine = m["kind"].Line
	if n := m["seed"]; n != nil {
		d.seedSet, d.seedLine = true, n.Line
		if n.Kind != yaml.ScalarNode {
			return nil, errorf(file, n.Line, "seed: want a non-negative integer")
		}
		if d.Seed, err = strconv.ParseUint(n.Value, 10, 64); err != nil {
			return nil, errorf(file, n.Line, "seed: want a non-negative integer, got %q", n.Value)
		}
	}
	if n := m["seeds"]; n != nil {
		if m["seed"] != nil {
			return nil, errorf(file, n.Line, "seeds: a run has either seed or seeds; remove seed")
		}
		if d.Seeds, err = parseSeeds(file, n); err != nil {
			return nil, err
		}
		d.seedLine = n.Line
	}
	d.Params = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: rn.Line, Column: rn.Column}
	if n := m["params"]; n != nil {
		if n.Kind != yaml.MappingNode {
			return nil, errorf(file, n.Line, "params: want a mapping of parameter names to values")
		}
		d.Params = n
	}
	if n := m["profiles"]; n != nil {
		pm, err := fields(file, n, "profiles", Profiles)
		if err != nil {
			return nil, err
		}
		for p, v := range pm {
			if v.Kind != yaml.MappingNode {
				return nil, errorf(file, v.Line, "profiles.%s: want a mapping of parameter overrides", p)
			}
			d.Profiles[p] = v
		}
	}
	if n := m["matrix"]; n != nil {
		if n.Kind != yaml.MappingNode {
			return nil, errorf(file, n.Line, "matrix: want a mapping of parameter names to lists of values")
		}
		for i := 0; i < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !keyRE.MatchString(k.Value) {
				return nil, errorf(file, k.Line, "matrix key %q: want a top-level parameter name or \"seed\"", k.Value)
			}
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				return nil, errorf(file, v.Line, "matrix.%s: want a non-empty list of values", k.Value)
			}
			if k.Value == "seed" {
				if d.Seeds != nil {
					return nil, errorf(file, k.Line, "matrix.seed: the run already has a seeds list; use one of them")
				}
				for _, sv := range v.Content {
					if _, err := strconv.ParseUint(sv.Value, 10, 64); sv.Kind != yaml.ScalarNode || err != nil {
						return nil, errorf(file, sv.Line, "matrix.seed: want non-negative integers, got %q", sv.Value)
					}
				}
			}
			d.Matrix = append(d.Matrix, Axis{Key: k.Value, Line: k.Line, Values: v.Content})
		}
	}
	if n := m["needs"]; n != nil {
		if n.Kind != yaml.SequenceNode {
			return nil, errorf(file, n.Line, "needs: want a list of run names")
		}
		for _, v := range n.Content {
			s, err := str(file, v, "needs")
			if err != nil {
				return nil, err
			}
			d.Needs = append(d.Needs, s)
		}
	}
	return d, nil
}

// parseSeeds reads a run's seeds: a list of distinct non-negative integers
// for every profile, or a mapping from each profile to such a list.
func parseSeeds(file string, n *yaml.Node) (map[string][]uint64, error) {
	list := func(what string, v *yaml.Node) ([]uint64, error) {
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return nil, errorf(file, v.Line, "%s: want a non-empty list of seeds, e.g. [1, 2, 3]", what)
		}
		var out []uint64
		for _, sv := range v.Content {
			x, err := strconv.ParseUint(sv.Value, 10, 64)
			if sv.Kind != yaml.ScalarNode || err != nil {
				return nil, errorf(file, sv.Line, "%s: want non-negative integers, got %q", what, sv.Value)
			}
			if slices.Contains(out, x) {
				return nil, errorf(file, sv.Line, "%s: seed %d is listed twice", what, x)
			}
			out = append(out, x)
		}
		return out, nil
	}
	out := map[string][]uint64{}
	if n.Kind == yaml.SequenceNode {
		seeds, err := list("seeds", n)
		if err != nil {
			return nil, err
		}
		for _, p := range Profiles {
			out[p] = seeds
		}
		return out, nil
	}
	pm, err := fields(file, n, "seeds", Profiles)
	if err != nil {
		return nil, fmt.Errorf("%w (seeds: a list, or a mapping of every profile to a list)", err)
	}
	for _, p := range Profiles {
		v := pm[p]
		if v == nil {
			return nil, errorf(file, n.Line, "seeds: profile %q has no seeds; name every profile (%s)", p, strings.Join(Profiles, ", "))
		}
		if out[p], err = list("seeds."+p, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SeedSuffix is what a `seeds` list appends to a run's name for one seed.
func SeedSuffix(seed uint64) string { return "/seed" + strconv.FormatUint(seed, 10) }

// checkTree rejects what a spec must not hold anywhere: duplicated mapping
// keys, non-scalar keys, anchors and aliases (every value is spelled out
// where it applies), and absurd nesting.
func checkTree(file string, n *yaml.Node, depth int) error {
	if depth > 64 {
		return errorf(file, n.Line, "nesting deeper than 64 levels")
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return errorf(file, n.Line, "YAML anchors and aliases are not supported in specs; spell the value out")
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return errorf(file, k.Line, "mapping keys must be plain names")
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				return errorf(file, k.Line, "YAML merge keys (<<) are not supported in specs; spell the values out")
			}
			if prev, dup := seen[k.Value]; dup {
				return errorf(file, k.Line, "key %q is duplicated (first at line %d)", k.Value, prev)
			}
			seen[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		if err := checkTree(file, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// fields returns the values of mapping n by key, rejecting keys not in valid.
func fields(file string, n *yaml.Node, what string, valid []string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errorf(file, n.Line, "%s: want a mapping with keys %s", what, strings.Join(valid, ", "))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(valid, k.Value) {
			return nil, errorf(file, k.Line, "unknown key %q in %s%s; valid keys: %s", k.Value, what, suggest(k.Value, valid), strings.Join(valid, ", "))
		}
		out[k.Value] = n.Content[i+1]
	}
	return out, nil
}

func str(file string, n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" && n.Tag != "!!bool") {
		return "", errorf(file, n.Line, "%s: want a string", what)
	}
	return n.Value, nil
}

// boolean reads a YAML boolean (true or false).
func boolean(file string, n *yaml.Node, what string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, errorf(file, n.Line, "%s: want true or false, got %q", what, n.Value)
	}
	return b, nil
}

// suggest returns ` (did you mean "x"?)` for the closest valid name within
// edit distance 2, or "".
func suggest(s string, valid []string) string {
	best, bestD := "", 3
	for _, v := range valid {
		if d := editDistance(s, v); d < bestD {
			best, bestD = v, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// fixLines rewrites yaml.v3's "line N:" prefixes as "file:N:".
func fixLines(file, msg string) string {
	return lineRE.ReplaceAllString(msg, file+":$1:")
}

var lineRE = regexp.MustCompile(`line (\d+):`)

// LoadFS reads every *.yaml file at the top of fsys's dir, sorted by name,
// with the shared runs of dir/shared (see LoadShared) for their `use`
// entries. Two specs with the same name are an error.
func LoadFS(fsys fs.FS, dir string) ([]*Spec, error) {
	shared, err := LoadShared(fsys, path.Join(dir, SharedDir))
	if err != nil {
		return nil, err
	}
	out, err := parseDir(fsys, dir, func(file string, data []byte) (*Spec, error) { return ParseUsing(file, data, shared) })
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
