package jsonscan

import "golang.org/x/sys/cpu"

// useAVX2: string contents are scanned 32 bytes at a time where the CPU can.
var useAVX2 = cpu.X86.HasAVX2

// scan32 returns the index of the first byte of b that is a quote, a backslash or below 0x20,
// looking 32 bytes at a time while 32 remain: (index, true), or (bytes looked at, false).
//
//go:noescape
func scan32(b []byte) (int, bool)
