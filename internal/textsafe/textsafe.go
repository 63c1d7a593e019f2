// Package textsafe keeps strings read from input (callers, lock notes, resource names, file names)
// from controlling the terminal they are printed on. Writer escapes, on the way out, every control
// character but newline and tab — so no cursor movement, carriage-return overwrite, window title,
// hyperlink, clipboard write or bidirectional reordering can come from input — and lets through
// only the SGR colour sequences (ESC [ digits/; m) Bulwark's own styling writes. Cell does the same
// for one table cell and escapes newline and tab too, so a value cannot forge rows or columns.
// Escapes are written as \uXXXX, which inside a JSON string is the same character: JSON output
// keeps its meaning.
package textsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Writer returns w behind the output filter (see the package comment).
func Writer(w io.Writer) io.Writer {
	if sw, ok := w.(*writer); ok {
		return sw
	}
	return &writer{w: w}
}

// Unwrap returns the writer behind a Writer, or w itself.
func Unwrap(w io.Writer) io.Writer {
	if sw, ok := w.(*writer); ok {
		return sw.w
	}
	return w
}

type writer struct{ w io.Writer }

func (sw *writer) Write(p []byte) (int, error) {
	i := unsafeAt(p, false)
	if i < 0 {
		return sw.w.Write(p)
	}
	var b strings.Builder
	b.Grow(len(p) + 16)
	escape(&b, string(p), false)
	if _, err := io.WriteString(sw.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Cell returns s safe for one table cell: like Writer, and newline, carriage return and tab
// escaped too.
func Cell(s string) string {
	if unsafeAt([]byte(s), true) < 0 {
		return s
	}
	var b strings.Builder
	escape(&b, s, true)
	return b.String()
}

// unsafeAt returns the index of the first byte that may need escaping, or -1: a control byte, DEL,
// or the first byte of a multi-byte character (checked in full by escape).
func unsafeAt(p []byte, cell bool) int {
	for i, c := range p {
		switch {
		case c == '\n' || c == '\t':
			if cell {
				return i
			}
		case c < 0x20 || c == 0x7f || c >= 0xc2:
			return i
		}
	}
	return -1
}

func escape(b *strings.Builder, s string, cell bool) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			if n := sgr(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			fmt.Fprintf(b, `\u%04x`, c)
			i++
		case (c == '\n' || c == '\t') && !cell:
			b.WriteByte(c)
			i++
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(b, `\u%04x`, c)
			i++
		case c < 0x80:
			b.WriteByte(c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if dangerous(r) {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
		}
	}
}

// sgr returns the length of an SGR sequence (ESC [ [0-9;]* m) at the start of s, or 0.
func sgr(s string) int {
	if len(s) < 3 || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s) && i < 32; i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case c == ';' || (c >= '0' && c <= '9'):
		default:
			return 0
		}
	}
	return 0
}

// dangerous reports the non-ASCII characters that control a terminal or reorder text: C1 controls
// (U+0080–U+009F, 8-bit CSI and OSC among them) and the bidirectional embedding, override and
// isolate controls ("Trojan Source").
func dangerous(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
