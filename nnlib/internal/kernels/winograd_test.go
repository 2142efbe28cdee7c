package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoVariant describes one family of Winograd transforms for the tests:
// output tiles of m×m, positions of n×n (n = m + 2) numbered as the
// buffers store them, its matrices and the shapes to test.
type winoVariant struct {
	name   string
	m      int
	bt, at [][]float64 // Bᵀ (n×n), Aᵀ (m×n)
	g      [][]float64 // G (n×3)
	pos    func(i, j int) int
	slot   func(tx, tw int) int
	input  func(v []float32, ld int, x []float32, planes, h, w int)
	grad   func(v []float32, ld int, dy []float32, planes, h, w int)
	output func(y, m []float32, ld, planes, h, w int, bias float32, add bool)
	shapes [][2]int
	tol    float64 // of the round trip against the direct convolution
}

var winoVariants = []winoVariant{{
	name: "F(2×2, 3×3)", m: 2,
	bt:  [][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
	at:  [][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}},
	g:   [][]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
	pos: func(i, j int) int { return 4*i + j }, slot: func(tx, tw int) int { return tx },
	input: WinogradInput, grad: WinogradGrad, output: WinogradOutput,
	// The assembly's 8-tile blocks (one, two, four per row), its 4-tile
	// blocks (w = 8 and w = 24) and the Go rows (w = 2, 6, 12), with one
	// and several tile rows.
	shapes: [][2]int{{2, 2}, {4, 8}, {8, 8}, {6, 16}, {16, 16}, {32, 32}, {4, 24}, {2, 64}, {6, 6}, {4, 12}},
	tol:    1e-5,
}, {
	name: "F(4×4, 3×3)", m: 4,
	bt: [][]float64{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
	at: [][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
	g: [][]float64{{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}},
	pos: func(i, j int) int { return 6*j + i }, slot: Tile4Slot,
	input: Winograd4Input, grad: Winograd4Grad, output: Winograd4Output,
	// 8-tile blocks (w = 32: one per row, w = 64: two), 4-tile blocks
	// (w = 16, w = 48) and the Go rows (w = 4, 8, 24), with one, two and
	// several tile rows.
	shapes: [][2]int{{4, 4}, {8, 8}, {4, 16}, {8, 16}, {16, 16}, {32, 32}, {12, 32}, {4, 64}, {8, 48}, {12, 24}, {8, 4}},
	tol:    1e-4,
}}

// btdb returns (Bᵀ·d·B)[i][j] of tile (ty, tx) of plane x (h×w) in float64,
// and the sum of the magnitudes of its terms (the scale of its rounding).
func (vr winoVariant) btdb(x []float32, h, w, ty, tx, i, j int) (s, mag float64) {
	n := vr.m + 2
	for r := range n {
		for c := range n {
			y, xx := vr.m*ty-1+r, vr.m*tx-1+c
			if y < 0 || y >= h || xx < 0 || xx >= w {
				continue
			}
			t := vr.bt[i][r] * float64(x[y*w+xx]) * vr.bt[j][c]
			s += t
			mag += math.Abs(t)
		}
	}
	return s, mag
}

// TestWinogradTransforms checks, for both tile sizes at every level and
// plane shape, the input transform against its definition (in float64,
// within a few roundings of its terms), and all three transforms against
// the Generic level's Go rows bit for bit, with the buffers guarded
// against writes outside their blocks.
func TestWinogradTransforms(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 0))
	const planes = 3
	for _, vr := range winoVariants {
		n2 := (vr.m + 2) * (vr.m + 2)
		for _, s := range vr.shapes {
			h, w := s[0], s[1]
			tiles := h * w / (vr.m * vr.m)
			ld := planes*tiles + 5 // a gap between the position blocks
			x := randSlice(r, planes*h*w)
			m := randSlice(r, n2*ld)
			y0 := randSlice(r, planes*h*w)
			results := map[Level][3][]float32{}
			forEachLevel(t, func(t *testing.T, l Level) {
				name := fmt.Sprintf("%s %v %d×%d", vr.name, l, h, w)
				v, checkV := guarded(n2*ld, 0)
				vr.input(v, ld, x, planes, h, w)
				checkV(t, name+" input")
				gv, checkG := guarded(n2*ld, 0)
				vr.grad(gv, ld, x, planes, h, w)
				checkG(t, name+" grad")
				y := append([]float32(nil), y0...)
				vr.output(y, m, ld, planes, h, w, 0.25, true)
				yf := append([]float32(nil), y0...)
				vr.output(yf, m, ld, planes, h, w, -1, false)
				tw := w / vr.m
				for p := range planes {
					for ty := range h / vr.m {
						for tx := range tw {
							tt := p*tiles + ty*tw + vr.slot(tx, tw)
							for i := range vr.m + 2 {
								for j := range vr.m + 2 {
									want, mag := vr.btdb(x[p*h*w:], h, w, ty, tx, i, j)
									xi := vr.pos(i, j)
									if got := float64(v[xi*ld+tt]); math.Abs(got-want) > 1e-6*(1+mag) {
										t.Fatalf("%s: V[%d] of plane %d tile (%d,%d) = %v, want %v", name, xi, p, ty, tx, got, want)
									}
								}
							}
						}
					}
				}
				for i := range n2 * ld {
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
						t.Fatalf("%s %v %d×%d %s transform: element %d = %v, Go rows give %v", vr.name, l, h, w, what, i, got[k][i], ref[k][i])
					}
				}
			}
		}
	}
}

// TestWinogradRoundTrip checks the transforms' algebra on one channel, for
// both tile sizes: Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A is the 3×3 convolution with
// zero padding 1, and Σ_t Ŷ_t ⊙ V_t mapped back by Gᵀ·(·)·G is the
// kernel's gradient.
func TestWinogradRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 0))
	for _, vr := range winoVariants {
		n := vr.m + 2
		forEachLevel(t, func(t *testing.T, l Level) {
			for _, s := range vr.shapes {
				h, w := s[0], s[1]
				tiles := h * w / (vr.m * vr.m)
				x, g, dy := randSlice(r, h*w), randSlice(r, 9), randSlice(r, h*w)
				gf := func(i, j int) float64 { return float64(g[i*3+j]) }
				u := make([]float64, n*n)
				for i := range n {
					for j := range n {
						for a := range 3 {
							for b := range 3 {
								u[vr.pos(i, j)] += vr.g[i][a] * gf(a, b) * vr.g[j][b]
							}
						}
					}
				}
				v := make([]float32, n*n*tiles)
				vr.input(v, tiles, x, 1, h, w)
				m := make([]float32, n*n*tiles)
				for xi := range n * n {
					for tt := range tiles {
						m[xi*tiles+tt] = float32(u[xi]) * v[xi*tiles+tt]
					}
				}
				y := make([]float32, h*w)
				vr.output(y, m, tiles, 1, h, w, 0, false)
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
						if got := float64(y[yy*w+xx]); math.Abs(got-want) > vr.tol {
							t.Fatalf("%s %v %d×%d: y[%d][%d] = %v, direct convolution %v", vr.name, l, h, w, yy, xx, got, want)
						}
					}
				}
				gv := make([]float32, n*n*tiles)
				vr.grad(gv, tiles, dy, 1, h, w)
				du := make([]float64, n*n)
				for xi := range n * n {
					for tt := range tiles {
						du[xi] += float64(gv[xi*tiles+tt]) * float64(v[xi*tiles+tt])
					}
				}
				for a := range 3 {
					for b := range 3 {
						var got float64
						for i := range n {
							for j := range n {
								got += vr.g[i][a] * du[vr.pos(i, j)] * vr.g[j][b]
							}
						}
						if want := dg[a*3+b]; math.Abs(got-want) > 10*vr.tol*(1+math.Abs(want)) {
							t.Fatalf("%s %v %d×%d: dg[%d][%d] = %v, direct %v", vr.name, l, h, w, a, b, got, want)
						}
					}
				}
			}
		})
	}
}

func TestWinogradPanics(t *testing.T) {
	buf := make([]float32, 64)
	mustPanic(t, "odd", func() { WinogradInput(buf, 4, buf, 1, 3, 4) }, "WinogradInput", "even")
	mustPanic(t, "short", func() { WinogradOutput(buf, buf, 4, 2, 4, 4, 0, false) }, "WinogradOutput", "too small")
	mustPanic(t, "short x", func() { WinogradGrad(make([]float32, 16*8), 8, buf[:10], 2, 4, 4) }, "WinogradGrad", "len(x)")
	mustPanic(t, "not 4", func() { Winograd4Input(make([]float32, 36*4), 4, buf, 1, 6, 4) }, "Winograd4Input", "multiples of 4")
	mustPanic(t, "short 4", func() { Winograd4Output(buf, make([]float32, 36*2-1), 2, 2, 4, 4, 0, false) }, "Winograd4Output", "too small")
	mustPanic(t, "short x 4", func() { Winograd4Grad(make([]float32, 36*2), 2, buf[:10], 2, 4, 4) }, "Winograd4Grad", "len(x)")
}
