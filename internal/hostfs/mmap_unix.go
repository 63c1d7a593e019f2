//go:build linux || darwin || freebsd || netbsd || openbsd

package hostfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the first size bytes of f read-only, for reading lines without copying them (see
// the Activity Log reader's mappedLines); unmap releases the mapping.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, ErrNotMapped
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	_ = unix.Madvise(b, unix.MADV_SEQUENTIAL) // advice only: read ahead, drop pages behind
	return b, func() error { return unix.Munmap(b) }, nil
}

// dropPages gives back the pages of b, part of a mapping, that are in memory; they are read again
// from the file if touched.
func dropPages(b []byte) {
	if len(b) > 0 {
		_ = unix.Madvise(b, unix.MADV_DONTNEED)
	}
}
