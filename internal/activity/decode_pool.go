package activity

// This file: the worker pool. Batches of lines decoded on every core, events handed on in input
// order.

import (
	"bufio"
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// readJSONLines reads one JSON value per line: events, or {"records":[…]} / {"value":[…]} pages.
// A whole pretty-printed document also works: lines are joined until a value is complete. A line
// that starts with "{" and ends with "}" is one record; if it is not valid JSON it is reported as
// malformed. Lines are decoded by Workers goroutines and passed on in file order.
func (r *Reader) readJSONLines(ctx context.Context, name string, br *bufio.Reader, fn func(*Event) error) error {
	return r.splitAndDecode(ctx, name, &bufLines{br: br, max: r.maxLine()}, fn)
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
