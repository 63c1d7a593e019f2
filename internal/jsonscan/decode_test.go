package jsonscan

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

// decodeStd is encoding/json's decoding with UseNumber of a whole document.
func decodeStd(raw []byte) (any, error) {
	if !json.Valid(raw) {
		return nil, errEnd
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// TestDecodeMatchesEncodingJSON: on random documents of every kind (escapes, unicode, nesting,
// numbers) Decode gives encoding/json's value, and on broken ones (every prefix, a byte changed)
// it fails exactly when encoding/json fails.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	docs := [][]byte{[]byte(`{"a":1,"a":2}`), []byte(`"\ud800 lone"`), []byte("\"bad \xff utf8\""), []byte(`[1e5, -0.5, 0, 12345678901234567890]`),
		[]byte(` {"k" : [ true , false , null ] } `), []byte(`{"\u00e9\n":"\u20ac\/"}`)}
	for range 500 {
		b, _ := json.Marshal(randomValue(rng, 0))
		docs = append(docs, b)
	}
	check := func(doc []byte) {
		want, werr := decodeStd(doc)
		got, gerr := Decode(doc)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: Decode error %v, encoding/json %v", doc, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: Decode %#v, encoding/json %#v", doc, got, want)
		}
	}
	for _, doc := range docs {
		check(doc)
		for n := 0; n < len(doc); n += 1 + len(doc)/20 {
			check(doc[:n])
			broken := bytes.Clone(doc)
			const bad = "x,:{}[]\"\\\x01 5"
			broken[n] = bad[rng.IntN(len(bad))]
			check(broken)
		}
	}
}

// FuzzDecode: on any input, Decode fails exactly when encoding/json does and otherwise gives its
// value; AppendIndent of what json.Marshal writes is json.Indent's output.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9\n"}`, `[]`, `"x"`, `1e5`, `{"a":1,"a":2}`, "\"\xff\"", `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, werr := decodeStd(b)
		got, gerr := Decode(b)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: Decode error %v, encoding/json %v", b, gerr, werr)
		}
		if werr != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: Decode %#v, encoding/json %#v", b, got, want)
		}
		compact, err := json.Marshal(want)
		if err != nil {
			return
		}
		var ind bytes.Buffer
		json.Indent(&ind, compact, "  ", "\t")
		if got := AppendIndent(nil, compact, "  ", "\t"); !bytes.Equal(got, ind.Bytes()) {
			t.Fatalf("%s: AppendIndent %q, json.Indent %q", compact, got, ind.Bytes())
		}
	})
}
