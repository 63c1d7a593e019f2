package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var validCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-1.25E-3`, `true`, `false`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
	`{"k":"\u00e9\n\t\"\\\/"}`, `"é 中"`, "\"\xff\"", `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
	`"\x"`, `"\u12g4"`, `"abc`, `{"a":1`, `[1 2]`, `tru`, `nul`, `"a` + "\n" + `b"`, `{}{}`, ``, ` `, `[` + strings.Repeat("[", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %v, encoding/json says %v", c, got, want)
		}
		var m map[string]any
		want := json.Unmarshal([]byte(c), &m) == nil && m != nil
		if got := ObjectValid([]byte(c), func(k, v []byte) {}); got != want {
			t.Errorf("ObjectValid(%.40q) = %v, want %v", c, got, want)
		}
	}
	// Every fuzz corpus entry and the demo activity logs too.
	filepath.WalkDir(filepath.Join("..", "..", "examples", "contoso", "activity"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(data), "\n") {
			if Valid([]byte(line)) != json.Valid([]byte(line)) {
				t.Errorf("%s: disagree on %.60q", p, line)
			}
		}
		if Valid(data) != json.Valid(data) {
			t.Errorf("%s: disagree on the whole file", p)
		}
		return nil
	})
}

func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
		// ObjectValid: valid exactly when encoding/json decodes an object, with the same members.
		var m map[string]json.RawMessage
		want := json.Unmarshal(b, &m) == nil && m != nil
		got := map[string]string{}
		ok := ObjectValid(b, func(k, v []byte) { got[UnquoteKey(k)] = string(v) })
		if ok != want {
			t.Fatalf("ObjectValid(%q) = %v, encoding/json object: %v", b, ok, want)
		}
		if ok {
			for k, v := range m {
				if got[k] != string(v) {
					t.Fatalf("ObjectValid(%q): member %q = %q, encoding/json %q", b, k, got[k], v)
				}
			}
		}
		// Walk: the same verdict, the same top-level members, and each nested member where
		// encoding/json finds it.
		top := map[string]string{}
		var nested [][3]string // parent path, key, value
		seen, repeated := map[string]bool{}, strings.Contains(string(b), `\`)
		walked := Walk(b, func(p *Path, k, v []byte) {
			var path []string
			for i := 0; i < p.Depth()-1; i++ {
				path = append(path, UnquoteKey(p.Parent(i)))
			}
			at := strings.Join(path, "\x00") + "\x01" + UnquoteKey(k)
			repeated = repeated || seen[at]
			seen[at] = true
			if p.Depth() == 1 {
				top[UnquoteKey(k)] = string(v)
				return
			}
			nested = append(nested, [3]string{strings.Join(path, "\x00"), UnquoteKey(k), string(v)})
		})
		if repeated {
			nested = nil // a repeated key (the last wins in encoding/json) or escapes: compare the top level only
		}
		if walked != want {
			t.Fatalf("Walk(%q) = %v, encoding/json object: %v", b, walked, want)
		}
		if walked {
			for k, v := range m {
				if top[k] != string(v) {
					t.Fatalf("Walk(%q): member %q = %q, encoding/json %q", b, k, top[k], v)
				}
			}
			for _, n := range nested {
				var cur any
				json.Unmarshal(b, &cur)
				for _, k := range strings.Split(n[0], "\x00") {
					cur = cur.(map[string]any)[k]
				}
				var want, got any
				json.Unmarshal(json.RawMessage(n[2]), &got)
				want = cur.(map[string]any)[n[1]]
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("Walk(%q): %s.%s = %s, encoding/json %v", b, n[0], n[1], n[2], want)
				}
			}
		}
	})
}

// Walk reports nested members with their path, down to MaxWalkDepth, children before parents.
func TestWalk(t *testing.T) {
	raw := []byte(`{"a":1,"identity":{"claims":{"upn":"x@y","deep":{"d4":{"d5":true}}},"list":[{"no":1}]},"z":"s"}`)
	var got []string
	ok := Walk(raw, func(p *Path, k, v []byte) {
		var path []string
		for i := 0; i < p.Depth()-1; i++ {
			path = append(path, string(p.Parent(i)))
		}
		got = append(got, fmt.Sprintf("%d %s/%s=%s", p.Depth(), strings.Join(path, "/"), k, v))
	})
	want := []string{
		"1 /a=1",
		`3 identity/claims/upn="x@y"`,
		`4 identity/claims/deep/d4={"d5":true}`,
		`3 identity/claims/deep={"d4":{"d5":true}}`,
		`2 identity/claims={"upn":"x@y","deep":{"d4":{"d5":true}}}`,
		`2 identity/list=[{"no":1}]`,
		`1 /identity={"claims":{"upn":"x@y","deep":{"d4":{"d5":true}}},"list":[{"no":1}]}`,
		`1 /z="s"`,
	}
	if !ok || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ok=%v\n%s\nwant\n%s", ok, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{`{"a":{"b":{"c":{"d":[}}}}`, `{"a":{"b":"\x01"}}`, `{"a":{}} x`, `[1]`} {
		if Walk([]byte(bad), func(*Path, []byte, []byte) {}) {
			t.Errorf("Walk(%q) = true", bad)
		}
	}
}

func BenchmarkValid(b *testing.B) {
	var sample string
	filepath.WalkDir(filepath.Join("..", "..", "examples", "contoso", "activity", "diagnostic-export"), func(p string, d os.DirEntry, err error) error {
		if err == nil && sample == "" && d.Name() == "PT1H.json" {
			sample = p
		}
		return err
	})
	data, err := os.ReadFile(sample)
	if err != nil {
		b.Skip("no sample")
	}
	line := []byte(strings.SplitN(string(data), "\n", 2)[0])
	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for i := 0; i < b.N; i++ {
			Valid(line)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for i := 0; i < b.N; i++ {
			json.Valid(line)
		}
	})
}

// The 32-byte (AVX2) and 8-byte scans of string contents find the same end, for a terminator at
// every position and of every kind.
func TestStringEndPaths(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 here: only the 8-byte scan runs")
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for n := 0; n < 100; n++ {
		for _, term := range []byte{'"', '\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff} {
			b := append([]byte{'"'}, bytes.Repeat([]byte{'a'}, n)...)
			b = append(b, term)
			b = append(b, bytes.Repeat([]byte{'b'}, 40)...)
			useAVX2 = true
			j1, ok1 := stringEnd(b, 1)
			useAVX2 = false
			j2, ok2 := stringEnd(b, 1)
			if j1 != j2 || ok1 != ok2 {
				t.Fatalf("n=%d term=%#x: AVX2 (%d, %v), SWAR (%d, %v)", n, term, j1, ok1, j2, ok2)
			}
		}
	}
}
