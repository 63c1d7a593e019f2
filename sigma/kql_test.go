package sigma

import (
	"strings"
	"testing"
)

// TestKQLWhereConstructs: each Sigma construct becomes the KQL operator with its semantics — and
// Bulwark's engine agrees with the rule on a sample, so the table pins what the construct means.
func TestKQLWhereConstructs(t *testing.T) {
	cases := []struct {
		detection string
		match     map[string]any // an event the rule matches (checked with the engine)
		want      []string       // substrings of the KQL
	}{
		{"sel: {op: A/DELETE}", map[string]any{"op": "a/delete"}, []string{`tostring(op) =~ @"A/DELETE"`}},
		{"sel: {op: [A, B]}", map[string]any{"op": "b"}, []string{`tostring(op) in~ (@"A", @"B")`}},
		{"sel: {op|contains: lock}", map[string]any{"op": "x/LOCKS/y"}, []string{`tostring(op) contains @"lock"`}},
		{"sel: {op|startswith: MICROSOFT.}", map[string]any{"op": "microsoft.x"}, []string{`startswith @"MICROSOFT."`}},
		{"sel: {op|endswith: /delete}", map[string]any{"op": "X/DELETE"}, []string{`endswith @"/delete"`}},
		{"sel: {op|cased: Abc}", map[string]any{"op": "Abc"}, []string{`tostring(op) == @"Abc"`}},
		{"sel: {op|contains|cased: Ab}", map[string]any{"op": "xAby"}, []string{`contains_cs @"Ab"`}},
		{"sel: {op: 'a*b?c'}", map[string]any{"op": "AxxBzC"}, []string{`matches regex @"(?si)^a.*b.c$"`}},
		{"sel: {op|re: '^a[0-9]+$'}", map[string]any{"op": "a12"}, []string{`matches regex @"^a[0-9]+$"`}},
		{"sel: {op|re|i: '^A$'}", map[string]any{"op": "a"}, []string{`matches regex @"(?i)^A$"`}},
		{"sel: {ip|cidr: 10.0.0.0/8}", map[string]any{"ip": "10.1.2.3"}, []string{`ipv4_is_in_range(tostring(ip), @"10.0.0.0/8")`}},
		{"sel: {ip|cidr: '2001:db8::/32'}", map[string]any{"ip": "2001:db8::1"}, []string{`ipv6_is_in_range(tostring(ip), @"2001:db8::/32")`}},
		{"sel: {n|gte: 5}", map[string]any{"n": 7.0}, []string{`todouble(n) >= 5`}},
		{"sel: {op|exists: true}", map[string]any{"op": "x"}, []string{`isnotempty(op)`}},
		{"sel: {op|exists: false}", map[string]any{"other": "x"}, []string{`isempty(op)`}},
		{"sel: {op: null}", map[string]any{"other": "x"}, []string{`isempty(op)`}},
		{"sel: {op|contains: [a.b, c, d]}", map[string]any{"op": "xA.By"}, []string{`tostring(op) matches regex @"(?i)(a\.b|c|d)"`}},
		{"sel: {op|contains|all: [a, b]}", map[string]any{"op": "xaxb"}, []string{`(tostring(op) contains @"a" and tostring(op) contains @"b")`}},
		{"sel: {op|neq: x}", map[string]any{"op": "y"}, []string{`not(tostring(op) =~ @"x")`}},
		{"sel: {op|fieldref: other}", map[string]any{"op": "V", "other": "v"}, []string{`tostring(op) =~ tostring(other)`}},
		{"sel: [lock, 'guard']", map[string]any{"a": "x LOCK y"}, []string{`* contains @"lock"`, `* contains @"guard"`}},
		{"sel: {op|base64: abc}", map[string]any{"op": "YWJj"}, []string{`tostring(op) =~ @"YWJj"`}},
		{`sel: {op: 'say "hi"'}`, map[string]any{"op": `say "hi"`}, []string{`@"say ""hi"""`}},
	}
	for _, c := range cases {
		yml := "title: t\nlogsource: {product: azure}\ndetection:\n  " + c.detection + "\n  condition: sel\n"
		rules, errs := ParseRules("t.yml", []byte(yml))
		if len(errs) > 0 {
			t.Fatalf("%s: %v", c.detection, errs)
		}
		rs, errs := NewRuleSet(rules, Options{})
		if len(errs) > 0 {
			t.Fatalf("%s: %v", c.detection, errs)
		}
		matched := false
		rs.Match(MapEvent{Data: c.match}, func(*Rule) { matched = true })
		if !matched {
			t.Errorf("%s: the engine does not match %v", c.detection, c.match)
		}
		kql, err := rs.KQLWhere(rs.Rules[0], KQLOptions{Field: func(f string) (string, bool) { return f, true }})
		if err != nil {
			t.Errorf("%s: %v", c.detection, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(kql, w) {
				t.Errorf("%s: KQL %s lacks %s", c.detection, kql, w)
			}
		}
	}
}

func TestKQLWhereRefuses(t *testing.T) {
	for _, det := range []string{"sel: {t|minute: 5}", "sel: {nosuch: x}", "sel: ['a*b']"} {
		yml := "title: t\nlogsource: {product: azure}\ndetection:\n  " + det + "\n  condition: sel\n"
		rules, _ := ParseRules("t.yml", []byte(yml))
		rs, _ := NewRuleSet(rules, Options{})
		_, err := rs.KQLWhere(rs.Rules[0], KQLOptions{Field: func(f string) (string, bool) { return f, f != "nosuch" }})
		if _, ok := err.(*KQLError); !ok {
			t.Errorf("%s: converted (%v), want a KQLError", det, err)
		}
	}
}
