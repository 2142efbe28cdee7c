package spec

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeStrict decodes mapping node n into out (a pointer to a struct) and
// rejects, with file:line and the valid keys, any key that names no field,
// anywhere in the tree. Every struct field must be present unless its tag
// says `spec:"optional"`: a hyper-parameter left to a Go zero value is a
// hyper-parameter nobody chose. Field names are the yaml tag names (or the
// lower-cased Go name, as yaml.v3 does). Types implementing yaml.Unmarshaler
// are decoded by their own method.
//
// yaml.v3's Decoder.KnownFields is lost on Node.Decode and through custom
// unmarshalers, which is why the check is done here by reflection.
func DecodeStrict(file string, n *yaml.Node, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic(fmt.Sprintf("spec.DecodeStrict: out must be a non-nil pointer, got %T", out))
	}
	if err := checkTree(file, n, 0); err != nil {
		return err
	}
	if err := walk(file, n, v.Type().Elem(), ""); err != nil {
		return err
	}
	if err := n.Decode(out); err != nil {
		return errors.New(fixLines(file, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")))
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

type field struct {
	name     string
	optional bool
	typ      reflect.Type
}

func structFields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() && !(f.Anonymous && strings.Contains(opts, "inline")) {
			continue
		}
		if strings.Contains(opts, "inline") {
			// yaml.v3 reads an inline struct's keys as the outer struct's.
			if f.Type.Kind() != reflect.Struct {
				panic(fmt.Sprintf("spec.DecodeStrict: %v.%s: inline field of kind %v, want a struct", t, f.Name, f.Type.Kind()))
			}
			out = append(out, structFields(f.Type)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, field{name: name, optional: f.Tag.Get("spec") == "optional", typ: f.Type})
	}
	return out
}

func walk(file string, n *yaml.Node, t reflect.Type, where string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && t.Kind() != reflect.Interface {
		// An empty or ~ value would decode to the zero value: a choice
		// nobody wrote down, as a missing key would be.
		return errorf(file, n.Line, "%s: empty value; write the value (an empty or ~ value chooses nothing)", label(where))
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return errorf(file, n.Line, "%s: want a mapping", label(where))
		}
		fs := structFields(t)
		valid := make([]string, len(fs))
		for i, f := range fs {
			valid[i] = f.name
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			var f *field
			for j := range fs {
				if fs[j].name == k.Value {
					f = &fs[j]
				}
			}
			if f == nil {
				return errorf(file, k.Line, "unknown key %q in %s%s; valid keys: %s", k.Value, label(where), suggest(k.Value, valid), strings.Join(valid, ", "))
			}
			seen[k.Value] = true
			if err := walk(file, n.Content[i+1], f.typ, join(where, k.Value)); err != nil {
				return err
			}
		}
		var missing []string
		for _, f := range fs {
			if !f.optional && !seen[f.name] {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			return errorf(file, n.Line, "%s: missing %s (every hyper-parameter is spelled out in the spec)", label(where), strings.Join(quoteAll(missing), ", "))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return errorf(file, n.Line, "%s: want a mapping", label(where))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := walk(file, n.Content[i+1], t.Elem(), join(where, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return errorf(file, n.Line, "%s: want a list", label(where))
		}
		if t.Kind() == reflect.Array && len(n.Content) != t.Len() {
			return errorf(file, n.Line, "%s: want a list of %d values, got %d", label(where), t.Len(), len(n.Content))
		}
		for i, c := range n.Content {
			if err := walk(file, c, t.Elem(), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case reflect.Interface:
	default:
		if n.Kind != yaml.ScalarNode {
			return errorf(file, n.Line, "%s: want a single %s value", label(where), t.Kind())
		}
		return checkNumber(file, n, t, where)
	}
	return nil
}

// checkNumber rejects, for a numeric field, what yaml.v3 would accept and
// change silently: a fraction or exponent for an integer (15.7 truncates to
// 15, with the run key of 15) and a float that is not finite (NaN and ±Inf
// pass every range check written as a comparison, and no run key encodes
// them).
func checkNumber(file string, n *yaml.Node, t reflect.Type, where string) error {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Tag == "!!float" {
			return errorf(file, n.Line, "%s: want an integer, got %s", label(where), n.Value)
		}
	case reflect.Float32, reflect.Float64:
		var f float64
		if n.Decode(&f) == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return errorf(file, n.Line, "%s: want a finite number, got %s", label(where), n.Value)
		}
	}
	return nil
}

func label(where string) string {
	if where == "" {
		return "params"
	}
	return "params." + where
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// FieldError is what a params type's Validate returns for a bad value, so
// the harness can point at the line that set it. Field is the parameter's
// key path ("scheme", "optimizer.lr"); Choices, when set, are listed.
type FieldError struct {
	Field   string
	Msg     string
	Choices []string
}

func (e *FieldError) Error() string {
	s := fmt.Sprintf("params.%s: %s", e.Field, e.Msg)
	if len(e.Choices) > 0 {
		c := append([]string(nil), e.Choices...)
		sort.Strings(c)
		s += "; valid choices: " + strings.Join(c, ", ")
	}
	return s
}

// Invalid returns a *FieldError.
func Invalid(field string, choices []string, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Choices: choices}
}

// LineOf returns the line that set the value at the dotted path in mapping
// n: the value's line when it is a scalar or a flow collection (a profile
// override replaces the value and keeps the base's key), else its key's; or
// the line of the deepest key found on the way (n's own line if none).
func LineOf(n *yaml.Node, path string) int {
	line := n.Line
	cur := n
	for _, k := range strings.Split(path, ".") {
		if i := strings.IndexByte(k, '['); i >= 0 {
			k = k[:i]
		}
		if cur.Kind != yaml.MappingNode {
			return line
		}
		j := find(cur, k)
		if j < 0 {
			return line
		}
		line = cur.Content[j].Line // the key's line
		cur = cur.Content[j+1]
	}
	if cur.Kind == yaml.ScalarNode || cur.Style&yaml.FlowStyle != 0 {
		line = cur.Line // the value's: a profile override keeps the base's key
	}
	return line
}
