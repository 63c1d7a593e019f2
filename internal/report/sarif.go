package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/assess"
)

// SARIF 2.1.0 types: only the parts Bulwark fills.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     streamedArray     `json:"results"` // written by writeStreamed
	Properties  map[string]any    `json:"properties,omitempty"`
}

// sarifInvocation reports how the run went: with unreadable inputs, one error notification each.
type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	SemanticVer    string      `json:"semanticVersion,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifText      `json:"help"`
	DefaultConfig    map[string]any `json:"defaultConfiguration"`
	Properties       map[string]any `json:"properties"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties"`
}

// sarifSuppression marks a result a bulwark.yaml exception accepts (SARIF 2.1.0 §3.35).
type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation map[string]string `json:"artifactLocation"`
	Region           map[string]int    `json:"region"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// securitySeverity maps severities to GitHub's security-severity scale (0–10).
var securitySeverity = map[assess.Severity]string{assess.Info: "1.0", assess.Low: "3.0", assess.Medium: "5.5", assess.High: "8.0", assess.Critical: "9.5"}

func sarifLevel(r assess.Result) string {
	if r.Status == assess.Warn {
		return "warning"
	}
	switch r.Severity {
	case assess.Critical, assess.High:
		return "error"
	case assess.Medium:
		return "warning"
	}
	return "note"
}

// SARIF writes SARIF 2.1.0: a rule per check and a result per finding (fail or warn), located at
// the input file the resource was read from and, logically, at the resource's ARM ID.
func SARIF(w io.Writer, rep *assess.Report, checks []*assess.Check, meta Meta) error {
	driver := sarifDriver{Name: "bulwark", InformationURI: "https://github.com/bulwarkhq/bulwark", Version: meta.Version}
	index := map[string]int{}
	for i, c := range checks {
		index[c.ID] = i
		help := c.Fix.Text
		md := "**Remediation.** " + c.Fix.Text
		if c.Fix.Bicep != "" {
			md += "\n\n```bicep\n" + c.Fix.Bicep + "\n```"
		}
		if c.Fix.Policy != nil {
			help += " Built-in Azure Policy: " + c.Fix.Policy.Name + " (" + c.Fix.Policy.ID + ")."
			md += "\n\nBuilt-in Azure Policy: *" + c.Fix.Policy.Name + "* (`" + c.Fix.Policy.ID + "`)."
		}
		tags := []string{"security", "azure", string(c.Principle), "area:" + string(c.Area)}
		for _, x := range c.Controls {
			tags = append(tags, x.Framework+":"+x.ID)
			md += "\n\n" + x.Label() + ": " + x.Title + "."
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: c.ID, Name: ruleName(c.Title),
			ShortDescription: sarifText{Text: c.Title}, FullDescription: sarifText{Text: c.Rationale},
			Help:          sarifText{Text: help, Markdown: md},
			DefaultConfig: map[string]any{"level": sarifLevel(assess.Result{Status: assess.Fail, Severity: c.Severity})},
			Properties: map[string]any{"security-severity": securitySeverity[c.Severity], "precision": "high",
				"tags": tags},
		})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Properties: map[string]any{
		"estateScore": estateScore(rep), "counts": rep.Counts, "unknownBecause": rep.Unknown}}
	if len(meta.Unreadable) > 0 {
		inv := sarifInvocation{ExecutionSuccessful: true}
		for _, l := range partialLines(meta) {
			inv.Notifications = append(inv.Notifications, sarifNotification{Level: "error", Message: sarifText{Text: l}})
		}
		run.Invocations = []sarifInvocation{inv}
	}
	results := reported(rep)
	result := func(i int) any {
		r := &rep.Results[results[i]]
		loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: r.Name, FullyQualifiedName: r.Resource, Kind: "resource"}}}
		if r.Source != "" && r.Source != "-" {
			uri := filepath.ToSlash(strings.TrimPrefix(r.Source, "embedded:"))
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: map[string]string{"uri": uri}, Region: map[string]int{"startLine": 1}}
		}
		var evs []string
		for _, e := range r.Evidence {
			evs = append(evs, e.String())
		}
		msg := fmt.Sprintf("%s (%s): %s.", r.Name, r.Resource, r.Message)
		if len(evs) > 0 {
			msg += " Evidence: " + strings.Join(evs, "; ") + "."
		}
		if r.Command != "" {
			msg += " Fix: " + r.Command
		}
		sum := sha256.Sum256([]byte(r.CheckID + "|" + strings.ToLower(r.Resource)))
		res := sarifResult{
			RuleID: r.CheckID, RuleIndex: index[r.CheckID], Level: sarifLevel(*r), Message: sarifText{Text: msg},
			Locations: []sarifLocation{loc}, PartialFingerprints: map[string]string{"bulwarkFinding/v1": hex.EncodeToString(sum[:16])},
			Properties: map[string]any{"status": r.Status, "severity": r.Severity, "blastRadius": r.BlastRadius, "app": r.App},
		}
		if r.Status == assess.Excepted {
			res.Level = sarifLevel(assess.Result{Status: r.Exception.Was, Severity: r.Severity})
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: exceptionNote(*r)}}
		}
		return &res
	}
	return writeStreamed(w, sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}, len(results), result)
}

// ruleName turns a title into the PascalCase identifier SARIF rules carry.
func ruleName(title string) string {
	var b strings.Builder
	for _, f := range strings.FieldsFunc(title, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
		b.WriteString(strings.ToUpper(f[:1]) + f[1:])
	}
	return b.String()
}

// estateScore is the estate's score, or nil when nothing was assessed.
func estateScore(rep *assess.Report) any {
	if !rep.Scores.Estate.Assessed {
		return nil
	}
	return rep.Scores.Estate.Score
}
