package arm

import "time"

// SchemaV1 is the schema tag of Bulwark's snapshot file.
const SchemaV1 = "bulwark.snapshot/v1"

// Snapshot is everything Bulwark knows about an estate: ARM objects in the exact shapes ARM returns
// them, and what could not be collected.
type Snapshot struct {
	Schema      string         `json:"schema"`
	CollectedAt time.Time      `json:"collectedAt"`
	TenantID    string         `json:"tenantId,omitempty"`
	Resources   []*Object      `json:"resources"`
	Errors      []CollectError `json:"errors"`
}

// CollectError records one thing that could not be collected. Checks whose input it was report
// `unknown`, and every report shows it.
type CollectError struct {
	Scope     string `json:"scope"`
	Operation string `json:"operation"`
	Message   string `json:"message"`
}

// Index builds an index over the snapshot's resources.
func (s *Snapshot) Index() *Index { return NewIndex(s.Resources) }
