// Package config reads bulwark.yaml: the settings that tune checks and detections to an estate
// (which tag marks business-critical resources, break-glass accounts, severity overrides, the RPO).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bulwarkhq/bulwark/internal/yamlmsg"
)

// yamlTerms name bulwark.yaml's parts in decoding errors (yamlmsg).
var yamlTerms = map[string]string{
	"config.Config":                         "the settings (criticality, applicationTag, breakGlass, …)",
	"config.Detection":                      "the detection settings (correlations)",
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
	return c
}

// Load reads bulwark.yaml at path over the defaults. Unknown keys are errors naming the line.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("read settings: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
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
		if t, err := time.Parse(time.RFC3339, x.Expires); err == nil {
			x.Until = t.UTC()
		} else if d, err := time.Parse("2006-01-02", x.Expires); err == nil {
			x.Until = d.Add(24*time.Hour - time.Nanosecond) // the whole day
		} else {
			return c, fmt.Errorf("%s: expires %q is not a date (2027-03-31) or an RFC 3339 time", at, x.Expires)
		}
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

// IsBreakGlass reports whether a principal object ID is on the break-glass list.
func (c Config) IsBreakGlass(principalID string) bool {
	for _, b := range c.BreakGlass {
		if strings.EqualFold(strings.TrimSpace(b), principalID) {
			return true
		}
	}
	return false
}
