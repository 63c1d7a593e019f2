package detect

import "github.com/bulwarkhq/bulwark/internal/incident"

// The incident types are package incident's (the bulwark.detect/v1 schema, shared with respond).
type (
	Incident      = incident.Incident
	TimelineEntry = incident.TimelineEntry
	Principal     = incident.Principal
	Resource      = incident.Resource
	Recovery      = incident.Recovery
)

// Recovery statuses.
const (
	Reversible = incident.Reversible
	Lost       = incident.Lost
	Unknown    = incident.Unknown
)

func rec(status, reason string) Recovery { return Recovery{Status: status, Reason: reason} }
