package assess

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
)

// TestSortResultsIsStableOrder checks sortResults against the stable sort it replaced, on results
// with many equal keys (so the evaluation order among equals decides).
func TestSortResultsIsStableOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []Status{Pass, Fail, Warn, Unknown, NA}
	for round := 0; round < 50; round++ {
		results := make([]Result, rng.IntN(300))
		for i := range results {
			results[i] = Result{CheckID: fmt.Sprintf("c%d", rng.IntN(4)), Resource: fmt.Sprintf("r%d", rng.IntN(5)), Status: statuses[rng.IntN(len(statuses))],
				Severity: Severity(rng.IntN(4)), BlastRadius: rng.IntN(3), Message: strconv.Itoa(i)}
		}
		want := slices.Clone(results)
		sort.SliceStable(want, func(i, j int) bool {
			a, b := &want[i], &want[j]
			if a.Failed() != b.Failed() {
				return a.Failed()
			}
			if ra, rb := a.Risk(), b.Risk(); ra != rb {
				return ra > rb
			}
			if a.CheckID != b.CheckID {
				return a.CheckID < b.CheckID
			}
			return a.Resource < b.Resource
		})
		sortResults(results)
		for i := range want {
			if results[i].Message != want[i].Message {
				t.Fatalf("round %d: position %d holds result %s, want %s", round, i, results[i].Message, want[i].Message)
			}
		}
	}
}
