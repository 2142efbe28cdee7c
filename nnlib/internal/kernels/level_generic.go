//go:build !amd64 || purego

package kernels

func maxLevel() Level { return Generic }

func cpuIdent() (vendor string, family, model int) { return "", 0, 0 }
