package sigma

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const refDir = "../../shared/reference/sigma"

func TestSigmaHQCorpus(t *testing.T) {
	dir := filepath.Join(refDir, "sigmahq")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("reference data not present:", err)
	}
	rules, errs := LoadFS(os.DirFS(dir), dir)
	rs, cerrs := NewRuleSet(rules, Options{Lenient: true})
	errs = append(errs, cerrs...)
	for _, e := range errs {
		t.Logf("invalid: %v", e)
	}
	indexed, unindexed := rs.Stats()
	t.Logf("%d rules parsed, %d compiled (%d indexed, %d unindexed), %d invalid, %d with placeholders", len(rules), len(rs.Rules), indexed, unindexed, len(errs), len(rs.Placeholders))
	if len(rs.Rules) < 3700 {
		t.Errorf("only %d rules load", len(rs.Rules))
	}
	for _, e := range errs {
		if !strings.Contains(e.Msg, "all needs a list") {
			t.Errorf("valid rule rejected: %v", e)
		}
	}
}
