package sentinel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/sigma"
)

// TestKQLWhereOnSigmaHQ converts every SigmaHQ rule the engine loads (all products: the widest
// variety of constructs there is) with each field read from one dynamic column, and has the Kusto
// language service parse every predicate: the converter writes valid KQL for whatever it accepts.
// The rules it refuses are counted by construct.
func TestKQLWhereOnSigmaHQ(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "reference", "sigma", "sigmahq")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("reference data not present:", err)
	}
	rules, _ := sigma.LoadFS(os.DirFS(dir), dir)
	rs, _ := sigma.NewRuleSet(rules, sigma.Options{Lenient: true})
	field := func(f string) (string, bool) { return "Event[" + quoted(f) + "]", true }
	var queries []string
	var names []string
	refused := map[string]int{}
	for _, r := range rs.Rules {
		w, err := rs.KQLWhere(r, sigma.KQLOptions{Field: field})
		if err != nil {
			c := err.(*sigma.KQLError).Construct
			if i := strings.IndexByte(c, ' '); i > 0 {
				c = c[:i]
			}
			refused[c]++
			continue
		}
		queries = append(queries, "T | where "+w)
		names = append(names, r.File)
	}
	t.Logf("%d rules converted, refused by construct: %v", len(queries), refused)
	if len(queries) < 3000 {
		t.Errorf("only %d of %d rules converted", len(queries), len(rs.Rules))
	}
	bad := 0
	for i, errs := range parseKQLTable(t, "T", "(Event:dynamic)", queries) {
		if len(errs) > 0 {
			if bad++; bad <= 10 {
				t.Errorf("%s:\n%s\n%s", names[i], queries[i], strings.Join(errs, "\n"))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d predicates do not parse", bad, len(queries))
	}
}
