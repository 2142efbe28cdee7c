//go:build !amd64 || purego

package kernels

// hasAsm: this build has no assembly.
const hasAsm = false

func maxLevel() Level { return Generic }

func cpuIdent() (vendor string, family, model int) { return "", 0, 0 }
