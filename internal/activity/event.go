// Package activity reads Azure Activity Log events in every format users have — REST "EventData"
// (az monitor activity-log list), the diagnostic-settings export (storage JSON lines, Event Hubs
// {"records":[…]}), and Log Analytics AzureActivity (JSON and the portal's CSV, new and legacy
// columns) — and normalises them to one canonical event that Sigma rules address by the
// diagnostic-export field names. Every Log Analytics column name resolves to the same value.
package activity

import (
	"encoding/binary"
	"github.com/bulwarkhq/bulwark/internal/jsonscan"
	"strconv"
	"unsafe"

	"encoding/json"
	"strings"
	"sync"
	"time"
)

// Format names the shape an event was read from.
type Format string

// The formats.
const (
	FormatREST         Format = "rest"
	FormatDiagnostic   Format = "diagnostic"
	FormatLogAnalytics Format = "log-analytics"
)

// Event is one Activity Log event in canonical form. String fields hold the values as logged
// (operation names keep their case); ResultType is normalised to Start, Accept, Success or Failure.
type Event struct {
	At              time.Time
	OperationName   string
	ResultType      string
	ResultSignature string
	Category        string
	Caller          string
	CallerIPAddress string
	CorrelationID   string
	OperationID     string
	EventDataID     string
	ResourceID      string
	Level           string
	PrincipalID     string // the caller's object ID, from claims or authorization evidence
	AppID           string // the caller's application ID, for service principals
	Format          Format
	src             source // see Source

	// Enrichment set by the detector, in event-time order: the actor (the caller, or whoever granted
	// the caller its role in the same attack) and, for the child deletes of a resource-group delete,
	// that group's resource ID.
	Actor     string
	CascadeOf string

	// Raw JSON of the nested parts, decoded when a rule first looks inside them.
	propertiesRaw string
	identityRaw   string
	authRaw       string // REST and Log Analytics keep authorization apart from claims
	claimsRaw     string
	httpRaw       string

	keyHash    uint64
	timeOnly   bool
	flat       bool
	propsValid int8 // 0 unknown, 1 propertiesRaw is a valid JSON object, 2 it is not
	// The last string member of properties topProperty looked up, unquoted: several rules and the
	// detector read one event's request body.
	lastProp, lastPropVal string
	lastPropFound         bool
	opLower               string
	resLower              string
	once                  sync.Once
	decoded               bool // nested has run
	properties            map[string]any
	identity              map[string]any
}

// KeyHash is a 64-bit FNV-1a hash of the event's time, operation, status, correlation ID and
// resource (case-insensitive), computed once: the Reader drops duplicates by it — the same event in
// two exports, whatever their formats — and the detector orders simultaneous events by it.
func (e *Event) KeyHash() uint64 {
	if e.keyHash != 0 {
		return e.keyHash
	}
	// Not the eventDataId: the diagnostic export has none, and the same event read from two
	// formats must hash alike.
	h := mix(uint64(14695981039346656037), uint64(e.At.UnixNano()))
	h = hashString(h, e.OperationName, true)
	h = hashString(h, e.ResultType, false)
	h = hashString(h, e.CorrelationID, true)
	h = hashString(h, e.ResourceID, true)
	if h == 0 {
		h = 1
	}
	e.keyHash = h
	return h
}

// OperationHash is a 64-bit hash of what the Start, Accept and Success events of one operation
// share: operation, correlation ID and resource (case-insensitive). It is not cached.
func (e *Event) OperationHash() uint64 {
	h := hashString(uint64(14695981039346656037), e.OperationName, true)
	h = hashString(h, e.CorrelationID, true)
	return hashString(h, e.ResourceID, true)
}

func mix(h, w uint64) uint64 {
	h = (h ^ w) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

// hashString mixes s into h eight bytes at a time, ASCII letters folded to lower case if fold.
func hashString(h uint64, s string, fold bool) uint64 {
	b := bytesOf(s)
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if fold {
			w = lowerWord(w)
		}
		h = mix(h, w)
		b = b[8:]
	}
	var w uint64
	for i, c := range b {
		if fold && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		w |= uint64(c) << (8 * i)
	}
	return mix(h, w^uint64(len(b))<<59^0x7c) // the tail and its length end the field
}

// lowerWord lower-cases the ASCII capitals among eight bytes.
func lowerWord(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	low := x & 0x7f7f7f7f7f7f7f7f
	ge := low + ones*(0x80-'A')   // high bit set where a byte is >= 'A'
	gt := low + ones*(0x80-'Z'-1) // high bit set where a byte is > 'Z'
	upper := ge &^ gt &^ x & highs
	return x | upper>>2
}

// Source is where the event was read: file:line (file:row for CSV), with the place in the array
// for a record inside one.
func (e *Event) Source() string { return e.src.String() }

// Line is the line (or CSV row) of its input the event was read from, 0 when not known.
func (e *Event) Line() int { return e.src.line }

// source is where an event was read: a name and, when line is not 0, the line, formatted only when
// asked for (most events are never shown).
type source struct {
	name string
	line int
}

func (s source) String() string {
	if s.line == 0 {
		return s.name
	}
	return s.name + ":" + strconv.Itoa(s.line)
}

// rebase points the event's strings that are in from to the same bytes in to, a copy of from.
func (e *Event) rebase(from, to []byte) {
	e.lastProp, e.lastPropVal = "", "" // it may point into from
	for _, s := range e.strings() {
		if off, ok := offsetIn(from, *s); ok {
			*s = unsafe.String(&to[off], len(*s))
		}
	}
}

// strings are the event's string fields: the flat ones first (see flatten), then the raw nested
// parts.
func (e *Event) strings() [22]*string {
	return [...]*string{&e.OperationName, &e.ResultType, &e.ResultSignature, &e.Category, &e.Caller,
		&e.CallerIPAddress, &e.CorrelationID, &e.OperationID, &e.EventDataID, &e.ResourceID, &e.Level,
		&e.PrincipalID, &e.AppID, &e.Actor, &e.CascadeOf, &e.opLower, &e.resLower,
		&e.propertiesRaw, &e.identityRaw, &e.authRaw, &e.claimsRaw, &e.httpRaw}
}

// flatStrings is how many of Event.strings are flat fields.
const flatStrings = 17

// offsetIn returns where s starts in b, when it is a non-empty part of b.
func offsetIn(b []byte, s string) (int, bool) {
	off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return int(off), s != "" && off < uintptr(len(b))
}

// flatten keeps only the event's flat fields (see Reader.Flat): it drops the raw nested parts and
// copies the strings that are in from, together, into memory of their own — a few hundred bytes
// instead of the whole record.
func (e *Event) flatten(from []byte) {
	e.flat = true
	e.lastProp, e.lastPropVal = "", ""
	e.propertiesRaw, e.identityRaw, e.authRaw, e.claimsRaw, e.httpRaw = "", "", "", "", ""
	fields := e.strings()
	n := 0
	for _, s := range fields[:flatStrings] {
		if _, ok := offsetIn(from, *s); ok {
			n += len(*s)
		}
	}
	own := make([]byte, 0, n)
	for _, s := range fields[:flatStrings] {
		if _, ok := offsetIn(from, *s); ok {
			start := len(own)
			own = append(own, *s...) // within own's capacity: own does not move
			*s = unsafe.String(&own[start], len(*s))
		}
	}
}

// Keep returns the event for holding after the Reader's fn has returned: a time-only event's
// memory is reused for the next (see Reader.TimeOnly), so it is copied; any other is itself.
func (e *Event) Keep() *Event {
	if !e.timeOnly {
		return e
	}
	c := new(Event)
	*c = timeOnlyValue(e.At, e.Format, e.src, e.keyHash)
	return c
}

// Flat reports whether the Reader passed on only the event's flat fields, because Reader.Flat
// accepted its operation: the raw nested parts — properties, request and response bodies,
// identity, claims, authorization, HTTP request — are empty, and Field finds nothing in them.
func (e *Event) Flat() bool { return e.flat }

// TimeOnly reports whether the Reader passed on only the event's time, KeyHash, format and
// source, because Reader.TimeOnly accepted its operation: every other field is empty.
func (e *Event) TimeOnly() bool { return e.timeOnly }

// OperationLower returns the operation name in lower case, computed once.
func (e *Event) OperationLower() string {
	if e.opLower == "" {
		e.opLower = lowerFast(e.OperationName)
	}
	return e.opLower
}

// ResourceLower returns the resource ID in lower case, computed once.
func (e *Event) ResourceLower() string {
	if e.resLower == "" {
		e.resLower = lowerFast(e.ResourceID)
	}
	return e.resLower
}

// lowerFast is strings.ToLower, eight bytes at a time for ASCII (operation names and resource IDs
// are); anything else goes to strings.ToLower.
func lowerFast(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.ToLower(s)
		}
	}
	b := make([]byte, len(s))
	i := 0
	for ; i+8 <= len(s); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], lowerWord(binary.LittleEndian.Uint64(bytesOf(s[i:]))))
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Time implements sigma.Event.
func (e *Event) Time() time.Time { return e.At }

// decodeObject parses a JSON object, or returns nil.
func decodeObject(raw string) map[string]any {
	if raw == "" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(raw), &m) != nil {
		// Log Analytics sometimes double-encodes: a JSON string holding JSON.
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil && json.Unmarshal([]byte(s), &m) == nil {
			return m
		}
		return nil
	}
	return m
}

// nested decodes properties and identity once, and parses request and response bodies written as
// JSON strings, keeping the string too: "requestbody" stays the string, and its fields are also
// reachable below it.
func (e *Event) nested() {
	e.once.Do(func() {
		e.decoded = true
		e.properties = decodeObject(e.propertiesRaw)
		if e.properties == nil {
			e.properties = map[string]any{}
		}
		for k, v := range e.properties {
			if s, ok := v.(string); ok && len(s) > 1 && (s[0] == '{' || s[0] == '[') && looksLikeBody(k) {
				var parsed any
				if json.Unmarshal([]byte(s), &parsed) == nil {
					e.properties[k] = bodyValue{raw: s, parsed: parsed}
				}
			}
		}
		e.identity = decodeObject(e.identityRaw)
		if e.identity == nil {
			e.identity = map[string]any{}
		}
		if a := decodeObject(e.authRaw); a != nil {
			e.identity["authorization"] = a
		}
		if c := decodeObject(e.claimsRaw); c != nil {
			e.identity["claims"] = c
		}
	})
}

func looksLikeBody(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "body") || k == "statusmessage"
}

// bodyValue is a request/response body that arrived as a JSON string: matching the field compares
// the string, and paths below it reach the parsed JSON.
type bodyValue struct {
	raw    string
	parsed any
}

// Properties returns the event's properties (decoded on first use).
func (e *Event) Properties() map[string]any { e.nested(); return e.properties }

// Identity returns identity.authorization and identity.claims (decoded on first use).
func (e *Event) Identity() map[string]any { e.nested(); return e.identity }

// BodyString reads a string at a path inside a properties body ("requestbody", "responseBody")
// without decoding the rest of the event: the body may be an object or a string holding JSON. Keys
// match without regard to case.
func (e *Event) BodyString(body string, path ...string) string {
	var v []byte
	quoted := false // a body written as a JSON string: it must hold a JSON object
	switch s, ok, done := e.topProperty(body); {
	case done && !ok:
		return ""
	case done: // unquoted once for the rules and the detector
		v, quoted = bytesOf(strings.TrimSpace(s.(string))), true
	default:
		if v, ok = jsonscan.Lookup(bytesOf(e.propertiesRaw), body); !ok {
			return ""
		}
		if jsonscan.First(v) == '"' {
			v, quoted = bytesOf(jsonString(v)), true
		}
	}
	if quoted && (jsonscan.First(v) != '{' || !jsonscan.Valid(v)) {
		return ""
	}
	for _, k := range path {
		var ok bool
		if v, ok = jsonscan.Lookup(v, k); !ok {
			return ""
		}
	}
	return jsonString(v)
}

// RawProperty returns the JSON of a top-level member of properties as logged (a request body is
// usually a JSON string holding JSON), keys matched without regard to case.
func (e *Event) RawProperty(key string) (string, bool) {
	raw := bytesOf(e.propertiesObject())
	if jsonscan.First(raw) != '{' || !jsonscan.Valid(raw) {
		return "", false
	}
	v, ok := jsonscan.Lookup(raw, key)
	if !ok || string(v) == "null" || string(v) == `""` {
		return "", false
	}
	return string(v), true
}

// propertiesObject is propertiesRaw, unwrapped when Log Analytics wrote it as a JSON string.
func (e *Event) propertiesObject() string {
	if jsonscan.First(bytesOf(e.propertiesRaw)) == '"' {
		var s string
		if json.Unmarshal([]byte(e.propertiesRaw), &s) == nil {
			return s
		}
	}
	return e.propertiesRaw
}

// AddProperty gives the event a top-level member of properties it does not carry (raw is its
// JSON): the detector gives the Success event of an operation the request body its Start event
// logged. It reports whether the member was added; a member already there is kept as it is.
func (e *Event) AddProperty(key, raw string) bool {
	if e.flat || e.timeOnly || !json.Valid([]byte(raw)) {
		return false
	}
	if _, ok := e.RawProperty(key); ok {
		return false
	}
	obj := strings.TrimSpace(e.propertiesObject())
	if obj == "" || obj == "null" {
		obj = "{}"
	}
	if jsonscan.First(bytesOf(obj)) != '{' || !jsonscan.Valid(bytesOf(obj)) {
		return false
	}
	name, _ := json.Marshal(key)
	body := strings.TrimSpace(obj[1 : len(obj)-1])
	sep := ","
	if body == "" {
		sep = ""
	}
	e.propertiesRaw = "{" + body + sep + string(name) + ":" + raw + "}"
	e.propsValid, e.lastProp, e.lastPropVal, e.lastPropFound = 0, "", "", false
	if e.decoded { // the rules have looked inside already: add it there too
		var v any
		if json.Unmarshal([]byte(raw), &v) == nil {
			if s, ok := v.(string); ok && len(s) > 1 && (s[0] == '{' || s[0] == '[') {
				var parsed any
				if json.Unmarshal([]byte(s), &parsed) == nil {
					v = bodyValue{raw: s, parsed: parsed}
				}
			}
			e.properties[key] = v
		}
	}
	return true
}
