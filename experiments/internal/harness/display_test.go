package harness

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestETA(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		steps []Progress
		at    []time.Duration
		want  time.Duration
	}{
		{"no total", []Progress{{Done: 1}, {Done: 2}}, []time.Duration{0, time.Second}, -1},
		{"first report", []Progress{{Done: 1, Total: 10}}, []time.Duration{0}, -1},
		{"steady", []Progress{{Done: 0, Total: 10}, {Done: 2, Total: 10}}, []time.Duration{0, 4 * time.Second}, 16 * time.Second},
		// A resumed run starts at step 50: the rate counts from there.
		{"resumed", []Progress{{Done: 50, Total: 100}, {Done: 60, Total: 100}}, []time.Duration{0, 10 * time.Second}, 40 * time.Second},
		{"no progress", []Progress{{Done: 5, Total: 10}, {Done: 5, Total: 10}}, []time.Duration{0, time.Second}, -1},
	}
	for _, tt := range tests {
		var e eta
		got := time.Duration(-1)
		for i, p := range tt.steps {
			got = e.update(t0.Add(tt.at[i]), p)
		}
		if got != tt.want {
			t.Errorf("%s: ETA %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPlainDisplayThrottles(t *testing.T) {
	var b bytes.Buffer
	d := newDisplay(&b, false)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	d.start("e/r", false)
	for i := range 100 {
		now = now.Add(time.Second)
		d.progress("e/r", Progress{Done: float64(i), Total: 100, Epoch: i / 10, Epochs: 10, Loss: 1.5, Acc: 0.25})
	}
	d.end("e/r")
	d.stop()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// One "started" line, then the first report and one every 10 s.
	if len(lines) != 11 {
		t.Fatalf("%d lines, want 11:\n%s", len(lines), b.String())
	}
	if want := "12:00:01 e/r epoch 0/10 loss 1.5 acc 25.00% 0%"; lines[1] != want {
		t.Errorf("first progress line %q, want %q", lines[1], want)
	}
	if want := "12:00:11 e/r epoch 1/10 loss 1.5 acc 25.00% 10% ETA 1m30s"; lines[2] != want {
		t.Errorf("second progress line %q, want %q", lines[2], want)
	}
}

func TestTerminalDisplayRedraws(t *testing.T) {
	var b bytes.Buffer
	d := newDisplay(&b, true)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	d.start("e/a", false)
	d.start("e/b", true)
	now = now.Add(time.Second)
	d.progress("e/a", Progress{Epoch: 2, Epochs: 5})
	d.log("e/b", "hello")
	d.end("e/a")
	d.stop()
	out := b.String()
	for _, w := range []string{"e/a started\n", "e/b resumed from its checkpoint\n", "e/b hello\n", "  ▸ e/a  1s  epoch 2/5\n", "\x1b[2F\x1b[J"} {
		if !strings.Contains(out, w) {
			t.Errorf("terminal output lacks %q:\n%q", w, out)
		}
	}
	if strings.Contains(out, "12:00") {
		t.Errorf("terminal output has timestamps:\n%q", out)
	}
}
