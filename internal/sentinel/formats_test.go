package sentinel

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func builtinAnalytics(t *testing.T) []AnalyticsRule {
	t.Helper()
	queries, _ := Convert(builtinSet(t))
	var out []AnalyticsRule
	for _, q := range queries {
		out = append(out, Analytics(q))
	}
	return out
}

var isoDurationPattern = regexp.MustCompile(`^P(T(\d+)([HMS])|(\d+)D)$`)

func parseISO(t *testing.T, s string) time.Duration {
	m := isoDurationPattern.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%q is not an ISO 8601 duration of one unit", s)
	}
	if m[4] != "" {
		d, _ := time.ParseDuration(m[4] + "h")
		return d * 24
	}
	d, _ := time.ParseDuration(m[2] + strings.ToLower(m[3]))
	return d
}

// TestARMTemplate: the sentinel-arm output of the built-in pack is one ARM template holding one
// alertRules resource per converted rule, each with the properties the alertRules API requires
// and within its limits (RESEARCH: frequency and period 5 minutes to 14 days, period at least the
// frequency; 1 to 5 entity mappings of at most 3 fields; the query at most 10,000 characters).
func TestARMTemplate(t *testing.T) {
	rules := builtinAnalytics(t)
	var b bytes.Buffer
	if err := Write(&b, "sentinel-arm", rules); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema     string         `json:"$schema"`
		Parameters map[string]any `json:"parameters"`
		Resources  []struct {
			Type, APIVersion, Scope, Name, Kind string
			Properties                          map[string]any
		} `json:"resources"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Resources) != len(rules) || len(rules) < 30 || doc.Parameters["workspace"] == nil || !strings.Contains(doc.Schema, "deploymentTemplate") {
		t.Fatalf("%d resources for %d rules; parameters %v", len(doc.Resources), len(rules), doc.Parameters)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	validTactics := map[string]bool{}
	for _, v := range tactics {
		validTactics[v] = true
	}
	for _, r := range doc.Resources {
		p := r.Properties
		if r.Type != "Microsoft.SecurityInsights/alertRules" || r.APIVersion != APIVersion || r.Kind != "Scheduled" || !guid.MatchString(r.Name) || seen[r.Name] ||
			!strings.Contains(r.Scope, "Microsoft.OperationalInsights/workspaces") {
			t.Errorf("resource %+v", r)
		}
		seen[r.Name] = true
		for _, k := range []string{"displayName", "enabled", "suppressionDuration", "suppressionEnabled", "query", "queryFrequency", "queryPeriod", "severity", "triggerOperator", "triggerThreshold", "tactics", "techniques", "entityMappings", "incidentConfiguration"} {
			if _, ok := p[k]; !ok {
				t.Errorf("%s: no %s", p["displayName"], k)
			}
		}
		freq, period := parseISO(t, p["queryFrequency"].(string)), parseISO(t, p["queryPeriod"].(string))
		if freq < 5*time.Minute || period > 14*24*time.Hour || period < freq {
			t.Errorf("%s: every %s over %s", p["displayName"], freq, period)
		}
		if q := p["query"].(string); len(q) > MaxQueryLength {
			t.Errorf("%s: query of %d characters", p["displayName"], len(q))
		}
		if s := p["severity"].(string); s != "High" && s != "Medium" && s != "Low" && s != "Informational" {
			t.Errorf("%s: severity %q", p["displayName"], s)
		}
		ems := p["entityMappings"].([]any)
		if len(ems) < 1 || len(ems) > 5 {
			t.Errorf("%s: %d entity mappings", p["displayName"], len(ems))
		}
		for _, em := range ems {
			fms := em.(map[string]any)["fieldMappings"].([]any)
			if len(fms) < 1 || len(fms) > 3 {
				t.Errorf("%s: %d field mappings", p["displayName"], len(fms))
			}
		}
		for _, tac := range p["tactics"].([]any) {
			if !validTactics[tac.(string)] {
				t.Errorf("%s: tactic %v", p["displayName"], tac)
			}
		}
		for _, tech := range p["techniques"].([]any) {
			if !regexp.MustCompile(`^T\d{4}$`).MatchString(tech.(string)) {
				t.Errorf("%s: technique %v", p["displayName"], tech)
			}
		}
	}
}

// TestSentinelYAML: every document has the fields the Azure-Sentinel repository's rule schema
// requires, with its durations and trigger operator spelled as the repository spells them.
func TestSentinelYAML(t *testing.T) {
	rules := builtinAnalytics(t)
	var b bytes.Buffer
	if err := Write(&b, "sentinel-yaml", rules); err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(&b)
	n := 0
	for ; ; n++ {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		for _, k := range []string{"id", "kind", "name", "description", "requiredDataConnectors", "severity", "query", "queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("%v: no %s", doc["name"], k)
			}
		}
		if !regexp.MustCompile(`^\d+[mhd]$`).MatchString(doc["queryFrequency"].(string)) || doc["triggerOperator"] != "gt" || len(doc["query"].(string)) > MaxQueryLength {
			t.Errorf("%v: frequency %v, operator %v", doc["name"], doc["queryFrequency"], doc["triggerOperator"])
		}
		if strings.TrimSpace(doc["query"].(string)) != strings.TrimSpace(rules[n].Query) {
			t.Errorf("%v: the query does not survive YAML", doc["name"])
		}
	}
	if n != len(rules) {
		t.Errorf("%d documents for %d rules", n, len(rules))
	}
}

// bicepUnescape reads a single-quoted Bicep string back (the escapes bicepEscape writes).
func bicepUnescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\'`, `'`, `\n`, "\n", `\r`, "\r", `\t`, "\t", `\${`, "${").Replace(s)
}

// TestBicep: one alertRules resource per rule, scoped to the existing workspace, and each query
// read back from its Bicep string literal is the query.
func TestBicep(t *testing.T) {
	rules := builtinAnalytics(t)
	var b bytes.Buffer
	if err := Write(&b, "bicep", rules); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if got := strings.Count(out, "'Microsoft.SecurityInsights/alertRules@"+APIVersion+"'"); got != len(rules) || !strings.Contains(out, "param workspace string") ||
		strings.Count(out, "scope: sentinelWorkspace") != len(rules) {
		t.Fatalf("%d resources for %d rules", got, len(rules))
	}
	queries := regexp.MustCompile(`(?m)^\s+query: '((?:[^'\\]|\\.)*)'$`).FindAllStringSubmatch(out, -1)
	if len(queries) != len(rules) {
		t.Fatalf("%d queries found for %d rules", len(queries), len(rules))
	}
	for i, m := range queries {
		if bicepUnescape(m[1]) != rules[i].Query {
			t.Errorf("%s: the query does not survive Bicep escaping", rules[i].Name)
		}
	}
}

// TestGoldenKQL pins the KQL of every built-in rule and correlation (go test -update rewrites it).
func TestGoldenKQL(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "kql", builtinAnalytics(t)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "builtin.kql")
	if *update {
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("the KQL of the built-in pack changed; go test ./internal/sentinel -update rewrites %s", path)
	}
}

// TestFieldsDocumented: every field the converter maps is in docs/sentinel.md's table.
func TestFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "sentinel.md"))
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(string(doc))
	for _, f := range documentedFields() {
		if !strings.Contains(lower, "| `"+f+"`") {
			t.Errorf("docs/sentinel.md does not list the field %s", f)
		}
	}
}
