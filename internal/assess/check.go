// Package assess evaluates an estate against the guidance: every check is a value in one explicit
// list (Checks), a pure function of the snapshot and its derived models, returning one result per
// resource with the evidence seen. It does no I/O and imports no SDK.
package assess

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Status is a check's verdict on one resource.
type Status string

// The verdicts. Unknown means an input the check needs is missing; it is never reported as pass.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"
	Unknown Status = "unknown"
	NA      Status = "n/a"
	// Excepted is a fail or warn that a bulwark.yaml exception accepts until it expires: shown with
	// its reason, left out of scores and --fail-on.
	Excepted Status = "excepted"
)

// Severity ranks how bad a failure is.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return "unknown"
	}
	return severityNames[s]
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads a severity name, ignoring case.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: choose one of %s", name, strings.Join(severityNames, ", "))
}

// Principle is the Zero Trust principle a check serves.
type Principle string

// The three Zero Trust principles.
const (
	VerifyExplicitly Principle = "verify explicitly"
	LeastPrivilege   Principle = "least privilege"
	AssumeBreach     Principle = "assume breach"
)

// Principles lists them in order.
var Principles = []Principle{VerifyExplicitly, LeastPrivilege, AssumeBreach}

// Area is where a check belongs: one of the guidance's components A–E, or the management plane,
// detection readiness or response readiness.
type Area string

// The areas beyond components A–E.
const (
	AreaVM         Area = "A"
	AreaData       Area = "B"
	AreaRecovery   Area = "C"
	AreaConfig     Area = "D"
	AreaAutomation Area = "E"
	AreaManagement Area = "management plane"
	AreaDetection  Area = "detection"
	AreaResponse   Area = "response"
)

// Areas lists every area in report order.
var Areas = []Area{AreaManagement, AreaVM, AreaData, AreaRecovery, AreaConfig, AreaAutomation, AreaDetection, AreaResponse}

// Title names the area for reports.
func (a Area) Title() string {
	switch a {
	case AreaVM, AreaData, AreaRecovery, AreaConfig, AreaAutomation:
		return string(a) + " · " + arm.Component(a).Title()
	case AreaManagement:
		return "Locks and privileged access"
	case AreaDetection:
		return "Detection readiness"
	case AreaResponse:
		return "Response readiness"
	}
	return string(a)
}

// Policy is a built-in Azure Policy that enforces a check continuously.
type Policy struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// Remediation says how to fix a failing resource.
type Remediation struct {
	Text string `json:"text"`
	// Command renders the az command for a target with its real names; nil when none applies.
	Command func(t Target) string `json:"-"`
	Bicep   string                `json:"bicep,omitempty"`
	Policy  *Policy               `json:"policy,omitempty"`
}

// Check is one rule of the catalogue.
type Check struct {
	ID        string      `json:"id"`
	Title     string      `json:"title"`
	Area      Area        `json:"area"`
	Principle Principle   `json:"principle"`
	Severity  Severity    `json:"severity"`
	Rationale string      `json:"rationale"`
	Fix       Remediation `json:"remediation"`
	// BusinessCritical checks apply only to business-critical resources; others get n/a.
	BusinessCritical bool `json:"businessCriticalOnly,omitempty"`
	// Controls are the compliance controls the check gives evidence for (frameworks.go).
	Controls []Control `json:"controls,omitempty"`

	// Targets picks what the check evaluates; Eval judges one target.
	Targets func(e *Env) []Target          `json:"-"`
	Eval    func(e *Env, t Target) Verdict `json:"-"`
}

// Target is what a check judges: a resource, or an application from apps.yaml.
type Target struct {
	Obj   *arm.Object
	App   string
	Label string // a name for reports when the object's own name is an opaque GUID
}

// ID returns the target's identity for reports: the ARM ID as read, or "apps.yaml#name".
func (t Target) ID() string {
	if t.Obj != nil {
		return t.Obj.ID.String()
	}
	return "apps.yaml#" + t.App
}

// Name returns the resource or application name.
func (t Target) Name() string {
	if t.Label != "" {
		return t.Label
	}
	if t.Obj != nil {
		return t.Obj.Name()
	}
	return t.App
}

// Verdict is a check's judgement of one target.
type Verdict struct {
	Status   Status
	Message  string
	Evidence []Evidence
	Missing  string // for Unknown: the input that was missing
	// AtRisk, when set, is the result's blast radius instead of the target's own: a finding about
	// a principal's access puts the resources it covers, and what depends on them, at risk.
	AtRisk int
}

// Evidence is one fact a verdict rests on: where it was read and what was seen.
type Evidence struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

func (e Evidence) String() string { return e.Path + " = " + e.Value }

// Result is a verdict with everything a report needs.
type Result struct {
	Check       *Check     `json:"-"`
	CheckID     string     `json:"check"`
	Title       string     `json:"title"`
	Area        Area       `json:"area"`
	Principle   Principle  `json:"principle"`
	Severity    Severity   `json:"severity"`
	Resource    string     `json:"resource"`
	Name        string     `json:"name"`
	Type        string     `json:"type,omitempty"`
	App         string     `json:"app,omitempty"`
	Status      Status     `json:"status"`
	Message     string     `json:"message"`
	Evidence    []Evidence `json:"evidence"`
	Missing     string     `json:"missing,omitempty"`
	BlastRadius int        `json:"blastRadius"`
	Command     string     `json:"command,omitempty"`
	Source      string     `json:"source,omitempty"` // the input file the resource was read from
	// Exception is the bulwark.yaml exception that accepts this result (status excepted), or an
	// expired one that covered it (the result fails again, and says so).
	Exception *ResultException `json:"exception,omitempty"`
}

// ResultException is an exception as a result shows it.
type ResultException struct {
	Reason  string    `json:"reason"`
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
	Expired bool      `json:"expired"`
	Was     Status    `json:"was,omitempty"` // the status it replaced: fail or warn
	Line    int       `json:"line"`          // in bulwark.yaml
}

// Failed reports whether the result is a finding (fail or warn).
func (r Result) Failed() bool { return r.Status == Fail || r.Status == Warn }

// verdict helpers keep check code short.
func pass(msg string, ev ...Evidence) Verdict {
	return Verdict{Status: Pass, Message: msg, Evidence: ev}
}
func fail(msg string, ev ...Evidence) Verdict {
	return Verdict{Status: Fail, Message: msg, Evidence: ev}
}
func warn(msg string, ev ...Evidence) Verdict {
	return Verdict{Status: Warn, Message: msg, Evidence: ev}
}
func na(msg string) Verdict { return Verdict{Status: NA, Message: msg} }
func unknown(missing string, ev ...Evidence) Verdict {
	return Verdict{Status: Unknown, Message: "cannot tell: " + missing + " is not in the snapshot", Missing: missing, Evidence: ev}
}

// prop is the evidence for one property of o, with service defaults applied.
func prop(o *arm.Object, path string) Evidence {
	return Evidence{Path: path, Value: o.Prop(path).Display()}
}

func ev(path, value string) Evidence { return Evidence{Path: path, Value: value} }

// count renders "1 principal" or "3 principals".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
