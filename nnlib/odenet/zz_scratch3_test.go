package odenet

import "testing"

func TestScratchInput(t *testing.T) {
	meta, ts := twinInput(t, twinBatches(t))
	if err := writeTwin("/tmp/twin/in.twin", meta, ts); err != nil {
		t.Fatal(err)
	}
}
