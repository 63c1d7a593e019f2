package sigma

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"sync"
	"unicode/utf8"
)

// listThreshold is the length from which a field's list of values ("any of") is matched through a
// listMatcher instead of one value after another.
const listThreshold = 16

// A listMatcher matches a value against a long list of values ("any of") at a cost that grows with
// the value, not with the list: each value of the list is filed under one 3-byte gram of a literal
// that every string it matches must contain (case-insensitively); a string is checked only against
// the values filed under the grams it contains, plus those without such a literal (always). The
// check itself is the value's own matcher, so the semantics are exactly those of the list. A string
// with non-ASCII bytes is checked against every value (Unicode case folding can match an ASCII
// literal with other bytes: the Kelvin sign folds to k).
type listMatcher struct {
	vals   []valueMatcher
	always []int32
	grams  map[uint32][]int32
}

func newListMatcher(vals []valueMatcher) *listMatcher {
	m := &listMatcher{vals: vals, grams: map[uint32][]int32{}}
	for i, v := range vals {
		lit := requiredLiteral(v)
		if len(lit) < 3 {
			m.always = append(m.always, int32(i))
			continue
		}
		// File it under the gram of its literal with the fewest values so far: the buckets stay
		// small when many values share a prefix ("user00001", "user00002" …).
		best, bestN := uint32(0), -1
		for j := 0; j+3 <= len(lit); j++ {
			g := gram(lit[j], lit[j+1], lit[j+2])
			if n := len(m.grams[g]); bestN < 0 || n < bestN {
				best, bestN = g, n
			}
		}
		m.grams[best] = append(m.grams[best], int32(i))
	}
	return m
}

func gram(a, b, c byte) uint32 {
	return uint32(lowerASCII(a))<<16 | uint32(lowerASCII(b))<<8 | uint32(lowerASCII(c))
}

func (m *listMatcher) match(v any) bool {
	s, ok := v.(string)
	if !ok || !isASCII(s) {
		for _, x := range m.vals {
			if x.match(v) {
				return true
			}
		}
		return false
	}
	for _, i := range m.always {
		if m.vals[i].match(s) {
			return true
		}
	}
	if len(s) < 3 {
		return false
	}
	// Each value is filed under one gram, so checking each distinct gram of s once checks each
	// candidate value once.
	var seen map[uint32]struct{}
	if len(s) > 64 {
		seen = make(map[uint32]struct{}, len(s))
	}
	for j := 0; j+3 <= len(s); j++ {
		g := gram(s[j], s[j+1], s[j+2])
		cands, ok := m.grams[g]
		if !ok {
			continue
		}
		if seen != nil {
			if _, dup := seen[g]; dup {
				continue
			}
			seen[g] = struct{}{}
		} else if repeated(s, j) {
			continue
		}
		for _, i := range cands {
			if m.vals[i].match(s) {
				return true
			}
		}
	}
	return false
}

// repeated reports whether the gram at j of a short s occurred earlier in it.
func repeated(s string, j int) bool {
	g := gram(s[j], s[j+1], s[j+2])
	for k := 0; k < j; k++ {
		if gram(s[k], s[k+1], s[k+2]) == g {
			return true
		}
	}
	return false
}

// requiredLiteral returns a lower-cased ASCII string that every string v matches contains, ignoring
// case, or "" when there is none it can tell.
func requiredLiteral(v valueMatcher) string {
	switch x := v.(type) {
	case *strMatcher:
		switch x.kind {
		case strExact, strPrefix, strSuffix, strContains:
			if isASCII(x.lit) {
				return lowerString(x.lit)
			}
		case strGlob:
			// The longest run of literal characters between wildcards.
			best, cur := "", []byte(nil)
			for _, t := range append(x.glob, gtok{any: true}) {
				if t.any || t.one || t.r >= utf8.RuneSelf {
					if len(cur) > len(best) {
						best = string(cur)
					}
					cur = cur[:0]
					continue
				}
				cur = append(cur, lowerASCII(byte(t.r)))
			}
			return best
		}
	case *reMatcher:
		if re, err := syntax.Parse(x.pattern, syntax.Perl); err == nil {
			return lowerString(reLiteral(re))
		}
	}
	return ""
}

// reLiteral is the longest ASCII literal that every match of re contains.
func reLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if isASCII(s) {
			return s
		}
	case syntax.OpCapture, syntax.OpPlus:
		return reLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, sub := range re.Sub {
			if l := reLiteral(sub); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

func lowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

// reMatcher matches with an RE2 regular expression (linear time, no catastrophic backtracking).
// Patterns of long lists are compiled on first use: a list of 10,000 patterns is parsed (validated)
// when the rule loads, and only the patterns whose literal a value contains are ever compiled.
type reMatcher struct {
	pattern string
	once    sync.Once
	re      *regexp.Regexp
}

func newReMatcher(pattern string, lazy bool) (*reMatcher, error) {
	m := &reMatcher{pattern: pattern}
	if lazy {
		if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
			return nil, err
		}
		return m, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	m.once.Do(func() {})
	m.re = re
	return m, nil
}

func (m *reMatcher) regexp() *regexp.Regexp {
	m.once.Do(func() {
		// Parsed when the rule loaded; compiling what parses fails only for a program too large,
		// which then matches nothing.
		m.re, _ = regexp.Compile(m.pattern)
	})
	return m.re
}

func (m *reMatcher) match(v any) bool {
	s, ok := v.(string)
	if !ok {
		if f, isNum := toFloat(v); isNum {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		} else {
			return false
		}
	}
	re := m.regexp()
	return re != nil && re.MatchString(s)
}
