//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

// hasAsm: this build has the assembly (and so cpuid).
const hasAsm = true

func maxLevel() Level {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ:
		return AVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return AVX2
	}
	return Generic
}

// cpuIdent returns the vendor string (CPUID leaf 0: EBX, EDX, ECX) and the
// display family and model (leaf 1: the extended family is added when the
// base family is 15, the extended model is prefixed from family 6 on, as
// x86 defines them; lscpu shows the same numbers).
func cpuIdent() (vendor string, family, model int) {
	_, b, c, d := cpuid(0, 0)
	var v [12]byte
	binary.LittleEndian.PutUint32(v[0:], b)
	binary.LittleEndian.PutUint32(v[4:], d)
	binary.LittleEndian.PutUint32(v[8:], c)
	a, _, _, _ := cpuid(1, 0)
	family, model = int(a>>8&0xf), int(a>>4&0xf)
	if family == 0xf {
		family += int(a >> 20 & 0xff)
	}
	if family >= 6 {
		model |= int(a>>16&0xf) << 4
	}
	return string(v[:]), family, model
}
