// Package hostfs is the host's file system as an fs.FS that takes the paths users type (relative,
// absolute, with ".."), for the readers that only see an fs.FS (activity). Its regular files can
// be memory-mapped (they implement activity.Mapper), which the Activity Log reader uses to read JSON lines without copying
// them.
package hostfs

import (
	"errors"
	"io/fs"
	"os"
)

// FS is the host's file system. Names are operating-system paths, not fs.ValidPath ones: fs.Stat,
// fs.ReadDir and fs.WalkDir work on it with the paths given on a command line.
type FS struct{}

func (FS) Open(name string) (fs.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return &file{f}, nil
}

func (FS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

func (FS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// file is an open file that can be mapped.
type file struct{ *os.File }

// ErrNotMapped: the file cannot be mapped (empty, too large, or a platform without mmap); read it
// as a stream.
var ErrNotMapped = errors.New("not mapped")

// Map maps a regular file read-only: the mapping, a function that gives back the in-memory pages
// of a part of it, and unmap.
func (f *file) Map() ([]byte, func([]byte), func() error, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, nil, ErrNotMapped
	}
	data, unmap, err := mapFile(f.File, info.Size())
	if err != nil {
		return nil, nil, nil, err
	}
	return data, dropPages, unmap, nil
}
