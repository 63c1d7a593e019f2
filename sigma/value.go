package sigma

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// valueMatcher decides whether one event value matches one rule value.
type valueMatcher interface {
	match(v any) bool
}

// ---- strings with wildcards

type strKind uint8

const (
	strExact strKind = iota
	strPrefix
	strSuffix
	strContains
	strGlob
	strAny // "*": anything (but not absent)
)

type gtok struct {
	any, one bool
	r        rune
}

type strMatcher struct {
	kind strKind
	lit  string
	glob []gtok
	fold bool
	// num is the value as a number when the rule value was numeric, to compare with numeric event values.
	num    float64
	hasNum bool
}

// parsePattern splits a Sigma string value into literal runes and wildcards, honouring escapes:
// \* and \? are literal, \\ is one backslash, a backslash before anything else is itself.
func parsePattern(s string) []gtok {
	var out []gtok
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			out = append(out, gtok{r: rune(s[i+1])})
			i += 2
			continue
		case r == '*':
			if len(out) == 0 || !out[len(out)-1].any {
				out = append(out, gtok{any: true})
			}
		case r == '?':
			out = append(out, gtok{one: true})
		default:
			out = append(out, gtok{r: r})
		}
		i += sz
	}
	return out
}

func literal(toks []gtok) (string, bool) {
	var b strings.Builder
	for _, t := range toks {
		if t.any || t.one {
			return "", false
		}
		b.WriteRune(t.r)
	}
	return b.String(), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// newStrMatcher builds a matcher from tokens, choosing the fastest form.
func newStrMatcher(toks []gtok, fold bool) *strMatcher {
	m := &strMatcher{fold: fold}
	n := len(toks)
	switch {
	case n == 1 && toks[0].any:
		m.kind = strAny
		return m
	case n == 0:
		m.kind, m.lit = strExact, ""
		return m
	}
	inner := toks
	lead, trail := toks[0].any, toks[n-1].any
	if lead {
		inner = inner[1:]
	}
	if trail && len(inner) > 0 {
		inner = inner[:len(inner)-1]
	}
	if lit, ok := literal(inner); ok && (!fold || isASCII(lit)) {
		m.lit = lit
		switch {
		case lead && trail:
			m.kind = strContains
		case lead:
			m.kind = strSuffix
		case trail:
			m.kind = strPrefix
		default:
			m.kind = strExact
		}
		return m
	}
	m.kind, m.glob = strGlob, toks
	return m
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// indexFold finds substr (ASCII) in s ignoring ASCII case, without allocating. Candidates are
// found with strings.IndexByte (vectorised): at substr's first byte that has no other case, or
// else at its first byte in either case.
func indexFold(s, substr string) int {
	n := len(substr)
	if n == 0 {
		return 0
	}
	if n > len(s) {
		return -1
	}
	k := 0 // the anchor
	for k < n && isASCIILetter(substr[k]) {
		k++
	}
	last := len(s) - n // the last place a match can start
	if k < n {
		c := substr[k]
		for i := 0; i <= last; i++ {
			j := strings.IndexByte(s[i+k:last+k+1], c)
			if j < 0 {
				return -1
			}
			if i += j; equalFoldASCII(s[i:i+n], substr) {
				return i
			}
		}
		return -1
	}
	lo, up := lowerASCII(substr[0]), substr[0]&^0x20
	for i := 0; i <= last; i++ {
		rest := s[i : last+1]
		j := strings.IndexByte(rest, lo)
		if u := strings.IndexByte(rest, up); u >= 0 && (j < 0 || u < j) {
			j = u
		}
		if j < 0 {
			return -1
		}
		if i += j; equalFoldASCII(s[i:i+n], substr) {
			return i
		}
	}
	return -1
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// equalFoldASCII reports whether a and b, of the same length, are equal ignoring ASCII case. For
// b ASCII, it is strings.EqualFold: a non-ASCII rune of a would fold to nothing b's bytes spell.
func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(b); i++ {
		if x, y := a[i], b[i]; x != y && (x|0x20 != y|0x20 || !isASCIILetter(x)) {
			return false
		}
	}
	return true
}

func (m *strMatcher) matchString(s string) bool {
	switch m.kind {
	case strAny:
		return true
	case strExact:
		if m.fold {
			return strings.EqualFold(s, m.lit)
		}
		return s == m.lit
	case strPrefix:
		if m.fold {
			return len(s) >= len(m.lit) && strings.EqualFold(s[:len(m.lit)], m.lit)
		}
		return strings.HasPrefix(s, m.lit)
	case strSuffix:
		if m.fold {
			return len(s) >= len(m.lit) && strings.EqualFold(s[len(s)-len(m.lit):], m.lit)
		}
		return strings.HasSuffix(s, m.lit)
	case strContains:
		if m.fold {
			return indexFold(s, m.lit) >= 0
		}
		return strings.Contains(s, m.lit)
	}
	return globMatch(m.glob, s, m.fold)
}

func runeEq(a, b rune, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return lowerASCII(byte(a)) == lowerASCII(byte(b))
	}
	return unicode.ToLower(a) == unicode.ToLower(b) || unicode.ToUpper(a) == unicode.ToUpper(b)
}

// globMatch matches wildcard tokens against s with the classic single-backtrack algorithm:
// O(len(p)·len(s)) worst case, no allocation, no catastrophic backtracking.
func globMatch(p []gtok, s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			t := p[pi]
			switch {
			case t.any:
				starP, starS = pi, si
				pi++
				continue
			case t.one:
				_, sz := utf8.DecodeRuneInString(s[si:])
				si += sz
				pi++
				continue
			default:
				r, sz := utf8.DecodeRuneInString(s[si:])
				if runeEq(r, t.r, fold) {
					si += sz
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, sz := utf8.DecodeRuneInString(s[starS:])
		starS += sz
		si, pi = starS, starP+1
	}
	for pi < len(p) && p[pi].any {
		pi++
	}
	return pi == len(p)
}

func (m *strMatcher) match(v any) bool {
	switch x := v.(type) {
	case string:
		return m.matchString(x)
	case nil:
		return false
	case bool:
		if x {
			return m.matchString("true")
		}
		return m.matchString("false")
	}
	if f, ok := toFloat(v); ok {
		if m.hasNum {
			return f == m.num
		}
		if m.kind == strExact && !isNumericString(m.lit) {
			return false
		}
		return m.matchString(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return false
}

func isNumericString(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// ---- numbers

type numMatcher struct {
	op  string // lt lte gt gte eq
	val float64
}

func (m *numMatcher) match(v any) bool {
	f, ok := toFloat(v)
	if !ok {
		return false
	}
	switch m.op {
	case "lt":
		return f < m.val
	case "lte":
		return f <= m.val
	case "gt":
		return f > m.val
	case "gte":
		return f >= m.val
	}
	return f == m.val
}

// ---- regular expressions: reMatcher, in list.go

// ---- CIDR

type cidrMatcher struct{ prefix netip.Prefix }

func (m *cidrMatcher) match(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return false
	}
	return m.prefix.Contains(a.Unmap())
}

// ---- booleans and null

type boolMatcher struct{ val bool }

func (m *boolMatcher) match(v any) bool {
	switch x := v.(type) {
	case bool:
		return x == m.val
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		return err == nil && b == m.val
	}
	return false
}

// ---- time parts (minute, hour, day, week, month, year)

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"}

func parseTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, strings.TrimSpace(x)); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func timePart(t time.Time, part string) float64 {
	switch part {
	case "minute":
		return float64(t.Minute())
	case "hour":
		return float64(t.Hour())
	case "day":
		return float64(t.Day())
	case "week":
		_, w := t.ISOWeek()
		return float64(w)
	case "month":
		return float64(t.Month())
	}
	return float64(t.Year())
}

// ---- value transformations

func encodeUTF16(s string, order string, bom bool) string {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units)+2)
	if bom {
		if order == "le" {
			b = append(b, 0xFF, 0xFE)
		} else {
			b = append(b, 0xFE, 0xFF)
		}
	}
	for _, u := range units {
		if order == "le" {
			b = append(b, byte(u), byte(u>>8))
		} else {
			b = append(b, byte(u>>8), byte(u))
		}
	}
	return string(b)
}

// base64Offsets returns the three encodings of s that appear in base64 text wherever s starts,
// as pySigma computes them.
func base64Offsets(s string) []string {
	starts := []int{0, 2, 3}
	ends := []int{0, -3, -2} // 0 means "to the end"
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + s))
		end := ends[(len(s)+i)%3]
		hi := len(enc)
		if end != 0 {
			hi = len(enc) + end
		}
		lo := starts[i]
		if lo > hi {
			lo = hi
		}
		out = append(out, enc[lo:hi])
	}
	return out
}

var dashes = []rune{'-', '/', '–', '—', '―'}

// windash returns every variant of s with each dash-like character replaced by each of the others.
func windash(s string) ([]string, error) {
	rs := []rune(s)
	var at []int
	for i, r := range rs {
		for _, d := range dashes {
			if r == d {
				at = append(at, i)
				break
			}
		}
	}
	if len(at) > 4 {
		return nil, fmt.Errorf("windash on a value with %d dashes would make %d variants (at most 4 dashes)", len(at), int(math.Pow(5, float64(len(at)))))
	}
	out := []string{}
	var rec func(k int)
	rec = func(k int) {
		if k == len(at) {
			out = append(out, string(rs))
			return
		}
		orig := rs[at[k]]
		for _, d := range dashes {
			rs[at[k]] = d
			rec(k + 1)
		}
		rs[at[k]] = orig
	}
	rec(0)
	return out, nil
}

var placeholderRe = regexp.MustCompile(`(\\?)%([A-Za-z0-9_\-.]+)%`)

// expand replaces %name% placeholders with each of their values; \% keeps a percent literal.
func expand(s string, values map[string][]string) ([]string, []string, error) {
	out := []string{""}
	var missing []string
	last := 0
	for _, m := range placeholderRe.FindAllStringSubmatchIndex(s, -1) {
		if m[3] > m[2] { // escaped
			continue
		}
		name := s[m[4]:m[5]]
		prefix := s[last:m[0]]
		vals, ok := values[name]
		if !ok {
			missing = append(missing, name)
			vals = []string{""}
		}
		var next []string
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+prefix+v)
			}
		}
		if len(next) > maxValues {
			return nil, nil, fmt.Errorf("placeholder expansion makes more than %d values", maxValues)
		}
		out = next
		last = m[1]
	}
	for i := range out {
		out[i] += s[last:]
		out[i] = strings.ReplaceAll(out[i], `\%`, "%")
	}
	return out, missing, nil
}
