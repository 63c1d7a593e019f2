// Package incident holds what an incident is, as bulwark detect writes it and bulwark respond
// reads it: the bulwark.detect/v1 schema (docs/detect-json.md), declared once. It does no I/O
// beyond the reader and writer it is given.
package incident

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Schema names the JSON-lines schema of bulwark detect -o json.
const Schema = "bulwark.detect/v1"

// Incident is the alerts of one actor — a caller and the principals it granted roles — joined the
// way an analyst would, with what the actor changed and what can still be undone.
type Incident struct {
	ID         string          `json:"id"` // "INC-" and a hash of the first alert's ID
	Title      string          `json:"title"`
	Severity   string          `json:"severity"` // the highest alert level, raised by the stages reached and by lost resources
	OpenedBy   []string        `json:"openedBy"` // why it is an incident: each opening alert's reason (the incident policy)
	Actor      string          `json:"actor"`
	Stages     []string        `json:"stages"` // in kill-chain order
	First      time.Time       `json:"first"`
	Last       time.Time       `json:"last"`
	Principals []*Principal    `json:"principals"`
	SourceIPs  []string        `json:"sourceIps"`
	Alerts     []string        `json:"alerts"` // alert IDs, oldest first
	Timeline   []TimelineEntry `json:"timeline"`
	Resources  []*Resource     `json:"resources"`
	// ResourcesNotListed counts resources beyond the per-actor cap (5,000).
	ResourcesNotListed int            `json:"resourcesNotListed,omitempty"`
	Recovery           map[string]int `json:"recovery"` // resources per recovery status
}

// TimelineEntry is one alert in an incident's timeline.
type TimelineEntry struct {
	Time       time.Time `json:"time"`
	Alert      string    `json:"alert"`
	Type       string    `json:"type"`
	Stage      string    `json:"stage,omitempty"`
	Level      string    `json:"level"`
	Title      string    `json:"title"`
	Caller     string    `json:"caller,omitempty"`
	Operation  string    `json:"operationName,omitempty"`
	ResourceID string    `json:"resourceId,omitempty"`
}

// Recovery says whether what an incident did to a resource can still be undone.
type Recovery struct {
	Status string `json:"status"` // reversible, lost or unknown
	Reason string `json:"reason"`
}

const (
	Reversible = "reversible"
	Lost       = "lost"
	Unknown    = "unknown"
)

// Principal is one identity acting in an incident.
type Principal struct {
	Caller      string    `json:"caller,omitempty"`      // as logged: a UPN, or an application ID
	PrincipalID string    `json:"principalId,omitempty"` // object ID
	AppID       string    `json:"appId,omitempty"`
	GrantedBy   string    `json:"grantedBy,omitempty"` // the caller that granted this principal a role during the attack
	GrantedAt   time.Time `json:"grantedAt,omitzero"`
	FirstSeen   time.Time `json:"firstSeen,omitzero"`
	LastSeen    time.Time `json:"lastSeen,omitzero"`
}

// Resource is one resource an incident's actor changed.
type Resource struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	Component   string    `json:"component,omitempty"`   // A–E when the type belongs to one
	BlastRadius *int      `json:"blastRadius,omitempty"` // resources that depend on it (with --snapshot)
	InSnapshot  bool      `json:"inSnapshot,omitempty"`
	Operations  []string  `json:"operations"` // distinct operations, first seen first
	Status      string    `json:"status"`     // result of the latest event: Start, Accept, Success, Failure
	Deleted     bool      `json:"deleted"`
	CascadeOf   string    `json:"cascadeOf,omitempty"` // the resource group whose delete removed it
	Inferred    bool      `json:"inferred,omitempty"`  // not in the log: in the snapshot under a deleted resource group
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	Recovery    Recovery  `json:"recovery"`
}

// Read reads the incidents from bulwark detect -o json output (one object per line); alerts and
// the summary are skipped. name labels errors, which give the line: a line that is not JSON, or is
// from another schema, stops the read — a playbook built from half an incident would be wrong.
func Read(r io.Reader, name string) ([]*Incident, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	var out []*Incident
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var head struct {
			Schema string `json:"schema"`
			Kind   string `json:"kind"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON object: %v", name, line, err)
		}
		if head.Schema != Schema {
			return nil, fmt.Errorf("%s:%d: schema %q, want %q (the output of bulwark detect -o json)", name, line, head.Schema, Schema)
		}
		if head.Kind != "incident" {
			continue
		}
		var inc Incident
		if err := json.Unmarshal(b, &inc); err != nil {
			return nil, fmt.Errorf("%s:%d: incident: %v", name, line, err)
		}
		if inc.ID == "" || inc.First.IsZero() {
			return nil, fmt.Errorf("%s:%d: incident without an id or a first time", name, line)
		}
		out = append(out, &inc)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return out, nil
}
