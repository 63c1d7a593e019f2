//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package hostfs

import "os"

// mapFile is not available on this platform: files are read through a buffer.
func mapFile(*os.File, int64) ([]byte, func() error, error) { return nil, nil, ErrNotMapped }

func dropPages([]byte) {}
