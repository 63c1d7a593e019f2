package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// Valid reports whether raw is one valid JSON value (surrounded by optional white space), deciding
// exactly as encoding/json.Valid does, several times faster on string-heavy input such as Activity
// Log records: string contents are skipped in a tight loop rather than a state machine per byte.
func Valid(raw []byte) bool {
	w := walkers.Get().(*Walker)
	defer walkers.Put(w)
	s := newScanner(raw, &w.mask)
	i, ok := s.value(skipSpace(raw, 0), 0)
	return ok && skipSpace(raw, i) == len(raw)
}

// walkers lend Valid the memory of a scan.
var walkers = sync.Pool{New: func() any { return new(Walker) }}

// maxKeptWords is the largest mask a Walker keeps for the next input: that of a 1 MB input.
const maxKeptWords = 1 << 14

// scanner validates one input. Where the CPU has AVX2, mask marks the input's quotes,
// backslashes and control bytes (bit k of word w: byte 64w+k), computed in one pass before the
// walk, so that the end of each string is a bit search rather than a scan.
type scanner struct {
	b    []byte
	mask []uint64
}

// The mask is made in *scratch, which keeps it for the next input unless it is over maxKeptWords.
func newScanner(b []byte, scratch *[]uint64) scanner {
	s := scanner{b: b}
	if !useAVX2 || len(b) < 64 {
		return s
	}
	n := (len(b) + 63) / 64
	if n <= cap(*scratch) {
		s.mask = (*scratch)[:n]
	} else {
		s.mask = make([]uint64, n, max(n, 64))
		if n <= maxKeptWords {
			*scratch = s.mask
		}
	}
	classify(b, s.mask)
	if full := len(b) / 64; full < n {
		// The last partial block: classified from a copy padded with bytes it does not mark.
		pad := blanks
		copy(pad[:], b[full*64:])
		classify(pad[:], s.mask[full:])
	}
	return s
}

// blanks is a block of bytes classify does not mark.
var blanks = [64]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

func (s *scanner) value(i, depth int) (int, bool) {
	b := s.b
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return s.str(i)
	case c == '{':
		return s.object(i, depth, nil, nil)
	case c == '[':
		if depth >= maxDepth {
			return i, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = s.value(i, depth+1); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
	case c == 't':
		return validLiteral(b, i, "true")
	case c == 'f':
		return validLiteral(b, i, "false")
	case c == 'n':
		return validLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	}
	return i, false
}

func validLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// object checks the object at b[i]. With fn it also reports each member at p.depth+1, after its
// value is checked, and walks the objects among them down to MaxWalkDepth (Walk).
func (s *scanner) object(i, depth int, p *Path, fn func(p *Path, key, val []byte)) (int, bool) {
	if depth >= maxDepth {
		return i, false
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		kEnd, ok := s.str(i)
		if !ok {
			return i, false
		}
		key := b[i+1 : kEnd-1]
		// The usual "key":value, without white space, takes no skipSpace call.
		if kEnd < len(b) && b[kEnd] == ':' {
			i = kEnd
		} else if i = skipSpace(b, kEnd); i >= len(b) || b[i] != ':' {
			return i, false
		}
		vStart := i + 1
		if vStart < len(b) && isSpaceByte(b[vStart]) {
			vStart = skipSpace(b, vStart)
		}
		var vEnd int
		switch {
		case vStart >= len(b):
			return vStart, false
		case b[vStart] == '"':
			vEnd, ok = s.str(vStart)
		case fn != nil && b[vStart] == '{' && p.depth+1 < p.limit:
			p.keys[p.depth] = key
			p.depth++
			vEnd, ok = s.object(vStart, depth+1, p, fn)
			p.depth--
		default:
			vEnd, ok = s.value(vStart, depth+1)
		}
		if !ok {
			return vEnd, false
		}
		if fn != nil {
			p.depth++
			fn(p, key, b[vStart:vEnd])
			p.depth--
		}
		i = vEnd
		if i < len(b) && isSpaceByte(b[i]) {
			i = skipSpace(b, i)
		}
		if i >= len(b) {
			return i, false
		}
		if b[i] == '}' {
			return i + 1, true
		}
		if b[i] != ',' {
			return i, false
		}
		i++
		if i < len(b) && isSpaceByte(b[i]) {
			i = skipSpace(b, i)
		}
	}
}

func isSpaceByte(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\r' || c == '\n') }

// str checks a string starting at the quote at b[i] and returns the index after it.
func (s *scanner) str(i int) (int, bool) {
	// Fast path: the first quote, backslash or control byte after the opening quote — from the
	// mask, or eight bytes at a time — is a quote: it ends the string.
	if s.mask != nil {
		if j := s.next(i + 1); j < len(s.b) && s.b[j] == '"' {
			return j + 1, true
		}
	} else if j, ok := stringEnd(s.b, i+1); ok {
		return j, true
	}
	return validStringSlow(s.b, i)
}

// next returns the index of the first marked byte at or after j, or len(b).
func (s *scanner) next(j int) int {
	w := j >> 6
	if w >= len(s.mask) {
		return len(s.b)
	}
	m := s.mask[w] & (^uint64(0) << (j & 63))
	for m == 0 {
		w++
		if w >= len(s.mask) {
			return len(s.b)
		}
		m = s.mask[w]
	}
	return w<<6 + bits.TrailingZeros64(m)
}

// stringEnd returns the index after the closing quote of a string whose content starts at b[j]
// when no backslash or control character comes before that quote.
func stringEnd(b []byte, j int) (int, bool) {
	for j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		if m := hasZeroByte(x^quotes) | hasZeroByte(x^backslashes) | hasLessThan(x, 0x20); m != 0 {
			j += bits.TrailingZeros64(m) / 8
			return j + 1, b[j] == '"'
		}
		j += 8
	}
	for ; j < len(b); j++ {
		if c := b[j]; c == '"' {
			return j + 1, true
		} else if c == '\\' || c < 0x20 {
			return j, false
		}
	}
	return j, false
}

func validStringSlow(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		// Skip eight plain bytes at a time: none a quote, a backslash or a control character.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if hasZeroByte(x^quotes)|hasZeroByte(x^backslashes)|hasLessThan(x, 0x20) != 0 {
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		}
		// An escape.
		i++
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if len(b)-i < 5 {
				return i, false
			}
			for _, h := range b[i+1 : i+5] {
				if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
					return i, false
				}
			}
			i += 4
		default:
			return i, false
		}
	}
	return i, false
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

const (
	ones        = 0x0101010101010101
	highs       = 0x8080808080808080
	quotes      = ones * '"'
	backslashes = ones * '\\'
)

// hasZeroByte is non-zero when a byte of x is zero.
func hasZeroByte(x uint64) uint64 { return (x - ones) & ^x & highs }

// hasLessThan is non-zero when a byte of x is below n (n <= 128).
func hasLessThan(x uint64, n uint64) uint64 { return (x - ones*n) & ^x & highs }
