package sigma

import (
	"strings"
	"time"
)

// Event is what rules are evaluated against.
type Event interface {
	// Field returns the value at a dotted path ("properties.requestbody.properties.roleDefinitionId"):
	// a string, a number (float64, int64, json.Number…), a bool, nil, a []any of such values, or a
	// map. ok is false when the field does not exist.
	Field(path string) (value any, ok bool)
	// Keywords calls fn with every string value of the event until fn returns true; it reports
	// whether fn did. Keyword searches use it.
	Keywords(fn func(string) bool) bool
	// Time is the event's own time, used by correlation windows.
	Time() time.Time
}

// MapEvent adapts a decoded JSON object to Event. Paths descend through nested maps; a key is
// matched exactly first and then ignoring case. A key that itself contains dots ("a.b") is found
// too.
type MapEvent struct {
	Data map[string]any
	At   time.Time
}

// Field implements Event.
func (e MapEvent) Field(path string) (any, bool) { return lookupPath(e.Data, path) }

// Time implements Event.
func (e MapEvent) Time() time.Time { return e.At }

// Keywords implements Event.
func (e MapEvent) Keywords(fn func(string) bool) bool { return walkStrings(e.Data, fn) }

func lookupPath(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	cur := m
	for {
		i := strings.IndexByte(path, '.')
		key := path
		if i >= 0 {
			key = path[:i]
		}
		v, ok := cur[key]
		if !ok {
			ok = false
			for k, x := range cur {
				if strings.EqualFold(k, key) {
					v, ok = x, true
					break
				}
			}
			if !ok {
				return nil, false
			}
		}
		if i < 0 {
			return v, true
		}
		path = path[i+1:]
		if v2, ok := cur[key+"."+path]; ok { // rare: keys with dots
			return v2, true
		}
		next, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		if v, ok := next[path]; ok {
			return v, true
		}
		cur = next
	}
}

func walkStrings(v any, fn func(string) bool) bool {
	switch x := v.(type) {
	case string:
		return fn(x)
	case map[string]any:
		for _, e := range x {
			if walkStrings(e, fn) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if walkStrings(e, fn) {
				return true
			}
		}
	}
	return false
}

// ---- evaluation of searches and field matchers

func (s *compiledSearch) match(ev Event) bool {
	if s.keywords != nil {
		return s.keywords.matchKeywords(ev)
	}
	for _, m := range s.maps {
		ok := true
		for _, fm := range m {
			if !fm.match(ev) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (fm *fieldMatcher) lookup(ev Event, paths []string) (any, bool) {
	for _, p := range paths {
		if v, ok := ev.Field(p); ok {
			return v, true
		}
	}
	return nil, false
}

func (fm *fieldMatcher) match(ev Event) bool {
	if fm.keyword {
		return fm.matchKeywords(ev)
	}
	v, ok := fm.lookup(ev, fm.paths)
	switch {
	case fm.exists >= 0:
		return ok == (fm.exists == 1)
	case fm.null:
		return !ok || v == nil
	case !ok:
		return fm.neq
	}
	if fm.refPaths != nil {
		ref, ok := fm.lookup(ev, fm.refPaths)
		if !ok {
			return fm.neq
		}
		eq := refEqual(v, ref, fm.refKind, fm.refFold)
		return eq != fm.neq
	}
	if fm.timePart != "" {
		t, ok := parseTime(v)
		if !ok {
			return fm.neq
		}
		v = timePart(t, fm.timePart)
	}
	if fm.neq {
		for _, m := range fm.vals {
			if matchAny(m, v) {
				return false
			}
		}
		return true
	}
	if fm.all {
		for _, m := range fm.vals {
			if !matchAny(m, v) {
				return false
			}
		}
		return true
	}
	for _, m := range fm.vals {
		if matchAny(m, v) {
			return true
		}
	}
	return false
}

// matchAny matches a value, or any element of a multi-valued field.
func matchAny(m valueMatcher, v any) bool {
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if m.match(e) {
				return true
			}
		}
		return false
	}
	return m.match(v)
}

func refEqual(a, b any, kind strKind, fold bool) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if !aok || !bok {
		fa, ok1 := toFloat(a)
		fb, ok2 := toFloat(b)
		return ok1 && ok2 && fa == fb && kind == strExact
	}
	sm := strMatcher{kind: kind, lit: bs, fold: fold}
	if kind == strExact || isASCII(bs) || !fold {
		return sm.matchString(as)
	}
	return strings.Contains(strings.ToLower(as), strings.ToLower(bs))
}

func (fm *fieldMatcher) matchKeywords(ev Event) bool {
	if ke, ok := ev.(*keywordEvent); ok && fm.patterns != nil {
		return fm.matchIndexed(ke)
	}
	if fm.all {
		for _, m := range fm.vals {
			found := ev.Keywords(func(s string) bool { return m.match(s) })
			if !found {
				return false
			}
		}
		return true
	}
	return ev.Keywords(func(s string) bool {
		for _, m := range fm.vals {
			if m.match(s) {
				return true
			}
		}
		return false
	})
}
