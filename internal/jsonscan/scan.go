// Package jsonscan walks JSON that is already known to be valid, without decoding or copying it:
// the members of an object and the elements of an array as sub-slices of the input. The snapshot
// loader validates each file once with encoding/json.Valid and then uses this to split 100,000
// resources without re-validating them at every level.
package jsonscan

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// ObjectBytes is Object with keys as the bytes between their quotes, escapes and all, so that
// walking a record allocates nothing; a key with a backslash should be unquoted by the caller.
func ObjectBytes(raw []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return true
	}
	for i < len(raw) {
		kEnd := skipString(raw, i)
		if kEnd-i < 2 {
			return false
		}
		key := raw[i+1 : kEnd-1]
		i = skipSpace(raw, kEnd)
		i = skipSpace(raw, i+1) // ':'
		vEnd := skipValue(raw, i)
		if !fn(key, raw[i:vEnd]) {
			return true
		}
		i = skipSpace(raw, vEnd)
		if i >= len(raw) || raw[i] == '}' {
			return true
		}
		i = skipSpace(raw, i+1) // ','
	}
	return true
}

// Object calls fn with each member of the JSON object raw, in order, until fn returns false. It
// reports whether raw is an object. raw must be valid JSON; keys are unescaped.
func Object(raw []byte, fn func(key string, val []byte) bool) bool {
	return ObjectBytes(raw, func(k, v []byte) bool {
		return fn(UnquoteKey(k), v)
	})
}

// UnquoteKey unescapes the bytes between a key's quotes (as ObjectBytes gives them).
func UnquoteKey(k []byte) string {
	if !containsByte(k, '\\') && utf8.Valid(k) {
		return string(k)
	}
	return unquote(append(append([]byte{'"'}, k...), '"'))
}

// Array calls fn with each element of the JSON array raw until fn returns false. It reports whether
// raw is an array. raw must be valid JSON.
func Array(raw []byte, fn func(i int, val []byte) bool) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return true
	}
	for n := 0; i < len(raw); n++ {
		end := skipValue(raw, i)
		if !fn(n, raw[i:end]) {
			return true
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] == ']' {
			return true
		}
		i = skipSpace(raw, i+1)
	}
	return true
}

// Lookup returns the value of the member key of the object raw, preferring an exact match and
// accepting a case-insensitive one, as ARM keys vary in case.
func Lookup(raw []byte, key string) ([]byte, bool) {
	var exact, folded []byte
	ObjectBytes(raw, func(kb, v []byte) bool {
		if containsByte(kb, '\\') || !utf8.Valid(kb) { // compare an escaped or non-UTF-8 key unescaped, as Object gives it
			k := UnquoteKey(kb)
			if k == key {
				exact = v
				return false
			}
			if folded == nil && strings.EqualFold(k, key) {
				folded = v
			}
			return true
		}
		if string(kb) == key { // the conversion does not allocate
			exact = v
			return false
		}
		if folded == nil && equalFoldASCII(kb, key) {
			folded = v
		}
		return true
	})
	if exact != nil {
		return exact, true
	}
	return folded, folded != nil
}

// equalFoldASCII is strings.EqualFold for a key's bytes, without converting them: ASCII letters
// fold; anything beyond ASCII is compared by strings.EqualFold.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return strings.EqualFold(string(b), s)
		}
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// First returns the first byte of raw that is not JSON whitespace — '{', '[', '"', 'n', a digit… —
// which says what kind of value raw holds; 0 when raw is blank.
func First(raw []byte) byte {
	if i := skipSpace(raw, 0); i < len(raw) {
		return raw[i]
	}
	return 0
}

// LookupMap returns m[key], preferring an exact match and accepting a case-insensitive one.
func LookupMap[V any](m map[string]V, key string) (V, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		// The quote ends the string unless an odd number of backslashes escapes it.
		n := 0
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
		i++
	}
	return len(b)
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for ; i < len(b); i++ { // number, true, false, null
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}

func unquote(s []byte) string {
	if len(s) >= 2 && !containsByte(s, '\\') && utf8.Valid(s) {
		return string(s[1 : len(s)-1])
	}
	out, _ := Unquote(s)
	return out
}

func containsByte(s []byte, c byte) bool {
	for _, b := range s {
		if b == c {
			return true
		}
	}
	return false
}

// Strings calls fn with every string value in raw — in objects' members and arrays' elements at
// any depth, not the keys — as the bytes with their quotes (Unquote them), until fn returns true;
// it reports whether fn did. raw must be valid JSON.
func Strings(raw []byte, fn func(quoted []byte) bool) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		end := skipString(raw, i)
		if j := skipSpace(raw, end); j >= len(raw) || raw[j] != ':' { // not a key
			if fn(raw[i:end]) {
				return true
			}
		}
		i = end - 1
	}
	return false
}
