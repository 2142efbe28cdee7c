// Package toykind defines small kinds for testing the harness: a
// deterministic iteration that checkpoints every step and can be told to
// panic, fail, skip, block until cancelled or kill its own process.
// Tests call Register once; nothing registers them otherwise.
package toykind

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
	"github.com/continuousnet/repro/nnlib/rng"
)

// Params of the toy kinds. The control fields are optional so test specs
// stay short; the computation's fields are required.
type Params struct {
	Steps   int     `yaml:"steps" json:"steps"`
	Decay   float64 `yaml:"decay" json:"decay"`
	Mode    string  `yaml:"mode" json:"mode"` // "walk" or "sum"
	PanicAt int     `yaml:"panic_at" json:"panic_at,omitempty" spec:"optional"`
	FailAt  int     `yaml:"fail_at" json:"fail_at,omitempty" spec:"optional"`
	// The fault injections below are not part of the key (json:"-"): a run
	// told to block or die resumes as the same run, and fires them only on
	// a fresh start.
	BlockAt int    `yaml:"block_at" json:"-" spec:"optional"` // block until cancelled
	KillAt  int    `yaml:"kill_at" json:"-" spec:"optional"`  // SIGKILL the process
	SleepMS int    `yaml:"sleep_ms" json:"-" spec:"optional"`
	Skip    string `yaml:"skip" json:"skip,omitempty" spec:"optional"`
	// Missing plays a missing dataset: Dataset reports it and Run skips.
	Missing string `yaml:"missing" json:"missing,omitempty" spec:"optional"`
}

// Modes are the valid values of Params.Mode.
var Modes = []string{"walk", "sum"}

// Validate checks the parameters.
func (p *Params) Validate() error {
	if p.Steps < 1 {
		return spec.Invalid("steps", nil, "want at least 1, got %d", p.Steps)
	}
	if p.Mode != "walk" && p.Mode != "sum" {
		return spec.Invalid("mode", Modes, "unknown mode %q", p.Mode)
	}
	return nil
}

// Kind is the toy kind; Exclusive makes it a timing kind.
type Kind struct {
	KindName    string
	Excl        bool
	RecordsOnly bool // reads only its needs' records, not their artifacts
}

var (
	once sync.Once
	// Running counts toy runs in progress; MaxRunning is its high-water
	// mark, and ExclusiveOverlap counts exclusive runs that saw another run.
	Running, MaxRunning, ExclusiveOverlap atomic.Int64
	// Blocked is signalled (non-blocking) when a run reaches BlockAt.
	Blocked = make(chan string, 16)
)

// Register registers "toy", "toy-exclusive" and "toy-records" once.
func Register() {
	once.Do(func() {
		harness.Register(Kind{KindName: "toy"})
		harness.Register(Kind{KindName: "toy-exclusive", Excl: true})
		harness.Register(Kind{KindName: "toy-records", RecordsOnly: true})
	})
}

func (k Kind) Name() string              { return k.KindName }
func (k Kind) Version() int              { return 1 }
func (k Kind) NewParams() harness.Params { return &Params{} }
func (k Kind) Exclusive() bool           { return k.Excl }
func (k Kind) SourceDirs() []string      { return []string{"experiments/internal/harness"} }
func (k Kind) Dataset(p harness.Params) (string, string) {
	if m := p.(*Params).Missing; m != "" {
		return "toy: missing", m
	}
	return "", ""
}
func (k Kind) Work(p harness.Params) (string, float64) {
	return "toy", float64(p.(*Params).Steps)
}

// Run iterates x ← decay·x + u with u uniform from a seeded stream, saving
// (step, x, path, stream) after every step.
func (k Kind) Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	n := Running.Add(1)
	defer Running.Add(-1)
	for {
		m := MaxRunning.Load()
		if n <= m || MaxRunning.CompareAndSwap(m, n) {
			break
		}
	}
	if k.Excl && n > 1 {
		ExclusiveOverlap.Add(1)
	}
	p := env.Params.(*Params)
	if p.Skip != "" {
		return nil, harness.Skip("%s", p.Skip)
	}
	if p.Missing != "" {
		return nil, harness.Skip("%s", p.Missing)
	}
	st := rng.New(env.Seed, "toy")
	x, step := 0.0, 0
	var path []float64
	for _, d := range env.Needs {
		v, _ := d.Record.Metric("x")
		x += v
		if k.RecordsOnly {
			continue
		}
		a, err := os.ReadFile(filepath.Join(d.ArtifactDir, "x.bin"))
		if err != nil || len(a) != 8 || math.Float64frombits(binary.LittleEndian.Uint64(a)) != v {
			return nil, fmt.Errorf("toy: artifact of %s: %v", d.Run, err)
		}
	}
	data, resumed, err := env.LoadCheckpoint()
	if err != nil {
		return nil, err
	}
	if resumed {
		if step, x, path, err = decode(data, st); err != nil {
			return nil, err
		}
	}
	for ; step < p.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch step + 1 {
		case p.PanicAt:
			panic(fmt.Sprintf("toy: told to panic at step %d", step+1))
		case p.FailAt:
			return nil, fmt.Errorf("toy: told to fail at step %d", step+1)
		case p.BlockAt:
			if resumed {
				break
			}
			select {
			case Blocked <- env.Run:
			default:
			}
			<-ctx.Done()
			return nil, ctx.Err()
		case p.KillAt:
			if !resumed {
				if p, err := os.FindProcess(os.Getpid()); err == nil {
					p.Kill() // SIGKILL on Unix: no deferred code runs, as with kill -9
				}
				select {}
			}
		}
		if p.Mode == "walk" {
			x = p.Decay*x + st.Float64()
		} else {
			x += p.Decay
		}
		path = append(path, x)
		if err := env.SaveCheckpoint(encode(step+1, x, path, st)); err != nil {
			return nil, err
		}
		env.Report(harness.Progress{Done: float64(step + 1), Total: float64(p.Steps), Loss: x})
		if p.SleepMS > 0 {
			time.Sleep(time.Duration(p.SleepMS) * time.Millisecond)
		}
	}
	xs := make([]float64, len(path))
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	if err := env.WriteArtifact("x.bin", binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))); err != nil {
		return nil, err
	}
	return &harness.Result{
		Metrics: map[string]float64{"x": x, "steps": float64(p.Steps)},
		Series:  []record.Series{{Name: "path", XName: "step", YName: "x", X: xs, Y: path}},
	}, nil
}

func encode(step int, x float64, path []float64, st *rng.Stream) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(step))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	for _, v := range path {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	s, _ := st.MarshalBinary()
	return append(b, s...)
}

func decode(b []byte, st *rng.Stream) (int, float64, []float64, error) {
	if len(b) < 16 {
		return 0, 0, nil, errors.New("toy: short checkpoint")
	}
	step := int(binary.LittleEndian.Uint64(b))
	x := math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
	b = b[16:]
	if step < 0 || len(b) < 8*step {
		return 0, 0, nil, errors.New("toy: damaged checkpoint")
	}
	path := make([]float64, step)
	for i := range path {
		path[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return step, x, path, st.UnmarshalBinary(b[8*step:])
}
