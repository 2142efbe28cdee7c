package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winogradShapes are plane sizes covering the assembly's 8-tile blocks
// (one, two, four per row), its 4-tile blocks (w = 24, and w = 8 with an
// odd number of tile rows), its pairs of 4-tile rows (w = 8: one, two and
// three pairs per plane) and the Go rows (w = 2, 6, 12), with one and
// several tile rows.
var winogradShapes = [][2]int{{2, 2}, {4, 8}, {8, 8}, {12, 8}, {6, 8}, {2, 8}, {6, 16}, {16, 16}, {32, 32}, {4, 24}, {2, 64}, {6, 6}, {4, 12}}

// btdb returns (Bᵀ·d·B)[ξ] of tile (ty, tx) of plane x (h×w), in float64.
func btdb(x []float32, h, w, ty, tx, xi int) float64 {
	bt := [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	d := func(r, c int) float64 {
		y, xx := 2*ty-1+r, 2*tx-1+c
		if y < 0 || y >= h || xx < 0 || xx >= w {
			return 0
		}
		return float64(x[y*w+xx])
	}
	i, j := xi/4, xi%4
	var s float64
	for r := range 4 {
		for c := range 4 {
			s += bt[i][r] * d(r, c) * bt[j][c]
		}
	}
	return s
}

// TestWinogradTransforms checks, at every level and plane shape, the three
// transforms against their definitions (in float64, within a few ulps) and
// against the Generic level's Go rows bit for bit, with the buffers guarded
// against writes outside their blocks.
func TestWinogradTransforms(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 0))
	const planes = 3
	for _, s := range winogradShapes {
		h, w := s[0], s[1]
		tiles := h * w / 4
		ld := planes*tiles + 5 // a gap between the position blocks
		x := randSlice(r, planes*h*w)
		m := randSlice(r, 16*ld)
		y0 := randSlice(r, planes*h*w)
		results := map[Level][3][]float32{}
		forEachLevel(t, func(t *testing.T, l Level) {
			name := fmt.Sprintf("%v %d×%d", l, h, w)
			v, checkV := guarded(16*ld, 0)
			WinogradInput(v, ld, x, planes, h, w)
			checkV(t, name+" input")
			gv, checkG := guarded(16*ld, 0)
			WinogradGrad(gv, ld, x, planes, h, w)
			checkG(t, name+" grad")
			y := append([]float32(nil), y0...)
			WinogradOutput(y, m, ld, planes, h, w, 0.25, true)
			yf := append([]float32(nil), y0...)
			WinogradOutput(yf, m, ld, planes, h, w, -1, false)
			for p := range planes {
				for ty := range h / 2 {
					for tx := range w / 2 {
						tt := p*tiles + ty*(w/2) + tx
						for xi := range 16 {
							want := btdb(x[p*h*w:], h, w, ty, tx, xi)
							if got := float64(v[xi*ld+tt]); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
								t.Fatalf("%s: V[%d] of plane %d tile (%d,%d) = %v, want %v", name, xi, p, ty, tx, got, want)
							}
						}
					}
				}
			}
			for i := range 16 * ld {
				if i%ld >= planes*tiles && (v[i] != sentinel || gv[i] != sentinel) {
					t.Fatalf("%s: wrote into the gap between position blocks at %d", name, i)
				}
			}
			results[l] = [3][]float32{v, gv, append(y, yf...)}
		})
		ref, ok := results[Generic]
		if !ok {
			continue
		}
		for l, got := range results {
			for k, what := range []string{"input", "grad", "output"} {
				for i := range ref[k] {
					if (k < 2 && i%ld >= planes*tiles) || sameBits(ref[k][i], got[k][i]) {
						continue
					}
					t.Fatalf("%v %d×%d %s transform: element %d = %v, Go rows give %v", l, h, w, what, i, got[k][i], ref[k][i])
				}
			}
		}
	}
}

// TestWinogradRoundTrip checks the transforms' algebra on one channel:
// Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A is the 3×3 convolution with zero padding 1,
// and Σ_t Ŷ_t ⊙ V_t mapped back by Gᵀ·(·)·G is the kernel's gradient.
func TestWinogradRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 0))
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, s := range winogradShapes {
			h, w := s[0], s[1]
			tiles := h * w / 4
			x, g, dy := randSlice(r, h*w), randSlice(r, 9), randSlice(r, h*w)
			gf := func(i, j int) float64 { return float64(g[i*3+j]) }
			G := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
			var u [16]float64
			for i := range 4 {
				for j := range 4 {
					for a := range 3 {
						for b := range 3 {
							u[i*4+j] += G[i][a] * gf(a, b) * G[j][b]
						}
					}
				}
			}
			v := make([]float32, 16*tiles)
			WinogradInput(v, tiles, x, 1, h, w)
			m := make([]float32, 16*tiles)
			for xi := range 16 {
				for tt := range tiles {
					m[xi*tiles+tt] = float32(u[xi]) * v[xi*tiles+tt]
				}
			}
			y := make([]float32, h*w)
			WinogradOutput(y, m, tiles, 1, h, w, 0, false)
			at := func(yy, xx int) float64 {
				if yy < 0 || yy >= h || xx < 0 || xx >= w {
					return 0
				}
				return float64(x[yy*w+xx])
			}
			var dg [9]float64
			for yy := range h {
				for xx := range w {
					var want float64
					for a := range 3 {
						for b := range 3 {
							want += gf(a, b) * at(yy+a-1, xx+b-1)
							dg[a*3+b] += float64(dy[yy*w+xx]) * at(yy+a-1, xx+b-1)
						}
					}
					if got := float64(y[yy*w+xx]); math.Abs(got-want) > 1e-5 {
						t.Fatalf("%v %d×%d: y[%d][%d] = %v, direct convolution %v", l, h, w, yy, xx, got, want)
					}
				}
			}
			gv := make([]float32, 16*tiles)
			WinogradGrad(gv, tiles, dy, 1, h, w)
			var du [16]float64
			for xi := range 16 {
				for tt := range tiles {
					du[xi] += float64(gv[xi*tiles+tt]) * float64(v[xi*tiles+tt])
				}
			}
			for a := range 3 {
				for b := range 3 {
					var got float64
					for i := range 4 {
						for j := range 4 {
							got += G[i][a] * du[i*4+j] * G[j][b]
						}
					}
					if want := dg[a*3+b]; math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
						t.Fatalf("%v %d×%d: dg[%d][%d] = %v, direct %v", l, h, w, a, b, got, want)
					}
				}
			}
		}
	})
}

func TestWinogradPanics(t *testing.T) {
	buf := make([]float32, 64)
	mustPanic(t, "odd", func() { WinogradInput(buf, 4, buf, 1, 3, 4) }, "WinogradInput", "even")
	mustPanic(t, "short", func() { WinogradOutput(buf, buf, 4, 2, 4, 4, 0, false) }, "WinogradOutput", "too small")
	mustPanic(t, "short x", func() { WinogradGrad(make([]float32, 16*8), 8, buf[:10], 2, 4, 4) }, "WinogradGrad", "len(x)")
}
