package activity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// normStatus maps every status spelling to Start, Accept, Success or Failure.
func normStatus(s string) string {
	switch s {
	case "Start", "Accept", "Success", "Failure": // the diagnostic export's own: no work
		return s
	}
	t := strings.TrimSpace(s)
	for _, sp := range statusSpellings {
		if len(t) == len(sp[0]) && strings.EqualFold(t, sp[0]) {
			return sp[1]
		}
	}
	return t
}

// statusSpellings are the status spellings of every format, with the status each means.
var statusSpellings = [][2]string{
	{"start", "Start"}, {"started", "Start"}, {"beginrequest", "Start"},
	{"accept", "Accept"}, {"accepted", "Accept"},
	{"success", "Success"}, {"succeeded", "Success"}, {"endrequest", "Success"},
	{"failure", "Failure"}, {"failed", "Failure"}, {"fail", "Failure"},
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

func scanRecord(line string) (*record, bool) {
	return scanRecordBytes([]byte(line))
}

// scanRecordBytes splits a record whose bytes are never modified afterwards: the member values are
// strings that share the record's memory rather than copies (a record is ~2 KB and a log holds
// millions).
func scanRecordBytes(b []byte) (*record, bool) {
	var r record
	return &r, scanInto(b, &r)
}

// scanInto is scanRecordBytes into a given (empty) record.
func scanInto(b []byte, r *record) bool {
	return jsonscan.ObjectBytes(b, func(k, v []byte) bool {
		r.set(memberOfKey(k), shareString(v))
		return true
	})
}

// shareString returns a string that shares b's memory; b must never be modified afterwards.
func shareString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// lowerASCII lower-cases a key, without allocating when it is already lower case.
func lowerASCII(k string) string {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(k)
		}
	}
	return k
}

// lookupString reads a string member of a raw JSON object without decoding the object.
func lookupString(raw, key string) string {
	if raw == "" {
		return ""
	}
	v, ok := jsonscan.Lookup(bytesOf(raw), key)
	if !ok {
		return ""
	}
	return jsonString(v)
}

// lookupObject reads an object member of a raw JSON object as raw JSON.
func lookupObject(raw, key string) string {
	if raw == "" {
		return ""
	}
	if v, ok := jsonscan.Lookup(bytesOf(raw), key); ok && jsonscan.First(v) == '{' {
		return shareString(v)
	}
	return ""
}

// str reads a member as a string: a JSON string, or the "value" of an {"value","localizedValue"}
// object (REST), or a number or boolean as written.
func (r *record) str(keys ...member) string {
	for _, k := range keys {
		raw := r.v[k]
		if raw == "" {
			continue
		}
		switch jsonscan.First(bytesOf(raw)) {
		case '"':
			s := raw[1 : len(raw)-1]
			if strings.IndexByte(s, '\\') >= 0 {
				var ok bool
				if s, ok = unquoteJSON(bytesOf(raw)); !ok {
					continue
				}
			}
			if s != "" {
				return s
			}
		case '{':
			if v, ok := jsonscan.Lookup(bytesOf(raw), "value"); ok {
				if s, ok := unquoteJSON(v); ok && s != "" {
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

// unquoteJSON decodes a JSON string value (kept apart so that only this slow path allocates).
func unquoteJSON(v []byte) (string, bool) { return jsonscan.Unquote(bytes.TrimSpace(v)) }

// obj reads a member holding an object, or a string holding JSON (Log Analytics), as raw JSON.
func (r *record) obj(keys ...member) string {
	for _, k := range keys {
		raw := r.v[k]
		if raw == "" {
			continue
		}
		switch jsonscan.First(bytesOf(raw)) {
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
func fromRecord(r *record, src source) (*Event, error) { return fromWalked(r, src, nil) }

// fromWalked is fromRecord for a record whose nested values one validating pass already found.
func fromWalked(r *record, src source, w *walked) (*Event, error) {
	e := &Event{src: src}
	if err := e.setKey(r); err != nil {
		return nil, err
	}
	e.ResultSignature = r.str(mResultSignature, mActivitySubstatusValue, mSubStatus, mActivitySubstatus)
	e.Category = r.str(mCategoryValue, mCategory)
	e.Caller = r.str(mCaller)
	e.CallerIPAddress = r.str(mCallerIPAddress)
	e.OperationID = r.str(mOperationID)
	e.EventDataID = r.str(mEventDataID)
	e.Level = r.str(mLevel)
	e.propertiesRaw = r.obj(mPropertiesD, mProperties)
	e.identityRaw = r.obj(mIdentity)
	e.authRaw = r.obj(mAuthorizationD, mAuthorization)
	e.claimsRaw = r.obj(mClaimsD, mClaims)
	e.httpRaw = r.obj(mHTTPRequest)
	if e.Format == FormatLogAnalytics && r.str(mOperationNameValue) == "" {
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
	if w != nil && e.propertiesRaw != "" && e.propertiesRaw == w.props {
		e.propsValid = 1 // part of a record the one pass validated
		if w.category != "" && (e.Category == "" || e.Format == FormatDiagnostic) {
			e.Category = w.category
		}
		if e.OperationID == "" {
			e.OperationID = w.opID
		}
	} else if (e.Category == "" || e.Format == FormatDiagnostic) && jsonscan.First(bytesOf(e.propertiesRaw)) == '{' {
		var category, opID string // one pass over properties for both
		jsonscan.ObjectBytes(bytesOf(e.propertiesRaw), func(k, v []byte) bool {
			switch {
			case category == "" && strings.EqualFold(shareString(k), "eventCategory"):
				category = jsonString(v)
			case opID == "" && strings.EqualFold(shareString(k), "operationId"):
				opID = jsonString(v)
			}
			return category == "" || opID == ""
		})
		if category != "" {
			e.Category = category
		}
		if e.OperationID == "" {
			e.OperationID = opID
		}
	}
	e.deriveCaller(w)
	return e, nil
}

// setKey sets the format, the time and what KeyHash reads (the operation, status, correlation ID
// and resource): fromWalked and timeOnlyEvent build them alike.
func (e *Event) setKey(r *record) error {
	switch {
	case r.has(mEventTimestamp):
		e.Format = FormatREST
	case r.has(mTimeGenerated) || r.has(mOperationNameValue) || r.has(mActivityStatusValue):
		e.Format = FormatLogAnalytics
	default:
		e.Format = FormatDiagnostic
	}
	ts := r.str(mTime, mEventTimestamp, mTimeGenerated, mTimeGeneratedUTC)
	if ts == "" {
		return fmt.Errorf("no event time (time, eventTimestamp or TimeGenerated)")
	}
	t, err := parseTime(ts)
	if err != nil {
		return err
	}
	e.At = t
	e.OperationName = r.str(mOperationNameValue, mOperationName)
	e.ResultType = normStatus(r.str(mResultType, mActivityStatusValue, mStatus, mActivityStatus))
	e.CorrelationID = r.str(mCorrelationID)
	e.ResourceID = r.str(mResourceID, mResourceIDLA)
	return nil
}

// timeOnlyEvent builds the time-only event (see Event.TimeOnly) of a diagnostic-export record whose
// operation is op, in d's slab (see placeTimeOnly). ok is false when the record turns out to be of
// another format or to have another operation: the caller then builds the whole event.
func timeOnlyEvent(r *record, src source, op string, d *decoded) (e *Event, ok bool, err error) {
	var k Event
	if err := k.setKey(r); err != nil {
		return nil, true, err
	}
	if k.Format != FormatDiagnostic || k.OperationName != op {
		return nil, false, nil
	}
	e = d.placeTimeOnly()
	*e = timeOnlyValue(k.At, k.Format, src, k.KeyHash())
	return e, true, nil
}

// timeOnlyValue is a time-only event: only these fields are set.
func timeOnlyValue(at time.Time, f Format, src source, key uint64) Event {
	return Event{At: at, Format: f, src: src, keyHash: key, timeOnly: true}
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
func (e *Event) deriveCaller(w *walked) {
	// Read the few claims needed in one pass, without decoding identity (most events never need
	// the rest of it). A record read by jsonscan.Walk has them already.
	claims, auth := e.claimsRaw, e.authRaw
	var vals *claimValues
	switch {
	case w == nil:
	case claims != "" && claims == w.topClaims:
		vals = &w.topClaimV
	case claims == "" && e.identityRaw != "" && e.identityRaw == w.identity:
		claims = w.idClaims
		if auth == "" {
			auth = w.idAuth
		}
		if claims != "" {
			vals = &w.idClaimVals
		}
	}
	if vals == nil && e.identityRaw != "" && (claims == "" || auth == "") {
		jsonscan.ObjectBytes(bytesOf(e.identityRaw), func(k, v []byte) bool {
			switch {
			case string(k) == "claims" && claims == "":
				claims = shareString(v)
			case string(k) == "authorization" && auth == "":
				auth = shareString(v)
			}
			return true
		})
	}
	if claims != "" && jsonscan.First(bytesOf(claims)) != '{' {
		if m := decodeObject(claims); m != nil { // Log Analytics: a string holding JSON
			data, _ := json.Marshal(m)
			claims = string(data)
		} else {
			claims = ""
		}
	}
	if vals == nil && claims != "" {
		vals = &claimValues{}
		jsonscan.ObjectBytes(bytesOf(claims), func(k, v []byte) bool {
			vals.set(k, v)
			return true
		})
	}
	var upn, name, idtyp string
	if vals != nil {
		e.PrincipalID, e.AppID, upn, name, idtyp = vals.oid, vals.appid, vals.upn, vals.name, vals.idtyp
	}
	if e.PrincipalID == "" && jsonscan.First(bytesOf(auth)) == '{' {
		e.PrincipalID = lookupString(lookupObject(auth, "evidence"), "principalId")
	}
	if e.Caller != "" {
		return
	}
	switch {
	case upn != "":
		e.Caller = upn
	case strings.Contains(name, "@"):
		e.Caller = name
	case e.AppID != "" && (idtyp == "app" || upn == ""):
		e.Caller = e.AppID
	default:
		e.Caller = e.PrincipalID
	}
}

// jsonString returns a JSON string value, trimmed; other values give "".
func jsonString(v []byte) string {
	if jsonscan.First(v) != '"' {
		return ""
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return strings.TrimSpace(shareString(v[1 : len(v)-1]))
	}
	s, ok := unquoteJSON(v)
	if !ok {
		return ""
	}
	return strings.TrimSpace(s)
}

// bytesOf returns the bytes of s without copying them, for reading only.
func bytesOf(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
