package integrators

import (
	"fmt"
	"sort"
	"strings"
)

// builtinSpecs are the built-in methods as data. Each is validated when
// first built, so a typo here fails every test.
var builtinSpecs = map[string]Spec{
	"euler": {ID: "euler", Label: "Euler", Order: 1,
		A: [][]string{{}}, B: []string{"1"}, C: []string{"0"}},
	"midpoint": {ID: "midpoint", Label: "Midpoint", Order: 2,
		A: [][]string{{}, {"1/2"}}, B: []string{"0", "1"}, C: []string{"0", "1/2"}},
	"heun": {ID: "heun", Label: "Heun (trapezoid)", Order: 2,
		A: [][]string{{}, {"1"}}, B: []string{"1/2", "1/2"}, C: []string{"0", "1"}},
	"kutta3": {ID: "kutta3", Label: "Kutta3", Order: 3,
		A: [][]string{{}, {"1/2"}, {"-1", "2"}}, B: []string{"1/6", "2/3", "1/6"}, C: []string{"0", "1/2", "1"}},
	"ssprk3": {ID: "ssprk3", Label: "SSPRK3", Order: 3,
		A: [][]string{{}, {"1"}, {"1/4", "1/4"}}, B: []string{"1/6", "1/6", "2/3"}, C: []string{"0", "1", "1/2"}},
	"rk4-classic": {ID: "rk4-classic", Label: "RK4-classic", Order: 4,
		A: [][]string{{}, {"1/2"}, {"0", "1/2"}, {"0", "0", "1"}},
		B: []string{"1/6", "1/3", "1/3", "1/6"}, C: []string{"0", "1/2", "1/2", "1"}},
	"rk4-38": {ID: "rk4-38", Label: "RK4-3/8", Order: 4,
		A: [][]string{{}, {"1/3"}, {"-1/3", "1"}, {"1", "-1", "1"}},
		B: []string{"1/8", "3/8", "3/8", "1/8"}, C: []string{"0", "1/3", "2/3", "1"}},
}

// aliases maps other spellings to built-in ids. Only torchdiffeq's "rk4",
// which is the 3/8 rule there (and in the authors' fork), is accepted.
var aliases = map[string]string{"rk4": "rk4-38"}

// Builtin returns the built-in tableau with the given id. The id "rk4" is
// accepted as an alias of "rk4-38", because torchdiffeq's fixed-grid "rk4"
// is the 3/8 rule; the returned tableau still reports id "rk4-38". An
// unknown id gives an error listing the valid ones.
func Builtin(id string) (*Tableau, error) {
	key := id
	if canon, ok := aliases[id]; ok {
		key = canon
	}
	sp, ok := builtinSpecs[key]
	if !ok {
		return nil, fmt.Errorf("integrators: unknown scheme %q: valid ids are %s (and \"rk4\", torchdiffeq's name for rk4-38)",
			id, strings.Join(BuiltinIDs(), ", "))
	}
	t, err := sp.Tableau()
	if err != nil {
		panic("integrators: built-in tableau is invalid: " + err.Error())
	}
	return t, nil
}

// MustBuiltin is like Builtin but panics on an unknown id; for ids fixed in
// the program.
func MustBuiltin(id string) *Tableau {
	t, err := Builtin(id)
	if err != nil {
		panic(err)
	}
	return t
}

// BuiltinIDs returns the ids of the built-in tableaus, sorted.
func BuiltinIDs() []string {
	ids := make([]string, 0, len(builtinSpecs))
	for id := range builtinSpecs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
