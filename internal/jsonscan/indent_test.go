package jsonscan

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomValue builds a value with every JSON kind, strings with quotes, backslashes, structural
// characters and HTML characters (which json.Marshal escapes), and empty objects and arrays.
func randomValue(rng *rand.Rand, depth int) any {
	strs := []string{"", "a", `q"uote`, `back\slash\`, `\"`, "{[,:]}", "<b>&", "é ünïcode", "line\nbreak", "tab\t"}
	switch k := rng.IntN(8); {
	case depth > 4 || k == 0:
		return strs[rng.IntN(len(strs))]
	case k == 1:
		return rng.Float64() * 1e6
	case k == 2:
		return rng.IntN(2) == 0
	case k == 3:
		return nil
	case k <= 5:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[strs[rng.IntN(len(strs))]] = randomValue(rng, depth+1)
		}
		return m
	default:
		a := []any{}
		for range rng.IntN(4) {
			a = append(a, randomValue(rng, depth+1))
		}
		return a
	}
}

func TestAppendIndentMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		v := randomValue(rng, 0)
		compact, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(v, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendIndent(nil, compact, "    ", "  "); !bytes.Equal(got, want) {
			t.Fatalf("%s\ngot:\n%s\nwant:\n%s", compact, got, want)
		}
	}
	if got := string(AppendIndent([]byte("x"), []byte(`{"a":[]}`), "", "\t")); got != "x{\n\t\"a\": []\n}" {
		t.Errorf("appends to dst: %q", got)
	}
	if strings.Contains(string(AppendIndent(nil, []byte(`{}`), "p", " ")), "p") {
		t.Error("an empty object gains the prefix")
	}
}
