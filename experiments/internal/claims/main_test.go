package claims

import (
	"os"
	"testing"

	"github.com/continuousnet/repro/experiments/internal/harness"
)

// TestMain: a machine lock of the package's own (see
// harness.RunWithPrivateMachineLock).
func TestMain(m *testing.M) { os.Exit(harness.RunWithPrivateMachineLock(m)) }
