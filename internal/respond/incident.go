package respond

import (
	"io"

	"github.com/bulwarkhq/bulwark/internal/incident"
)

// ReadIncidents reads the incidents from `bulwark detect -o json` output: incident.Read.
func ReadIncidents(r io.Reader, name string) ([]*incident.Incident, error) {
	return incident.Read(r, name)
}
