// Package respond turns an estate (and, for an incident, what the attacker touched) into a
// recovery playbook: ordered steps by phase, each with the exact az command and REST call, the
// critical-path duration against the application's RTO, the data a restore would lose against its
// RPO, and what cannot be recovered at all. It renders the playbook as Markdown, JSON and OASIS
// CACAO 2.0. It does no I/O: the CLI reads the inputs and writes the outputs.
package respond

import (
	"encoding/json"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
)

// Schema names the JSON layout of a Playbook (docs/playbook-json.md).
const Schema = "bulwark.playbook/v1"

// Phase is one of RESPONSE.md's seven phases, in the order they run.
type Phase string

// The phases, in order.
const (
	Contain        Phase = "contain"
	RecoveryInfra  Phase = "recovery-infrastructure"
	Configuration  Phase = "configuration"
	Data           Phase = "data"
	VirtualMachine Phase = "virtual-machines"
	Automation     Phase = "automation"
	Verify         Phase = "verify"
)

// Phases lists every phase in order.
var Phases = []Phase{Contain, RecoveryInfra, Configuration, Data, VirtualMachine, Automation, Verify}

// Rank is the phase's position in Phases.
func (p Phase) Rank() int {
	for i, q := range Phases {
		if q == p {
			return i
		}
	}
	return len(Phases)
}

// Title is the phase's heading.
func (p Phase) Title() string {
	switch p {
	case Contain:
		return "Contain"
	case RecoveryInfra:
		return "Recover the recovery infrastructure"
	case Configuration:
		return "Configuration-based services"
	case Data:
		return "Data services"
	case VirtualMachine:
		return "Virtual machines and clusters"
	case Automation:
		return "Automation and DevOps"
	case Verify:
		return "Verify and re-harden"
	}
	return string(p)
}

// Playbook is a recovery plan for one application or one incident.
type Playbook struct {
	Schema    string    `json:"schema"`
	Endpoint  string    `json:"endpoint"` // the Resource Manager endpoint of every REST call
	ID        string    `json:"id"`       // "PB-" and a hash of the scope
	Title     string    `json:"title"`
	Scope     Scope     `json:"scope"`
	Reference time.Time `json:"referenceTime"` // the snapshot's collection time (application) or the incident's first alert
	Summary   Summary   `json:"summary"`
	Apps      []AppRef  `json:"apps"` // the applications whose resources the playbook restores
	// DependsOnApps are applications the scope depends on but does not restore: they must be up first.
	DependsOnApps []string  `json:"dependsOnApps"`
	Warnings      []Warning `json:"warnings"`
	Lost          []Lost    `json:"lost"`
	// Intact are resources the restored ones depend on that the incident did not touch: checked, not restored.
	Intact       []Ref        `json:"intact"`
	Cycles       [][]Ref      `json:"cycles"`
	Steps        []*Step      `json:"steps"`
	CriticalPath CriticalPath `json:"criticalPath"`
}

// Scope says what the playbook is for.
type Scope struct {
	Kind     string `json:"kind"` // application or incident
	App      string `json:"app,omitempty"`
	Incident string `json:"incident,omitempty"`
	Severity string `json:"severity,omitempty"`
	Actor    string `json:"actor,omitempty"`
}

// Summary counts what the playbook does.
type Summary struct {
	Steps      int      `json:"steps"`
	Manual     int      `json:"manual"`   // steps that need a person (portal, support, approval, judgement)
	Restored   int      `json:"restored"` // resources brought back by some step
	Lost       int      `json:"lost"`
	Weak       int      `json:"weak"`      // steps on a weaker path (rebuild from snapshot configuration, can be purged)
	Contained  []string `json:"contained"` // principals disabled
	Blocked    []string `json:"blocked"`   // attacker operations that failed (a lock, MUA or soft delete held)
	Minutes    int      `json:"criticalPathMinutes"`
	RTOMinutes int      `json:"rtoMinutes,omitempty"` // the tightest RTO of the applications restored
}

// AppRef is an application the playbook restores.
type AppRef struct {
	Name      string `json:"name"`
	Owner     string `json:"owner,omitempty"`
	Critical  bool   `json:"critical"`
	RTO       string `json:"rto,omitempty"`
	RPO       string `json:"rpo,omitempty"`
	IaC       string `json:"iac,omitempty"`
	Resources int    `json:"resources"` // resources of it the playbook restores or declares lost
}

// Ref names a resource.
type Ref struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Component string `json:"component,omitempty"`
}

// Warning is something the on-call engineer must know before starting.
type Warning struct {
	Kind    string `json:"kind"` // rto, rpo, cycle, no-iac, weak, lost, dependency
	Message string `json:"message"`
}

// Lost is a resource, or data, that no step can bring back.
type Lost struct {
	Resource Ref       `json:"resource"`
	What     string    `json:"what"`           // what is gone: "disks and data", "keys, secrets and certificates", …
	Since    time.Time `json:"since,omitzero"` // when it was destroyed (incident) — absent for an application plan
	Reason   string    `json:"reason"`         // why nothing can bring it back
	Step     string    `json:"step,omitempty"` // the step that says so in the checklist
}

// Step is one action of the checklist.
type Step struct {
	ID        string `json:"id"` // S01, S02, … in checklist order
	Phase     Phase  `json:"phase"`
	Component string `json:"component,omitempty"` // A–E
	Resources []Ref  `json:"resources"`
	Action    string `json:"action"` // machine-readable: recover-key-vault, restore-vm-from-backup, …
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	// Path is the recovery path the step takes (recovery.Path kinds), when it restores something.
	Path string `json:"path,omitempty"`
	// Condition, when set, must hold before the commands run; when it does not, Otherwise applies.
	Condition *Condition    `json:"condition,omitempty"`
	Commands  []string      `json:"commands"` // az and shell, in order
	REST      []arm.Request `json:"rest"`     // bound to the playbook's endpoint: {method, url, body}
	Requires  []string      `json:"requires"` // step IDs that must finish first (Contain and Verify are also barriers)
	Minutes   int           `json:"minutes"`  // estimated duration
	Undo      string        `json:"undo,omitempty"`
	Manual    bool          `json:"manual"` // needs a person: the commands are a guide, not the whole job
	Weak      bool          `json:"weak,omitempty"`
	Lost      bool          `json:"lost,omitempty"` // the step records a loss rather than restoring
	// DataLoss is how much recent data a restore along this path loses (reference time − last recovery point).
	DataLoss string `json:"dataLoss,omitempty"`
	// Activity is the CACAO playbook activity the step performs.
	Activity string `json:"activity"`
	Body     any    `json:"body,omitempty"` // a resource definition the commands deploy (rebuild from the snapshot)

	keys      []string      // resource ID keys the step restores
	rank      int           // resource order position for tie-breaks
	deployKey string        // template file, subscription and resource group of a redeploy
	bodyFile  string        // the file the commands read Body from (rebuild from the snapshot)
	dataLoss  time.Duration // DataLoss as a duration
	partner   string        // a SQL failover step: the server the group fails over to
}

// WriteBody is the shell command that writes the step's Body to the file its commands read, and
// whether the step has one (a rebuild from the snapshot): renderers whose commands travel without
// the JSON playbook (CACAO) put it first.
func (s *Step) WriteBody() (string, bool) {
	if s.Body == nil || s.bodyFile == "" {
		return "", false
	}
	body, _ := json.MarshalIndent(s.Body, "", "  ")
	return "cat > " + q(s.bodyFile) + " <<'BULWARK_BODY'\n" + string(body) + "\nBULWARK_BODY", true
}

// Condition is a check before a step: "if the soft-deleted vault still exists".
type Condition struct {
	Check     string `json:"check"`     // a command that succeeds (prints a value) when the condition holds
	Means     string `json:"means"`     // what success means
	Otherwise string `json:"otherwise"` // what to do when it does not hold
}

// CriticalPath is the longest chain of steps, with Contain and Verify as barriers.
type CriticalPath struct {
	Minutes int      `json:"minutes"`
	Steps   []string `json:"steps"`
}

// Duration renders minutes as "45m", "2h" or "2h30m" ("0m" for none).
func Duration(min int) string {
	if min <= 0 {
		return "0m"
	}
	return config.FormatDuration(time.Duration(min) * time.Minute)
}

func minutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }

// Step returns the step with the given ID.
func (p *Playbook) Step(id string) (*Step, bool) {
	for _, s := range p.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return nil, false
}
