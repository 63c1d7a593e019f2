package sigma

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
)

var providers = []string{"COMPUTE/VIRTUALMACHINES", "STORAGE/STORAGEACCOUNTS", "KEYVAULT/VAULTS", "SQL/SERVERS/DATABASES", "NETWORK/VIRTUALNETWORKS",
	"RECOVERYSERVICES/VAULTS", "AUTHORIZATION/LOCKS", "CONTAINERSERVICE/MANAGEDCLUSTERS", "COMPUTE/DISKS", "INSIGHTS/DIAGNOSTICSETTINGS"}

// azureRules writes n rules shaped like the Azure activity rules: an operation name (a list of
// two, or an endswith), the status, and a filter on the caller.
func azureRules(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		p := providers[i%len(providers)]
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "title: rule %d\nlogsource: {product: azure, service: activitylogs}\ndetection:\n  selection:\n", i)
		if i%5 == 4 {
			fmt.Fprintf(&b, "    operationName|endswith: '/ACTION%d'\n", i)
		} else {
			fmt.Fprintf(&b, "    operationName:\n      - MICROSOFT.%s%d/DELETE\n      - MICROSOFT.%s%d/WRITE\n", p, i, p, i)
		}
		b.WriteString("    resultType: Success\n  filter:\n    caller|endswith: '@trusted.example'\n  condition: selection and not filter\nlevel: high\n")
	}
	return b.String()
}

func azureEvent(op string) map[string]any {
	return map[string]any{
		"time": "2026-11-25T22:12:10.0000000Z", "resourceId": "/SUBSCRIPTIONS/11111111-1111-4111-8111-111111111111/RESOURCEGROUPS/RG-SHOP/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-SHOP-WEB01",
		"operationName": op, "category": "Administrative", "resultType": "Success", "resultSignature": "Succeeded.OK", "callerIpAddress": "198.51.100.23",
		"caller": "7f3a1111-aaaa-4bbb-8ccc-000000000fff", "correlationId": "24aa6e95-1260-3a07-3dbf-8388abe31b5e",
		"properties": map[string]any{"statusCode": "OK", "serviceRequestId": "x", "eventCategory": "Administrative"},
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1, 40, 400} {
		yml := azureRules(n)
		rules, errs := ParseRules("bench.yml", []byte(yml))
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		rs, errs := NewRuleSet(rules, Options{})
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		var theirs []sigmago.Rule
		for _, doc := range strings.Split(yml, "---\n") {
			r, err := sigmago.ParseRule([]byte(doc))
			if err != nil {
				b.Fatal(err)
			}
			theirs = append(theirs, r)
		}
		bundle := evaluator.ForRules(theirs)
		miss := azureEvent("MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION")
		hit := azureEvent("MICROSOFT.COMPUTE/VIRTUALMACHINES0/DELETE")
		var missEv Event = &MapEvent{Data: miss, At: time.Now()}
		var hitEv Event = &MapEvent{Data: hit, At: time.Now()}
		b.Run(fmt.Sprintf("bulwark/rules=%d/nomatch", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Match(missEv, func(*Rule) { b.Fatal("matched") })
			}
		})
		b.Run(fmt.Sprintf("bulwark/rules=%d/match", n), func(b *testing.B) {
			b.ReportAllocs()
			hits := 0
			for b.Loop() {
				rs.Match(hitEv, func(*Rule) { hits++ })
			}
			if hits == 0 {
				b.Fatal("no match")
			}
		})
		ctx := context.Background()
		b.Run(fmt.Sprintf("sigma-go/rules=%d/nomatch", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := bundle.Matches(ctx, miss)
				if err != nil || len(res) > 0 && res[0].Match {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("sigma-go/rules=%d/match", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bundle.Matches(ctx, hit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
