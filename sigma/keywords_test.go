package sigma

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestKeywordIndexAgreesWithScanning: with the keyword automaton, Match finds exactly the rules it
// finds when every keyword value is matched over the strings one by one — for plain keywords,
// ones with wildcards inside, |cased, |all, a keyword search among field searches, overlapping
// and nested literals (ab, abc, bc), and a list long enough for the sparse automaton.
func TestKeywordIndexAgreesWithScanning(t *testing.T) {
	words := []string{"ab", "abc", "bc", "Delete", "listKeys/action", "microsoft.storage", "x*y", "ZZ", "é", "a?c", "roleAssignments/write", `q"t`, "a<b"}
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func() string { return words[rng.IntN(len(words))] }
	var b strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "title: k%d\nlogsource: {product: azure}\ndetection:\n", i)
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "  keywords:\n    - '%s'\n    - '%s'\n  condition: keywords\n", pick(), pick())
		case 1:
			fmt.Fprintf(&b, "  keywords:\n    '|all':\n      - '%s'\n      - '%s'\n  condition: keywords\n", pick(), pick())
		case 2:
			fmt.Fprintf(&b, "  keywords:\n    '|cased':\n      - '%s'\n  condition: keywords\n", pick())
		case 3:
			fmt.Fprintf(&b, "  sel:\n    operationName|contains: '%s'\n  keywords:\n    - '%s'\n  condition: sel and not keywords\n", pick(), pick())
		case 4:
			fmt.Fprintf(&b, "  keywords:\n    - '*%s*%s*'\n    - '%s'\n  condition: keywords\n", pick(), pick(), pick())
		}
		b.WriteString("---\n")
	}
	b.WriteString("title: long\nlogsource: {product: azure}\ndetection:\n  keywords:\n")
	for i := 0; i < 10; i++ { // under the list matcher's threshold: each value its own pattern
		fmt.Fprintf(&b, "    - 'Word%dEnd'\n", i*997)
	}
	b.WriteString("  condition: keywords\n")
	rules, errs := ParseRules("kw.yml", []byte(b.String()))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	indexed, errs := NewRuleSet(rules, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if indexed.keywordIndex == nil {
		t.Fatal("no keyword index built")
	}
	scanning, _ := NewRuleSet(rules, Options{})
	scanning.keywordEv = nil // every value matched over the strings, as before
	reader := NewJSONReader(JSONOptions{})
	for i := 0; i < 3000; i++ {
		var parts []string
		for range rng.IntN(4) {
			parts = append(parts, pick())
		}
		if rng.IntN(3) == 0 {
			parts = append(parts, fmt.Sprintf("WORD%dend", 997*rng.IntN(12)))
		}
		s := strings.Join(parts, []string{"", "/", " "}[rng.IntN(3)])
		if rng.IntN(2) == 0 {
			s = strings.ToUpper(s)
		}
		ev := MapEvent{Data: map[string]any{"operationName": pick(), "properties": map[string]any{"a": s, "list": []any{pick(), 3.0}}}}
		var got, want []string
		indexed.Match(ev, func(r *Rule) { got = append(got, r.Title) })
		scanning.Match(ev, func(r *Rule) { want = append(want, r.Title) })
		doc, _ := json.Marshal(ev.Data) // the same event as a JSONEvent, found from its bytes
		je, err := reader.Read(doc)
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON []string
		indexed.Match(je, func(r *Rule) { fromJSON = append(fromJSON, r.Title) })
		slices.Sort(got)
		slices.Sort(want)
		slices.Sort(fromJSON)
		if !slices.Equal(got, want) || !slices.Equal(fromJSON, want) {
			t.Fatalf("event %v: indexed %v, from JSON %v, scanning %v", ev.Data, got, fromJSON, want)
		}
	}
}

// TestKeywordIndexSparse: an automaton over more states than the dense table allows finds the
// same literals as strings.Contains on lower-cased text.
func TestKeywordIndexSparse(t *testing.T) {
	var lits []string
	for i := 0; i < 2000; i++ {
		lits = append(lits, fmt.Sprintf("kw%dx", i*7919))
	}
	lits = append(lits, "a", "aa", "aaa")
	k := buildKeywordIndex(lits)
	if k.dense != nil {
		t.Fatalf("%d literals built a dense automaton", len(lits))
	}
	for _, s := range []string{"prefix KW15838X suffix", "kw0xkw7919x", "AAAA", "nothing", "kw1x"} {
		found := make([]uint64, (len(lits)+63)/64)
		scan(k, s, found)
		for p, lit := range lits {
			want := strings.Contains(strings.ToLower(s), lit)
			if got := found[p>>6]&(1<<(p&63)) != 0; got != want {
				t.Errorf("%q: %q found %v, want %v", s, lit, got, want)
			}
		}
	}
}
