// Package config reads bulwark.yaml: the settings that tune checks and detections to an estate
// (which tag marks business-critical resources, break-glass accounts, severity overrides, the RPO).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bulwarkhq/bulwark/internal/yamlmsg"
)

// yamlTerms name bulwark.yaml's parts in decoding errors (yamlmsg).
var yamlTerms = map[string]string{
	"config.Config":                         "the settings (criticality, applicationTag, breakGlass, …)",
	"config.Detection":                      "the detection settings (correlations, context, suppress)",
	"config.Context":                        "the context settings (window, historyFactor, firstTime)",
	"[]config.Suppression":                  "a list of suppressions (- rule|caller|appId|principalId|scope: …, reason, expires)",
	"config.Suppression":                    "a suppression (rule, caller, appId, principalId, scope, reason, owner, expires)",
	"map[string]config.CorrelationOverride": "a mapping of correlation rule names to their timespan and threshold",
	"config.CorrelationOverride":            "a timespan and threshold",
	"config.Duration":                       "a duration (4h, 90m, 7d)",
	"[]config.Exception":                    "a list of exceptions (- check: …, resource|scope|tag: …, reason, owner, expires)",
	"config.Exception":                      "an exception (check, resource, scope, tag, reason, owner, expires)",
	"map[string]string":                     "a mapping of names to text values",
}

// Config is bulwark.yaml. Every field has a default (Default), so an empty file is valid.
type Config struct {
	Criticality struct {
		Tag    string   `yaml:"tag"`
		Values []string `yaml:"values"`
	} `yaml:"criticality"`
	ApplicationTag string            `yaml:"applicationTag"`
	BreakGlass     []string          `yaml:"breakGlass"`     // principal object IDs exempt from standing-access checks
	RecoveryTag    string            `yaml:"recoveryTag"`    // marks storage holding recovery material (RI-001)
	BuildAgentTag  map[string]string `yaml:"buildAgentTag"`  // marks build agents (DEV-001)
	BuildAgentName []string          `yaml:"buildAgentName"` // name patterns for build agents, * wildcards
	RPO            Duration          `yaml:"rpo"`            // backup age beyond which VM-001 warns
	Severities     map[string]string `yaml:"severities"`     // check ID → info|low|medium|high|critical
	Detection      Detection         `yaml:"detection"`
	Exceptions     []Exception       `yaml:"exceptions"` // accepted risks, each with an owner and an expiry
	// Limits bound what one input may cost (docs/bulwark-yaml.md); zero fields take limits.Default's.
	Limits limits.Limits `yaml:"limits"`
}

// Exception accepts a check's failure on some resources, for a stated reason, until it expires:
// the results show as "excepted" with the reason, and fail again from the expiry on. At least one
// of Resource, Scope and Tag selects what it covers (all given must match).
type Exception struct {
	Check    string            `yaml:"check"`    // a check ID
	Resource string            `yaml:"resource"` // one resource's ARM ID
	Scope    string            `yaml:"scope"`    // every resource below this ID (a subscription, a resource group)
	Tag      map[string]string `yaml:"tag"`      // resources carrying all these tags
	Reason   string            `yaml:"reason"`
	Owner    string            `yaml:"owner"`
	Expires  string            `yaml:"expires"` // a date (2027-03-31, the end of that day UTC) or an RFC 3339 time
	Until    time.Time         `yaml:"-"`
	Line     int               `yaml:"-"`
}

// UnmarshalYAML records the exception's line, so errors and reports can name it.
func (x *Exception) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: an exception is a mapping (check, resource|scope|tag, reason, owner, expires)", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "check", "resource", "scope", "tag", "reason", "owner", "expires":
		default:
			return fmt.Errorf("line %d: unknown setting %q in an exception (check, resource, scope, tag, reason, owner, expires)", k.Line, k.Value)
		}
	}
	type plain Exception
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*x = Exception(p)
	x.Line = n.Line
	return nil
}

// Detection tunes the built-in correlation rules without editing them.
type Detection struct {
	// Correlations maps a correlation rule's name (or ID) to new thresholds and windows:
	//
	//	detection:
	//	  correlations:
	//	    corr_mass_deletion: {threshold: 20, timespan: 1h}
	Correlations map[string]CorrelationOverride `yaml:"correlations"`
	// Context tunes when an alert that is context (bulwark.incident: context, mass deallocation in
	// the built-in pack) opens an incident.
	Context Context `yaml:"context"`
	// Suppress silences alerts for a stated reason until an expiry: they stay listed and counted,
	// marked suppressed, and open or join no incident.
	Suppress []Suppression `yaml:"suppress"`
}

// Context: an alert that is context opens an incident when the same actor raises another alert
// within Window of it, or when it covers at least HistoryFactor times as many resources as the
// actor's busiest earlier day (FirstTime resources when the actor has no earlier day).
type Context struct {
	Window        Duration `yaml:"window"`
	HistoryFactor float64  `yaml:"historyFactor"`
	FirstTime     int      `yaml:"firstTime"`
}

// Suppression silences the alerts it matches: every selector given must match (rule: a rule's
// name or ID; caller, appId, principalId: who raised it; scope: an ARM ID its resources are at or
// below). A correlation alert matches when every event it lists does.
type Suppression struct {
	Rule        string    `yaml:"rule"`
	Caller      string    `yaml:"caller"`
	AppID       string    `yaml:"appId"`
	PrincipalID string    `yaml:"principalId"`
	Scope       string    `yaml:"scope"`
	Reason      string    `yaml:"reason"`
	Owner       string    `yaml:"owner"`
	Expires     string    `yaml:"expires"` // a date (the end of that day UTC) or an RFC 3339 time
	Until       time.Time `yaml:"-"`
	Line        int       `yaml:"-"`
}

var suppressionKeys = []string{"rule", "caller", "appId", "principalId", "scope", "reason", "owner", "expires"}

// UnmarshalYAML rejects unknown keys with their line and records the suppression's line.
func (x *Suppression) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a suppression is a mapping (%s)", n.Line, strings.Join(suppressionKeys, ", "))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		known := false
		for _, s := range suppressionKeys {
			known = known || k.Value == s
		}
		if !known {
			return fmt.Errorf("line %d: unknown setting %q in a suppression (%s)", k.Line, k.Value, strings.Join(suppressionKeys, ", "))
		}
	}
	type plain Suppression
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*x = Suppression(p)
	x.Line = n.Line
	return nil
}

// Describe names a suppression for reports: its line and selectors.
func (x Suppression) Describe() string {
	var parts []string
	for _, kv := range [][2]string{{"rule", x.Rule}, {"caller", x.Caller}, {"appId", x.AppID}, {"principalId", x.PrincipalID}, {"scope", x.Scope}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	return fmt.Sprintf("line %d (%s)", x.Line, strings.Join(parts, ", "))
}

// CorrelationOverride replaces a correlation rule's window and the bound of its "at least"
// condition (gte, or gt). Zero values keep the rule's own.
type CorrelationOverride struct {
	Timespan  Duration `yaml:"timespan"`
	Threshold float64  `yaml:"threshold"`
	Line      int      `yaml:"-"`
}

// UnmarshalYAML records the line of an override so errors can name it.
func (o *CorrelationOverride) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a correlation override is a mapping {threshold: N, timespan: D}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value != "timespan" && k.Value != "threshold" {
			return fmt.Errorf("line %d: field %s not found (want threshold or timespan)", k.Line, k.Value)
		}
	}
	type plain CorrelationOverride
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	if p.Threshold < 0 {
		return fmt.Errorf("line %d: threshold %g is negative", n.Line, p.Threshold)
	}
	*o = CorrelationOverride(p)
	o.Line = n.Line
	return nil
}

// Duration is a time.Duration written as "36h", "90m" or "7d".
type Duration struct{ time.Duration }

// UnmarshalYAML accepts Go durations and a "d" suffix for days.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	d.Duration = v
	return nil
}

// FormatDuration writes a duration the way ParseDuration reads it, without zero parts: "4h",
// "2h30m", "45m"; "" for zero or less.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration parses "4h", "90m", "1h30m" and "7d".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		var days float64
		if _, err := fmt.Sscanf(strings.TrimSuffix(s, "d"), "%g", &days); err == nil && days >= 0 {
			return time.Duration(days * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (examples: 4h, 90m, 7d)", s)
	}
	return d, nil
}

// Default returns the settings used when no bulwark.yaml is given.
func Default() Config {
	var c Config
	c.Criticality.Tag = "criticality"
	c.Criticality.Values = []string{"high", "critical", "mission-critical"}
	c.ApplicationTag = "app"
	c.RecoveryTag = "bulwark:recovery"
	c.BuildAgentTag = map[string]string{"role": "build-agent"}
	c.BuildAgentName = []string{"*agent*", "*runner*"}
	c.RPO = Duration{36 * time.Hour}
	c.Detection.Context = Context{Window: Duration{6 * time.Hour}, HistoryFactor: 3, FirstTime: 25}
	return c
}

// Severity names accepted in overrides.
var severityNames = []string{"info", "low", "medium", "high", "critical"}

// Parse reads settings from r over the defaults.
func Parse(r io.Reader) (Config, error) {
	c := Default()
	data, err := io.ReadAll(r)
	if err != nil {
		return c, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, yamlmsg.Explain(err, yamlTerms, "")
	}
	for i := range c.Exceptions {
		x := &c.Exceptions[i]
		at := fmt.Sprintf("exceptions: line %d", x.Line)
		switch {
		case strings.TrimSpace(x.Check) == "":
			return c, fmt.Errorf("%s: check is required (a check ID such as LOCK-003)", at)
		case x.Resource == "" && x.Scope == "" && len(x.Tag) == 0:
			return c, fmt.Errorf("%s: give resource, scope or tag: what the exception covers", at)
		case strings.TrimSpace(x.Reason) == "":
			return c, fmt.Errorf("%s: reason is required: reports show why the risk is accepted", at)
		case strings.TrimSpace(x.Owner) == "":
			return c, fmt.Errorf("%s: owner is required: who accepted the risk", at)
		case strings.TrimSpace(x.Expires) == "":
			return c, fmt.Errorf("%s: expires is required (a date such as 2027-03-31): an exception is reviewed, not forgotten", at)
		}
		t, err := parseExpiry(x.Expires)
		if err != nil {
			return c, fmt.Errorf("%s: %w", at, err)
		}
		x.Until = t
	}
	for i := range c.Detection.Suppress {
		x := &c.Detection.Suppress[i]
		at := fmt.Sprintf("detection.suppress: line %d", x.Line)
		switch {
		case x.Rule == "" && x.Caller == "" && x.AppID == "" && x.PrincipalID == "" && x.Scope == "":
			return c, fmt.Errorf("%s: give rule, caller, appId, principalId or scope: what the suppression silences", at)
		case strings.TrimSpace(x.Reason) == "":
			return c, fmt.Errorf("%s: reason is required: the alerts stay listed with it", at)
		}
		t, err := parseExpiry(x.Expires)
		if err != nil {
			return c, fmt.Errorf("%s: %w", at, err)
		}
		x.Until = t
	}
	if x := c.Detection.Context; x.HistoryFactor < 0 || x.FirstTime < 0 || x.Window.Duration < 0 {
		return c, fmt.Errorf("detection.context: window, historyFactor and firstTime cannot be negative")
	}
	for id, sev := range c.Severities {
		ok := false
		for _, n := range severityNames {
			ok = ok || strings.EqualFold(sev, n)
		}
		if !ok {
			return c, fmt.Errorf("severities: %s: %q is not one of %s", id, sev, strings.Join(severityNames, ", "))
		}
	}
	return c, nil
}

// parseExpiry reads an expiry: a date (the whole of that day, UTC) or an RFC 3339 time.
func parseExpiry(s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, fmt.Errorf("expires is required (a date such as 2027-03-31): it is reviewed, not forgotten")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.Parse("2006-01-02", s); err == nil {
		return d.Add(24*time.Hour - time.Nanosecond), nil
	}
	return time.Time{}, fmt.Errorf("expires %q is not a date (2027-03-31) or an RFC 3339 time", s)
}

// IsBreakGlass reports whether a principal object ID is on the break-glass list.
func (c Config) IsBreakGlass(principalID string) bool {
	for _, b := range c.BreakGlass {
		if strings.EqualFold(strings.TrimSpace(b), principalID) {
			return true
		}
	}
	return false
}
