package sigma

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// The list matcher gives exactly the answer of trying the values one after another, for every kind
// of value (exact, prefix, suffix, contains, wildcards, regular expressions, case-sensitive or not)
// and strings that match, nearly match, differ in case or carry non-ASCII folding (the Kelvin sign).
func TestListMatcherAgreesWithLinear(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	word := func() string {
		const letters = "abcdefgkstuvwxyz0123456789-_.@/"
		b := make([]byte, 2+rng.Intn(10))
		for i := range b {
			b[i] = letters[rng.Intn(len(letters))]
		}
		return string(b)
	}
	for round := 0; round < 30; round++ {
		var vals []valueMatcher
		var words []string
		for i := 0; i < 40+rng.Intn(200); i++ {
			w := word()
			words = append(words, w)
			fold := rng.Intn(4) != 0
			var m valueMatcher
			switch rng.Intn(7) {
			case 0:
				m = newStrMatcher(parsePattern(w), fold)
			case 1:
				m = newStrMatcher(collapseStars(append(parsePattern(w), gtok{any: true})), fold)
			case 2:
				m = newStrMatcher(collapseStars(append([]gtok{{any: true}}, parsePattern(w)...)), fold)
			case 3:
				m = newStrMatcher(collapseStars(append(append([]gtok{{any: true}}, parsePattern(w)...), gtok{any: true})), fold)
			case 4:
				m = newStrMatcher(collapseStars(parsePattern(w[:1]+"?"+w[1:]+"*x")), fold)
			case 5:
				flags := ""
				if fold {
					flags = "(?i)"
				}
				rm, err := newReMatcher(flags+"^"+strings.ReplaceAll(strings.ReplaceAll(w, ".", `\.`), "/", "/")+`(?:[0-9]+)?$`, true)
				if err != nil {
					t.Fatal(err)
				}
				m = rm
			default:
				rm, err := newReMatcher(fmt.Sprintf("(%s|%s)+", strings.ReplaceAll(w, ".", `\.`), strings.ReplaceAll(word(), ".", `\.`)), rng.Intn(2) == 0)
				if err != nil {
					t.Fatal(err)
				}
				m = rm
			}
			vals = append(vals, m)
		}
		lm := newListMatcher(vals)
		linear := func(v any) bool {
			for _, m := range vals {
				if m.match(v) {
					return true
				}
			}
			return false
		}
		inputs := []any{"", "a", 42, 3.5, true, nil}
		for i := 0; i < 400; i++ {
			w := words[rng.Intn(len(words))]
			switch rng.Intn(6) {
			case 0:
				inputs = append(inputs, w)
			case 1:
				inputs = append(inputs, strings.ToUpper(w))
			case 2:
				inputs = append(inputs, word()+w+word())
			case 3:
				inputs = append(inputs, strings.ReplaceAll(strings.ToUpper(w), "K", "\u212a"))
			case 4:
				inputs = append(inputs, w[:len(w)-1])
			default:
				inputs = append(inputs, strings.Repeat(w, 30))
			}
		}
		for _, in := range inputs {
			if got, want := lm.match(in), linear(in); got != want {
				t.Fatalf("round %d: %q: list %v, one by one %v", round, in, got, want)
			}
		}
	}
}

// A long regular-expression list is compiled lazily and matched through the grams of its
// literals: 10,000 patterns over 200 values is fast, and compiles only the patterns filed under
// the grams of a value that could match (here a few dozen of the 10,000).
func TestLongRegexList(t *testing.T) {
	var vals []valueMatcher
	for i := 0; i < 10000; i++ {
		m, err := newReMatcher(fmt.Sprintf("(?i)^.*user1%05d.*$", i), true)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, m)
	}
	lm := newListMatcher(vals)
	if len(lm.always) != 0 {
		t.Errorf("%d patterns without a literal", len(lm.always))
	}
	hits := 0
	for i := 0; i < 200; i++ {
		if lm.match(fmt.Sprintf("someone.%c%c@contoso.example", 'a'+i%26, 'a'+i/26)) {
			hits++
		}
	}
	if !lm.match("X-USER100042-Y") || hits != 0 {
		t.Errorf("hits %d; the pattern for 00042 did not match", hits)
	}
	compiled := 0
	for _, v := range vals {
		if v.(*reMatcher).re != nil {
			compiled++
		}
	}
	if compiled > 200 { // the buckets of the grams of X-USER100042-Y: a few dozen
		t.Errorf("%d patterns compiled for one matching value", compiled)
	}
}

// Cost counts every compiled value, the regular expressions among them and those in lists.
func TestCost(t *testing.T) {
	var b strings.Builder
	b.WriteString("title: t\nlogsource: {product: azure}\ndetection:\n  a:\n    f|re:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "      - '^x%d'\n", i)
	}
	b.WriteString("  b:\n    g: [one, two]\n  condition: a or b\n")
	rules, errs := ParseRules("t.yml", []byte(b.String()))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rs, errs := NewRuleSet(rules, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	c := rs.Cost()
	if c.Values != 22 || c.Regexps != 20 || c.Listed != 20 || c.Heaviest.Values != 22 || !strings.HasPrefix(c.Heaviest.Rule, "t.yml:1 t") {
		t.Errorf("%+v", c)
	}
}
