// Package arm holds Bulwark's model of an Azure estate: Azure Resource Manager objects in the exact
// shape ARM returns them, their IDs, case-insensitive property access, the service defaults for
// absent properties, the snapshot that carries them and an index over it. It does no I/O.
package arm

import (
	"fmt"
	"strings"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
)

// ID is a parsed ARM resource ID. ARM treats IDs case-insensitively and returns them in varying
// spellings (`/Subscriptions/`, `Backupvaults`), so two IDs are the same resource when their Keys are
// equal; String keeps the spelling that was read, for display.
type ID struct {
	raw    string
	key    string
	parsed *azarm.ResourceID
	// normalized: key is the lower-cased Canonical form, not raw lower-cased (see Canonical).
	normalized bool
}

// ParseID parses an ARM resource ID with azcore's parser. Subscription, resource group, management
// group and tenant-level IDs are all accepted, as are extension resources at any scope. The
// spellings ARM really returns for one resource are normalised here, and only here (see Canonical):
// String keeps the ID as written (with a leading '/' added where ARM left it out), Key and the parsed
// parts use the canonical form.
func ParseID(s string) (ID, error) {
	trimmed := strings.TrimSuffix(strings.TrimSpace(s), "/")
	written := trimmed
	if needsSlash(written) {
		written = "/" + written
	}
	canon := canonical(written)
	p, err := azarm.ParseResourceID(canon)
	if err != nil {
		return ID{}, fmt.Errorf("%q is not an ARM resource ID: %s", s, idProblem(strings.TrimSpace(s), err))
	}
	if p.ResourceType.Type == "" && p.Name == "" {
		return ID{}, fmt.Errorf("%q is not an ARM resource ID: it names the tenant root", s)
	}
	id := fromParsed(written, p)
	if canon != written {
		id.key, id.normalized = strings.ToLower(canon), true
	}
	return id, nil
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

// idProblem says what is wrong with an ID azcore rejected, without repeating the ID.
func idProblem(s string, err error) string {
	switch {
	case s == "":
		return "it is empty"
	case !strings.HasPrefix(s, "/"):
		return "it does not start with '/'"
	case strings.Contains(err.Error(), s):
		return "it does not follow /subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}"
	}
	return err.Error()
}

// MustParseID is ParseID for IDs written in code and tests; it panics on a malformed ID.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func fromParsed(raw string, p *azarm.ResourceID) ID {
	return ID{raw: raw, key: strings.ToLower(raw), parsed: p}
}

// IsZero reports whether id is the zero ID (nothing parsed).
func (id ID) IsZero() bool { return id.parsed == nil }

// String returns the ID as it was read.
func (id ID) String() string { return id.raw }

// Key returns the canonical, lower-cased form used for comparison and map keys.
func (id ID) Key() string { return id.key }

// Equal reports whether two IDs name the same resource, ignoring case.
func (id ID) Equal(o ID) bool { return id.key == o.key }

// SubscriptionID returns the subscription the ID lives in, or "" for tenant and management-group scopes.
func (id ID) SubscriptionID() string {
	if id.parsed == nil {
		return ""
	}
	return id.parsed.SubscriptionID
}

// ResourceGroup returns the resource group name, or "" above resource-group scope.
func (id ID) ResourceGroup() string {
	if id.parsed == nil {
		return ""
	}
	return id.parsed.ResourceGroupName
}

// Namespace returns the resource provider namespace of the ID's own type, e.g. "Microsoft.Compute".
func (id ID) Namespace() string {
	if id.parsed == nil {
		return ""
	}
	return id.parsed.ResourceType.Namespace
}

// Type returns the full resource type derived from the ID, e.g. "Microsoft.Network/virtualNetworks/subnets".
func (id ID) Type() string {
	if id.parsed == nil {
		return ""
	}
	return id.parsed.ResourceType.String()
}

// Name returns the last name segment of the ID.
func (id ID) Name() string {
	if id.parsed == nil {
		return ""
	}
	return id.parsed.Name
}

// Parent returns the resource this ID is nested under: a subnet's VNet, a database's server, a
// resource's resource group, a resource group's subscription, and, for extension resources such as
// locks, role assignments and diagnostic settings, the scope they are attached to. The tenant root
// has no ID, so a subscription or management group has no parent.
func (id ID) Parent() (ID, bool) {
	if id.parsed == nil || id.parsed.Parent == nil {
		return ID{}, false
	}
	p := id.parsed.Parent
	if p.ResourceType.Type == "" || (p.Name == "" && p.ResourceType.String() == "Microsoft.Resources/tenants") {
		return ID{}, false
	}
	// Keep the original spelling: the parent is a prefix of the raw ID, and (for the ASCII that
	// ARM IDs are made of) its key is the same prefix of the key, so nothing is lowered again.
	raw := p.String()
	if len(raw) <= len(id.raw) && strings.EqualFold(id.raw[:len(raw)], raw) {
		raw = id.raw[:len(raw)]
		if !id.normalized {
			return ID{raw: raw, key: id.key[:len(raw)], parsed: p}, true
		}
	}
	return fromParsed(raw, p), true
}

// Ancestors returns the parents of id from the nearest to the outermost scope.
func (id ID) Ancestors() []ID {
	var out []ID
	for p, ok := id.Parent(); ok; p, ok = p.Parent() {
		out = append(out, p)
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
func (id ID) IsExtension() bool {
	p, ok := id.Parent()
	if !ok {
		return false
	}
	switch strings.ToLower(p.Type()) {
	case "microsoft.resources/subscriptions", "microsoft.resources/resourcegroups", "microsoft.management/managementgroups":
		return extensionTypes[strings.ToLower(id.Type())]
	}
	return !strings.EqualFold(p.Namespace(), id.Namespace())
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
