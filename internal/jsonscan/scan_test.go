package jsonscan

import (
	"bytes"
	"encoding/json"
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
