package activity

// This file: framing. The lines of a stream or a mapped file, split into batches of whole JSON
// values (a pretty-printed value is held until its brackets close).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"io"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

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

// lineTooLong is what a lineSource's next returns for a line longer than its limit: the line is
// skipped (a stream's without being buffered) and reported; reading goes on with the next one.
type lineTooLong struct {
	n, max int64
	eof    bool // it was the last line
}

func (e *lineTooLong) Error() string {
	return fmt.Sprintf("a line of %s, over the %s line limit (limits.maxLineBytes in bulwark.yaml): skipped", limits.Size(e.n), limits.Size(e.max))
}

// bufLines reads lines from a bufio.Reader; a line is valid until the next call. A line longer
// than max is read past, not kept.
type bufLines struct {
	br  *bufio.Reader
	max int
}

func (b *bufLines) shared() bool { return false }

func (b *bufLines) pos() int { return 0 }

func (b *bufLines) release(int) {}

func (b *bufLines) next() ([]byte, error) {
	line, err := b.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = b.br.ReadSlice('\n')
			if len(buf)+len(line) > b.max {
				// Read past the rest of the line without keeping it.
				n := int64(len(buf) + len(line))
				for err == bufio.ErrBufferFull {
					line, err = b.br.ReadSlice('\n')
					n += int64(len(line))
				}
				if err != nil && err != io.EOF {
					return nil, err
				}
				return nil, &lineTooLong{n: n, max: int64(b.max), eof: err == io.EOF}
			}
			buf = append(buf, line...)
		}
		line = buf
	}
	if len(line) > b.max {
		return nil, &lineTooLong{n: int64(len(line)), max: int64(b.max), eof: err == io.EOF}
	}
	return line, err
}

// mappedLines cuts a mapped file into lines without copying them.
type mappedLines struct {
	b        []byte // the whole mapping
	i        int    // where the next line starts
	released int    // the pages before it were given back
	drop     func([]byte)
	max      int // the line limit
}

func (m *mappedLines) shared() bool { return true }

func (m *mappedLines) pos() int { return m.i }

// release gives back the mapped pages of the lines before upto, every 8 MB: the kernel keeps
// them in its page cache, but they would otherwise all count as the process's memory.
func (m *mappedLines) release(upto int) {
	if m.drop == nil || upto-m.released < 8<<20 {
		return
	}
	m.released = m.giveBack(m.released, upto)
}

// pageAlign is a multiple of every page size in use (4, 16 and 64 KiB): what is given back starts
// and ends on it.
const pageAlign = 64 << 10

// giveBack gives back the pages wholly inside b[from:to] — decoded lines, or a skipped one that
// looking for its end read in; they are the file's, read again if touched — and returns where
// they end.
func (m *mappedLines) giveBack(from, to int) int {
	from = (from + pageAlign - 1) / pageAlign * pageAlign
	to = to / pageAlign * pageAlign
	if m.drop != nil && to > from {
		m.drop(m.b[from:to])
	}
	return to
}

func (m *mappedLines) next() ([]byte, error) {
	rest := m.b[m.i:]
	lim := min(len(rest), m.max+1)
	if j := bytes.IndexByte(rest[:lim], '\n'); j >= 0 {
		m.i += j + 1
		return rest[:j+1], nil
	}
	if lim == len(rest) { // the last line, within the limit
		m.i = len(m.b)
		return rest, io.EOF
	}
	// Longer than the limit: find its end 8 MiB at a time, giving each part's pages back, so that a
	// 2 GB line costs no more memory than a short one.
	start, k := m.i, lim
	for {
		end := min(len(rest), k+8<<20)
		if j := bytes.IndexByte(rest[k:end], '\n'); j >= 0 {
			m.i = start + k + j + 1
			m.giveBack(start, m.i)
			return nil, &lineTooLong{n: int64(k + j + 1), max: int64(m.max)}
		}
		m.giveBack(start, start+end)
		if end == len(rest) {
			m.i = len(m.b)
			return nil, &lineTooLong{n: int64(len(rest)), max: int64(m.max), eof: true}
		}
		k = end
	}
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
		if tl, ok := err.(*lineTooLong); ok {
			lineNo++
			if e := add(unit{src: source{name, lineNo}, problem: tl.Error()}); e != nil {
				return e
			}
			pending = pending[:0] // a value it was part of cannot be whole
			if tl.eof {
				break
			}
			continue
		}
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
