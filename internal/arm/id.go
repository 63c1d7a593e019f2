// Package arm holds Bulwark's model of an Azure estate: Azure Resource Manager objects in the exact
// shape ARM returns them, their IDs, case-insensitive property access, the service defaults for
// absent properties, the snapshot that carries them and an index over it. It does no I/O.
package arm

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ID is a parsed ARM resource ID. ARM treats IDs case-insensitively and returns them in varying
// spellings (`/Subscriptions/`, `Backupvaults`), so two IDs are the same resource when their Keys are
// equal; String keeps the spelling that was read, for display.
//
// An ID is four strings and nothing on the heap of its own: the parts (subscription, group, type,
// name, parent) are found again in the text when asked for, which is cheap for IDs of a few levels,
// and a parent is a prefix of its child's strings. An estate holds one or more IDs per object, and
// azcore's parser it replaced built a linked chain of structs for each.
type ID struct {
	raw   string // as written, with a leading '/' added where ARM left it out
	key   string // the canonical form lower-cased: what IDs are compared by
	clean string // the canonical form with empty segments dropped and segments trimmed: what the parts are read from
	typ   string // the full resource type, e.g. "Microsoft.Network/virtualNetworks/subnets", spelled as in clean
	// normalized: key is the lower-cased Canonical form, not raw lower-cased (see Canonical).
	normalized bool
	extension  bool // IsExtension, decided when parsed: it is asked of every object many times
}

// ParseID parses an ARM resource ID the way azcore's arm.ParseResourceID does (the grammar below;
// TestParseIDAgreesWithAzcore compares the two on every ID in the repository's fixtures and on
// generated ones). Subscription, resource group, management group and tenant-level IDs are all
// accepted, as are extension resources at any scope. The spellings ARM really returns for one
// resource are normalised here, and only here (see Canonical): String keeps the ID as written
// (with a leading '/' added where ARM left it out), Key and the parts use the canonical form.
func ParseID(s string) (ID, error) {
	trimmed := strings.TrimSuffix(strings.TrimSpace(s), "/")
	written := trimmed
	if needsSlash(written) {
		written = "/" + written
	}
	canon := canonical(written)
	clean := canon
	if canon != "" && canon[0] == '/' {
		clean = cleanSegments(canon)
	}
	var buf [12]level
	ls := buf[:0]
	ok, problem := walkLevels(clean, func(l level) { ls = append(ls, l) })
	if !ok {
		return ID{}, fmt.Errorf("%q is not an ARM resource ID: %s", s, problem)
	}
	id := ID{raw: written, key: strings.ToLower(written), clean: clean, typ: ls[len(ls)-1].typ, extension: isExtension(ls, len(ls)-1)}
	if canon != written {
		id.key, id.normalized = strings.ToLower(canon), true
	}
	return id, nil
}

// cleanSegments returns s with empty segments dropped and each segment's surrounding spaces
// trimmed, as azcore reads an ID; s itself when it is already so (every ID ARM returns).
func cleanSegments(s string) string {
	dirty := strings.Contains(s, "//") || strings.HasSuffix(s, "/")
	for i := 0; !dirty && i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f' {
			dirty = true
		}
	}
	if !dirty {
		return s
	}
	var b strings.Builder
	for _, seg := range strings.Split(s, "/") {
		if seg = strings.TrimSpace(seg); seg != "" {
			b.WriteByte('/')
			b.WriteString(seg)
		}
	}
	return b.String()
}

// level is one resource in an ID's chain, outermost (a subscription, or a tenant-level resource)
// first: end is where its text ends in the clean ID.
type level struct {
	end      int
	typ      string // full type, spelled as in the ID
	name     string
	parent   int // index of the parent level, -1 for the tenant root
	provider bool
}

const (
	subscriptionType  = "Microsoft.Resources/subscriptions"
	resourceGroupType = "Microsoft.Resources/resourceGroups"
	tenantType        = "Microsoft.Resources/tenants"
	providerType      = "Microsoft.Resources/providers"
)

const idGrammar = "it does not follow /subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}"

// walkLevels calls fn with each level of the clean ID s, outermost first, following azcore's
// grammar: "subscriptions/{id}" under the tenant and "resourceGroups/{name}" under a subscription
// are those types; "providers/{namespace}" (alone, or followed by another "providers") is a
// resource provider, allowed under the tenant or a subscription; "providers/{namespace}/{type}/{name}"
// starts a resource of that namespace (an extension when under another resource); any other
// "{type}/{name}" is a child of the level above, its type the parent's with "/{type}" appended; a
// last lone "{type}" is a child with no name, except under a resource group or for subscriptions
// or resourceGroups themselves. It reports whether s parses, and if not, why.
func walkLevels(s string, fn func(level)) (bool, string) {
	if s == "" {
		return false, "it is empty"
	}
	if s[0] != '/' {
		return false, "it does not start with '/'"
	}
	// The segments, as offsets: seg k is s[starts[k]:ends[k]].
	var startsBuf, endsBuf [24]int
	starts, ends := startsBuf[:0], endsBuf[:0]
	for i := 1; i <= len(s); {
		j := strings.IndexByte(s[i:], '/')
		if j < 0 {
			j = len(s) - i
		}
		starts, ends = append(starts, i), append(ends, i+j)
		i += j + 1
	}
	seg := func(k int) string { return s[starts[k]:ends[k]] }
	if len(starts) < 2 || (!strings.EqualFold(seg(0), "subscriptions") && !strings.EqualFold(seg(0), "providers")) {
		return false, idGrammar
	}
	var levelsBuf [12]level
	levels := levelsBuf[:0]
	cur := -1 // the tenant root
	typeOf := func(k int) string {
		if k < 0 {
			return tenantType
		}
		return levels[k].typ
	}
	isTenant := func(k int) bool { return k < 0 }
	isSubscription := func(k int) bool {
		return k >= 0 && strings.EqualFold(levels[k].typ, subscriptionType) && isTenant(levels[k].parent)
	}
	isGroup := func(k int) bool {
		return k >= 0 && strings.EqualFold(levels[k].typ, resourceGroupType) && isSubscription(levels[k].parent)
	}
	child := func(t string) string {
		switch {
		case strings.EqualFold(t, "resourcegroups") && isSubscription(cur):
			return resourceGroupType
		case strings.EqualFold(t, "subscriptions") && isTenant(cur):
			return subscriptionType
		}
		return internType(typeOf(cur), t)
	}
	push := func(l level) {
		l.parent = cur
		levels = append(levels, l)
		cur = len(levels) - 1
		fn(l)
	}
	for k := 0; k < len(starts); {
		switch rem := len(starts) - k; {
		case rem == 1:
			if (strings.EqualFold(seg(k), "subscriptions") && isTenant(cur)) || (strings.EqualFold(seg(k), "resourcegroups") && isSubscription(cur)) || isGroup(cur) {
				return false, idGrammar
			}
			push(level{end: ends[k], typ: child(seg(k))})
			k++
		case strings.EqualFold(seg(k), "providers") && (rem == 2 || strings.EqualFold(seg(k+2), "providers")):
			if !isSubscription(cur) && !isTenant(cur) {
				return false, idGrammar
			}
			push(level{end: ends[k+1], typ: providerType, name: seg(k + 1), provider: true})
			k += 2
		case rem > 3 && strings.EqualFold(seg(k), "providers"):
			push(level{end: ends[k+3], typ: internType(seg(k+1), seg(k+2)), name: seg(k + 3)})
			k += 4
		case !strings.EqualFold(seg(k), "providers"):
			push(level{end: ends[k+1], typ: child(seg(k)), name: seg(k + 1)})
			k += 2
		default:
			return false, idGrammar
		}
	}
	return true, ""
}

// types interns resource type strings: an estate has a few hundred types and millions of IDs.
var types = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

// internType returns prefix + "/" + t, one string per distinct type (up to a bound, so IDs made
// up to flood it cost only their own strings).
func internType(prefix, t string) string {
	var buf [128]byte
	b := append(append(append(buf[:0], prefix...), '/'), t...)
	types.RLock()
	v, ok := types.m[string(b)]
	types.RUnlock()
	if ok {
		return v
	}
	v = string(b)
	types.Lock()
	if len(types.m) < 4096 {
		types.m[v] = v
	}
	types.Unlock()
	return v
}

// needsSlash reports an ID that ARM returned without its leading '/': subscription diagnostic
// settings come back as "subscriptions/{id}/providers/microsoft.insights/diagnosticSettings/{name}"
// (REST spec monitor 2021-05-01-preview listSubscriptionDiagnosticSettings; azure-cli issue 18242
// shows the CLI printing the same).
func needsSlash(s string) bool {
	l := len("subscriptions/")
	return (len(s) > l && strings.EqualFold(s[:l], "subscriptions/")) || (len(s) > 10 && strings.EqualFold(s[:10], "providers/"))
}

// Canonical returns the one spelling Bulwark compares an ARM ID in, from any spelling ARM returns
// for it (case is kept; Key lowers it):
//   - a leading '/' where ARM left it out (subscription diagnostic settings);
//   - "/providers/Microsoft.Subscription/subscriptions/{id}…" — the scope PIM's schedule instances
//     are listed and sometimes reported at (REST spec authorization 2020-10-01
//     GetRoleEligibilityScheduleInstancesByScope) — as "/subscriptions/{id}…";
//   - the provider "AzureResourceManager" that subscription diagnostic settings carry in their ID
//     (same spec example; azure-rest-api-specs issue 17839) as "Microsoft.Insights", the provider
//     the setting is read and written through.
func Canonical(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/")
	if needsSlash(s) {
		s = "/" + s
	}
	return canonical(s)
}

// canonical is Canonical for an ID already trimmed and given its leading '/'.
func canonical(s string) string {
	const subProvider = "/providers/microsoft.subscription/subscriptions/"
	if len(s) > len(subProvider) && strings.EqualFold(s[:len(subProvider)], subProvider) {
		s = "/subscriptions/" + s[len(subProvider):]
	}
	const arm = "/providers/azureresourcemanager/diagnosticsettings"
	if i := indexFold(s, arm); i >= 0 {
		s = s[:i] + "/providers/Microsoft.Insights/diagnosticSettings" + s[i+len(arm):]
	}
	return s
}

// indexFold is strings.Index ignoring ASCII case, for a sub that starts with '/'; it allocates
// nothing, since every ID read goes through Canonical.
func indexFold(s, sub string) int {
	for i := strings.IndexByte(s, '/'); i >= 0 && i+len(sub) <= len(s); {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
		j := strings.IndexByte(s[i+1:], '/')
		if j < 0 {
			return -1
		}
		i += 1 + j
	}
	return -1
}

// KeyOf returns the comparison key of an ID string without parsing it: Canonical, lower-cased. It
// equals ParseID(s).Key() for every ID that parses.
func KeyOf(s string) string { return strings.ToLower(Canonical(s)) }

// MustParseID is ParseID for IDs written in code and tests; it panics on a malformed ID.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// IsZero reports whether id is the zero ID (nothing parsed).
func (id ID) IsZero() bool { return id.clean == "" }

// String returns the ID as it was read.
func (id ID) String() string { return id.raw }

// Key returns the canonical, lower-cased form used for comparison and map keys.
func (id ID) Key() string { return id.key }

// Equal reports whether two IDs name the same resource, ignoring case.
func (id ID) Equal(o ID) bool { return id.key == o.key }

// levels returns the ID's chain of levels (at most a dozen, on the stack of the caller).
func (id ID) levels(buf []level) []level {
	out := buf[:0]
	walkLevels(id.clean, func(l level) { out = append(out, l) })
	return out
}

// SubscriptionID returns the subscription the ID lives in, or "" for tenant and management-group scopes.
func (id ID) SubscriptionID() string {
	var buf [12]level
	for _, l := range slices.Backward(id.levels(buf[:])) {
		if l.typ == subscriptionType { // as azcore: only the type its grammar gives, spelled exactly
			return l.name
		}
	}
	return ""
}

// ResourceGroup returns the resource group name, or "" above resource-group scope.
func (id ID) ResourceGroup() string {
	var buf [12]level
	for _, l := range slices.Backward(id.levels(buf[:])) {
		if l.typ == resourceGroupType {
			return l.name
		}
	}
	return ""
}

// Namespace returns the resource provider namespace of the ID's own type, e.g. "Microsoft.Compute".
func (id ID) Namespace() string { return namespaceOf(id.typ) }

// Type returns the full resource type derived from the ID, e.g. "Microsoft.Network/virtualNetworks/subnets".
func (id ID) Type() string { return id.typ }

// Name returns the last name segment of the ID.
func (id ID) Name() string {
	if id.IsZero() {
		return ""
	}
	var buf [12]level
	ls := id.levels(buf[:])
	return ls[len(ls)-1].name
}

// Parent returns the resource this ID is nested under: a subnet's VNet, a database's server, a
// resource's resource group, a resource group's subscription, and, for extension resources such as
// locks, role assignments and diagnostic settings, the scope they are attached to. The tenant root
// has no ID, so a subscription or management group has no parent.
func (id ID) Parent() (ID, bool) {
	if id.IsZero() {
		return ID{}, false
	}
	var buf [12]level
	ls := id.levels(buf[:])
	p := ls[len(ls)-1].parent
	if p < 0 {
		return ID{}, false
	}
	return id.prefix(ls, p), true
}

// prefix is the ID of the level l of id. Its text is a prefix of the clean ID; where the clean ID
// is the ID as written (every ID ARM returns), it is the same prefix of the written ID and of the
// key, so nothing is copied or lowered again.
func (id ID) prefix(ls []level, k int) ID {
	l := ls[k]
	clean := id.clean[:l.end]
	ext := isExtension(ls, k)
	if !id.normalized && len(clean) <= len(id.raw) && id.raw[:len(clean)] == clean {
		return ID{raw: id.raw[:len(clean)], key: id.key[:len(clean)], clean: clean, typ: l.typ, extension: ext}
	}
	raw := clean
	if len(clean) <= len(id.raw) && strings.EqualFold(id.raw[:len(clean)], clean) {
		raw = id.raw[:len(clean)]
	}
	return ID{raw: raw, key: strings.ToLower(raw), clean: clean, typ: l.typ, extension: ext}
}

// Ancestors returns the parents of id from the nearest to the outermost scope.
func (id ID) Ancestors() []ID {
	if id.IsZero() {
		return nil
	}
	var buf [12]level
	ls := id.levels(buf[:])
	var out []ID
	for p := ls[len(ls)-1].parent; p >= 0; p = ls[p].parent {
		out = append(out, id.prefix(ls, p))
	}
	return out
}

// Contains reports whether scope is id itself or one of its ancestors: a role assignment or lock
// at scope applies to id.
func (scope ID) Contains(id ID) bool {
	if scope.key == id.key {
		return true
	}
	return strings.HasPrefix(id.key, scope.key+"/")
}

// SubscriptionScope returns "/subscriptions/{id}" for the ID's subscription, if it has one.
func (id ID) SubscriptionScope() (ID, bool) {
	for _, a := range append([]ID{id}, id.Ancestors()...) {
		if strings.EqualFold(a.Type(), "Microsoft.Resources/subscriptions") {
			return a, true
		}
	}
	return ID{}, false
}

// ResourceGroupScope returns the ID of the resource group the ID lives in, if any.
func (id ID) ResourceGroupScope() (ID, bool) {
	for _, a := range append([]ID{id}, id.Ancestors()...) {
		if strings.EqualFold(a.Type(), "Microsoft.Resources/resourceGroups") {
			return a, true
		}
	}
	return ID{}, false
}

// IsExtension reports whether the ID is an extension resource attached to another scope — a lock,
// role assignment, diagnostic setting or Sentinel onboarding state — rather than a resource of its
// own. Under a resource, any type from another provider namespace is an extension; directly under a
// subscription, resource group or management group only the known extension types are, because
// ordinary resources have those containers as parents too.
func (id ID) IsExtension() bool { return id.extension }

// isExtension is IsExtension for level k of an ID's levels.
func isExtension(ls []level, k int) bool {
	p := ls[k].parent
	if p < 0 {
		return false
	}
	if pt := ls[p].typ; strings.EqualFold(pt, subscriptionType) || strings.EqualFold(pt, resourceGroupType) ||
		strings.EqualFold(pt, "Microsoft.Management/managementGroups") {
		for t := range extensionTypes { // eight; comparing spares lowering every parent of every ID
			if strings.EqualFold(t, ls[k].typ) {
				return true
			}
		}
		return false
	}
	return !strings.EqualFold(namespaceOf(ls[p].typ), namespaceOf(ls[k].typ))
}

func namespaceOf(typ string) string {
	if i := strings.IndexByte(typ, '/'); i >= 0 {
		return typ[:i]
	}
	return typ
}

// extensionTypes are the extension resource types Bulwark reads at container scopes.
var extensionTypes = map[string]bool{
	"microsoft.authorization/locks":                            true,
	"microsoft.authorization/roleassignments":                  true,
	"microsoft.authorization/roledefinitions":                  true,
	"microsoft.authorization/roleeligibilityscheduleinstances": true,
	"microsoft.authorization/roleassignmentscheduleinstances":  true,
	"microsoft.authorization/policyassignments":                true,
	"microsoft.insights/diagnosticsettings":                    true,
	"microsoft.security/pricings":                              true,
}

// MarshalText writes the ID as it was read.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.raw), nil }

// UnmarshalText parses an ID.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// LockScope is the scope a management lock's ID is attached to (the subscription, resource group
// or resource before /providers/Microsoft.Authorization/locks/), or "" for another ID.
func LockScope(lockID string) string {
	i := strings.LastIndex(strings.ToLower(lockID), "/providers/microsoft.authorization/locks/")
	if i < 0 {
		return ""
	}
	return lockID[:i]
}

// AncestorOfType returns the nearest ancestor of id (or id itself) of a resource type, compared
// without regard to case: the Recovery Services vault of a protected item, say.
func (id ID) AncestorOfType(typ string) (ID, bool) {
	if !id.IsZero() && strings.EqualFold(id.Type(), typ) {
		return id, true
	}
	for _, a := range id.Ancestors() {
		if strings.EqualFold(a.Type(), typ) {
			return a, true
		}
	}
	return ID{}, false
}

// AncestorOf is AncestorOfType for an ID given as text: "" when it is not an ARM ID or has no such
// ancestor.
func AncestorOf(id, typ string) string {
	x, err := ParseID(id)
	if err != nil {
		return ""
	}
	a, ok := x.AncestorOfType(typ)
	if !ok {
		return ""
	}
	return a.String()
}
