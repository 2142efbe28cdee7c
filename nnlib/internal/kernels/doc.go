// Package kernels holds the float32 compute kernels under nnlib: sgemm,
// elementwise operations and reductions.
//
// Layout follows gonum's internal/asm and Go's crypto/md5: every kernel has
// a pure-Go twin (the reference loop quoted in its doc comment) and, on
// amd64, assembly variants for AVX-512 and AVX2+FMA. The variant is chosen
// once at start-up from the CPU's features (golang.org/x/sys/cpu). The
// purego build tag forces the Go twins; the environment variable
// CNET_KERNELS=avx512|avx2|generic forces a lower level at run time so every
// path can be tested on one machine. CurrentLevel reports the level in use; it is
// part of every result's provenance.
//
// Misuse (slices shorter than the shapes need, negative sizes, leading
// dimensions smaller than a row) panics with a message naming the kernel and
// the mismatch. No kernel writes outside its output.
package kernels
