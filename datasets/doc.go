// Package datasets reads, verifies and serves the image datasets of the
// experiments: CIFAR-10 (the official binary release, or an image folder
// train|test/<class>/*.{png,jpg} as a directory or .tar.gz), CIFAR-100 (binary,
// fine labels) and Fashion-MNIST/MNIST (IDX files, raw or gzip-compressed).
//
// Every dataset is held in memory as a [Dataset]: uint8 pixels laid out
// [N][C][H][W] plus integer labels and class names. Readers check what they
// read — archive checksums, record sizes, image headers (with
// image.DecodeConfig, before decoding) — and report a bad input as a
// [*FileError] naming the file (and record) and what to do; they never panic
// on bad input.
//
// Where the data lives: one data directory, chosen by [DataDir] (a flag, then
// the environment variable CNET_DATA, then a default folder in the user's
// cache). [Sources] lists the files expected in it, with their official
// download addresses and checksums; [LoadCIFAR10], [LoadCIFAR100] and
// [LoadFashionMNIST] locate, verify and read them.
//
// Training input: an [Iterator] fills a caller-owned []float32 with a
// normalised (and optionally augmented) batch in the channel-major layout
// [C][N·H·W] (or NCHW), deterministically from a seed, with no per-batch
// allocation, optionally preparing the next batch in a goroutine.
//
// The package datatest provides the helpers that tests of any package use to
// reach real data (skipping, or failing when CNET_REQUIRE_DATA=1).
package datasets
