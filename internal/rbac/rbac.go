// Package rbac evaluates Azure role-based access control over a snapshot: which principals can
// perform an action on a resource, through which assignment, and whether that access is standing
// (an active assignment) or just-in-time (a PIM eligibility schedule instance).
package rbac

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Role is a role definition: built-in (embedded or from the snapshot) or custom.
type Role struct {
	GUID       string
	Name       string
	Custom     bool
	Actions    []string
	NotActions []string
}

// Allows reports whether the role grants action: some action pattern matches and no notActions
// pattern does. Matching ignores case and `*` matches any run of characters, as ARM does.
func (r *Role) Allows(action string) bool {
	ok := false
	for _, a := range r.Actions {
		if Match(a, action) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	for _, n := range r.NotActions {
		if Match(n, action) {
			return false
		}
	}
	return true
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Match reports whether an action pattern ("Microsoft.Authorization/*/Delete", "*") matches action.
func Match(pattern, action string) bool {
	p, a := pattern, action
	if !ascii(p) || !ascii(a) {
		p, a = strings.ToLower(pattern), strings.ToLower(action)
	}
	// Iterative wildcard match, ASCII letters compared ignoring case; patterns are short.
	pi, ai, star, mark := 0, 0, -1, 0
	for ai < len(a) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ai
			pi++
		case pi < len(p) && lower(p[pi]) == lower(a[ai]):
			pi++
			ai++
		case star >= 0:
			pi = star + 1
			mark++
			ai = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Assignment is one role assignment or PIM eligibility.
type Assignment struct {
	Object        *arm.Object
	Scope         string // as written: "/", "/providers/Microsoft.Management/managementGroups/mg", "/subscriptions/…"
	RoleGUID      string
	PrincipalID   string
	PrincipalType string // User, Group, ServicePrincipal, ForeignGroup
	Eligible      bool   // a PIM eligibility schedule instance, not standing access
	// TimeBound: an active assignment that a PIM role assignment schedule instance with an end time
	// backs (an activation, or a time-bound active assignment): access now, but just-in-time, ending
	// at Until (as ARM wrote it).
	TimeBound bool
	Until     string
}

// Standing reports access held around the clock: active, and not ended by PIM.
func (a Assignment) Standing() bool { return !a.Eligible && !a.TimeBound }

// JIT reports just-in-time access: PIM-eligible, or active only until a PIM end time.
func (a Assignment) JIT() bool { return a.Eligible || a.TimeBound }

// Model holds the roles and assignments of an estate.
type Model struct {
	roles       map[string]*Role // by lower-case GUID
	assignments []Assignment
	byScope     map[string][]int        // assignment scope key → indexes into assignments
	grantsMu    sync.Mutex              // the Model is read from any goroutine; grants is filled lazily
	grants      map[scopeAction][]Grant // Who's grants at one scope for one action, worked out once
	mgAncestors map[string][]string     // subscription ID (lower) → management group names
}

// New reads role definitions, role assignments, and PIM's eligibility and assignment schedule
// instances from the index; definitions in the snapshot override the embedded built-in table.
//
// PIM's active assignments are ordinary role assignments, each linked from a
// roleAssignmentScheduleInstances entry by properties.originRoleAssignmentId (REST spec
// authorization 2020-10-01 GetRoleAssignmentScheduleInstancesByScope: assignmentType Activated or
// Assigned, endDateTime). An assignment backed by an instance with an end time is time-bound, not
// standing; an instance whose role assignment is not in the snapshot counts as the assignment.
func New(x *arm.Index) *Model {
	m := &Model{roles: map[string]*Role{}, mgAncestors: map[string][]string{}}
	for i := range builtins {
		r := builtins[i]
		m.roles[strings.ToLower(r.GUID)] = &r
	}
	for _, o := range x.OfType("Microsoft.Authorization/roleDefinitions") {
		r := &Role{GUID: o.ID.Name(), Custom: o.Get("properties.type").Is("CustomRole")}
		r.Name, _ = o.Get("properties.roleName").String()
		for _, p := range o.Get("properties.permissions").List() {
			r.Actions = append(r.Actions, strs(p.Get("actions"))...)
			r.NotActions = append(r.NotActions, strs(p.Get("notActions"))...)
		}
		m.roles[strings.ToLower(r.GUID)] = r
	}
	// until: the ID key of an assignment a PIM instance with an end time backs (its
	// originRoleAssignmentId, and the instance itself, which stands in when the assignment was not
	// collected) → that end time.
	until := map[string]string{}
	instances := x.OfType("Microsoft.Authorization/roleAssignmentScheduleInstances")
	for _, o := range instances {
		if end, _ := o.Get("properties.endDateTime").String(); end != "" && active(o) {
			until[o.ID.Key()] = end
			if origin, _ := o.Get("properties.originRoleAssignmentId").String(); origin != "" {
				until[arm.KeyOf(origin)] = end
			}
		}
	}
	add := func(o *arm.Object, eligible bool) {
		a := Assignment{Object: o, Eligible: eligible}
		if end, ok := until[o.ID.Key()]; ok && !eligible {
			a.TimeBound, a.Until = true, end
		}
		// Read once, into the fields needed: the object keeps no decoded copy of itself (a million
		// role assignments would keep a million maps).
		var doc struct {
			Properties struct {
				Scope            any `json:"scope"`
				RoleDefinitionID any `json:"roleDefinitionId"`
				PrincipalID      any `json:"principalId"`
				PrincipalType    any `json:"principalType"`
			} `json:"properties"`
		}
		_ = json.Unmarshal(o.Raw, &doc) // the snapshot validated it; a field of another type reads as absent
		str := func(v any) string { s, _ := v.(string); return s }
		a.Scope = str(doc.Properties.Scope)
		if a.Scope == "" {
			if p, ok := o.ID.Parent(); ok {
				a.Scope = p.String()
			} else {
				a.Scope = "/"
			}
		}
		rd := str(doc.Properties.RoleDefinitionID)
		a.RoleGUID = rd[strings.LastIndexByte(rd, '/')+1:]
		a.PrincipalID = str(doc.Properties.PrincipalID)
		a.PrincipalType = str(doc.Properties.PrincipalType)
		if eligible && !active(o) {
			return // expired or revoked eligibility grants nothing
		}
		m.assignments = append(m.assignments, a)
	}
	for _, o := range x.OfType("Microsoft.Authorization/roleAssignments") {
		add(o, false)
	}
	for _, o := range x.OfType("Microsoft.Authorization/roleEligibilityScheduleInstances") {
		add(o, true)
	}
	for _, o := range instances {
		origin, _ := o.Get("properties.originRoleAssignmentId").String()
		if _, collected := x.Get(origin); active(o) && (origin == "" || !collected) {
			add(o, false)
		}
	}
	m.byScope = map[string][]int{}
	for i, a := range m.assignments {
		k := ScopeKey(a.Scope)
		m.byScope[k] = append(m.byScope[k], i)
	}
	for _, s := range x.OfType("Microsoft.Resources/subscriptions") {
		for _, mg := range s.Get("properties.managementGroupAncestorsChain").List() {
			if n, ok := mg.Get("name").String(); ok {
				k := strings.ToLower(s.ID.SubscriptionID())
				m.mgAncestors[k] = append(m.mgAncestors[k], strings.ToLower(n))
			}
		}
	}
	return m
}

// active reports a PIM schedule instance in force: status Provisioned, Accepted or Granted, or
// none given. Expired, revoked and pending instances grant nothing.
func active(o *arm.Object) bool {
	s, ok := o.Get("properties.status").String()
	return !ok || s == "" || strings.EqualFold(s, "Provisioned") || strings.EqualFold(s, "Accepted") || strings.EqualFold(s, "Granted")
}

func strs(v arm.Value) []string {
	var out []string
	for _, e := range v.List() {
		if s, ok := e.String(); ok {
			out = append(out, s)
		}
	}
	return out
}

// Role returns a role by GUID.
func (m *Model) Role(guid string) (*Role, bool) {
	r, ok := m.roles[strings.ToLower(guid)]
	return r, ok
}

// RoleName returns a role's name, or its GUID when the definition is unknown.
func (m *Model) RoleName(guid string) string {
	if r, ok := m.Role(guid); ok && r.Name != "" {
		return r.Name
	}
	return guid
}

// Covers reports whether an assignment scope applies to target: the scope is target or one of its
// ancestors, the tenant root "/", or a management group above target's subscription.
func (m *Model) Covers(scope string, target arm.ID) bool {
	ls := ScopeKey(scope)
	if ls == "" {
		return true
	}
	if strings.HasPrefix(ls, "/providers/microsoft.management/managementgroups/") {
		name := ls[strings.LastIndexByte(ls, '/')+1:]
		for _, mg := range m.mgAncestors[strings.ToLower(target.SubscriptionID())] {
			if mg == name {
				return true
			}
		}
		return false
	}
	return target.Key() == ls || strings.HasPrefix(target.Key(), ls+"/")
}

// Grant is a principal's access to an action on a target, through one assignment.
type Grant struct {
	*Assignment // the model's own: a Grant is two pointers, however many Who returns
	Role        *Role
}

// ScopeKey is an assignment scope's comparison key: "" for the root, otherwise the scope's ID key
// in arm's canonical spelling ("/providers/Microsoft.Subscription/subscriptions/{id}", which PIM
// reports, is the subscription).
func ScopeKey(scope string) string {
	s := strings.TrimSpace(scope)
	if s == "" || s == "/" {
		return ""
	}
	return arm.KeyOf(s)
}

// Who returns every assignment (active and eligible) that grants action on target. Assignments
// whose role definition is unknown are skipped: the caller can list them with Unknown. The grants
// at each scope are worked out once per action and kept: the resources of one resource group share
// them, and a subscription with 200,000 assignments would otherwise have every role checked again
// for every resource in it.
func (m *Model) Who(target arm.ID, action string) []Grant {
	var out []Grant
	add := func(scope string) { out = append(out, m.grantsAt(scope, action)...) }
	add(target.Key())
	for _, a := range target.Ancestors() {
		add(a.Key())
	}
	add("")
	for _, mg := range m.mgAncestors[strings.ToLower(target.SubscriptionID())] {
		add("/providers/microsoft.management/managementgroups/" + mg)
	}
	return out
}

// grantsAt is the assignments directly at a scope that grant action, in assignment order.
func (m *Model) grantsAt(scope, action string) []Grant {
	idx := m.byScope[scope]
	if len(idx) == 0 {
		return nil
	}
	k := scopeAction{scope, action}
	m.grantsMu.Lock()
	defer m.grantsMu.Unlock()
	if gs, ok := m.grants[k]; ok {
		return gs
	}
	var gs []Grant
	for _, i := range idx {
		a := &m.assignments[i]
		if r, ok := m.Role(a.RoleGUID); ok && r.Allows(action) {
			gs = append(gs, Grant{Assignment: a, Role: r})
		}
	}
	if m.grants == nil {
		m.grants = map[scopeAction][]Grant{}
	}
	m.grants[k] = gs
	return gs
}

type scopeAction struct{ scope, action string }

// Assignments returns every assignment and eligibility.
func (m *Model) Assignments() []Assignment { return m.assignments }

// UnknownRoles returns assignments whose role definition is neither built in nor in the snapshot.
func (m *Model) UnknownRoles() []Assignment {
	var out []Assignment
	for _, a := range m.assignments {
		if _, ok := m.Role(a.RoleGUID); !ok {
			out = append(out, a)
		}
	}
	return out
}

// HasAssignmentData reports whether the snapshot held any role assignment at all; without it, the
// identity checks cannot tell "nobody" from "not collected".
func (m *Model) HasAssignmentData() bool { return len(m.assignments) > 0 }
