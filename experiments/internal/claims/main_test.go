package claims

import (
	"os"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
)

// TestMain gives the package's timed runs a machine lock of their own (see
// harness.PrivateMachineLock).
func TestMain(m *testing.M) {
	remove := harness.PrivateMachineLock()
	code := m.Run()
	remove()
	os.Exit(code)
}
