package sigma

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
)

// Differential test against github.com/bradleyjkemp/sigma-go v0.6.6 (test-only dependency): for
// rules that use only what both engines implement the same way — literal values (sigma-go has no
// wildcards), contains, startswith, endswith, all, re, cidr, and/or/not, 1 of / all of — both
// engines must decide every generated event identically.

var words = []string{"alpha", "Beta", "gamma/delta", "MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE", "Microsoft.Authorization/locks/delete", "x.y.z", "ünïcode", "owner"}

func genValue(r *rand.Rand) string {
	w := words[r.IntN(len(words))]
	switch r.IntN(4) {
	case 0:
		return strings.ToUpper(w)
	case 1:
		rs := []rune(w)
		return string(rs[:1+r.IntN(len(rs))])
	}
	return w
}

func genField(r *rand.Rand) string {
	f := fmt.Sprintf("f%d", r.IntN(3))
	var vals []string
	mod := ""
	switch r.IntN(8) {
	case 0, 1:
	case 2:
		mod = "|contains"
	case 3:
		mod = "|startswith"
	case 4:
		mod = "|endswith"
	case 5:
		mod = "|contains|all"
	case 6:
		mod = "|re"
		vals = []string{[]string{"^al", "delete$", "(?i)owner", "a.b|c", "^[A-Z]+"}[r.IntN(5)]}
	case 7:
		return fmt.Sprintf("      ip|cidr: '%s'\n", []string{"10.0.0.0/8", "192.168.1.0/24", "10.1.2.3/32"}[r.IntN(3)])
	}
	if vals == nil {
		n := 1 + r.IntN(3)
		if strings.HasSuffix(mod, "all") {
			n = 2
		}
		for i := 0; i < n; i++ {
			vals = append(vals, genValue(r))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "      %s%s:\n", f, mod)
	for _, v := range vals {
		fmt.Fprintf(&b, "        - '%s'\n", strings.ReplaceAll(v, "'", "''"))
	}
	return b.String()
}

func genRule(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("title: generated\nlogsource:\n  product: test\ndetection:\n")
	names := []string{"sel_a", "sel_b", "filter"}
	for _, n := range names {
		fmt.Fprintf(&b, "  %s:\n", n)
		for i := 0; i < 1+r.IntN(2); i++ {
			b.WriteString(strings.Replace(genField(r), "      ", "    ", 1))
		}
	}
	conds := []string{"sel_a", "sel_a and sel_b", "sel_a or sel_b", "sel_a and not filter", "1 of sel_* and not filter", "all of sel_*", "(sel_a or sel_b) and not filter", "not (sel_a and filter)", "1 of them"}
	fmt.Fprintf(&b, "  condition: %s\n", conds[r.IntN(len(conds))])
	return b.String()
}

func genEvent(r *rand.Rand) map[string]any {
	ev := map[string]any{}
	for i := 0; i < 3; i++ {
		ev[fmt.Sprintf("f%d", i)] = genValue(r) + []string{"", " ", "-" + genValue(r)}[r.IntN(3)]
	}
	ev["ip"] = []string{"10.1.2.3", "192.168.1.77", "172.16.0.1", "10.255.0.9"}[r.IntN(4)]
	return ev
}

func TestDifferentialSigmaGo(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	ctx := context.Background()
	rules, decisions, hits, mayOnly := 0, 0, 0, 0
	for i := 0; i < 400; i++ {
		yml := genRule(r)
		theirs, err := sigmago.ParseRule([]byte(yml))
		if err != nil {
			t.Fatalf("sigma-go cannot parse a generated rule: %v\n%s", err, yml)
		}
		ours := loadSet(t, yml, Options{})
		eval := evaluator.ForRule(theirs)
		rules++
		for j := 0; j < 50; j++ {
			ev := genEvent(r)
			res, err := eval.Matches(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			got := false
			ours.Match(MapEvent{Data: ev}, func(*Rule) { got = true })
			decisions++
			if got {
				hits++
			}
			if got != res.Match {
				t.Fatalf("engines disagree (ours %v, sigma-go %v)\nrule:\n%s\nevent: %#v", got, res.Match, yml, ev)
			}
			if got && !ours.MayMatch(MapEvent{Data: ev}) {
				t.Fatalf("MayMatch rejects an event the rule matches\nrule:\n%s\nevent: %#v", yml, ev)
			}
			if !got && ours.MayMatch(MapEvent{Data: ev}) {
				mayOnly++
			}
		}
	}
	t.Logf("%d rules, %d decisions, %d matches: identical; MayMatch true for all of them and %d others", rules, decisions, hits, mayOnly)
	if mayOnly == decisions-hits {
		t.Error("MayMatch never rejected an event: the index is not being used")
	}
	if hits == 0 || hits == decisions {
		t.Fatalf("the generator must produce both matches and non-matches (%d of %d)", hits, decisions)
	}
}
