//go:build !amd64

package jsonscan

var useAVX2 = false

func scan32(b []byte) (int, bool) { return 0, false }
