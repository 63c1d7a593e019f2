package jsonscan

import (
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
	// White space, or its absence, at every place in an object.
	`{"a":"x","b":{"c":1}}`, "{\t\"a\"\r\n:\n\"x\"\t,\n\"b\" : { \"c\" : 1 } }", `{"a": "x" ,"b":1}`, `{"a":"x" }`, `{"a" :"x"}`,
	`{"a":}`, `{"a": }`, `{"a":"x",}`, `{"a":"x" , }`, `{"a":"x" "b":1}`, `{"a":"x",,"b":1}`, `{"a"}`, `{"a":"x"`, `{"a":"x" `, `{"a":`, `{"a"`,
	`{"a":"x"}x`, `{"a":"x"]`, "{\"a\":\v\"x\"}", "{\"a\":\f1}",
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %v, encoding/json says %v", c, got, want)
		}
		var m map[string]any
		want := json.Unmarshal([]byte(c), &m) == nil && m != nil
		if got := Walk([]byte(c), func(*Path, []byte, []byte) {}); got != want {
			t.Errorf("Walk(%.40q) = %v, want %v", c, got, want)
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
		// Long enough to be masked (AVX2), at two alignments.
		for _, pad := range []int{61, 64} {
			padded := append([]byte(strings.Repeat(" ", pad)), b...)
			if got, want := Valid(padded), json.Valid(b); got != want {
				t.Fatalf("Valid(%d spaces + %q) = %v, encoding/json says %v", pad, b, got, want)
			}
		}
		// Walk: valid exactly when encoding/json decodes an object, with the same members.
		var m map[string]json.RawMessage
		want := json.Unmarshal(b, &m) == nil && m != nil
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
		if shallow := Walk(b, func(p *Path, _, _ []byte) { p.Shallow() }); shallow != want {
			t.Fatalf("shallow Walk(%q) = %v, encoding/json object: %v", b, shallow, want)
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

	// Shallow after "a": identity's members are not reported, identity itself and z are.
	got = got[:0]
	ok = Walk(raw, func(p *Path, k, v []byte) {
		got = append(got, fmt.Sprintf("%d %s", p.Depth(), k))
		if string(k) == "a" {
			p.Shallow()
		}
	})
	if want := "1 a,1 identity,1 z"; !ok || strings.Join(got, ",") != want {
		t.Errorf("shallow: ok=%v %s, want %s", ok, strings.Join(got, ","), want)
	}
	// A shallow walk still validates what it no longer reports.
	if Walk([]byte(`{"a":1,"b":{"c":{"d":"\x01"}}}`), func(p *Path, _, _ []byte) { p.Shallow() }) {
		t.Error("shallow walk accepted a control byte below its depth")
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

// With and without the AVX2 mask, Valid and Walk decide alike, for a terminator of every kind at
// every position of inputs long enough to be masked, inside strings, keys and nested values.
func TestMaskedScanAgrees(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 here: only the 8-byte scan runs")
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for n := 0; n < 140; n++ {
		for _, term := range []string{`"`, `\\`, `\n`, `\u00e9`, `\x`, "\x00", "\x1f", " ", "\x7f", "\x80", "\xff", `","k":"`} {
			pad := strings.Repeat("a", n)
			for _, c := range []string{
				`{"k":"` + pad + term + strings.Repeat("b", 70) + `"}`,
				`{"` + pad + term + `":[1,{"x":"` + strings.Repeat("y", 60) + `"}]}`,
				`["` + strings.Repeat("z", 64) + `",{"a":{"b":"` + pad + term + `"}}]`,
			} {
				useAVX2 = true
				v1, w1 := Valid([]byte(c)), Walk([]byte(c), func(*Path, []byte, []byte) {})
				useAVX2 = false
				v2, w2 := Valid([]byte(c)), Walk([]byte(c), func(*Path, []byte, []byte) {})
				if v1 != v2 || w1 != w2 || v1 != json.Valid([]byte(c)) {
					t.Fatalf("%q: masked (%v, %v), unmasked (%v, %v), encoding/json %v", c, v1, w1, v2, w2, json.Valid([]byte(c)))
				}
			}
		}
	}
}

// Unquote decodes exactly as encoding/json does, and refuses what it refuses.
func FuzzUnquote(f *testing.F) {
	for _, c := range []string{`""`, `"a"`, `"\u00e9\n\t\"\\\/"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`, "\"\xff\"", `"\x"`, `"a`, `"\u12g4"`, "\"\x01\"", `"{\"properties\":{\"principalId\":\"p\"}}"`} {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		err := json.Unmarshal(b, &want)
		isString := err == nil && len(b) > 0 && b[0] == '"' && b[len(b)-1] == '"'
		got, ok := Unquote(b)
		if ok != isString || ok && got != want {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json %q, %v", b, got, ok, want, err)
		}
	})
}

// A Walker reused from input to input, longer and shorter, decides each as a fresh walk and
// encoding/json do: nothing of an earlier input's marks is left for a later one (the pair of
// 3,020-byte-and-longer inputs would tell if the last, partial block kept the first one's marks). After its first
// input it allocates nothing for inputs of the same size.
func TestWalkerReuse(t *testing.T) {
	long := func(n int, end string) string { return `{"a":"` + strings.Repeat("x", n) + end }
	inputs := []string{
		long(5000, `"}`), long(100, `"}`), long(5000, `\"}`), `{"a":1}`, long(2<<20, `"}`), long(3010, `yy","b":"`+strings.Repeat("z", 200)+`"}`), long(3010, "\x01y\"}"),
		long(2<<20, `\u00e9"}`), long(70, `"`), long(4100, `","b":{"c":"d"}}`), `{"a":"x"}` + strings.Repeat(" ", 5000),
	}
	var w Walker
	for _, c := range inputs {
		var m map[string]any
		want := json.Unmarshal([]byte(c), &m) == nil && m != nil
		got := w.Walk([]byte(c), func(*Path, []byte, []byte) {})
		if fresh := Walk([]byte(c), func(*Path, []byte, []byte) {}); got != want || fresh != want {
			t.Errorf("%.30q…(%d bytes): reused Walker %v, fresh %v, encoding/json %v", c, len(c), got, fresh, want)
		}
		if v := Valid([]byte(c)); v != json.Valid([]byte(c)) {
			t.Errorf("Valid(%.30q…) = %v", c, v)
		}
	}
	line := []byte(long(2000, `","b":{"c":"d"}}`))
	if n := testing.AllocsPerRun(100, func() { w.Walk(line, func(*Path, []byte, []byte) {}) }); n != 0 {
		t.Errorf("Walker.Walk of a 2 KB line: %v allocations, want 0", n)
	}
}
