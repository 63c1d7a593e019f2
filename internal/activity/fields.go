package activity

import (
	"bytes"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// fieldID names a canonical field.
type fieldID uint8

const (
	fNone fieldID = iota
	fTime
	fOperationName
	fResultType
	fResultSignature
	fCategory
	fCaller
	fCallerIP
	fCorrelationID
	fOperationID
	fEventDataID
	fResourceID
	fSubscriptionID
	fResourceGroup
	fResourceProvider
	fLevel
	fPrincipalID
	fAppID
	fActor
	fCascadeOf
	fProperties
	fIdentity
	fAuthorization
	fClaims
)

// Taxonomy lists the canonical fields and every other name that resolves to each (REST and Log
// Analytics spellings); docs/activity-fields.md publishes it.
var Taxonomy = []struct {
	Field   string
	Aliases []string
	Note    string
}{
	{"time", []string{"eventTimestamp", "TimeGenerated"}, "event time (UTC)"},
	{"operationName", []string{"operationName.value", "OperationNameValue"}, "e.g. MICROSOFT.AUTHORIZATION/LOCKS/DELETE; legacy Log Analytics rows take it from Authorization.action or Properties.message, never from the localised OperationName"},
	{"resultType", []string{"status", "status.value", "ActivityStatusValue", "ActivityStatus"}, "normalised to Start, Accept, Success or Failure"},
	{"resultSignature", []string{"subStatus", "subStatus.value", "ActivitySubstatusValue", "ActivitySubstatus"}, ""},
	{"category", []string{"category.value", "CategoryValue", "Category", "properties.eventCategory"}, "Administrative, Security, Policy, …"},
	{"caller", []string{"Caller"}, "UPN, else application ID; derived from identity.claims in the diagnostic export"},
	{"callerIpAddress", []string{"httpRequest.clientIpAddress", "CallerIpAddress"}, ""},
	{"correlationId", []string{"CorrelationId"}, "shared by the child deletes of a resource-group delete"},
	{"operationId", []string{"properties.operationId", "OperationId"}, ""},
	{"eventDataId", []string{"EventDataId"}, "absent in the diagnostic export"},
	{"resourceId", []string{"ResourceId", "_ResourceId"}, ""},
	{"subscriptionId", []string{"SubscriptionId"}, "derived from resourceId"},
	{"resourceGroup", []string{"resourceGroupName", "ResourceGroup"}, "derived from resourceId"},
	{"resourceProvider", []string{"resourceProviderName", "resourceProviderName.value", "ResourceProviderValue", "ResourceProvider"}, "derived from resourceId"},
	{"level", []string{"Level"}, ""},
	{"principalId", []string{"bulwark.principalId"}, "the caller's object ID (claims objectidentifier or authorization evidence)"},
	{"appId", []string{"bulwark.appId"}, "the caller's application ID (claims appid)"},
	{"bulwark.actor", nil, "the caller, or, when another principal granted the caller a role earlier in the log, that principal's actor (set by bulwark detect)"},
	{"bulwark.cascadeOf", nil, "for a child delete of a resource-group delete, the group's resource ID (set by bulwark detect)"},
	{"properties.*", []string{"Properties_d.*", "Properties.*"}, "request and response bodies are also parsed: properties.requestbody.properties.roleDefinitionId"},
	{"identity.authorization.*", []string{"authorization.*", "Authorization_d.*", "Authorization.*"}, ""},
	{"identity.claims.*", []string{"claims.*", "Claims_d.*", "Claims.*"}, ""},
}

var fieldIDs = func() map[string]fieldID {
	m := map[string]fieldID{}
	ids := []fieldID{fTime, fOperationName, fResultType, fResultSignature, fCategory, fCaller, fCallerIP, fCorrelationID, fOperationID, fEventDataID,
		fResourceID, fSubscriptionID, fResourceGroup, fResourceProvider, fLevel, fPrincipalID, fAppID, fActor, fCascadeOf}
	for i, id := range ids {
		t := Taxonomy[i]
		m[strings.ToLower(t.Field)] = id
		for _, a := range t.Aliases {
			m[strings.ToLower(a)] = id
		}
	}
	for _, p := range []string{"properties", "properties_d"} {
		m[p] = fProperties
	}
	m["identity"] = fIdentity
	for _, p := range []string{"authorization", "authorization_d", "identity.authorization"} {
		m[p] = fAuthorization
	}
	for _, p := range []string{"claims", "claims_d", "identity.claims"} {
		m[p] = fClaims
	}
	delete(m, "properties.eventcategory") // a real property: resolved inside properties
	delete(m, "properties.operationid")
	return m
}()

// resolve maps a field path to a canonical field and the rest of the path below it.
func resolve(path string) (fieldID, string) {
	var buf [64]byte
	if len(path) <= len(buf) {
		low := buf[:len(path)]
		for i := 0; i < len(path); i++ {
			c := path[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			low[i] = c
		}
		if id, ok := fieldIDs[string(low)]; ok {
			return id, ""
		}
	}
	// Nested: the longest known prefix.
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if id, ok := fieldIDs[strings.ToLower(path[:i])]; ok && id >= fProperties {
			return id, path[i+1:]
		}
	}
	return fNone, ""
}

// IsOperationField reports whether a rule's field path names the operation (operationName or one
// of its aliases).
func IsOperationField(path string) bool {
	id, rest := resolve(path)
	return id == fOperationName && rest == ""
}

// Field implements sigma.Event.
func (e *Event) Field(path string) (any, bool) {
	id, rest := resolve(path)
	str := func(s string) (any, bool) { return s, s != "" }
	switch id {
	case fTime:
		return e.At.UTC().Format(time.RFC3339Nano), !e.At.IsZero()
	case fOperationName:
		return str(e.OperationName)
	case fResultType:
		return str(e.ResultType)
	case fResultSignature:
		return str(e.ResultSignature)
	case fCategory:
		return str(e.Category)
	case fCaller:
		return str(e.Caller)
	case fCallerIP:
		return str(e.CallerIPAddress)
	case fCorrelationID:
		return str(e.CorrelationID)
	case fOperationID:
		return str(e.OperationID)
	case fEventDataID:
		return str(e.EventDataID)
	case fResourceID:
		return str(e.ResourceID)
	case fSubscriptionID:
		return str(segmentAfter(e.ResourceID, "subscriptions"))
	case fResourceGroup:
		return str(segmentAfter(e.ResourceID, "resourcegroups"))
	case fResourceProvider:
		return str(provider(e.ResourceID))
	case fLevel:
		return str(e.Level)
	case fPrincipalID:
		return str(e.PrincipalID)
	case fAppID:
		return str(e.AppID)
	case fActor:
		if e.Actor == "" {
			return str(e.Caller)
		}
		return str(e.Actor)
	case fCascadeOf:
		return str(e.CascadeOf)
	case fProperties:
		if v, ok, done := e.topProperty(rest); done {
			return v, ok
		}
		return descend(e.Properties(), rest)
	case fIdentity:
		return descend(e.Identity(), rest)
	case fAuthorization:
		a, _ := e.Identity()["authorization"].(map[string]any)
		return descend(a, rest)
	case fClaims:
		c, _ := e.Identity()["claims"].(map[string]any)
		return descend(c, rest)
	}
	return nil, false
}

// descend walks a dotted path in decoded JSON, matching keys exactly and then ignoring case; a
// JSON-string body is the string at its own path and its parsed JSON below it. Claim URIs contain
// dots, so a longer key is tried before splitting.
func descend(m map[string]any, path string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if path == "" {
		return m, true
	}
	if v, ok := jsonscan.LookupMap(m, path); ok {
		return unwrap(v), true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		v, ok := jsonscan.LookupMap(m, path[:i])
		if !ok {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			if r, ok := descend(x, path[i+1:]); ok {
				return r, true
			}
		case bodyValue:
			if pm, ok := x.parsed.(map[string]any); ok {
				if r, ok := descend(pm, path[i+1:]); ok {
					return r, true
				}
			}
		}
	}
	return nil, false
}

func unwrap(v any) any {
	if b, ok := v.(bodyValue); ok {
		return b.raw
	}
	return v
}

// Keywords implements sigma.Event.
func (e *Event) Keywords(fn func(string) bool) bool {
	for _, s := range []string{e.OperationName, e.ResultType, e.ResultSignature, e.Category, e.Caller, e.CallerIPAddress, e.ResourceID} {
		if s != "" && fn(s) {
			return true
		}
	}
	return walk(e.Properties(), fn) || walk(e.Identity(), fn)
}

func walk(v any, fn func(string) bool) bool {
	switch x := v.(type) {
	case string:
		return fn(x)
	case bodyValue:
		return fn(x.raw)
	case map[string]any:
		for _, e := range x {
			if walk(e, fn) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if walk(e, fn) {
				return true
			}
		}
	}
	return false
}

// segmentAfter returns the ID segment after a key segment ("subscriptions" → the GUID).
func segmentAfter(id, key string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], key) {
			return parts[i+1]
		}
	}
	return ""
}

func provider(id string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if strings.EqualFold(parts[i], "providers") {
			return parts[i+1]
		}
	}
	if segmentAfter(id, "resourcegroups") != "" || segmentAfter(id, "subscriptions") != "" {
		return "Microsoft.Resources"
	}
	return ""
}

// TaxonomyMarkdown renders Taxonomy as the Markdown table published in docs/activity-fields.md.
func TaxonomyMarkdown() string {
	var b strings.Builder
	b.WriteString("| field | also read from | note |\n|---|---|---|\n")
	for _, t := range Taxonomy {
		aliases := make([]string, len(t.Aliases))
		for i, a := range t.Aliases {
			aliases[i] = "`" + a + "`"
		}
		b.WriteString("| `" + t.Field + "` | " + strings.Join(aliases, ", ") + " | " + strings.ReplaceAll(t.Note, "|", "\\|") + " |\n")
	}
	return b.String()
}

// topProperty answers a string-valued top-level properties member ("properties.requestbody", which
// rules match as text) straight from the raw JSON, without decoding the event's properties: done
// is false when the full decode is needed (a nested path, a non-string value, raw JSON not known
// to be a valid object).
func (e *Event) topProperty(key string) (v any, ok, done bool) {
	if key == "" || strings.IndexByte(key, '.') >= 0 {
		return nil, false, false
	}
	if e.propsValid == 0 {
		e.propsValid = 2
		if raw := bytesOf(e.propertiesRaw); jsonscan.First(raw) == '{' && jsonscan.Valid(raw) {
			e.propsValid = 1
		}
	}
	if e.propsValid != 1 {
		return nil, false, false
	}
	if key == e.lastProp {
		if !e.lastPropFound {
			return nil, false, true
		}
		return e.lastPropVal, true, true
	}
	raw, found := jsonscan.Lookup(bytesOf(e.propertiesRaw), key)
	if !found {
		e.lastProp, e.lastPropVal, e.lastPropFound = key, "", false
		return nil, false, true
	}
	if jsonscan.First(raw) != '"' {
		return nil, false, false
	}
	s := shareString(raw[1 : len(raw)-1])
	if bytes.IndexByte(raw, '\\') >= 0 {
		if s, ok = unquoteJSON(raw); !ok {
			return nil, false, false
		}
	}
	e.lastProp, e.lastPropVal, e.lastPropFound = key, s, true
	return s, true, true
}
