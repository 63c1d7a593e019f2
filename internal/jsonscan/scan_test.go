package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestObjectAndArray(t *testing.T) {
	raw := []byte(` { "a" : [1, {"x":"}]"} , "s\"q"] , "b\u0041":null, "c":"\\", "d": {}, "e": -1.5e3 } `)
	var keys []string
	var vals []string
	if !Object(raw, func(k string, v []byte) bool { keys = append(keys, k); vals = append(vals, string(v)); return true }) {
		t.Fatal("not an object")
	}
	if d := cmp.Diff([]string{"a", "bA", "c", "d", "e"}, keys); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]string{`[1, {"x":"}]"} , "s\"q"]`, "null", `"\\"`, "{}", "-1.5e3"}, vals); d != "" {
		t.Error(d)
	}
	var elems []string
	Array([]byte(vals[0]), func(_ int, v []byte) bool { elems = append(elems, string(v)); return true })
	if d := cmp.Diff([]string{"1", `{"x":"}]"}`, `"s\"q"`}, elems); d != "" {
		t.Error(d)
	}
	if v, ok := Lookup(raw, "BA"); !ok || string(v) != "null" {
		t.Errorf("case-insensitive lookup: %q %v", v, ok)
	}
	if Object([]byte(`[1]`), func(string, []byte) bool { return true }) || Array([]byte(`{}`), func(int, []byte) bool { return true }) {
		t.Error("wrong kind accepted")
	}
}

// FuzzAgainstEncodingJSON checks that, for valid JSON, the scanner splits exactly as encoding/json does.
func FuzzAgainstEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,false,null],"c":{"d":"e\"}"}}`, `[{"id":"x"}, [], {}, "\u00e9", 1e9]`, `{}`, `[]`, `{"":""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) == nil {
			got := map[string]json.RawMessage{}
			Object(data, func(k string, v []byte) bool { got[k] = v; return true })
			for k, want := range m {
				if !bytes.Equal(bytes.TrimSpace(want), got[k]) {
					t.Fatalf("key %q: scanner %q, encoding/json %q", k, got[k], want)
				}
			}
			if len(got) != len(m) {
				t.Fatalf("%d members, encoding/json %d", len(got), len(m))
			}
		}
		var a []json.RawMessage
		if json.Unmarshal(data, &a) == nil {
			var got [][]byte
			Array(data, func(_ int, v []byte) bool { got = append(got, v); return true })
			if len(got) != len(a) {
				t.Fatalf("%d elements, encoding/json %d", len(got), len(a))
			}
			for i := range a {
				if !bytes.Equal(bytes.TrimSpace(a[i]), got[i]) {
					t.Fatalf("element %d: scanner %q, encoding/json %q", i, got[i], a[i])
				}
			}
		}
	})
}

// Lookup on raw key bytes finds what a lookup on unescaped keys finds: the first exact match, else
// the first case-insensitive one.
func FuzzLookup(f *testing.F) {
	f.Add([]byte(`{"a":1,"A":2,"b":3}`), "a")
	f.Add([]byte(`{"Principal\u0049d":"x","principalid":"y"}`), "PrincipalId")
	f.Add([]byte(`{"é":1,"É":2}`), "É")
	f.Add([]byte(`{"K\\"q":1}`), `k"Q`)
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		if !Valid(raw) || First(raw) != '{' {
			return
		}
		var exact, folded []byte
		Object(raw, func(k string, v []byte) bool {
			if k == key {
				exact = v
				return false
			}
			if folded == nil && strings.EqualFold(k, key) {
				folded = v
			}
			return true
		})
		want, wantOK := exact, exact != nil
		if exact == nil {
			want, wantOK = folded, folded != nil
		}
		got, ok := Lookup(raw, key)
		if ok != wantOK || string(got) != string(want) {
			t.Fatalf("Lookup(%q, %q) = %q, %v; want %q, %v", raw, key, got, ok, want, wantOK)
		}
	})
}

func TestStrings(t *testing.T) {
	raw := []byte(`{"a": "x", "b" : ["y", 1, {"c":"z\"q"}], "d": {"e": true, "f": ""}, "g\"": "w"}`)
	var got []string
	Strings(raw, func(q []byte) bool {
		s, _ := Unquote(q)
		got = append(got, s)
		return false
	})
	if want := []string{"x", "y", `z"q`, "", "w"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if !Strings(raw, func(q []byte) bool { return string(q) == `"y"` }) {
		t.Error("Strings did not report fn's true")
	}
}
