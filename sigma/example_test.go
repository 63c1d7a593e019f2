package sigma_test

import (
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark/sigma"
)

func Example() {
	rules, errs := sigma.ParseRules("rules.yml", []byte(`
title: Resource lock deleted
name: lock_deleted
logsource: {product: azure, service: activitylogs}
detection:
    selection:
        operationName: MICROSOFT.AUTHORIZATION/LOCKS/DELETE
        resultType: Success
    condition: selection
level: high
---
title: Locks deleted in a burst
correlation:
    type: event_count
    rules: [lock_deleted]
    group-by: [caller]
    timespan: 10m
    condition:
        gte: 3
`))
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	rs, errs := sigma.NewRuleSet(rules, sigma.Options{})
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	c := rs.NewCorrelator()
	start := time.Date(2026, 11, 25, 21, 47, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		ev := &sigma.MapEvent{At: start.Add(time.Duration(i) * time.Minute), Data: map[string]any{
			"operationName": "Microsoft.Authorization/locks/delete", "resultType": "Success", "caller": "attacker@contoso.example"}}
		c.Process(ev, func(a sigma.Alert) { fmt.Println("alert:", a.Rule.Title, a.Value) })
	}
	c.Flush(func(a sigma.Alert) { fmt.Println("alert:", a.Rule.Title, a.Value, a.Group["caller"]) })
	// Output:
	// alert: Locks deleted in a burst 3 attacker@contoso.example
}

func ExampleJSONReader() {
	rules, errs := sigma.ParseRules("rules.yml", []byte(`
title: Key Vault purged
logsource: {product: azure, service: activitylogs}
detection:
    selection:
        operationName|endswith: /PURGE/ACTION
        resultType: Success
    condition: selection
level: critical
`))
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	rs, _ := sigma.NewRuleSet(rules, sigma.Options{})
	lines := [][]byte{
		[]byte(`{"time":"2026-11-25T22:12:10.0000000Z","operationName":"MICROSOFT.KEYVAULT/LOCATIONS/DELETEDVAULTS/PURGE/ACTION","resultType":"Success","caller":"attacker@contoso.example"}`),
		[]byte(`{"time":"2026-11-25T22:13:00.0000000Z","operationName":"MICROSOFT.KEYVAULT/VAULTS/READ","resultType":"Success"}`),
	}
	reader := sigma.NewJSONReader(sigma.JSONOptions{})
	var ev sigma.JSONEvent // one event, reused for every line
	for i, line := range lines {
		if err := reader.ReadInto(&ev, line); err != nil {
			fmt.Printf("line %d: %v\n", i+1, err)
			continue
		}
		rs.Match(&ev, func(r *sigma.Rule) { fmt.Println(ev.Time().Format(time.RFC3339), r.Title) })
	}
	// Output:
	// 2026-11-25T22:12:10Z Key Vault purged
}
