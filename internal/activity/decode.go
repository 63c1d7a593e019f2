package activity

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// normStatus maps every status spelling to Start, Accept, Success or Failure.
func normStatus(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "start", "started", "beginrequest":
		return "Start"
	case "accept", "accepted":
		return "Accept"
	case "success", "succeeded", "endrequest":
		return "Success"
	case "failure", "failed", "fail":
		return "Failure"
	}
	return strings.TrimSpace(s)
}

// timeLayouts cover RFC 3339 and the portal's CSV export ("4/28/2021, 2:32:14.029 PM").
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02 15:04:05.9999999", "1/2/2006, 3:04:05.000 PM", "1/2/2006, 3:04:05 PM", "1/2/2006 3:04:05 PM"}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not RFC 3339 or the portal's format", s)
}

// rawField is one top-level member of a record, as JSON.
type record map[string]string // lower-case key → raw JSON value

func scanRecord(line string) (record, bool) {
	r := record{}
	ok := jsonscan.Object([]byte(line), func(k string, v []byte) bool {
		r[strings.ToLower(k)] = string(v)
		return true
	})
	return r, ok
}

// str reads a member as a string: a JSON string, or the "value" of an {"value","localizedValue"}
// object (REST), or a number or boolean as written.
func (r record) str(keys ...string) string {
	for _, k := range keys {
		raw, ok := r[k]
		if !ok {
			continue
		}
		switch jsonscan.First([]byte(raw)) {
		case '"':
			var s string
			if !strings.Contains(raw, `\`) {
				s = raw[1 : len(raw)-1]
			} else if json.Unmarshal([]byte(raw), &s) != nil {
				continue
			}
			if s != "" {
				return s
			}
		case '{':
			if v, ok := jsonscan.Lookup([]byte(raw), "value"); ok {
				var s string
				if json.Unmarshal(v, &s) == nil && s != "" {
					return s
				}
			}
		case 'n', 0:
		default:
			return raw
		}
	}
	return ""
}

// obj reads a member holding an object, or a string holding JSON (Log Analytics), as raw JSON.
func (r record) obj(keys ...string) string {
	for _, k := range keys {
		raw, ok := r[k]
		if !ok {
			continue
		}
		switch jsonscan.First([]byte(raw)) {
		case '{':
			return raw
		case '"':
			var s string
			if json.Unmarshal([]byte(raw), &s) == nil && strings.HasPrefix(strings.TrimSpace(s), "{") {
				return s
			}
		}
	}
	return ""
}

// fromRecord builds an event from one JSON record of any of the three formats.
func fromRecord(r record, source string) (*Event, error) {
	e := &Event{Source: source}
	_, isREST := r["eventtimestamp"]
	_, isLA := r["timegenerated"]
	switch {
	case isREST:
		e.Format = FormatREST
	case isLA || r["operationnamevalue"] != "" || r["activitystatusvalue"] != "":
		e.Format = FormatLogAnalytics
	default:
		e.Format = FormatDiagnostic
	}
	ts := r.str("time", "eventtimestamp", "timegenerated", "timegenerated [utc]")
	if ts == "" {
		return nil, fmt.Errorf("no event time (time, eventTimestamp or TimeGenerated)")
	}
	t, err := parseTime(ts)
	if err != nil {
		return nil, err
	}
	e.At = t
	e.OperationName = r.str("operationnamevalue", "operationname")
	e.ResultType = normStatus(r.str("resulttype", "activitystatusvalue", "status", "activitystatus"))
	e.ResultSignature = r.str("resultsignature", "activitysubstatusvalue", "substatus", "activitysubstatus")
	e.Category = r.str("categoryvalue", "category")
	e.Caller = r.str("caller")
	e.CallerIPAddress = r.str("calleripaddress")
	e.CorrelationID = r.str("correlationid")
	e.OperationID = r.str("operationid")
	e.EventDataID = r.str("eventdataid")
	e.ResourceID = r.str("resourceid", "_resourceid")
	e.Level = r.str("level")
	e.propertiesRaw = r.obj("properties_d", "properties")
	e.identityRaw = r.obj("identity")
	e.authRaw = r.obj("authorization_d", "authorization")
	e.claimsRaw = r.obj("claims_d", "claims")
	e.httpRaw = r.obj("httprequest")
	if e.Format == FormatLogAnalytics && r.str("operationnamevalue") == "" {
		// Legacy AzureActivity: OperationName is a localised display string. The operation comes
		// from Authorization.action, else Properties.message.
		e.OperationName = ""
		if a := decodeObject(e.authRaw); a != nil {
			e.OperationName, _ = a["action"].(string)
		}
		if e.OperationName == "" {
			if p := decodeObject(e.propertiesRaw); p != nil {
				e.OperationName, _ = p["message"].(string)
			}
		}
	}
	if e.Format == FormatREST && e.CallerIPAddress == "" && e.httpRaw != "" {
		if h := decodeObject(e.httpRaw); h != nil {
			e.CallerIPAddress, _ = h["clientIpAddress"].(string)
		}
	}
	if e.OperationName == "" {
		return nil, fmt.Errorf("no operation name")
	}
	if e.Category == "" || e.Format == FormatDiagnostic {
		if p := decodeObject(e.propertiesRaw); p != nil {
			if c, ok := p["eventCategory"].(string); ok && c != "" {
				e.Category = c
			}
			if e.OperationID == "" {
				e.OperationID, _ = p["operationId"].(string)
			}
		}
	}
	e.deriveCaller()
	return e, nil
}

// Claim names, as Entra ID writes them.
const (
	claimUPN   = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	claimName  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	claimOID   = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimAppID = "appid"
)

// deriveCaller fills the caller from the claims when the format has no caller field (the
// diagnostic export), and the principal and application IDs everywhere.
func (e *Event) deriveCaller() {
	id := e.Identity()
	claims, _ := id["claims"].(map[string]any)
	str := func(k string) string {
		if claims == nil {
			return ""
		}
		s, _ := claims[k].(string)
		return strings.TrimSpace(s)
	}
	e.PrincipalID = str(claimOID)
	e.AppID = str(claimAppID)
	if e.PrincipalID == "" {
		if auth, ok := id["authorization"].(map[string]any); ok {
			if ev, ok := auth["evidence"].(map[string]any); ok {
				e.PrincipalID, _ = ev["principalId"].(string)
			}
		}
	}
	if e.Caller != "" {
		return
	}
	switch {
	case str(claimUPN) != "":
		e.Caller = str(claimUPN)
	case strings.Contains(str(claimName), "@"):
		e.Caller = str(claimName)
	case e.AppID != "" && str("idtyp") == "app" || e.AppID != "" && str(claimUPN) == "":
		e.Caller = e.AppID
	default:
		e.Caller = e.PrincipalID
	}
}
