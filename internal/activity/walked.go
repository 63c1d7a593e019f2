package activity

import (
	"bytes"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// walked is what the one validating pass over a JSON-lines record (jsonscan.Walk) found below its
// top level, so that building the event scans nothing twice: the properties' category and
// operation ID, identity's claims and authorization, and the claims' values.
type walked struct {
	props          string // the top-level "properties" object the values below came from
	category, opID string

	identity               string // the top-level "identity" object
	idClaims, idAuth       string // its "claims" and "authorization" objects
	topClaims              string // a top-level "claims" object (REST)
	idClaimVals, topClaimV claimValues
}

// claimValues are the claims the caller is derived from.
type claimValues struct{ oid, appid, upn, name, idtyp string }

func (c *claimValues) set(k, v []byte) {
	if !c.take(shareString(k), v) && bytes.IndexByte(k, '\\') >= 0 {
		c.take(jsonscan.UnquoteKey(k), v) // "http:\/\/schemas…" from serializers that escape slashes
	}
}

// take keeps v when key is one of the claims; it reports whether it is.
func (c *claimValues) take(key string, v []byte) bool {
	switch key {
	case claimOID:
		c.oid = jsonString(v)
	case claimAppID:
		c.appid = jsonString(v)
	case claimUPN:
		c.upn = jsonString(v)
	case claimName:
		c.name = jsonString(v)
	case "idtyp":
		c.idtyp = jsonString(v)
	default:
		return false
	}
	return true
}

// visit takes a member below the top level.
func (w *walked) visit(p *jsonscan.Path, k, v []byte) {
	top := p.Parent(0)
	switch p.Depth() {
	case 2:
		switch {
		case keyIs(top, "properties"):
			switch {
			case w.category == "" && keyIs(k, "eventCategory"):
				w.category = jsonString(v)
			case w.opID == "" && keyIs(k, "operationId"):
				w.opID = jsonString(v)
			}
		case string(top) == "identity" && jsonscan.First(v) == '{':
			switch {
			case string(k) == "claims" && w.idClaims == "":
				w.idClaims = shareString(v)
			case string(k) == "authorization" && w.idAuth == "":
				w.idAuth = shareString(v)
			}
		case keyIs(top, "claims"):
			w.topClaimV.set(k, v)
		}
	case 3:
		if string(top) == "identity" && string(p.Parent(1)) == "claims" && w.idClaims == "" {
			w.idClaimVals.set(k, v) // the first "claims" member of identity, as deriveCaller takes it
		}
	}
}

// keyIs reports whether k is key in any case, looking at the length first: most keys differ in it.
func keyIs(k []byte, key string) bool {
	return len(k) == len(key) && (string(k) == key || strings.EqualFold(shareString(k), key))
}

// top takes a top-level member.
func (w *walked) top(key member, v []byte) {
	// The first of each: with a repeated key the record keeps a different value, and the event is
	// then built the slow way.
	switch key {
	case mProperties:
		if w.props == "" && jsonscan.First(v) == '{' {
			w.props = shareString(v)
		}
	case mIdentity:
		if w.identity == "" && jsonscan.First(v) == '{' {
			w.identity = shareString(v)
		}
	case mClaims:
		if w.topClaims == "" && jsonscan.First(v) == '{' {
			w.topClaims = shareString(v)
		}
	}
}
