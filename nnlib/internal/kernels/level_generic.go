//go:build !amd64 || purego

package kernels

func maxLevel() Level { return Generic }
