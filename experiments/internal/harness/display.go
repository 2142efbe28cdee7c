package harness

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// display shows what runs are doing. On a terminal it keeps one live line
// per running run at the bottom of the screen (progress, ETA) and prints
// events above it; elsewhere (CI, a pipe, a file) it prints timestamped
// lines, progress at most every plainEvery per run.
type display struct {
	mu       sync.Mutex
	out      io.Writer
	term     bool
	live     []string // running run names, in start order
	state    map[string]*liveState
	drawn    int // live lines currently on screen
	lastDraw time.Time
	stopped  bool
	now      func() time.Time
}

type liveState struct {
	started  time.Time
	text     string
	eta      eta
	left     time.Duration
	lastLine time.Time
}

const (
	plainEvery = 10 * time.Second
	drawEvery  = 200 * time.Millisecond
)

func newDisplay(out io.Writer, term bool) *display {
	return &display{out: out, term: term, state: map[string]*liveState{}, now: time.Now}
}

// IsTerminal reports whether f is a character device (a terminal) and
// TERM is not "dumb".
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

func (d *display) start(name string, resumed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.live = append(d.live, name)
	d.state[name] = &liveState{started: d.now(), left: -1}
	msg := "started"
	if resumed {
		msg = "resumed from its checkpoint"
	}
	d.printLocked(name, msg)
}

func (d *display) end(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, n := range d.live {
		if n == name {
			d.live = append(d.live[:i], d.live[i+1:]...)
			break
		}
	}
	delete(d.state, name)
	d.redrawLocked()
}

func (d *display) progress(name string, p Progress) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.state[name]
	if st == nil {
		return
	}
	now := d.now()
	st.text = p.String()
	st.left = st.eta.update(now, p)
	if d.term {
		if now.Sub(d.lastDraw) >= drawEvery {
			d.redrawLocked()
		}
		return
	}
	if now.Sub(st.lastLine) >= plainEvery {
		st.lastLine = now
		d.printLocked(name, st.text+etaText(st.left))
	}
}

func etaText(left time.Duration) string {
	if left < 0 {
		return ""
	}
	return " ETA " + left.Round(time.Second).String()
}

func (d *display) log(name, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.printLocked(name, msg)
}

// line prints an event about a run (finished, failed...).
func (d *display) line(name, msg string) { d.log(name, msg) }

// printLocked prints one event line, above the live block on a terminal.
func (d *display) printLocked(name, msg string) {
	if d.stopped {
		return
	}
	d.clearLocked()
	msg = strings.TrimRight(msg, "\n")
	if d.term {
		fmt.Fprintf(d.out, "%s %s\n", name, msg)
	} else {
		fmt.Fprintf(d.out, "%s %s %s\n", d.now().UTC().Format("15:04:05"), name, msg)
	}
	d.drawLocked()
}

func (d *display) clearLocked() {
	if !d.term || d.drawn == 0 {
		return
	}
	// Move up over the live block and clear to the end of the screen.
	fmt.Fprintf(d.out, "\x1b[%dF\x1b[J", d.drawn)
	d.drawn = 0
}

func (d *display) drawLocked() {
	if !d.term || d.stopped {
		return
	}
	now := d.now()
	for _, n := range d.live {
		st := d.state[n]
		fmt.Fprintf(d.out, "  ▸ %s  %s  %s%s\n", n, now.Sub(st.started).Round(time.Second), st.text, etaText(st.left))
	}
	d.drawn = len(d.live)
	d.lastDraw = now
}

func (d *display) redrawLocked() {
	d.clearLocked()
	d.drawLocked()
}

func (d *display) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clearLocked()
	d.stopped = true
}
