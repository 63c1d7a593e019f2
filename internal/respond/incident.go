package respond

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/bulwarkhq/bulwark/internal/detect"
)

// ReadIncidents reads the incidents from `bulwark detect -o json` output (schema
// bulwark.detect/v1, one object per line); alerts and the summary are skipped. name labels errors,
// which give the line: a line that is not JSON, or is from another schema, stops the read —
// a playbook built from half an incident would be wrong.
func ReadIncidents(r io.Reader, name string) ([]*detect.Incident, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	var out []*detect.Incident
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
		if head.Schema != "bulwark.detect/v1" {
			return nil, fmt.Errorf("%s:%d: schema %q, want \"bulwark.detect/v1\" (the output of bulwark detect -o json)", name, line, head.Schema)
		}
		if head.Kind != "incident" {
			continue
		}
		var inc detect.Incident
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
