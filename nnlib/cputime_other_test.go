//go:build !unix

package nnlib

import "time"

func processCPU() time.Duration { return 0 }
