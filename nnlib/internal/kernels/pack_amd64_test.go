//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPackAssembly checks the assembly packers against packGo for every
// panel width they serve, both source layouts (panel index strided or
// contiguous), full and partial panels, and depths with and without a
// tail after the 16-wide transposed blocks; the packed buffer is guarded.
func TestPackAssembly(t *testing.T) {
	type packer struct {
		level Level
		f     func(dst []float32, w int, src []float32, rs, ps, rows, kb int)
		ws    []int
	}
	r := rand.New(rand.NewPCG(11, 0))
	for _, pk := range []packer{{AVX512, packAVX512, []int{8, 9, 10, 11, 12, 13, 14, 32}}, {AVX2, packAVX2, []int{1, 2, 4, 6, 16}}} {
		if pk.level > MaxLevel() {
			continue
		}
		for _, w := range pk.ws {
			for _, strided := range []bool{false, true} {
				rowsList := []int{w, w - 1, 1}
				if w == 32 {
					rowsList = append(rowsList, 16) // the half-panel path
				}
				for _, rows := range rowsList {
					for _, kb := range []int{1, 15, 16, 17, 48, 51} {
						name := fmt.Sprintf("%v w=%d strided=%v rows=%d kb=%d", pk.level, w, strided, rows, kb)
						ld := 3*max(w, kb) + 1
						src := randSlice(r, ld*max(w, kb)+ld)
						rs, ps := 1, ld
						if strided {
							rs, ps = ld, 1
						}
						want := make([]float32, w*kb)
						packGo(want, w, src, rs, ps, rows, kb)
						got, check := guarded(w*kb, 5)
						pk.f(got, w, src, rs, ps, rows, kb)
						check(t, name)
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("%s: packed[%d] = %v, want %v", name, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestPackRows checks the row-by-row B block packer against packGo panel
// by panel.
func TestPackRows(t *testing.T) {
	if MaxLevel() < AVX512 {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(12, 0))
	for _, np := range []int{1, 2, 5} {
		for _, kb := range []int{1, 7, 64} {
			ld := np*32 + 9
			src := randSlice(r, kb*ld)
			want := make([]float32, np*kb*32)
			for q := 0; q < np; q++ {
				packGo(want[q*kb*32:], 32, src[q*32:], 1, ld, 32, kb)
			}
			got, check := guarded(np*kb*32, 3)
			packRowsAVX512(got, src, ld, kb, np)
			check(t, fmt.Sprintf("packRows np=%d kb=%d", np, kb))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("np=%d kb=%d: [%d] = %v, want %v", np, kb, i, got[i], want[i])
				}
			}
		}
	}
}
