package enum

import (
	"slices"
	"strings"
	"testing"
)

type color int

var colors = New[color]("color", "red", "green")

func TestNames(t *testing.T) {
	tests := []struct {
		name    string
		want    color
		wantErr string
	}{
		{"red", 0, ""},
		{"green", 1, ""},
		{"blue", 0, `unknown color "blue"; valid: red, green`},
		{"", 0, `unknown color ""`},
	}
	for _, tt := range tests {
		got, err := colors.Parse(tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q): %v, want an error containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want || colors.String(got) != tt.name {
			t.Errorf("Parse(%q) = %v, %v; String %q", tt.name, got, err, colors.String(got))
		}
	}
	if s := colors.String(7); s != "color(7)" {
		t.Errorf("String(7) = %q", s)
	}
	all := colors.All()
	all[0] = "x"
	if !slices.Equal(colors.All(), []string{"red", "green"}) {
		t.Error("All shares its slice")
	}
}
