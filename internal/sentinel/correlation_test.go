package sentinel

import (
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/sigma"
)

const correlationRules = `title: a
name: a
logsource: {product: azure, service: activitylogs}
detection:
  sel: {operationName: MICROSOFT.AUTHORIZATION/LOCKS/DELETE}
  condition: sel
level: high
---
title: b
name: b
logsource: {product: azure, service: activitylogs}
detection:
  sel: {operationName|endswith: /DELETE, resultType: Success}
  condition: sel
level: high
---
title: stage
name: stage
correlation: {type: event_count, rules: [a], group-by: [bulwark.actor], timespan: 1h, condition: {gte: 1}, generate: true}
level: informational
---
title: stage2
name: stage2
correlation: {type: event_count, rules: [b], group-by: [bulwark.actor], timespan: 1h, condition: {gte: 2}, generate: true}
level: informational
---
title: count
name: count
correlation: {type: event_count, rules: [a, b], group-by: [caller], timespan: 30m, condition: {gte: 5}}
level: high
---
title: distinct
name: distinct
correlation: {type: value_count, rules: [b], group-by: [caller], timespan: 30m, condition: {field: resourceId, gte: 10}}
level: high
---
title: sum
name: sum
correlation: {type: value_sum, rules: [b], group-by: [caller], timespan: 1h, condition: {field: properties.size, gt: 100, lte: 1000}}
level: high
---
title: both
name: both
correlation: {type: temporal, rules: [a, b], group-by: [caller], timespan: 2h}
level: high
---
title: ordered
name: ordered
correlation: {type: temporal_ordered, rules: [a, b], group-by: [caller], timespan: 6h}
level: critical
---
title: aliased
name: aliased
correlation:
  type: temporal
  rules: [a, b]
  group-by: [who]
  aliases:
    who: {a: caller, b: principalId}
  timespan: 1h
level: high
---
title: chain
name: chain
correlation: {type: temporal_ordered, rules: [stage, b], group-by: [bulwark.actor], timespan: 24h}
level: critical
---
title: badchain
name: badchain
correlation: {type: temporal_ordered, rules: [stage2, a], group-by: [bulwark.actor], timespan: 24h}
level: critical
---
title: share
name: share
correlation: {type: value_percentile, rules: [b], group-by: [caller], timespan: 1h, condition: {field: resourceId, gte: 50}}
level: high
`

// TestCorrelationTypes: each correlation type converts to its summarize (or is refused with a
// reason: value_percentile, a chain over a building block that needs more than one event), the
// schedule covers the timespan, and every query parses.
func TestCorrelationTypes(t *testing.T) {
	rules, errs := sigma.ParseRules("corr.yml", []byte(correlationRules))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rs, errs := sigma.NewRuleSet(rules, sigma.Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	queries, failed := Convert(rs)
	byName := map[string]Query{}
	var kql []string
	for _, q := range queries {
		byName[q.Rule.Name] = q
		kql = append(kql, q.KQL)
	}
	want := map[string][]string{
		"count":    {"EventCount = count()", "by Caller", "where EventCount >= 5"},
		"distinct": {"Value = dcount(tostring(ResourceId), 4)", "where Value >= 10"},
		"sum":      {`Value = sum(todouble(Properties_d["size"]))`, "Value > 100 and Value <= 1000"},
		"both":     {"Value = dcount(BulwarkRule, 4)", "where Value >= 2"},
		"ordered":  {`T0 = minif(TimeGenerated, BulwarkRule == @"a")`, `T1 = minif(TimeGenerated, BulwarkRule == @"b")`, "T0 <= T1", "T1 - T0 <= 6h"},
		"aliased":  {`Group0 = tostring(Caller)`, `Group0 = tostring(tostring(Claims_d[`, "by Group0"},
		"chain":    {`BulwarkRule = @"stage"`, "T1 - T0 <= 24h"},
	}
	for name, parts := range want {
		q, ok := byName[name]
		if !ok {
			t.Errorf("%s not converted", name)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(q.KQL, p) {
				t.Errorf("%s: the query lacks %s:\n%s", name, p, q.KQL)
			}
		}
		if span := q.Rule.Correlation.Timespan; q.Period < span+q.Frequency || q.Frequency < 5*60e9 {
			t.Errorf("%s: every %s over %s for a timespan of %s", name, q.Frequency, q.Period, span)
		}
	}
	refused := map[string]string{}
	for _, f := range failed {
		refused[f.Rule] = f.Construct
	}
	if !strings.HasPrefix(refused["share"], "correlation type value_percentile") || !strings.HasPrefix(refused["badchain"], "chained correlation stage2") || len(refused) != 2 {
		t.Errorf("refused %v", refused)
	}
	if _, ok := byName["stage"]; ok {
		t.Error("a building block was exported on its own")
	}
	for i, errs := range parseKQL(t, kql) {
		if len(errs) > 0 {
			t.Errorf("%s:\n%s\n%s", queries[i].Rule.Name, queries[i].KQL, strings.Join(errs, "\n"))
		}
	}
}
