package odenet

import (
	"sync"
	"testing"
)

// TestConcurrentEvaluation: graphs on several goroutines may evaluate one
// net in evaluation mode and get the sequential result.
func TestConcurrentEvaluation(t *testing.T) {
	x, _ := tinyBatch(60)
	m := newTiny(t, tinyConfig(2, PreActivation), 61)
	want := logits(m, false, x)
	got := make([][]float32, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = logits(m, false, x)
		}()
	}
	wg.Wait()
	for i, g := range got {
		if !bitEqual(g, want) {
			t.Errorf("goroutine %d: %v, want %v", i, g, want)
		}
	}
	if n := m.Evaluations(); n != 5*int64(m.UnitsPerForward()) {
		t.Errorf("Evaluations = %d after 5 forwards of %d units", n, m.UnitsPerForward())
	}
}
