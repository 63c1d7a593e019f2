package sigma

import (
	"strings"
	"testing"
)

// FuzzParseRules feeds arbitrary YAML to the parser and compiler: they must never panic, and every
// error must carry the file name.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte(rule1("  s:\n    f|contains|all: [a, b]\n  condition: s\n")))
	f.Add([]byte(rule1("  s:\n    - a: 1\n    - b|re|i: 'x+'\n  k:\n    - kw\n  condition: 1 of s* or not k\n")))
	f.Add([]byte("title: c\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [u]\n  timespan: 5m\n"))
	f.Add([]byte("title: x\n---\ntitle: y\nlogsource: {}\ndetection: {s: {f|base64offset|utf16le: v}, condition: s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, errs := ParseRules("fuzz.yml", data)
		for _, e := range errs {
			if !strings.HasPrefix(e.Error(), "fuzz.yml") {
				t.Fatalf("error without file: %v", e)
			}
		}
		rs, _ := NewRuleSet(rules, Options{Lenient: true})
		ev := MapEvent{Data: map[string]any{"f": "abc", "a": 1.0, "s": []any{"x", 2.0}, "m": map[string]any{"n": "v"}}}
		rs.Match(ev, func(*Rule) {})
	})
}

// FuzzCondition feeds arbitrary conditions to the condition compiler.
func FuzzCondition(f *testing.F) {
	for _, c := range []string{"a and not b", "1 of a* or (b and c)", "all of them", "not not not a", "((a)", "a |", "2 of x", "a or or b"} {
		f.Add(c)
	}
	names := []string{"a", "b", "c", "a1", "_x"}
	index := map[string]int{"a": 0, "b": 1, "c": 2, "a1": 3, "_x": 4}
	cr := &compiledRule{searches: make([]*compiledSearch, 5)}
	for i := range cr.searches {
		cr.searches[i] = &compiledSearch{maps: [][]*fieldMatcher{{{paths: []string{"f"}, exists: 1}}}}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		c, err := parseCondition(s, names, index)
		if err != nil {
			if err.offset < 0 || err.offset > len(s) {
				t.Fatalf("error offset %d outside %q", err.offset, s)
			}
			return
		}
		c.eval(MapEvent{Data: map[string]any{"f": 1}}, cr)
	})
}
