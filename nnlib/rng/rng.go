// Package rng provides named, reproducible random streams derived from one
// seed.
//
// Every consumer of randomness (weight init, data order, augmentation,
// refinement noise) draws from its own stream, so adding draws in one place
// never shifts another. A stream's state can be saved and restored, which
// checkpoints use to make a resumed run produce the same numbers as an
// uninterrupted one.
package rng

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// Stream is a named random stream: a *rand.Rand over a PCG source whose
// state can be marshalled.
type Stream struct {
	*rand.Rand
	name string
	src  *rand.PCG
}

// New returns the stream called name derived from seed. The same (seed,
// name) always gives the same sequence; different names give independent
// sequences.
func New(seed uint64, name string) *Stream {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], seed)
	h := sha256.New()
	h.Write([]byte("cnet-rng-v1\x00"))
	h.Write(buf[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	src := rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16]))
	return &Stream{Rand: rand.New(src), name: name, src: src}
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// MarshalBinary returns the stream's state.
func (s *Stream) MarshalBinary() ([]byte, error) { return s.src.MarshalBinary() }

// UnmarshalBinary restores a state written by MarshalBinary.
func (s *Stream) UnmarshalBinary(data []byte) error {
	if err := s.src.UnmarshalBinary(data); err != nil {
		return fmt.Errorf("rng: restoring stream %q: %w", s.name, err)
	}
	return nil
}
