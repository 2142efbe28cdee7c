package nnlib

import "math"

// Float64 reference forwards of the ops, written as the plain loops of their
// definitions (channel-major feature maps, as the float32 ops).

// conv64: x [cin][n][h][w], w [cout][cin][k][k], b [cout] or nil.
func conv64(x []float64, cin, n, h, w int, wt []float64, cout, k int, b []float64, s, p int) ([]float64, int, int) {
	ho, wo := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	y := make([]float64, cout*n*ho*wo)
	for co := 0; co < cout; co++ {
		for bi := 0; bi < n; bi++ {
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					var acc float64
					if b != nil {
						acc = b[co]
					}
					for ci := 0; ci < cin; ci++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								iy, ix := oy*s+ky-p, ox*s+kx-p
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								acc += wt[((co*cin+ci)*k+ky)*k+kx] * x[((ci*n+bi)*h+iy)*w+ix]
							}
						}
					}
					y[((co*n+bi)*ho+oy)*wo+ox] = acc
				}
			}
		}
	}
	return y, ho, wo
}

// bn64 normalises each of the c rows of x with batch statistics (train) or
// the given running statistics.
func bn64(x []float64, c int, gamma, beta, rm, rv []float64, eps float64, train bool) []float64 {
	m := len(x) / c
	y := make([]float64, len(x))
	for ch := 0; ch < c; ch++ {
		row := x[ch*m : (ch+1)*m]
		var mean, v float64
		if !train {
			mean, v = rm[ch], rv[ch]
		} else {
			mean = 0
			for _, e := range row {
				mean += e
			}
			mean /= float64(m)
			v = 0
			for _, e := range row {
				v += (e - mean) * (e - mean)
			}
			v /= float64(m)
		}
		for i, e := range row {
			y[ch*m+i] = gamma[ch]*(e-mean)/math.Sqrt(v+eps) + beta[ch]
		}
	}
	return y
}

func relu64(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = max(v, 0)
	}
	return y
}

func lincomb64(coefs []float64, xs ...[]float64) []float64 {
	y := make([]float64, len(xs[0]))
	for j, x := range xs {
		for i, v := range x {
			y[i] += coefs[j] * v
		}
	}
	return y
}

// pool64: x [c][n][hw] → [n][c].
func pool64(x []float64, c, n, hw int) []float64 {
	y := make([]float64, n*c)
	for ch := 0; ch < c; ch++ {
		for b := 0; b < n; b++ {
			var s float64
			for _, v := range x[(ch*n+b)*hw : (ch*n+b+1)*hw] {
				s += v
			}
			y[b*c+ch] = s / float64(hw)
		}
	}
	return y
}

// linear64: x [n][f], w [out][f], b [out] or nil.
func linear64(x []float64, n, f int, w []float64, out int, b []float64) []float64 {
	y := make([]float64, n*out)
	for i := 0; i < n; i++ {
		for o := 0; o < out; o++ {
			var s float64
			if b != nil {
				s = b[o]
			}
			for j := 0; j < f; j++ {
				s += x[i*f+j] * w[o*f+j]
			}
			y[i*out+o] = s
		}
	}
	return y
}

func ce64(z []float64, n, k int, labels []int) []float64 {
	var total float64
	for i := 0; i < n; i++ {
		row := z[i*k : (i+1)*k]
		var s float64
		for _, v := range row {
			s += math.Exp(v)
		}
		total += math.Log(s) - row[labels[i]]
	}
	return []float64{total / float64(n)}
}
