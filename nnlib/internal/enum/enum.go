// Package enum is the name table of odenet's small enumerations (residual
// unit, stem, basis, θ-coarsening mode): one value per
// name, the value being the name's index. Each enumeration declares its
// names once, in a Names, and its String, Parse and list of valid names all
// come from there, so they cannot disagree, and code that offers the
// choices (spec validation) asks the enumeration instead of listing them
// again.
package enum

import (
	"fmt"
	"slices"
	"strings"
)

// Names maps the values 0, 1, … of T to their names.
type Names[T ~int] struct {
	what  string // what a value is, in messages: "residual unit"
	names []string
}

// New returns the table of names, the name of value i at index i. what
// says what a value is, for error messages ("residual unit").
func New[T ~int](what string, names ...string) Names[T] {
	return Names[T]{what: what, names: names}
}

// String returns v's name, or "what(v)" for a value with none.
func (n Names[T]) String(v T) string {
	if int(v) >= 0 && int(v) < len(n.names) {
		return n.names[v]
	}
	return fmt.Sprintf("%s(%d)", n.what, int(v))
}

// Parse returns the value named name; an unknown name is an error that
// lists the valid ones.
func (n Names[T]) Parse(name string) (T, error) {
	if i := slices.Index(n.names, name); i >= 0 {
		return T(i), nil
	}
	return 0, fmt.Errorf("unknown %s %q; valid: %s", n.what, name, strings.Join(n.names, ", "))
}

// All returns the valid names, in value order (a copy).
func (n Names[T]) All() []string { return slices.Clone(n.names) }
