package sigma

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func rule1(detection string) string {
	return "title: t\nlogsource: {product: azure}\ndetection:\n" + detection
}

func matches(t *testing.T, detection string, opts Options, data map[string]any) bool {
	t.Helper()
	rs := loadSet(t, rule1(detection), opts)
	hit := false
	rs.Match(MapEvent{Data: data}, func(*Rule) { hit = true })
	return hit
}

func TestModifiers(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name string
		det  string
		data map[string]any
		want bool
	}{
		{"exact ignores case", "  s:\n    op: MICROSOFT.Compute/virtualMachines/delete\n  condition: s", map[string]any{"op": "microsoft.compute/VIRTUALMACHINES/DELETE"}, true},
		{"exact differs", "  s:\n    op: a/delete\n  condition: s", map[string]any{"op": "a/deletex"}, false},
		{"list is OR", "  s:\n    op: [x, y]\n  condition: s", map[string]any{"op": "Y"}, true},
		{"map is AND", "  s:\n    a: 1\n    b: 2\n  condition: s", map[string]any{"a": 1, "b": 3}, false},
		{"list of maps is OR", "  s:\n    - a: 1\n    - b: 2\n  condition: s", map[string]any{"b": "2"}, true},
		{"wildcards", "  s:\n    f: 'C:\\Win*\\cmd.?xe'\n  condition: s", map[string]any{"f": `c:\windows\system32\CMD.EXE`}, true},
		{"escaped star is literal", "  s:\n    f: 'a\\*b'\n  condition: s", map[string]any{"f": "a*b"}, true},
		{"escaped star no wildcard", "  s:\n    f: 'a\\*b'\n  condition: s", map[string]any{"f": "axxb"}, false},
		{"contains", "  s:\n    f|contains: Owner\n  condition: s", map[string]any{"f": "the owner role"}, true},
		{"startswith", "  s:\n    f|startswith: MICROSOFT.AUTHORIZATION/\n  condition: s", map[string]any{"f": "Microsoft.Authorization/locks/delete"}, true},
		{"endswith", "  s:\n    f|endswith: /delete\n  condition: s", map[string]any{"f": "Microsoft.Authorization/locks/DELETE"}, true},
		{"contains all", "  s:\n    f|contains|all: [a, b]\n  condition: s", map[string]any{"f": "xaxbx"}, true},
		{"contains all missing one", "  s:\n    f|contains|all: [a, c]\n  condition: s", map[string]any{"f": "xaxbx"}, false},
		{"cased", "  s:\n    f|cased: Abc\n  condition: s", map[string]any{"f": "abc"}, false},
		{"cased contains", "  s:\n    f|contains|cased: Abc\n  condition: s", map[string]any{"f": "xAbcx"}, true},
		{"exists true", "  s:\n    f|exists: true\n  condition: s", map[string]any{"f": nil}, true},
		{"exists false", "  s:\n    f|exists: false\n  condition: s", map[string]any{"g": 1}, true},
		{"null matches absent", "  s:\n    f: null\n  condition: s", map[string]any{"g": 1}, true},
		{"null matches null", "  s:\n    f: null\n  condition: s", map[string]any{"f": nil}, true},
		{"null not empty string", "  s:\n    f: null\n  condition: s", map[string]any{"f": "x"}, false},
		{"empty string", "  s:\n    f: ''\n  condition: s", map[string]any{"f": ""}, true},
		{"neq", "  s:\n    f|neq: Succeeded\n  condition: s", map[string]any{"f": "Failed"}, true},
		{"neq equal", "  s:\n    f|neq: Succeeded\n  condition: s", map[string]any{"f": "succeeded"}, false},
		{"re case-sensitive", "  s:\n    f|re: '^Micro.*delete$'\n  condition: s", map[string]any{"f": "microsoft/delete"}, false},
		{"re i", "  s:\n    f|re|i: '^Micro.*delete$'\n  condition: s", map[string]any{"f": "microsoft/DELETE"}, true},
		{"re m", "  s:\n    f|re|m: '^b$'\n  condition: s", map[string]any{"f": "a\nb\nc"}, true},
		{"re s", "  s:\n    f|re|s: 'a.c'\n  condition: s", map[string]any{"f": "a\nc"}, true},
		{"base64", "  s:\n    f|base64: secret\n  condition: s", map[string]any{"f": b64([]byte("secret"))}, true},
		{"base64offset contains", "  s:\n    f|base64offset|contains: Invoke-Mimikatz\n  condition: s", map[string]any{"f": b64([]byte("xx Invoke-Mimikatz yy"))}, true},
		{"base64offset contains shift", "  s:\n    f|base64offset|contains: Invoke-Mimikatz\n  condition: s", map[string]any{"f": b64([]byte("x Invoke-Mimikatz"))}, true},
		{"utf16le", "  s:\n    f|utf16le|contains: cmd\n  condition: s", map[string]any{"f": "x" + "c\x00m\x00d\x00"}, true},
		{"wide", "  s:\n    f|wide|contains: cmd\n  condition: s", map[string]any{"f": "c\x00m\x00d\x00"}, true},
		{"utf16be", "  s:\n    f|utf16be: ab\n  condition: s", map[string]any{"f": "\x00a\x00b"}, true},
		{"utf16 bom", "  s:\n    f|utf16: ab\n  condition: s", map[string]any{"f": "\xff\xfea\x00b\x00"}, true},
		{"utf16 base64", "  s:\n    f|utf16le|base64offset|contains: ping\n  condition: s", map[string]any{"f": b64([]byte("p\x00i\x00n\x00g\x00"))}, true},
		{"windash", "  s:\n    f|windash|contains: ' -enc '\n  condition: s", map[string]any{"f": "powershell /enc xx"}, true},
		{"windash em dash", "  s:\n    f|windash|contains: ' -enc '\n  condition: s", map[string]any{"f": "powershell —enc xx"}, true},
		{"cidr v4", "  s:\n    ip|cidr: 10.0.0.0/8\n  condition: s", map[string]any{"ip": "10.1.2.3"}, true},
		{"cidr outside", "  s:\n    ip|cidr: 10.0.0.0/8\n  condition: s", map[string]any{"ip": "11.1.2.3"}, false},
		{"cidr v6", "  s:\n    ip|cidr: '2001:db8::/32'\n  condition: s", map[string]any{"ip": "2001:db8::1"}, true},
		{"gt", "  s:\n    n|gt: 10\n  condition: s", map[string]any{"n": 11.5}, true},
		{"lte string number", "  s:\n    n|lte: 10\n  condition: s", map[string]any{"n": "10"}, true},
		{"gte not number", "  s:\n    n|gte: 10\n  condition: s", map[string]any{"n": "ten"}, false},
		{"number equals string", "  s:\n    EventID: 4624\n  condition: s", map[string]any{"EventID": "4624"}, true},
		{"number equals number", "  s:\n    EventID: 4624\n  condition: s", map[string]any{"EventID": 4624.0}, true},
		{"bool", "  s:\n    b: true\n  condition: s", map[string]any{"b": "True"}, true},
		{"fieldref equal", "  s:\n    a|fieldref: b\n  condition: s", map[string]any{"a": "X", "b": "x"}, true},
		{"fieldref neq", "  s:\n    a|fieldref|neq: b\n  condition: s", map[string]any{"a": "x", "b": "y"}, true},
		{"fieldref startswith", "  s:\n    a|fieldref|startswith: b\n  condition: s", map[string]any{"a": "xyz", "b": "xy"}, true},
		{"expand", "  s:\n    host|expand: '%servers%'\n  condition: s", map[string]any{"host": "srv2"}, true},
		{"expand no match", "  s:\n    host|expand: '%servers%'\n  condition: s", map[string]any{"host": "pc1"}, false},
		{"hour", "  s:\n    t|hour|gte: 22\n  condition: s", map[string]any{"t": "2026-11-25T23:10:00Z"}, true},
		{"month", "  s:\n    t|month: 11\n  condition: s", map[string]any{"t": "2026-11-25T23:10:00Z"}, true},
		{"keywords", "  k:\n    - mimikatz\n  condition: k", map[string]any{"a": map[string]any{"b": "ran MIMIKATZ.exe"}}, true},
		{"keywords all", "  k:\n    '|all':\n      - a\n      - b\n  condition: k", map[string]any{"x": "a", "y": "b"}, true},
		{"nested path", "  s:\n    properties.requestbody.properties.roleDefinitionId|endswith: 8e3af657-a8ff-443c-a75c-2fe8c4bcb635\n  condition: s",
			map[string]any{"properties": map[string]any{"requestbody": map[string]any{"properties": map[string]any{"roleDefinitionId": "/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}}}}, true},
		{"path case-insensitive key", "  s:\n    Properties.RequestBody: x\n  condition: s", map[string]any{"properties": map[string]any{"requestbody": "x"}}, true},
		{"multi-valued field", "  s:\n    tags: b\n  condition: s", map[string]any{"tags": []any{"a", "b"}}, true},
		{"1 of pattern", "  sel_a:\n    a: 1\n  sel_b:\n    b: 1\n  condition: 1 of sel_*", map[string]any{"b": 1}, true},
		{"all of pattern", "  sel_a:\n    a: 1\n  sel_b:\n    b: 1\n  condition: all of sel_*", map[string]any{"b": 1}, false},
		{"1 of them excludes underscore", "  _x:\n    a: 1\n  s:\n    b: 1\n  condition: 1 of them", map[string]any{"a": 1}, false},
		{"and not", "  s:\n    a: 1\n  f:\n    b: 1\n  condition: s and not f", map[string]any{"a": 1, "b": 1}, false},
		{"precedence", "  a:\n    a: 1\n  b:\n    b: 1\n  c:\n    c: 1\n  condition: a or b and c", map[string]any{"a": 1}, true},
		{"parentheses", "  a:\n    a: 1\n  b:\n    b: 1\n  c:\n    c: 1\n  condition: (a or b) and c", map[string]any{"a": 1}, false},
		{"list of conditions", "  a:\n    a: 1\n  b:\n    b: 1\n  condition:\n    - a\n    - b", map[string]any{"b": 1}, true},
	}
	opts := Options{Placeholders: map[string][]string{"servers": {"srv1", "srv2"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matches(t, tt.det, opts, tt.data); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFieldMap(t *testing.T) {
	opts := Options{FieldMap: map[string][]string{"OperationNameValue": {"operationName", "OperationNameValue"}}}
	if !matches(t, "  s:\n    OperationNameValue: a/delete\n  condition: s", opts, map[string]any{"operationName": "A/DELETE"}) {
		t.Error("field mapping not applied")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ yml, want string }{
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f|bogus: 1\n  condition: s\n", `test.yml:5:5: rule "t": unknown modifier "bogus" on "f"`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f: 1\n  condition: s and nope\n", `test.yml:6:20: rule "t": condition: unknown search identifier "nope"`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f: 1\n  condition: s and (s\n", `test.yml:6:22: rule "t": condition: missing )`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f: 1\n  condition: 2 of s\n", `only "1 of" and "all of" are defined`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f: 1\n  condition: s | count() > 5\n", `test.yml:6:16: rule "t": condition: aggregation expressions`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f: 1\n  condition: 1 of x*\n", `pattern "x*" matches no search identifier`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f|re: '(unclosed'\n  condition: s\n", `invalid regular expression "(unclosed"`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f|contains|all: one\n  condition: s\n", "all needs a list of at least two values"},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f|cidr: 10.0.0/33\n  condition: s\n", `invalid CIDR "10.0.0/33"`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f|expand: '%nobody%'\n  condition: s\n", `placeholder %nobody% has no values`},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f:\n      - ''\n      - null\n  condition: s\n", "null cannot be part of a list of values"},
		{"title: t\nlogsource: {product: x}\ndetection:\n  s:\n    f: 1\n", `test.yml:4:3: rule "t": detection has no condition`},
		{"logsource: {product: x}\ndetection:\n  s:\n    f: 1\n  condition: s\n", `test.yml:1:1: attribute "title" is missing`},
		{"title: t\nlevel: severe\nlogsource: {product: x}\ndetection:\n  s:\n    f: 1\n  condition: s\n", `test.yml:2:8: rule "t": level "severe" is not one of`},
		{"title: t\ndetection: [\n", "test.yml:2:1: invalid YAML: line 2: did not find expected node content"},
		{"title: c\ncorrelation:\n  type: event_cnt\n  rules: [a]\n  timespan: 1h\n  condition: {gte: 1}\n", `test.yml:3:9: rule "c": correlation type "event_cnt" is not one of`},
		{"title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 1 hour\n  condition: {gte: 1}\n", `test.yml:5:13: rule "c": timespan "1 hour" is not a number`},
		{"title: c\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 1h\n  condition: {gte: 1}\n", "a value_count correlation needs condition.field"},
		{"title: c\ncorrelation:\n  type: event_count\n  rules: [missing]\n  timespan: 1h\n  condition: {gte: 1}\n", `correlation refers to rule "missing", which is not loaded`},
	}
	for _, tt := range tests {
		rules, errs := ParseRules("test.yml", []byte(tt.yml))
		if len(errs) == 0 {
			_, errs = NewRuleSet(rules, Options{})
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %q", tt.yml, errs, tt.want)
		}
	}
}

// A rule set loads every valid rule and reports every invalid one.
func TestLoadsValidAndReportsInvalid(t *testing.T) {
	yml := rule1("  s:\n    f: 1\n  condition: s\n") + "---\n" + rule1("  s:\n    f|nope: 1\n  condition: s\n") + "---\n" + strings.Replace(rule1("  s:\n    g: 2\n  condition: s\n"), "title: t", "title: u", 1)
	rules, errs := ParseRules("multi.yml", []byte(yml))
	rs, cerrs := NewRuleSet(rules, Options{})
	errs = append(errs, cerrs...)
	if len(rs.Rules) != 2 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "multi.yml:12:5:") {
		t.Errorf("loaded %d, errors %v", len(rs.Rules), errs)
	}
}

// Hostile rules are rejected or bounded.
func TestHostileRules(t *testing.T) {
	deep := strings.Repeat("(", 100) + "s" + strings.Repeat(")", 100)
	_, errs := NewRuleSet(mustParse(t, rule1("  s:\n    f: 1\n  condition: "+deep+"\n")), Options{})
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "nested too deeply") {
		t.Errorf("deep nesting: %v", errs)
	}
	nots := strings.Repeat("not ", 200) + "s"
	_, errs = NewRuleSet(mustParse(t, rule1("  s:\n    f: 1\n  condition: "+nots+"\n")), Options{})
	if len(errs) != 1 {
		t.Errorf("deep not: %v", errs)
	}
	var b strings.Builder
	for i := 0; i < maxValues+1; i++ {
		fmt.Fprintf(&b, "      - v%d\n", i)
	}
	_, perrs := ParseRules("x.yml", []byte(rule1("  s:\n    f:\n"+b.String()+"  condition: s\n")))
	if len(perrs) != 1 || !strings.Contains(perrs[0].Msg, "more than") {
		t.Errorf("huge list: %v", perrs)
	}
	// Pathological patterns stay linear: RE2 for re, single-backtrack glob for wildcards.
	rs := loadSet(t, rule1("  s:\n    f|re: '(a+)+$'\n  w:\n    g: '*a*a*a*a*a*a*a*a*a*a*b'\n  condition: s or w\n"), Options{})
	long := strings.Repeat("a", 100000) + "!"
	rs.Match(MapEvent{Data: map[string]any{"f": long, "g": long}}, func(*Rule) { t.Error("must not match") })
}

func mustParse(t *testing.T, yml string) []*Rule {
	rules, errs := ParseRules("x.yml", []byte(yml))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rules
}

func TestBase64Offsets(t *testing.T) {
	// The three variants pySigma documents for "/bin/sh".
	got := base64Offsets("/bin/sh")
	want := []string{"L2Jpbi9za", "9iaW4vc2", "vYmluL3No"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// indexFold finds what a byte-by-byte search with strings.EqualFold finds, for every substring of
// mixed-case, punctuated and non-ASCII text, and for patterns of letters only or with an anchor.
func TestIndexFold(t *testing.T) {
	naive := func(s, sub string) int {
		for i := 0; i+len(sub) <= len(s); i++ {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return i
			}
		}
		return -1
	}
	texts := []string{"", "a", `{"properties":{"immutabilityPolicy":{"state":"Unlocked"},"EnableSoftDelete":false}}`,
		"KEYVAULT/Vaults/Delete", "ſK\u212a kelvin-K@[`{ZZzz", "aaaaaaAAAAab", "x\"enableSoftDelete\": false"}
	for _, s := range texts {
		subs := []string{"", "a", "ab", "k", "@[", "`{", "zz", "enablesoftdelete", `"enableSoftDelete":false`, "state\":\"unlocked", "delete", "no such thing"}
		for i := 0; i < len(s); i++ {
			for j := i + 1; j <= len(s) && j <= i+6; j++ {
				if isASCII(s[i:j]) {
					subs = append(subs, s[i:j], strings.ToUpper(s[i:j]), strings.ToLower(s[i:j]))
				}
			}
		}
		for _, sub := range subs {
			if got, want := indexFold(s, sub), naive(s, sub); got != want {
				t.Errorf("indexFold(%q, %q) = %d, want %d", s, sub, got, want)
			}
		}
	}
}
