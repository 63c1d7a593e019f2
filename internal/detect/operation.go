package detect

import (
	"strings"

	"github.com/bulwarkhq/bulwark/internal/activity"
)

// One operation logs Start, then Accept and Success (or Failure), and what a rule needs from its
// bodies is not on every event: the request body (the role, the grantee, the soft-delete state) is
// on Start, the response body on Success, and Log Analytics' Properties may hold only one of them.
// The detector remembers a Start event's request body until the operation ends and gives it to the
// later events of the operation that lack one, so a rule that selects the Success event still reads
// the request.

// Bounds on the remembered request bodies: operations end within minutes, and a body larger than
// this is not one a built-in rule reads (role assignments, vault settings are a few hundred bytes).
const (
	maxOpenOperations = 4096
	maxBodyBytes      = 16 << 10
)

func (d *Detector) inherit(e *activity.Event) {
	if e.Flat() || e.TimeOnly() || e.CorrelationID == "" {
		return // no rule reads a flat event's body; without a correlation ID, events of one operation cannot be joined
	}
	switch e.ResultType {
	case "Start":
		// Only for an operation some rule may match: no other needs it (and a narrowed Reader
		// passes the others on flat, without bodies).
		if !d.rs.MayMatch(e) { // the index check first: it is cheaper than finding the body
			return
		}
		if raw, ok := e.RawProperty("requestbody"); ok && len(raw) <= maxBodyBytes {
			d.bodies.put(e.OperationHash(), strings.Clone(raw))
		}
	case "Accept", "Success", "Failure":
		if d.bodies.len() == 0 {
			return // nothing remembered: no key to build
		}
		k := e.OperationHash()
		raw, ok := d.bodies.get(k)
		if !ok {
			return
		}
		if e.AddProperty("requestbody", raw) {
			d.stats.BodiesJoined++
		}
		if e.ResultType != "Accept" {
			d.bodies.del(k) // the operation has ended
		}
	}
}
