package sentinel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Formats are the export formats, as bulwark rules export --format names them.
var Formats = []string{"kql", "sentinel-arm", "sentinel-yaml", "bicep"}

// Write writes the analytics rules in one format: kql (each query after a comment naming its rule
// and schedule), sentinel-arm (one deployable ARM template), sentinel-yaml (the Azure-Sentinel
// repository's detection YAML, one document per rule) or bicep (one Bicep file).
func Write(w io.Writer, format string, rules []AnalyticsRule) error {
	switch format {
	case "kql":
		for i, r := range rules {
			if i > 0 {
				io.WriteString(w, "\n")
			}
			fmt.Fprintf(w, "// %s: %s (%s) — run every %s over the last %s\n%s\n", r.Name, r.DisplayName, r.Severity, yamlDuration(r.Frequency), yamlDuration(r.Period), r.Query)
		}
		return nil
	case "sentinel-arm":
		return writeARM(w, rules)
	case "sentinel-yaml":
		for i, r := range rules {
			if i > 0 {
				io.WriteString(w, "---\n")
			}
			if err := writeYAML(w, r); err != nil {
				return err
			}
		}
		return nil
	case "bicep":
		return writeBicep(w, rules)
	}
	return fmt.Errorf("unknown format %q (one of %s)", format, strings.Join(Formats, ", "))
}

const workspaceParam = "The Log Analytics workspace Microsoft Sentinel is enabled on (its name, in the resource group deployed to)."

func writeARM(w io.Writer, rules []AnalyticsRule) error {
	var resources []any
	for _, r := range rules {
		resources = append(resources, map[string]any{
			"type": "Microsoft.SecurityInsights/alertRules", "apiVersion": APIVersion,
			"scope": "[format('Microsoft.OperationalInsights/workspaces/{0}', parameters('workspace'))]",
			"name":  r.ID, "kind": "Scheduled", "properties": r.properties(),
		})
	}
	if resources == nil {
		resources = []any{}
	}
	doc := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"metadata":       map[string]any{"description": "Microsoft Sentinel analytics rules converted from Sigma rules by bulwark rules export."},
		"parameters":     map[string]any{"workspace": map[string]any{"type": "string", "metadata": map[string]any{"description": workspaceParam}}},
		"resources":      resources,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// yamlDuration writes d as the Azure-Sentinel YAML writes durations: 5m, 25h, 1d.
func yamlDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

type yamlRule struct {
	ID                     string          `yaml:"id"`
	Name                   string          `yaml:"name"`
	Description            string          `yaml:"description"`
	Severity               string          `yaml:"severity"`
	RequiredDataConnectors []yamlConnector `yaml:"requiredDataConnectors"`
	QueryFrequency         string          `yaml:"queryFrequency"`
	QueryPeriod            string          `yaml:"queryPeriod"`
	TriggerOperator        string          `yaml:"triggerOperator"`
	TriggerThreshold       int             `yaml:"triggerThreshold"`
	Tactics                []string        `yaml:"tactics"`
	RelevantTechniques     []string        `yaml:"relevantTechniques"`
	Query                  string          `yaml:"query"`
	EntityMappings         any             `yaml:"entityMappings"`
	CustomDetails          any             `yaml:"customDetails"`
	IncidentConfiguration  any             `yaml:"incidentConfiguration"`
	Version                string          `yaml:"version"`
	Kind                   string          `yaml:"kind"`
}

type yamlConnector struct {
	ConnectorID string   `yaml:"connectorId"`
	DataTypes   []string `yaml:"dataTypes"`
}

func writeYAML(w io.Writer, r AnalyticsRule) error {
	p := r.properties()
	doc := yamlRule{ID: r.ID, Name: r.DisplayName, Description: r.Description, Severity: r.Severity,
		RequiredDataConnectors: []yamlConnector{{ConnectorID: "AzureActivity", DataTypes: []string{"AzureActivity"}}},
		QueryFrequency:         yamlDuration(r.Frequency), QueryPeriod: yamlDuration(r.Period), TriggerOperator: "gt", TriggerThreshold: 0,
		Tactics: nonNil(r.Tactics), RelevantTechniques: nonNil(r.Techniques), Query: r.Query + "\n",
		EntityMappings: p["entityMappings"], CustomDetails: p["customDetails"], IncidentConfiguration: p["incidentConfiguration"],
		Version: "1.0.0", Kind: "Scheduled"}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeBicep(w io.Writer, rules []AnalyticsRule) error {
	var b strings.Builder
	b.WriteString("// Microsoft Sentinel analytics rules converted from Sigma rules by bulwark rules export.\n")
	b.WriteString("@description('" + bicepEscape(workspaceParam) + "')\nparam workspace string\n\n")
	b.WriteString("resource sentinelWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {\n  name: workspace\n}\n")
	for i, r := range rules {
		fmt.Fprintf(&b, "\n// %s\nresource rule%d 'Microsoft.SecurityInsights/alertRules@%s' = {\n  scope: sentinelWorkspace\n  name: '%s'\n  kind: 'Scheduled'\n  properties: ", r.Name, i, APIVersion, r.ID)
		bicepValue(&b, r.properties(), "  ")
		b.WriteString("\n}\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// bicepValue writes v (maps with sorted keys, lists, strings, bools, numbers) as a Bicep value.
func bicepValue(b *strings.Builder, v any, indent string) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{\n")
		for _, k := range keys {
			b.WriteString(indent + "  " + k + ": ")
			bicepValue(b, x[k], indent+"  ")
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for _, e := range x {
			b.WriteString(indent + "  ")
			bicepValue(b, e, indent+"  ")
			b.WriteString("\n")
		}
		b.WriteString(indent + "]")
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		bicepValue(b, l, indent)
	case string:
		b.WriteString("'" + bicepEscape(x) + "'")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// bicepEscape escapes a string for a single-quoted Bicep literal: backslash, quote, newline,
// carriage return, tab and the ${ of interpolation.
func bicepEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "${", `\${`).Replace(s)
}
