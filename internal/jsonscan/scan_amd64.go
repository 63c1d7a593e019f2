package jsonscan

import "golang.org/x/sys/cpu"

// useAVX2: inputs are classified 64 bytes at a time where the CPU can.
var useAVX2 = cpu.X86.HasAVX2

// classify sets, for each whole 64-byte block i of b, bit k of out[i] when b[64i+k] is a quote, a
// backslash or below 0x20. out must hold len(b)/64 words.
//
//go:noescape
func classify(b []byte, out []uint64)
