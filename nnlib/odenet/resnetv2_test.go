package odenet

import (
	"strings"
	"testing"

	"github.com/continuousnet/repro/nnlib"
	"github.com/continuousnet/repro/nnlib/rng"
)

func TestResNetV2(t *testing.T) {
	// ResNet-20 at α = 16 has the well-known 272,474 parameters (its
	// layout equals He et al.'s CIFAR ResNet-20 up to the block's layer order).
	m, err := NewResNetV2(20, 16, 3, 10, rng.New(1, "init"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.NumParams(); got != 272474 {
		t.Errorf("ResNetV2-20: %d parameters, want 272474", got)
	}
	if got := nnlib.NewResNet20(10, rng.New(1, "init")).Params.NumParams(); got != m.NumParams() {
		t.Errorf("ResNetV2-20 has %d parameters, nnlib.ResNet20 %d", m.NumParams(), got)
	}
	// The authors' "ResNet-52 (v2)" row (0.85M parameters) is not of the
	// form 6n+2; depths 50 and 56 bracket it.
	for _, d := range []int{50, 56} {
		m, err := NewResNetV2(d, 16, 3, 10, rng.New(1, "init"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ResNetV2-%d, α = 16: %d parameters", d, m.NumParams())
	}
	for _, tc := range []struct {
		depth, width, classes int
		want                  string
	}{
		{21, 16, 10, "6n+2"}, {2, 16, 10, "6n+2"}, {20, 0, 10, "width"}, {20, 16, 0, "classes"},
	} {
		if _, err := NewResNetV2(tc.depth, tc.width, 3, tc.classes, rng.New(1, "init")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("depth %d width %d classes %d: error %v, want one naming %q", tc.depth, tc.width, tc.classes, err, tc.want)
		}
	}

	// A tiny ResNetV2-8 learns one batch.
	x, y := tinyBatch(50)
	m, err = NewResNetV2(8, 2, 3, 3, rng.New(2, "init"))
	if err != nil {
		t.Fatal(err)
	}
	fitOneBatch(t, m.Params, m.Forward, x, y, 3)
}
