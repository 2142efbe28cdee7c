package nnlib

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/continuousnet/repro/nnlib/rng"
	"github.com/google/renameio/v2/maybe"
)

// Checkpoint file format (all integers little-endian):
//
//	magic   "CNETCKPT"          8 bytes
//	version uint32              CheckpointVersion
//	length  uint64              payload length in bytes
//	payload                     see encode
//	sha256  [32]byte            over everything before it
const (
	checkpointMagic = "CNETCKPT"
	// CheckpointVersion is the format version written by WriteCheckpoint.
	CheckpointVersion = 1
	headerLen         = 8 + 4 + 8
)

// Checkpoint is everything needed to resume training bit for bit: parameter
// values, buffers (BatchNorm running statistics), optimizer state, RNG
// stream states and free-form metadata (epoch, step, K, ...).
type Checkpoint struct {
	Meta      map[string]string
	Params    []NamedTensor
	Buffers   []NamedTensor
	Optimizer OptimizerState
	RNG       map[string][]byte
}

// Capture snapshots a model's parameter set, an optimizer (nil for none),
// RNG streams and metadata into a Checkpoint (deep copies).
func Capture(set *ParamSet, opt Optimizer, streams []*rng.Stream, meta map[string]string) (*Checkpoint, error) {
	c := &Checkpoint{Meta: map[string]string{}, RNG: map[string][]byte{}}
	for k, v := range meta {
		c.Meta[k] = v
	}
	for _, p := range set.Params() {
		c.Params = append(c.Params, NamedTensor{Name: p.Name, Shape: slices.Clone(p.Shape), Data: slices.Clone(p.Data)})
	}
	for _, b := range set.Buffers() {
		c.Buffers = append(c.Buffers, NamedTensor{Name: b.Name, Shape: slices.Clone(b.Shape), Data: slices.Clone(b.Data)})
	}
	if opt != nil {
		c.Optimizer = opt.State()
	}
	for _, s := range streams {
		st, err := s.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("nnlib: capturing rng stream %q: %w", s.Name(), err)
		}
		if _, dup := c.RNG[s.Name()]; dup {
			return nil, fmt.Errorf("nnlib: capturing rng streams: duplicate name %q", s.Name())
		}
		c.RNG[s.Name()] = st
	}
	return c, nil
}

// Restore loads the checkpoint into a model's parameter set (every
// parameter and buffer must be present with the same shape, and no others),
// an optimizer (nil to skip) and RNG streams (each must be in the
// checkpoint).
func (c *Checkpoint) Restore(set *ParamSet, opt Optimizer, streams []*rng.Stream) error {
	if len(c.Params) != len(set.Params()) || len(c.Buffers) != len(set.Buffers()) {
		return fmt.Errorf("checkpoint holds %d parameters and %d buffers, the model has %d and %d",
			len(c.Params), len(c.Buffers), len(set.Params()), len(set.Buffers()))
	}
	for _, t := range c.Params {
		p := set.Param(t.Name)
		if p == nil {
			return fmt.Errorf("checkpoint parameter %q is not in the model", t.Name)
		}
		if !slices.Equal(p.Shape, t.Shape) {
			return fmt.Errorf("checkpoint parameter %q has shape %v, the model's has %v", t.Name, t.Shape, p.Shape)
		}
	}
	for _, t := range c.Buffers {
		b := set.Buffer(t.Name)
		if b == nil {
			return fmt.Errorf("checkpoint buffer %q is not in the model", t.Name)
		}
		if !slices.Equal(b.Shape, t.Shape) {
			return fmt.Errorf("checkpoint buffer %q has shape %v, the model's has %v", t.Name, t.Shape, b.Shape)
		}
	}
	for _, s := range streams {
		if _, ok := c.RNG[s.Name()]; !ok {
			return fmt.Errorf("checkpoint has no state for rng stream %q", s.Name())
		}
	}
	if opt != nil {
		if err := opt.SetState(c.Optimizer); err != nil {
			return err
		}
	}
	for _, t := range c.Params {
		copy(set.Param(t.Name).Data, t.Data)
	}
	for _, t := range c.Buffers {
		copy(set.Buffer(t.Name).Data, t.Data)
	}
	for _, s := range streams {
		if err := s.UnmarshalBinary(c.RNG[s.Name()]); err != nil {
			return err
		}
	}
	return nil
}

// SaveCheckpoint captures and writes a checkpoint atomically to path.
func SaveCheckpoint(path string, set *ParamSet, opt Optimizer, streams []*rng.Stream, meta map[string]string) error {
	c, err := Capture(set, opt, streams, meta)
	if err != nil {
		return err
	}
	return WriteCheckpoint(path, c)
}

// LoadCheckpoint reads path and restores it (see Checkpoint.Restore),
// returning its metadata. Errors name the file.
func LoadCheckpoint(path string, set *ParamSet, opt Optimizer, streams []*rng.Stream) (map[string]string, error) {
	c, err := ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if err := c.Restore(set, opt, streams); err != nil {
		return nil, fmt.Errorf("nnlib: checkpoint %s: %w", path, err)
	}
	return c.Meta, nil
}

// WriteTo writes c in the checkpoint format (magic, version, payload
// length, payload, SHA-256 of all that) to w, implementing io.WriterTo.
func (c *Checkpoint) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(c.file())
	return int64(n), err
}

// file returns c in the checkpoint format.
func (c *Checkpoint) file() []byte {
	payload := c.encode()
	var buf bytes.Buffer
	buf.WriteString(checkpointMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(CheckpointVersion))
	binary.Write(&buf, binary.LittleEndian, uint64(len(payload)))
	buf.Write(payload)
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes()
}

// WriteCheckpoint writes c to path atomically (creating its folder if
// needed): a synced temporary file renamed over path (renameio), so a crash
// never leaves half a checkpoint.
func WriteCheckpoint(path string, c *Checkpoint) error {
	err := os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		err = maybe.WriteFile(path, c.file(), 0o644)
	}
	if err != nil {
		return fmt.Errorf("nnlib: writing checkpoint %s: %w", path, err)
	}
	return nil
}

// ErrNotCheckpoint is wrapped by ReadCheckpoint's error for a file that does
// not start with the checkpoint magic.
var ErrNotCheckpoint = errors.New("not an nnlib checkpoint")

// ReadCheckpoint reads and verifies a checkpoint file. A truncated,
// corrupted (checksum mismatch), foreign or newer-version file is an error
// naming the file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nnlib: reading checkpoint: %w", err)
	}
	c, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("nnlib: checkpoint %s: %w", path, err)
	}
	return c, nil
}

// DecodeCheckpoint reads a whole checkpoint from r and verifies it as
// ReadCheckpoint does a file: for checkpoints held in memory or a stream.
func DecodeCheckpoint(r io.Reader) (*Checkpoint, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("nnlib: reading checkpoint: %w", err)
	}
	c, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("nnlib: checkpoint: %w", err)
	}
	return c, nil
}

func decodeCheckpoint(data []byte) (*Checkpoint, error) {
	if len(data) < len(checkpointMagic) || string(data[:len(checkpointMagic)]) != checkpointMagic {
		return nil, fmt.Errorf("%w (bad magic; was it written by nnlib.WriteCheckpoint?)", ErrNotCheckpoint)
	}
	if len(data) < headerLen+sha256.Size {
		return nil, fmt.Errorf("truncated: %d bytes, shorter than the header", len(data))
	}
	version := binary.LittleEndian.Uint32(data[8:12])
	if version != CheckpointVersion {
		return nil, fmt.Errorf("format version %d, this build reads version %d", version, CheckpointVersion)
	}
	n := binary.LittleEndian.Uint64(data[12:20])
	if want := uint64(headerLen) + n + sha256.Size; uint64(len(data)) != want {
		return nil, fmt.Errorf("truncated or padded: %d bytes, header says %d", len(data), want)
	}
	body := data[:len(data)-sha256.Size]
	sum := sha256.Sum256(body)
	if !bytes.Equal(sum[:], data[len(body):]) {
		return nil, errors.New("checksum mismatch: the file is corrupted")
	}
	d := &decoder{b: body[headerLen:]}
	c := d.checkpoint()
	if d.err != nil {
		return nil, fmt.Errorf("malformed payload: %w", d.err)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("malformed payload: %d trailing bytes", len(d.b))
	}
	return c, nil
}

// encode writes the payload: meta (sorted keys), params, buffers,
// optimizer, rng (sorted names).
func (c *Checkpoint) encode() []byte {
	e := &encoder{}
	keys := make([]string, 0, len(c.Meta))
	for k := range c.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.u64(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(c.Meta[k])
	}
	e.tensors(c.Params)
	e.tensors(c.Buffers)
	e.str(c.Optimizer.Kind)
	e.u64(math.Float64bits(c.Optimizer.LR))
	e.u64(uint64(c.Optimizer.Step))
	e.tensors(c.Optimizer.Slots)
	names := make([]string, 0, len(c.RNG))
	for k := range c.RNG {
		names = append(names, k)
	}
	sort.Strings(names)
	e.u64(uint64(len(names)))
	for _, k := range names {
		e.str(k)
		e.bytes(c.RNG[k])
	}
	return e.buf.Bytes()
}

type encoder struct{ buf bytes.Buffer }

func (e *encoder) u64(v uint64) { binary.Write(&e.buf, binary.LittleEndian, v) }
func (e *encoder) bytes(b []byte) {
	e.u64(uint64(len(b)))
	e.buf.Write(b)
}
func (e *encoder) str(s string) { e.bytes([]byte(s)) }
func (e *encoder) tensors(ts []NamedTensor) {
	e.u64(uint64(len(ts)))
	for _, t := range ts {
		e.str(t.Name)
		e.u64(uint64(len(t.Shape)))
		for _, d := range t.Shape {
			e.u64(uint64(d))
		}
		e.u64(uint64(len(t.Data)))
		for _, v := range t.Data {
			binary.Write(&e.buf, binary.LittleEndian, math.Float32bits(v))
		}
	}
}

// decoder reads the payload with bounds checks; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("%w", io.ErrUnexpectedEOF)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// count reads a length and checks that at least n·unit bytes remain.
func (d *decoder) count(unit int, what string) int {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.b)/max(unit, 1)) {
		d.fail("%s count %d exceeds the remaining %d bytes", what, n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.count(1, "byte")
	if d.err != nil {
		return nil
	}
	b := slices.Clone(d.b[:n])
	d.b = d.b[n:]
	return b
}

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) tensors(what string) []NamedTensor {
	n := d.count(8, what)
	var ts []NamedTensor
	for i := 0; i < n && d.err == nil; i++ {
		t := NamedTensor{Name: d.str()}
		nd := d.count(8, "dimension")
		size := uint64(1)
		for j := 0; j < nd && d.err == nil; j++ {
			dim := d.u64()
			if dim > math.MaxInt32 {
				d.fail("%s %q: dimension %d too large", what, t.Name, dim)
			}
			t.Shape = append(t.Shape, int(dim))
			size *= dim
		}
		cnt := d.count(4, "element")
		if d.err == nil && uint64(cnt) != size {
			d.fail("%s %q: %d elements for shape %v", what, t.Name, cnt, t.Shape)
		}
		if d.err != nil {
			break
		}
		t.Data = make([]float32, cnt)
		for j := range t.Data {
			t.Data[j] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*j:]))
		}
		d.b = d.b[4*cnt:]
		ts = append(ts, t)
	}
	return ts
}

func (d *decoder) checkpoint() *Checkpoint {
	c := &Checkpoint{Meta: map[string]string{}, RNG: map[string][]byte{}}
	nm := d.count(16, "metadata")
	for i := 0; i < nm && d.err == nil; i++ {
		k := d.str()
		c.Meta[k] = d.str()
	}
	c.Params = d.tensors("parameter")
	c.Buffers = d.tensors("buffer")
	c.Optimizer.Kind = d.str()
	c.Optimizer.LR = math.Float64frombits(d.u64())
	c.Optimizer.Step = int64(d.u64())
	c.Optimizer.Slots = d.tensors("optimizer slot")
	nr := d.count(16, "rng stream")
	for i := 0; i < nr && d.err == nil; i++ {
		k := d.str()
		c.RNG[k] = d.bytes()
	}
	return c
}
