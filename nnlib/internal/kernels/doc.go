// Package kernels holds the float32 compute kernels under nnlib: sgemm,
// elementwise operations and reductions.
//
// Layout follows gonum's internal/asm and Go's crypto/md5: every kernel has
// a pure-Go twin (the reference loop quoted in its doc comment) and, on
// amd64, assembly variants for AVX-512 and AVX2+FMA, generated with avo by
// the program in _asm (its own module, so this module does not depend on
// avo; run `go generate` here to rebuild kernels_amd64.s). The variant is
// chosen once at start-up: the highest level the CPU's features allow
// (golang.org/x/sys/cpu), lowered on CPU families where a lower level
// measured faster (AMD family 25, Zen 4, runs the AVX2 level). The purego
// build tag forces the Go twins; the environment variable
// CNET_KERNELS=avx512|avx2|generic selects any level the CPU supports at run
// time, so every path can be tested on one machine. CurrentLevel reports the
// level in use; it is part of every result's provenance.
//
// Sgemm packs panels of op(A) and op(B) (register transposes in assembly
// where the panel index is strided) and runs register-blocked
// micro-kernels (h×32 for h = 1..14 on AVX-512, 6×16 on AVX2) under
// kc/mc/nc cache blocking. Large products are split over Threads persistent workers by
// output tiles only, never over k, so each element of C is summed in the
// same order whatever the thread count: results are bit-identical for 1 and
// 2 threads. Elementwise kernels process the vector-aligned prefix in
// assembly and the tail with the reference loop; elementwise results are
// bit-identical to the reference, reductions differ only by summation order
// (fixed per level and length).
//
// Misuse (slices shorter than the shapes need, negative sizes, leading
// dimensions smaller than a row) panics with a message naming the kernel and
// the mismatch. No kernel writes outside its output.
package kernels
