package kernels

import "fmt"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, where
// op(X) is X, or Xᵀ when the matching trans flag is set. op(A) is m×k, op(B)
// is k×n and C is m×n; lda, ldb and ldc are the row strides of A, B and C as
// stored. BLAS semantics: beta = 0 does not read C (NaNs in C are
// overwritten), alpha = 0 (or k = 0) does not read A or B.
//
// Every element of C is accumulated over p in the same order whatever the
// number of threads, so results do not depend on Threads.
//
// Reference loop (the pure-Go twin, which is also the Generic level): the
// products are summed in float64 and rounded once, because a float32
// running sum over the k = N·H·W terms of a convolution's weight gradient
// loses about 1e-5 relative, enough to move gradients by a percent. The
// assembly levels sum float32 FMA lanes in blocks of k.
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float64
//			for p := 0; p < k; p++ {
//				s += float64(A(i,p)) * float64(B(p,j)) // A(i,p) = a[i*lda+p], or a[p*lda+i] when transA
//			}
//			if beta == 0 {
//				c[i*ldc+j] = alpha * float32(s)
//			} else {
//				c[i*ldc+j] = alpha*float32(s) + beta*c[i*ldc+j]
//			}
//		}
//	}
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if g := gemmFor(level); g != nil {
		g.run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmGo(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// scaleC sets C = beta·C (C = 0 when beta = 0, without reading C): the
// whole product when alpha = 0 or k = 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// sgemmGo is the Generic level: the reference loop with the loops over p
// and j interchanged, so B is read along rows. Each element is still summed
// over p in order 0..k-1 into a float64 starting at 0, then combined as
// alpha·float32(s) + beta·c, so it returns exactly what sgemmGeneric
// returns. It assumes alpha != 0 and k > 0.
func sgemmGo(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sp := getScratch[float64](&buf64Pool, n)
	defer buf64Pool.Put(sp)
	s := *sp
	for i := 0; i < m; i++ {
		clear(s)
		for p := 0; p < k; p++ {
			var av float64
			if transA {
				av = float64(a[p*lda+i])
			} else {
				av = float64(a[i*lda+p])
			}
			if transB {
				for j := range s {
					s[j] += av * float64(b[j*ldb+p])
				}
			} else {
				row := b[p*ldb : p*ldb+n]
				row = row[:len(s)] // lets the compiler drop bounds checks
				for j := range s {
					s[j] += av * float64(row[j])
				}
			}
		}
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			for j := range crow {
				crow[j] = alpha * float32(s[j])
			}
		} else {
			for j := range crow {
				crow[j] = alpha*float32(s[j]) + beta*crow[j]
			}
		}
	}
}

// checkGemm panics, naming Sgemm and the mismatch, if the operands cannot
// hold the shapes they are given.
func checkGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.Sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if ldc < max(n, 1) {
		panic(fmt.Sprintf("kernels.Sgemm: ldc=%d < n=%d", ldc, n))
	}
	if m > 0 && n > 0 && len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels.Sgemm: len(c)=%d < %d needed for %d×%d with ldc=%d", len(c), (m-1)*ldc+n, m, n, ldc))
	}
	if alpha == 0 || k == 0 || m == 0 || n == 0 {
		return
	}
	if lda < max(ac, 1) {
		panic(fmt.Sprintf("kernels.Sgemm: lda=%d < %d columns of A (transA=%v)", lda, ac, transA))
	}
	if ldb < max(bc, 1) {
		panic(fmt.Sprintf("kernels.Sgemm: ldb=%d < %d columns of B (transB=%v)", ldb, bc, transB))
	}
	if len(a) < (ar-1)*lda+ac {
		panic(fmt.Sprintf("kernels.Sgemm: len(a)=%d < %d needed for %d×%d with lda=%d", len(a), (ar-1)*lda+ac, ar, ac, lda))
	}
	if len(b) < (br-1)*ldb+bc {
		panic(fmt.Sprintf("kernels.Sgemm: len(b)=%d < %d needed for %d×%d with ldb=%d", len(b), (br-1)*ldb+bc, br, bc, ldb))
	}
}

// sgemmGeneric is the reference loop of Sgemm.
func sgemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			if alpha != 0 {
				for p := 0; p < k; p++ {
					var av, bv float32
					if transA {
						av = a[p*lda+i]
					} else {
						av = a[i*lda+p]
					}
					if transB {
						bv = b[j*ldb+p]
					} else {
						bv = b[p*ldb+j]
					}
					s += float64(av) * float64(bv)
				}
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * float32(s)
			} else {
				c[i*ldc+j] = alpha*float32(s) + beta*c[i*ldc+j]
			}
		}
	}
}
