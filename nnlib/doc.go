// Package nnlib is a small float32 deep-learning library for CIFAR-style
// convolutional networks: tensors, ops with their backward passes side by
// side, a reusable tape, layers, losses, optimizers, initializers and
// checkpoints.
//
// # Layout
//
// Feature maps are stored channel-major: a Value of shape [C, N, H, W] holds
// its data as C rows of N·H·W floats (x[c][n][h][w] at ((c·N+n)·H+h)·W+w).
// With this layout a convolution over the batch is a GEMM with the small
// weight matrix as the broadcast operand, run over chunks of whole images
// (at most 2 MiB of columns each, so im2col's output is still in cache when
// the GEMM reads it; the chunking depends on shapes only):
//
//	cols[Cin·k·k][N·H'·W'] = im2col(x)
//	y[Cout][N·H'·W']       = W[Cout][Cin·k·k] × cols
//	dW                    += dY × colsᵀ
//	dX                    += col2im(Wᵀ × dY)
//
// Images arrive in NCHW order and are converted once at the batch boundary
// (Graph.InputNCHW). Dense activations (after global average pooling) are
// row-major [N, F].
//
// # Gradients
//
// A Graph records every op of a forward pass on a tape; Graph.Backward walks
// it in reverse. Parameters are referenced through ParamRef (a whole Param
// or one piece of its leading axis), and every backward pass ADDS into
// Param.Grad, so a parameter used several times in one forward pass (the
// stages of a Runge-Kutta step) receives the sum of its contributions. Call
// ParamSet.ZeroGrad before each step.
//
// The graph of a training step is static, so the tape reuses its value
// buffers in call order: after the first step a training step allocates no
// activation-sized memory. Values returned by a Graph are valid until the
// next Graph.Reset.
//
// # Determinism
//
// Large ops split their work over kernels.Threads() goroutines by
// independent rows or channels and call kernels.Sgemm, which accumulates in
// a fixed order; results are bit-identical whatever the thread count.
package nnlib
