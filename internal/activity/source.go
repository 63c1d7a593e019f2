package activity

import (
	"context"
	"io"
	"io/fs"
	"strings"
)

// Source is where events come from, read through a Reader (which decodes, drops duplicates and
// counts malformed lines): files and folders (Paths, "-" for the Reader's Stdin), a file in an
// fs.FS (FSFile, the embedded demo), a stream (Stream). A Kafka partition is the next one.
type Source interface {
	Events(ctx context.Context, r *Reader, fn func(*Event) error) error
	// Describe names the source in messages: the paths, the file.
	Describe() string
}

// Paths are files and folders, and "-" for the Reader's Stdin, read in the order given.
type Paths []string

func (p Paths) Events(ctx context.Context, r *Reader, fn func(*Event) error) error {
	return r.Read(ctx, p, fn)
}

func (p Paths) Describe() string { return strings.Join(p, ", ") }

// FSFile is one file of an fs.FS.
type FSFile struct {
	FS   fs.FS
	Name string // path in FS
	As   string // the name events' sources carry (default Name)
}

func (f FSFile) Events(ctx context.Context, r *Reader, fn func(*Event) error) error {
	in, err := f.FS.Open(f.Name)
	if err != nil {
		return err
	}
	defer in.Close()
	return r.ReadFrom(ctx, f.Describe(), in, fn)
}

func (f FSFile) Describe() string {
	if f.As != "" {
		return f.As
	}
	return f.Name
}

// Stream is one stream of events in any format the Reader knows.
type Stream struct {
	Name string
	R    io.Reader
}

func (s Stream) Events(ctx context.Context, r *Reader, fn func(*Event) error) error {
	return r.ReadFrom(ctx, s.Name, s.R, fn)
}

func (s Stream) Describe() string { return s.Name }
