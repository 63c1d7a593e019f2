package sentinel

import (
	"crypto/sha1"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/sigma"
)

// APIVersion is the Microsoft.SecurityInsights/alertRules version the templates use: the newest GA
// one in the public Bicep type definitions.
const APIVersion = "2025-09-01"

// AnalyticsRule is a Scheduled analytics rule: what the ARM template, the Azure-Sentinel YAML and
// the Bicep file each write in their own shape.
type AnalyticsRule struct {
	ID             string // a GUID, stable: the Sigma ID when it is one, else derived from the rule's name
	Name           string // the Sigma name (or title)
	DisplayName    string
	Description    string
	Severity       string // High, Medium, Low, Informational
	Query          string
	Frequency      time.Duration
	Period         time.Duration
	Tactics        []string
	Techniques     []string // T1234 (a sub-technique tag counts as its technique)
	SuppressFor    time.Duration
	GroupingWindow time.Duration
}

// severity maps Sigma levels to Sentinel's four severities.
var severity = map[string]string{"critical": "High", "high": "High", "medium": "Medium", "low": "Low", "informational": "Informational"}

// tactics maps ATT&CK tactic tags (attack.privilege_escalation, attack.privilege-escalation) to
// Sentinel's tactic names.
var tactics = map[string]string{
	"reconnaissance": "Reconnaissance", "resource_development": "ResourceDevelopment", "initial_access": "InitialAccess",
	"execution": "Execution", "persistence": "Persistence", "privilege_escalation": "PrivilegeEscalation",
	"defense_evasion": "DefenseEvasion", "credential_access": "CredentialAccess", "discovery": "Discovery",
	"lateral_movement": "LateralMovement", "collection": "Collection", "command_and_control": "CommandAndControl",
	"exfiltration": "Exfiltration", "impact": "Impact",
}

var technique = regexp.MustCompile(`^t\d{4}(\.\d{3})?$`)

// Analytics returns the analytics rule of a converted query.
func Analytics(q Query) AnalyticsRule {
	r := q.Rule
	a := AnalyticsRule{ID: ruleGUID(r), Name: label(r), DisplayName: r.Title, Severity: severity[strings.ToLower(string(r.Level))],
		Query: q.KQL, Frequency: q.Frequency, Period: q.Period, SuppressFor: 5 * time.Hour, GroupingWindow: 5 * time.Hour}
	if a.Severity == "" {
		a.Severity = "Medium"
	}
	desc := strings.TrimSpace(r.Description)
	if desc == "" {
		desc = r.Title
	}
	for _, n := range q.Notes {
		desc += " " + n
	}
	a.Description = desc + " (Converted by bulwark rules export from " + ruleSource(r) + ".)"
	seen := map[string]bool{}
	for _, t := range r.Tags {
		t = strings.ToLower(t)
		if !strings.HasPrefix(t, "attack.") {
			continue
		}
		t = strings.ReplaceAll(t[len("attack."):], "-", "_")
		switch {
		case tactics[t] != "":
			if !seen[tactics[t]] {
				seen[tactics[t]] = true
				a.Tactics = append(a.Tactics, tactics[t])
			}
		case technique.MatchString(t):
			id := strings.ToUpper(t)
			if i := strings.IndexByte(id, '.'); i >= 0 {
				id = id[:i]
			}
			a.Techniques = appendNew(a.Techniques, id)
		}
	}
	sort.Strings(a.Techniques)
	return a
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func ruleSource(r *sigma.Rule) string {
	if r.File != "" {
		return "the Sigma rule " + label(r) + " (" + r.File + ")"
	}
	return "the Sigma rule " + label(r)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ruleGUID is the rule's Sigma ID when it is a UUID, else a name-based UUID (version 5) of its name,
// so exporting again updates the same analytics rule.
func ruleGUID(r *sigma.Rule) string {
	if uuidPattern.MatchString(r.ID) {
		return strings.ToLower(r.ID)
	}
	// RFC 9562 version 5 in a namespace of Bulwark's own.
	ns := []byte{0x7b, 0x1d, 0x2e, 0x7a, 0x5c, 0x0e, 0x4b, 0x3f, 0x9a, 0x61, 0x2c, 0x8d, 0x11, 0x4f, 0x6e, 0x02}
	h := sha1.Sum(append(ns, []byte(label(r))...))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// isoDuration writes d as an ISO 8601 duration (PT5M, PT25H, P2D), as the alertRules API takes it.
func isoDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("P%dD", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("PT%dH", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("PT%dM", d/time.Minute)
	}
	return fmt.Sprintf("PT%dS", d/time.Second)
}

// properties are the analytics rule's alertRules properties, as ARM, Bicep and the YAML share them.
func (a AnalyticsRule) properties() map[string]any {
	p := map[string]any{
		"displayName":         a.DisplayName,
		"description":         a.Description,
		"severity":            a.Severity,
		"enabled":             true,
		"query":               a.Query,
		"queryFrequency":      isoDuration(a.Frequency),
		"queryPeriod":         isoDuration(a.Period),
		"triggerOperator":     "GreaterThan",
		"triggerThreshold":    0,
		"suppressionDuration": isoDuration(a.SuppressFor),
		"suppressionEnabled":  false,
		"tactics":             nonNil(a.Tactics),
		"techniques":          nonNil(a.Techniques),
		"entityMappings": []any{
			map[string]any{"entityType": "Account", "fieldMappings": []any{map[string]any{"identifier": "FullName", "columnName": "Caller"}}},
			map[string]any{"entityType": "IP", "fieldMappings": []any{map[string]any{"identifier": "Address", "columnName": "CallerIpAddress"}}},
			map[string]any{"entityType": "AzureResource", "fieldMappings": []any{map[string]any{"identifier": "ResourceId", "columnName": "ResourceId"}}},
		},
		"customDetails": map[string]any{"BulwarkRule": "BulwarkRule"},
		"incidentConfiguration": map[string]any{
			"createIncident": true,
			"groupingConfiguration": map[string]any{
				"enabled": true, "reopenClosedIncident": false, "lookbackDuration": isoDuration(a.GroupingWindow),
				"matchingMethod": "Selected", "groupByEntities": []string{"Account"}, "groupByAlertDetails": []string{}, "groupByCustomDetails": []string{},
			},
		},
	}
	return p
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
