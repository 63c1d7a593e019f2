package assess

import (
	"sort"
	"strings"
)

// Control is a compliance framework's control a check gives evidence for. Only mappings that
// Microsoft publishes are listed: a check names the built-in Azure Policy it is equivalent to
// (Remediation.Policy), and Microsoft's regulatory-compliance mapping of that policy names the
// control. Nothing here is Bulwark's own reading of a framework.
type Control struct {
	Framework string `json:"framework"` // mcsb, cis-azure
	ID        string `json:"id"`        // BR-1, 8.6
	Title     string `json:"title"`
	Version   string `json:"version,omitempty"` // of the framework
	Via       string `json:"via"`               // the built-in policy definition the mapping goes through
	Source    string `json:"source"`            // where Microsoft publishes the mapping
}

// Frameworks names the frameworks a check can map to.
var Frameworks = map[string]string{
	"mcsb":      "Microsoft cloud security benchmark",
	"cis-azure": "CIS Microsoft Azure Foundations Benchmark",
}

const (
	srcRecoveryServices = "https://github.com/MicrosoftDocs/azure-docs/blob/main/includes/policy/standards/byrp/microsoft.recoveryservices.md"
	srcKeyVault         = "https://github.com/MicrosoftDocs/azure-docs/blob/main/includes/policy/standards/byrp/microsoft.keyvault.md"
)

// controls maps check IDs to controls, each through the check's built-in policy.
var controls = map[string][]Control{
	"VM-001": {
		{Framework: "mcsb", ID: "BR-1", Title: "Ensure regular automated backups", Via: "013e242c-8828-4970-87b3-ab247555486d", Source: srcRecoveryServices},
		{Framework: "mcsb", ID: "BR-2", Title: "Protect backup and recovery data", Via: "013e242c-8828-4970-87b3-ab247555486d", Source: srcRecoveryServices},
	},
	"KV-001": {
		{Framework: "mcsb", ID: "DP-8", Title: "Ensure security of key and certificate repository", Via: "1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d", Source: srcKeyVault},
	},
	"KV-002": {
		{Framework: "mcsb", ID: "DP-8", Title: "Ensure security of key and certificate repository", Via: "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53", Source: srcKeyVault},
		{Framework: "cis-azure", ID: "8.6", Version: "1.4.0", Title: "Ensure the key vault is recoverable", Via: "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53", Source: srcKeyVault},
		{Framework: "cis-azure", ID: "8.4", Version: "1.3.0", Title: "Ensure the key vault is recoverable", Via: "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53", Source: srcKeyVault},
	},
}

// ControlsOf returns the controls a check maps to, or none.
func ControlsOf(checkID string) []Control { return controls[strings.ToUpper(checkID)] }

// ChecksFor returns the IDs of the checks that map to a framework, sorted.
func ChecksFor(framework string) []string {
	var out []string
	for id, cs := range controls {
		for _, c := range cs {
			if c.Framework == framework {
				out = append(out, id)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func init() {
	for _, c := range Checks() {
		c.Controls = controls[c.ID]
	}
}

// Label names the control for reports: "Microsoft cloud security benchmark BR-1", with the
// framework's version when the mapping names one.
func (c Control) Label() string {
	s := Frameworks[c.Framework]
	if c.Version != "" {
		s += " " + c.Version
	}
	return s + " " + c.ID
}

// String is the label and the control's title.
func (c Control) String() string { return c.Label() + " (" + c.Title + ")" }
