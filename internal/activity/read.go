package activity

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/internal/fileinfo"
	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// Problem is a line or row that could not be read; reading goes on after it.
type Problem struct {
	Source string // file:line
	Msg    string
}

func (p Problem) String() string { return p.Source + ": " + p.Msg }

// Reader reads events from files, folders and stdin.
type Reader struct {
	Stdin io.Reader
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
		info, err := os.Stat(p)
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
			err := filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					if f != p && strings.HasPrefix(d.Name(), ".") {
						return filepath.SkipDir
					}
					return nil
				}
				n := strings.ToLower(d.Name())
				for _, ext := range []string{".json", ".jsonl", ".csv", ".json.gz", ".jsonl.gz", ".csv.gz"} {
					if strings.HasSuffix(n, ext) {
						if !d.Type().IsRegular() { // a link is read when it leads to a regular file
							if info, err := os.Stat(f); err != nil || !info.Mode().IsRegular() {
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
			fh, err := os.Open(f)
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
	if e.timeOnly { // its memory is reused once fn returns (see Reader.TimeOnly): hold a copy
		c := new(Event)
		*c = timeOnlyValue(e.At, e.Format, e.src, e.keyHash)
		e = c
	}
	o.buf = append(o.buf, e)
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

// readFile reads an opened file. JSON lines in a regular file are read from a memory mapping: no
// copy of the file into a buffer and of each line out of it (see splitAndDecode for what happens if
// the file is truncated meanwhile). Everything else, and any file that cannot be mapped, is read
// as a stream.
func (r *Reader) readFile(ctx context.Context, name string, f *os.File, fn func(*Event) error) error {
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		if data, unmap, err := mapFile(f, info.Size()); err == nil {
			err := r.readMapped(ctx, name, data, fn)
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
func (r *Reader) readMapped(ctx context.Context, name string, data []byte, fn func(*Event) error) (err error) {
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
	return r.splitAndDecode(ctx, name, &mappedLines{b: data, i: start}, fn)
}

// byteOrderMark is UTF-8's, which some exports start with.
const byteOrderMark = "\xef\xbb\xbf"

func (r *Reader) readStream(ctx context.Context, name string, in io.Reader, fn func(*Event) error) error {
	br := bufio.NewReaderSize(in, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<20)
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

// readJSONLines reads one JSON value per line: events, or {"records":[…]} / {"value":[…]} pages.
// A whole pretty-printed document also works: lines are joined until a value is complete. A line
// that starts with "{" and ends with "}" is one record; if it is not valid JSON it is reported as
// malformed. Lines are decoded by Workers goroutines and passed on in file order.
func (r *Reader) readJSONLines(ctx context.Context, name string, br *bufio.Reader, fn func(*Event) error) error {
	return r.splitAndDecode(ctx, name, &bufLines{br}, fn)
}

// splitAndDecode splits lines into batches, decodes them and passes their events on in order. When
// lines come from a mapped file (see mappedLines), a fault reading it — the file was truncated
// meanwhile — is an error, not a crash: every goroutine that reads the mapping turns faults into
// panics (debug.SetPanicOnFault) and recovers them, and all of them have finished when it returns.
func (r *Reader) splitAndDecode(ctx context.Context, name string, src lineSource, fn func(*Event) error) error {
	mapped := src.shared()
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 { // on this goroutine: readMapped guards it
		d := decoded{decoder: r.newDecoder()}
		return splitJSONLines(ctx, name, src, func(b batch) error {
			d.reset()
			for _, u := range b.units {
				decodeUnit(u, &d)
			}
			putLines(b.lines)
			putUnits(b.units)
			err := r.apply(&d, fn)
			src.release(b.upto)
			return err
		})
	}

	type job struct {
		seq int
		batch
	}
	type result struct {
		seq  int
		d    *decoded
		upto int
	}
	done := make(chan struct{})
	var running sync.WaitGroup // the producer and the workers: the mapping is theirs until they end
	defer func() { close(done); running.Wait() }()
	jobs := make(chan job, 2*workers)
	results := make(chan result, 2*workers)
	var readErr error
	running.Add(1)
	go func() { // producer: split lines into batches
		defer running.Done()
		defer close(jobs)
		if mapped {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer faultError(name, &readErr)
		}
		seq := 0
		readErr = splitJSONLines(ctx, name, src, func(b batch) error {
			select {
			case jobs <- job{seq, b}:
				seq++
				return nil
			case <-done:
				return context.Canceled
			}
		})
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		running.Add(1)
		go func() {
			defer running.Done()
			defer wg.Done()
			if mapped {
				defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			}
			dec := r.newDecoder()
			for j := range jobs {
				d := decodedPool.Get().(*decoded)
				d.decoder = dec
				func() {
					if mapped {
						defer faultError(name, &d.fatal)
					}
					for _, u := range j.units {
						decodeUnit(u, d)
					}
				}()
				putLines(j.lines)
				putUnits(j.units)
				select {
				case results <- result{j.seq, d, j.upto}:
				case <-done:
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	held := map[int]result{}
	next := 0
	for res := range results {
		if res.d.fatal != nil {
			return res.d.fatal
		}
		held[res.seq] = res
		for h, ok := held[next]; ok; h, ok = held[next] {
			delete(held, next)
			next++
			err := r.apply(h.d, fn)
			putDecoded(h.d)
			if err != nil {
				return err
			}
			src.release(h.upto)
		}
	}
	return readErr // set before jobs was closed, so before results was
}

// faultError, deferred, turns the panic of a memory fault (see debug.SetPanicOnFault) into an
// error naming the file; any other panic goes on.
func faultError(name string, err *error) {
	p := recover()
	if p == nil {
		return
	}
	if _, ok := p.(interface{ Addr() uintptr }); ok {
		*err = fmt.Errorf("%s: the file could not be read from memory: it was truncated, or its storage failed, while being read", name)
		return
	}
	panic(p)
}

// lineSource gives a JSON-lines input a line at a time, each with its "\n" (not the last).
type lineSource interface {
	// next returns the next line and io.EOF with the last (which may be empty).
	next() ([]byte, error)
	// shared reports whether lines stay valid after the next call (a mapped file): they are then
	// not copied.
	shared() bool
	// pos is how far into the input next has read.
	pos() int
	// release tells that the lines before offset upto (a pos) are decoded and no longer needed.
	release(upto int)
}

// bufLines reads lines from a bufio.Reader; a line is valid until the next call.
type bufLines struct{ br *bufio.Reader }

func (b *bufLines) shared() bool { return false }
func (b *bufLines) pos() int     { return 0 }
func (b *bufLines) release(int)  {}

func (b *bufLines) next() ([]byte, error) {
	line, err := b.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = b.br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	return line, err
}

// mappedLines cuts a mapped file into lines without copying them.
type mappedLines struct {
	b        []byte // the whole mapping
	i        int    // where the next line starts
	released int    // the pages before it were given back
}

func (m *mappedLines) shared() bool { return true }
func (m *mappedLines) pos() int     { return m.i }

// release gives back the mapped pages of the lines before upto, every 8 MB: the kernel keeps
// them in its page cache, but they would otherwise all count as the process's memory.
func (m *mappedLines) release(upto int) {
	page := os.Getpagesize()
	if upto-m.released < 8<<20 {
		return
	}
	end := upto / page * page
	dropPages(m.b[m.released:end])
	m.released = end
}

func (m *mappedLines) next() ([]byte, error) {
	rest := m.b[m.i:]
	j := bytes.IndexByte(rest, '\n')
	if j < 0 {
		m.i = len(m.b)
		return rest, io.EOF
	}
	m.i += j + 1
	return rest[:j+1], nil
}

// batch is a run of units cut from a JSON-lines input.
type batch struct {
	units []unit
	lines *[]byte // the buffer copied data is in, returned with putLines once the units are decoded
	upto  int     // the input's pos after the batch's last line
}

// unit is one JSON value of a JSON-lines input, or a problem found while splitting.
type unit struct {
	src     source
	data    []byte // in its batch's line buffer, reused once the batch is decoded (see decodeUnit)
	problem string
}

// linePool holds the buffers a batch's lines are copied into: one copy into a reused buffer,
// instead of a new allocation for every line. Only the lines of events that are kept are copied
// again, into memory of their own (see decodeUnit).
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512<<10); return &b }}

func putLines(b *[]byte) {
	*b = (*b)[:0]
	linePool.Put(b)
}

// unitPool holds the unit slices of batches, returned with putUnits once the units are decoded.
var unitPool = sync.Pool{New: func() any { u := make([]unit, 0, batchSize); return &u }}

func getUnits() []unit { return (*unitPool.Get().(*[]unit))[:0] }

func putUnits(u []unit) {
	clear(u) // no line stays reachable from the pool
	u = u[:0]
	unitPool.Put(&u)
}

// batchSize is how many lines a batch holds.
const batchSize = 128

// decoded is what a batch of units gave.
type decoded struct {
	events   []*Event
	problems []Problem
	fatal    error // decoding stopped: the mapped file changed
	// The batch's time-only events (see placeTimeOnly), reused for the next batch once these are
	// passed on: they are valid only while fn runs (see Reader.TimeOnly).
	timeOnly []Event
	*decoder // the state of the goroutine that decodes, kept from batch to batch
}

// decoder is what one decoding goroutine keeps from line to line.
type decoder struct {
	// Scratch records, reused line after line (events keep strings, never the record).
	outer, inner record
	keys         keyCache
	walker       jsonscan.Walker
	need         memo[need] // Reader.TimeOnly's and Reader.Flat's answers, by operation
	// Lower-case operations and resource IDs, shared by the events that have them: a log repeats
	// both, and the detector looks every kept event up by them.
	ops, resources memo[string]
}

func (r *Reader) newDecoder() *decoder {
	d := &decoder{ops: memo[string]{f: lowerFast}, resources: memo[string]{f: lowerFast}}
	if timeOnly, flat := r.TimeOnly, r.Flat; timeOnly != nil || flat != nil {
		d.need.f = func(op string) need {
			switch {
			case timeOnly != nil && timeOnly(op):
				return needTime
			case flat != nil && flat(op):
				return needFlat
			}
			return needWhole
		}
	}
	return d
}

// need is how much of an event the Reader's caller needs, by its operation.
type need uint8

const (
	needWhole need = iota
	needFlat       // Reader.Flat
	needTime       // Reader.TimeOnly
)

// memo remembers f's answers for up to 8192 strings at a time.
type memo[V any] struct {
	f func(string) V
	m map[string]V
}

func (c *memo[V]) get(s string) V {
	if v, ok := c.m[s]; ok {
		return v
	}
	if c.m == nil || len(c.m) >= 8192 {
		c.m = map[string]V{}
	}
	v := c.f(s)
	c.m[strings.Clone(s)] = v // s may be in the line buffer
	return v
}

// keyCache remembers the members the top-level keys of the last record named, in order: the
// records of one export list the same keys in the same order, so a key is usually named by one
// comparison.
type keyCache struct {
	keys    [16]string
	members [16]member
}

func (c *keyCache) member(i int, k []byte) member {
	if i >= len(c.keys) {
		return memberOfKey(k)
	}
	if c.keys[i] == string(k) {
		return c.members[i]
	}
	m := memberOfKey(k)
	c.keys[i], c.members[i] = string(k), m
	return m
}

// decodedPool holds the results of the batches the workers of splitAndDecode decode.
var decodedPool = sync.Pool{New: func() any { return new(decoded) }}

// putDecoded returns d to decodedPool once its events are passed on.
func putDecoded(d *decoded) {
	clear(d.events)
	clear(d.problems)
	d.reset()
	d.fatal, d.decoder = nil, nil
	decodedPool.Put(d)
}

// placeTimeOnly returns where the next time-only event of the batch goes: the batch's own slab,
// or a new allocation for a unit of more records than a batch has lines ({"records":[…]}).
func (d *decoded) placeTimeOnly() *Event {
	if cap(d.timeOnly) == 0 {
		d.timeOnly = make([]Event, 0, batchSize)
	}
	if n := len(d.timeOnly); n < cap(d.timeOnly) {
		d.timeOnly = d.timeOnly[:n+1]
		return &d.timeOnly[n]
	}
	return new(Event)
}

func (d *decoded) reset() {
	d.timeOnly = d.timeOnly[:0]
	d.events, d.problems = d.events[:0], d.problems[:0]
}

// apply records a batch's problems and passes its events on.
func (r *Reader) apply(d *decoded, fn func(*Event) error) error {
	for _, p := range d.problems {
		r.addProblem(p)
	}
	if r.seen != nil {
		// Load each key's first slot in both sets before the first lookup: the cache misses of a
		// whole batch then overlap instead of coming one after another.
		var sum uint64
		for _, e := range d.events {
			sum += r.seen.first(e.KeyHash()) + r.seenPrev.first(e.KeyHash())
		}
		r.touched += sum
	}
	for _, e := range d.events {
		if err := r.emit(e, fn); err != nil {
			return err
		}
	}
	return nil
}

// splitJSONLines cuts a JSON-lines stream into batches of units, their data copied into a buffer
// from linePool that batch is given (and must return with putLines once the units are decoded).
func splitJSONLines(ctx context.Context, name string, src lineSource, emit func(batch) error) error {
	lineNo, startLine := 0, 0
	var pending []byte
	var nest nesting // of pending
	b := getUnits()
	lines := linePool.Get().(*[]byte)
	keep := func(data []byte) []byte { // a copy of data in lines
		start := len(*lines)
		*lines = append(*lines, data...)
		return (*lines)[start:len(*lines):len(*lines)]
	}
	add := func(u unit) error {
		b = append(b, u)
		if len(b) == batchSize {
			if err := emit(batch{b, lines, src.pos()}); err != nil {
				return err
			}
			b, lines = getUnits(), linePool.Get().(*[]byte)
		}
		return nil
	}
	shared := src.shared()
	for {
		line, err := src.next()
		if len(line) > 0 {
			lineNo++
			trimmed := trimSpace(line)
			switch {
			case len(trimmed) > 1 && trimmed[0] == '{' && trimmed[len(trimmed)-1] == '}':
				if len(pending) > 0 { // a partial record before a whole one was malformed
					if e := add(unit{src: source{name, startLine}, problem: "malformed JSON"}); e != nil {
						return e
					}
					pending = pending[:0]
				}
				data := trimmed
				if !shared {
					data = keep(trimmed)
				}
				if e := add(unit{src: source{name, lineNo}, data: data}); e != nil {
					return e
				}
			case len(trimmed) > 0:
				if len(pending) == 0 {
					startLine = lineNo
					nest = nesting{}
				}
				pending = append(pending, line...)
				// Validate only when the value may be complete (its brackets closed, outside a
				// string): every byte is looked at once by nest and once by validation, so a
				// pretty-printed document costs linear time, not a validation per line.
				if nest.feed(line); !nest.open() {
					if validatePending(pending) {
						if e := add(unit{src: source{name, startLine}, data: keep(bytes.TrimSpace(pending))}); e != nil {
							return e
						}
					} else if e := add(unit{src: source{name, startLine}, problem: "malformed JSON"}); e != nil {
						return e
					}
					pending = pending[:0]
				} else if len(pending) > 64<<20 {
					if e := add(unit{src: source{name, startLine}, problem: "malformed JSON (record over 64 MB)"}); e != nil {
						return e
					}
					pending = pending[:0]
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if lineNo%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if len(bytes.TrimSpace(pending)) > 0 {
		if e := add(unit{src: source{name, startLine}, problem: "malformed JSON (incomplete at end of file)"}); e != nil {
			return e
		}
	}
	if len(b) > 0 {
		return emit(batch{b, lines, src.pos()})
	}
	putUnits(b)
	putLines(lines)
	return nil
}

// validatePending validates a multi-line value; a test counts the bytes it is given.
var validatePending = jsonscan.Valid

// nesting follows the brackets of JSON text fed to it line by line, outside strings.
type nesting struct {
	depth       int
	inStr, escd bool
}

func (n *nesting) feed(b []byte) {
	for _, c := range b {
		switch {
		case n.inStr:
			switch {
			case n.escd:
				n.escd = false
			case c == '\\':
				n.escd = true
			case c == '"':
				n.inStr = false
			}
		case c == '"':
			n.inStr = true
		case c == '{' || c == '[':
			n.depth++
		case c == '}' || c == ']':
			n.depth--
		}
	}
}

// open reports text that cannot be a complete value yet: inside a string or brackets.
func (n *nesting) open() bool { return n.inStr || n.depth > 0 }

// clone copies b (make and copy: the runtime then does not zero the memory first).
func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// trimSpace is bytes.TrimSpace for JSON's white space, looking only at the ends (a line is
// usually "{…}\n").
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// decodeUnit decodes one unit into d; it touches no Reader state, so workers run it concurrently.
// The events it adds share no memory with u.data: those that keep strings of it get a copy of
// their own (one for all the events of a unit), so that the line buffer can be reused.
func decodeUnit(u unit, d *decoded) {
	if d.decoder == nil {
		d.decoder = new(Reader).newDecoder()
	}
	n := len(d.events)
	decodeData(u, d)
	var own []byte
	for _, e := range d.events[n:] {
		switch {
		case e.timeOnly:
			continue
		case d.need.f != nil && d.need.get(e.OperationName) == needFlat:
			e.flatten(u.data)
		default:
			if own == nil {
				own = clone(u.data)
			}
			e.rebase(u.data, own)
		}
		e.opLower, e.resLower = d.ops.get(e.OperationName), d.resources.get(e.ResourceID)
	}
}

func decodeData(u unit, d *decoded) {
	if u.problem != "" {
		d.problems = append(d.problems, Problem{Source: u.src.String(), Msg: u.problem})
		return
	}
	d.outer = record{}
	rec := &d.outer
	var w walked
	timeOnly := ""                                                    // the operation Reader.TimeOnly accepted: nested members are no longer collected
	top := 0                                                          // top-level members so far
	ok := d.walker.Walk(u.data, func(p *jsonscan.Path, k, v []byte) { // validates and splits in one pass
		if p.Depth() == 1 {
			f := d.keys.member(top, k)
			top++
			rec.set(f, shareString(v))
			w.top(f, v)
			if f == mOperationName && d.need.f != nil && timeOnly == "" {
				if op := rec.str(mOperationName); op != "" && d.need.get(op) == needTime {
					timeOnly = op
					p.Shallow()
				}
			}
			return
		}
		w.visit(p, k, v)
	})
	if !ok {
		d.problems = append(d.problems, Problem{Source: u.src.String(), Msg: "malformed JSON"})
		return
	}
	for _, f := range []member{mRecords, mValue} {
		if list := rec.v[f]; jsonscan.First(bytesOf(list)) == '[' {
			name := map[member]string{mRecords: "records", mValue: "value"}[f]
			jsonscan.Array(bytesOf(list), func(i int, v []byte) bool {
				src := source{name: u.src.String() + " " + name + "[" + strconv.Itoa(i) + "]"}
				d.inner = record{}
				if scanInto(v, &d.inner) {
					decodeRecord(src, &d.inner, d, nil)
				} else {
					d.problems = append(d.problems, Problem{Source: src.String(), Msg: "not a JSON object"})
				}
				return true
			})
			return
		}
	}
	if timeOnly != "" {
		e, ok, err := timeOnlyEvent(rec, u.src, timeOnly, d)
		switch {
		case err != nil:
			d.problems = append(d.problems, Problem{Source: u.src.String(), Msg: err.Error()})
		case ok:
			d.events = append(d.events, e)
		default:
			decodeRecord(u.src, rec, d, nil) // the walk stopped collecting: the general path
		}
		return
	}
	decodeRecord(u.src, rec, d, &w)
}

func decodeRecord(src source, rec *record, d *decoded, w *walked) {
	e, err := fromWalked(rec, src, w)
	if err != nil {
		d.problems = append(d.problems, Problem{Source: src.String(), Msg: err.Error()})
		return
	}
	e.KeyHash() // here, on a worker, while the record is in cache: the in-order dedup then only reads it
	d.events = append(d.events, e)
}

func (r *Reader) one(src, raw string, fn func(*Event) error) error {
	rec, ok := scanRecord(raw)
	if !ok {
		r.problem(src, "not a JSON object")
		return nil
	}
	return r.oneRecord(source{name: src}, rec, fn)
}

func (r *Reader) oneRecord(src source, rec *record, fn func(*Event) error) error {
	e, err := fromRecord(rec, src)
	if err != nil {
		r.problem(src.String(), "%v", err)
		return nil
	}
	return r.emit(e, fn)
}

// readDocument reads a JSON array of events (az monitor activity-log list, Log Analytics JSON).
func (r *Reader) readDocument(name string, br *bufio.Reader, fn func(*Event) error) error {
	data, err := io.ReadAll(br)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !jsonscan.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := bytes.Count(data[:se.Offset], []byte("\n")) + 1
			r.problem(fmt.Sprintf("%s:%d", name, line), "malformed JSON: %v", err)
		} else {
			r.problem(name, "malformed JSON: %v", err)
		}
		return nil
	}
	var ferr error
	jsonscan.Array(data, func(i int, v []byte) bool {
		ferr = r.one(fmt.Sprintf("%s [%d]", name, i), string(v), fn)
		return ferr == nil
	})
	return ferr
}

// csvColumns maps the portal export's headers ("TimeGenerated [UTC]") to column names.
func csvColumn(h string) string {
	h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	if i := strings.Index(h, " ["); i > 0 {
		h = h[:i]
	}
	return h
}

// readCSV reads the CSV that the Log Analytics portal exports.
func (r *Reader) readCSV(name string, br *bufio.Reader, fn func(*Event) error) error {
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		r.problem(name+":1", "not CSV: %v", err)
		return nil
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = csvColumn(h)
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := cr.FieldPos(0)
		src := source{name, line}
		if err != nil {
			r.problem(src.String(), "malformed CSV: %v", err)
			continue
		}
		if len(row) != len(cols) {
			r.problem(src.String(), "%d columns, the header has %d", len(row), len(cols))
			continue
		}
		rec := &record{}
		for i, c := range cols {
			if row[i] == "" {
				continue
			}
			v := row[i]
			if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
				rec.set(memberOf(strings.ToLower(c)), t)
			} else {
				b, _ := json.Marshal(v)
				rec.set(memberOf(strings.ToLower(c)), string(b))
			}
		}
		e, err := fromRecord(rec, src)
		if err != nil {
			r.problem(src.String(), "%v", err)
			continue
		}
		if err := r.emit(e, fn); err != nil {
			return err
		}
	}
}
