package assess

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
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

// TestRunSameOnAnyNumberOfWorkers: Run evaluates checks on every core; the report is the same as
// with one, on an estate with every kind of object the generator makes (run it with -race: the
// Env's lazily built views are shared by the workers).
func TestRunSameOnAnyNumberOfWorkers(t *testing.T) {
	snap := genEstate(3_000)
	run := func(procs int) *Report {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		fresh := &arm.Snapshot{CollectedAt: snap.CollectedAt}
		for _, o := range snap.Resources {
			fresh.Resources = append(fresh.Resources, arm.MustObject(string(o.Raw)))
		}
		return Run(NewEnv(Inputs{Snapshot: fresh, Config: config.Default()}), Checks())
	}
	one, many := run(1), run(8)
	if len(one.Results) == 0 || len(one.Results) != len(many.Results) {
		t.Fatalf("%d results on one worker, %d on eight", len(one.Results), len(many.Results))
	}
	for i := range one.Results {
		a, b := one.Results[i], many.Results[i]
		if a.CheckID != b.CheckID || a.Resource != b.Resource || a.Status != b.Status || a.Message != b.Message || a.BlastRadius != b.BlastRadius {
			t.Fatalf("result %d: %s %s %s on one worker, %s %s %s on eight", i, a.CheckID, a.Resource, a.Status, b.CheckID, b.Resource, b.Status)
		}
	}
	if fmt.Sprint(one.Counts) != fmt.Sprint(many.Counts) || fmt.Sprint(one.Scores) != fmt.Sprint(many.Scores) {
		t.Errorf("counts or scores differ: %v / %v", one.Counts, many.Counts)
	}
}
