//go:build !amd64 || purego

package kernels

// gemmFor returns nil: without assembly Sgemm runs sgemmGo.
func gemmFor(Level) *gemm { return nil }
