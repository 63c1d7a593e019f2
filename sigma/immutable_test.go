package sigma

import (
	"sync"
	"testing"
)

// TestRuleSetsShareRules: rule sets built from the same parsed rules, at the same time and with
// different field maps, each match as built; the rules are not written to (run with -race).
func TestRuleSetsShareRules(t *testing.T) {
	rules, errs := ParseRules("r.yml", []byte("title: lock deleted\nname: lock\nlogsource: {product: azure}\ndetection:\n  s:\n    operationName: MICROSOFT.AUTHORIZATION/LOCKS/DELETE\n  condition: s\n"+
		"---\ntitle: many\nname: many\ncorrelation:\n  type: event_count\n  rules: [lock]\n  group-by: [caller]\n  timespan: 1h\n  condition: {gte: 2}\n"))
	if len(errs) > 0 || len(rules) != 2 {
		t.Fatal(errs, len(rules))
	}
	direct := MapEvent{Data: map[string]any{"operationName": "Microsoft.Authorization/locks/delete"}}
	mapped := MapEvent{Data: map[string]any{"OperationNameValue": "Microsoft.Authorization/locks/delete"}}
	build := func(fm map[string][]string) *RuleSet {
		rs, errs := NewRuleSet(rules, Options{FieldMap: fm})
		if len(errs) > 0 {
			t.Error(errs)
		}
		return rs
	}
	hits := func(rs *RuleSet, ev Event) int {
		n := 0
		rs.Match(ev, func(*Rule) { n++ })
		return n
	}
	a := build(nil)
	if hits(a, direct) != 1 {
		t.Fatal("set A does not match")
	}
	var wg sync.WaitGroup
	sets := make([]*RuleSet, 8)
	for i := range sets {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fm := map[string][]string(nil)
			if i%2 == 1 {
				fm = map[string][]string{"operationName": {"OperationNameValue"}}
			}
			sets[i] = build(fm)
		}(i)
	}
	wg.Wait()
	if hits(a, direct) != 1 { // before the fix: 0, once a set with another field map had been built
		t.Error("set A stopped matching after other sets were built from its rules")
	}
	for i, rs := range sets {
		want := direct
		if i%2 == 1 {
			want = mapped
		}
		if hits(rs, want) != 1 {
			t.Errorf("set %d does not match its own field map", i)
		}
	}
	// A caller changing its rules afterwards changes no set.
	rules[1].Correlation.Condition = rules[1].Correlation.Condition.With(Gte, 100)
	rules[0].Title = "changed"
	if func() bool { v, _ := a.Correlations[0].Correlation.Condition.Get(Gte); return v != 2 }() || a.Rules[0].Title != "lock deleted" {
		t.Error("a set shares its rules with the caller")
	}
}
