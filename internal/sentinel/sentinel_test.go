package sentinel

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/sigma"
)

const refRules = "../../../shared/reference/sigma/activity_logs"

func builtinSet(t *testing.T) *sigma.RuleSet {
	t.Helper()
	rules, errs := sigma.LoadFS(rulesFS(), "rules")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rs, errs := sigma.NewRuleSet(rules, sigma.Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rs
}

// kustoModules finds an installed @kusto/language-service-next: $KUSTO_MODULES, or the folder
// .ci/run installs it into.
func kustoModules() string {
	for _, d := range []string{os.Getenv("KUSTO_MODULES"), filepath.Join("..", "..", ".ci", "kusto", "node_modules")} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "@kusto", "language-service-next", "bridge.min.js")); err == nil {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	return ""
}

// parseKQL returns each query's error diagnostics from Microsoft's Kusto language service, with the
// AzureActivity columns declared; it skips the test without Node or the package.
func parseKQL(t *testing.T, queries []string) [][]string {
	t.Helper()
	var cols []string
	for _, c := range Columns {
		cols = append(cols, c[0]+":"+c[1])
	}
	return parseKQLTable(t, Table, "("+strings.Join(cols, ", ")+")", queries)
}

// parseKQLTable is parseKQL against one table of the given schema.
func parseKQLTable(t *testing.T, table, schema string, queries []string) [][]string {
	t.Helper()
	node, err := exec.LookPath("node")
	mods := kustoModules()
	if err != nil || mods == "" {
		t.Skip("the Kusto language service is not installed (needs node and @kusto/language-service-next 12.4.1 in .ci/kusto or $KUSTO_MODULES; .ci/run installs it)")
	}
	req, _ := json.Marshal(map[string]any{"table": table, "columns": schema, "queries": queries})
	cmd := exec.Command(node, filepath.Join("testdata", "kusto-check.js"))
	cmd.Env = append(os.Environ(), "KUSTO_MODULES="+mods)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kusto-check: %v: %s", err, stderr.String())
	}
	var errs [][]string
	if err := json.Unmarshal(out, &errs); err != nil {
		t.Fatal(err)
	}
	return errs
}

// TestQueriesParse: every query of the built-in pack and of SigmaHQ's Azure Activity Log rules
// (when present) parses with no error in Microsoft's Kusto language service, against AzureActivity's
// columns; the rules that do not convert are listed with their reason.
func TestQueriesParse(t *testing.T) {
	sets := map[string]*sigma.RuleSet{"builtin": builtinSet(t)}
	if _, err := os.Stat(refRules); err == nil {
		rules, _ := sigma.LoadFS(os.DirFS(refRules), refRules)
		rs, _ := sigma.NewRuleSet(rules, sigma.Options{})
		sets["sigmahq"] = rs
	}
	for name, rs := range sets {
		queries, failed := Convert(rs)
		for _, f := range failed {
			t.Logf("%s: not converted: %s: %s: %s", name, f.Rule, f.Construct, f.Reason)
		}
		var kql []string
		for _, q := range queries {
			kql = append(kql, q.KQL)
		}
		t.Logf("%s: %d rules converted, %d not", name, len(queries), len(failed))
		for i, errs := range parseKQL(t, kql) {
			if len(errs) > 0 {
				t.Errorf("%s %s:\n%s\n%s", name, label(queries[i].Rule), queries[i].KQL, strings.Join(errs, "\n"))
			}
		}
	}
}
