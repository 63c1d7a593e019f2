package activity

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"io"
	"io/fs"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fileinfo"
)

func (r *Reader) maxLine() int { return int(r.Limits.Or().MaxLineBytes) }

// Problem is a line or row that could not be read; reading goes on after it.
type Problem struct {
	Source string // file:line
	Msg    string
}

func (p Problem) String() string { return p.Source + ": " + p.Msg }

// Reader reads events from files, folders and stdin.
type Reader struct {
	// Files is where Read finds the files and folders it is given: the host's (hostfs.FS), or any
	// fs.FS whose names are the paths given. Open files that implement Mapper are read from a
	// memory mapping.
	Files fs.FS
	Stdin io.Reader
	// Limits bound what one input may cost (zero fields take limits.Default's): a line over
	// MaxLineBytes is skipped and reported; a document, a CSV record or a decompressed input over
	// its limit stops that input with an error naming it and the limit.
	Limits limits.Limits
	// Problems holds the first MaxProblems malformed lines and rows, each with file and line;
	// Malformed counts them all.
	Problems  []Problem
	Malformed int
	// Duplicates counts events seen twice: the same time, operation, status, correlation ID and
	// resource, in any format (see Event.KeyHash).
	Duplicates int
	// Workers is how many goroutines decode JSON lines (0: one per CPU). Events are passed on in
	// file order whatever the number.
	Workers int
	// TimeOnly, when set, is asked for the operation of each JSON-lines record in the diagnostic
	// export format (as the Reader finds it, before the rest of the record is decoded); when it
	// returns true the record is still validated and its time and duplicate key read, but it is
	// passed on as a time-only event (see Event.TimeOnly), which saves decoding its identity and
	// properties. Workers call it concurrently. A time-only event is valid only until the call of
	// Read's fn returns: the Reader reuses its memory for the next batch's.
	TimeOnly func(op string) bool
	// Flat, when set, is asked for the operation of each other JSON-lines record; when it returns
	// true, the event is passed on with its flat fields only (see Event.Flat): the Reader does not
	// keep a copy of the whole record for the raw nested parts. Workers call it concurrently.
	Flat func(op string) bool
	// The keys of the last dedupWindow events, and of the window before.
	seen, seenPrev *keySet
	touched        uint64 // what apply loaded ahead, kept so that the loads are not left out
}

// Read calls fn for every event in paths (files, folders read recursively, "-" for stdin), in file
// order; within a file, in time order (see ordered). Malformed lines are recorded in r.Problems and skipped; only unreadable inputs stop it.
func (r *Reader) Read(ctx context.Context, paths []string, fn func(*Event) error) error {
	for _, p := range paths {
		if p == "-" {
			if r.Stdin == nil {
				return errors.New("-: no standard input")
			}
			// Standard input is ordered exactly like a file of the same shape (a REST export piped
			// from az is newest first, like the file it would have written).
			if err := r.ReadFrom(ctx, "-", r.Stdin, fn); err != nil {
				return err
			}
			continue
		}
		if r.Files == nil {
			return fmt.Errorf("read activity %s: no file system to read it from (Reader.Files)", p)
		}
		info, err := fs.Stat(r.Files, p)
		if err != nil {
			return fmt.Errorf("read activity: %w", err)
		}
		// A device or a pipe (/dev/zero, a FIFO) would be read forever: only regular files and
		// folders, and "-" for standard input.
		if !info.IsDir() && !info.Mode().IsRegular() {
			return fmt.Errorf("read activity %s: %s, not a regular file: give a file or a folder, or - with the events on standard input", p, fileinfo.Kind(info.Mode()))
		}
		var files []string
		if info.IsDir() {
			err := fs.WalkDir(r.Files, p, func(f string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					if f != p && strings.HasPrefix(d.Name(), ".") {
						return fs.SkipDir
					}
					return nil
				}
				n := strings.ToLower(d.Name())
				for _, ext := range []string{".json", ".jsonl", ".csv", ".json.gz", ".jsonl.gz", ".csv.gz"} {
					if strings.HasSuffix(n, ext) {
						if !d.Type().IsRegular() { // a link is read when it leads to a regular file
							if info, err := fs.Stat(r.Files, f); err != nil || !info.Mode().IsRegular() {
								return fmt.Errorf("%s: %s, not a regular file", f, fileinfo.Kind(d.Type()))
							}
						}
						files = append(files, f)
						break
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("read activity %s: %w", p, err)
			}
			sort.Strings(files) // the storage layout y=/m=/d=/h= sorts in time order
		} else {
			files = []string{p}
		}
		for _, f := range files {
			fh, err := r.Files.Open(f)
			if err != nil {
				return fmt.Errorf("read activity: %w", err)
			}
			ord := &ordered{fn: fn}
			err = r.readFile(ctx, f, fh, ord.add)
			if err == nil {
				err = ord.flush()
			}
			fh.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadFrom reads one named input (an embedded file, say) the way Read reads a file: malformed
// lines are recorded and skipped, and events are passed on in time order.
func (r *Reader) ReadFrom(ctx context.Context, name string, in io.Reader, fn func(*Event) error) error {
	ord := &ordered{fn: fn}
	if err := r.readStream(ctx, name, in, ord.add); err != nil {
		return err
	}
	return ord.flush()
}

// maxOrdered bounds how many events of one file are held to be put in time order.
const maxOrdered = 50_000

// ordered passes a file's events on in time order: exports are often newest first (az monitor
// activity-log list, the portal's CSV), and detection runs on event time. The first events of a
// file show its order: when they are already ascending (the diagnostic export), events pass
// straight through and the detector's lateness absorbs small disorder; otherwise they are held and
// sorted in runs of maxOrdered events. Standard input is read the same way.
type ordered struct {
	fn      func(*Event) error
	buf     []*Event
	through bool // the file is ascending: pass events on as they come
}

// probeOrdered is how many events decide whether a file is already in time order.
const probeOrdered = 1000

func (o *ordered) add(e *Event) error {
	if o.through {
		return o.fn(e)
	}
	o.buf = append(o.buf, e.Keep())
	if len(o.buf) == probeOrdered && sort.SliceIsSorted(o.buf, func(i, j int) bool { return o.buf[i].At.Before(o.buf[j].At) }) {
		o.through = true
		return o.flush()
	}
	if len(o.buf) >= maxOrdered {
		return o.flush()
	}
	return nil
}

func (o *ordered) flush() error {
	sort.SliceStable(o.buf, func(i, j int) bool { return o.buf[i].At.Before(o.buf[j].At) })
	for i, e := range o.buf {
		o.buf[i] = nil
		if err := o.fn(e); err != nil {
			o.buf = o.buf[:0]
			return err
		}
	}
	o.buf = o.buf[:0]
	return nil
}

// MaxProblems is how many malformed lines a Reader keeps in detail: a file of garbage must not
// fill memory or a terminal. Reader.Malformed counts every one.
const MaxProblems = 20

func (r *Reader) problem(src string, format string, args ...any) {
	r.addProblem(Problem{Source: src, Msg: fmt.Sprintf(format, args...)})
}

func (r *Reader) addProblem(p Problem) {
	r.Malformed++
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, p)
	}
}

// dedupWindow is how many recent event keys the Reader remembers to drop duplicates: exports that
// overlap repeat events close together, and a log of millions must not keep every key.
const dedupWindow = 200_000

func (r *Reader) emit(e *Event, fn func(*Event) error) error {
	if r.seen == nil {
		r.seen, r.seenPrev = newKeySet(dedupWindow), newKeySet(dedupWindow)
	}
	k := e.KeyHash() // 8 bytes a key, not ~200; a collision among 400,000 keys is about 1 in 10^8
	if r.seen.has(k) || r.seenPrev.has(k) {
		r.Duplicates++
		return nil
	}
	if r.seen.n >= dedupWindow {
		r.seenPrev, r.seen = r.seen, r.seenPrev
		r.seen.reset()
	}
	r.seen.add(k)
	return fn(e)
}

// errNotMapped: the file is read through a buffer instead.
var errNotMapped = errors.New("not mapped")

// Mapper is an open file that can be mapped read-only into memory (hostfs's files are): Map
// returns the mapping, a function that gives back the pages of a part of it that are in memory
// (its start and end are multiples of 64 KiB, a multiple of every page size in use), and unmap.
// An error means the file is read as a stream.
type Mapper interface {
	Map() (data []byte, drop func([]byte), unmap func() error, err error)
}

// readFile reads an opened file. JSON lines in a file that can be mapped (see Mapper) are read
// from the mapping: no copy of the file into a buffer and of each line out of it (see
// splitAndDecode for what happens if the file is truncated meanwhile). Everything else, and any
// file that cannot be mapped, is read as a stream.
func (r *Reader) readFile(ctx context.Context, name string, f fs.File, fn func(*Event) error) error {
	if m, ok := f.(Mapper); ok {
		if data, drop, unmap, err := m.Map(); err == nil {
			err := r.readMapped(ctx, name, data, drop, fn)
			if uerr := unmap(); err == nil && uerr != nil {
				err = fmt.Errorf("%s: %w", name, uerr)
			}
			if err != errNotMapped {
				return err
			}
		}
	}
	return r.readStream(ctx, name, f, fn)
}

// readMapped reads JSON lines from a mapped file, or returns errNotMapped for any other content.
func (r *Reader) readMapped(ctx context.Context, name string, data []byte, drop func([]byte), fn func(*Event) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer faultError(name, &err)
	start := 0
	if bytes.HasPrefix(data, []byte(byteOrderMark)) {
		start = len(byteOrderMark)
	}
	i := start
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	if i == len(data) || data[i] != '{' {
		return errNotMapped // gzip, CSV, a JSON array: readStream tells them apart, by the same first byte
	}
	return r.splitAndDecode(ctx, name, &mappedLines{b: data, i: start, drop: drop, max: r.maxLine()}, fn)
}

// byteOrderMark is UTF-8's, which some exports start with.
const byteOrderMark = "\xef\xbb\xbf"

func (r *Reader) readStream(ctx context.Context, name string, in io.Reader, fn func(*Event) error) error {
	counted := &limits.Counting{R: in}
	br := bufio.NewReaderSize(counted, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(&limits.Metered{Name: name, R: zr, Compressed: counted, Limits: r.Limits}, 1<<20)
	}
	// Skip a UTF-8 BOM, then look at the first byte to choose the shape.
	if b, _ := br.Peek(len(byteOrderMark)); string(b) == byteOrderMark {
		br.Discard(len(byteOrderMark))
	}
	first := firstNonSpace(br)
	switch first {
	case '{':
		return r.readJSONLines(ctx, name, br, fn)
	case '[':
		return r.readDocument(name, br, fn)
	case 0:
		return nil
	}
	return r.readCSV(name, br, fn)
}

func firstNonSpace(br *bufio.Reader) byte {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil || len(b) < i {
			return 0
		}
		if c := b[i-1]; !isSpace(c) {
			return c
		}
	}
}
