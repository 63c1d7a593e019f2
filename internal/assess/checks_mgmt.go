package assess

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/rbac"
)

// criticalTargets returns every critical top-level resource (computed once per Env).
func criticalTargets(e *Env) []Target {
	e.criticalOnce.Do(func() {
		e.critical = []Target{}
		for _, o := range e.Index.All() {
			if ok, _ := e.Critical(o); ok {
				e.critical = append(e.critical, Target{Obj: o})
			}
		}
	})
	return e.critical
}

func lockEvidence(locks []*arm.Object) []Evidence {
	var ev []Evidence
	for _, l := range locks {
		lv, _ := l.Get("properties.level").String()
		ev = append(ev, Evidence{Path: l.ID.String(), Value: lv})
	}
	return ev
}

func scopeNames(id arm.ID) string {
	var parts []string
	parts = append(parts, "the resource")
	if rg := id.ResourceGroup(); rg != "" {
		parts = append(parts, "resource group "+rg)
	}
	if s := id.SubscriptionID(); s != "" {
		parts = append(parts, "subscription "+s)
	}
	return strings.Join(parts, ", ")
}

var checkLOCK001 = &Check{
	ID: "LOCK-001", Title: "Critical resources are protected by a lock", Area: AreaManagement, Principle: AssumeBreach, Severity: High,
	Rationale: "The guidance's first step is to lock what an attacker destroys first: recovery infrastructure, data services, keys, " +
		"the workspace that receives the activity log and the hub network. A CanNotDelete lock forces an attacker to remove it " +
		"first — an extra, logged step that buys detection time — and stops accidental deletes.",
	Fix: Remediation{
		Text: "Add a CanNotDelete lock on the resource (or its resource group). Lift it only through the controlled lock procedure (bulwark lock release).",
		Command: func(t Target) string {
			return "az lock create --name bulwark-no-delete --lock-type CanNotDelete --resource " + t.ID()
		},
		Bicep: "resource lock 'Microsoft.Authorization/locks@2020-05-01' = {\n  name: 'bulwark-no-delete'\n  scope: target\n" +
			"  properties: { level: 'CanNotDelete', notes: 'Lift only through the controlled lock procedure' }\n}",
	},
	Targets: criticalTargets,
	Eval: func(e *Env, t Target) Verdict {
		if ce, ok := e.collectFailed(t.Obj.ID, "locks"); ok {
			return unknown("the locks of subscription "+t.Obj.ID.SubscriptionID(), ev(ce.Operation, ce.Message))
		}
		if !e.locksSeen {
			return unknown("Microsoft.Authorization/locks (GET /subscriptions/{s}/providers/Microsoft.Authorization/locks)")
		}
		_, why := e.Critical(t.Obj)
		locks := e.Locks(t.Obj.ID)
		if len(locks) == 0 {
			return fail(fmt.Sprintf("critical (%s) and not locked", why), ev("locks on "+scopeNames(t.Obj.ID), "none"))
		}
		return pass(fmt.Sprintf("critical (%s) and locked", why), lockEvidence(locks)...)
	},
}

// readOnlyBreaks lists resource types a ReadOnly lock breaks, with why.
var readOnlyBreaks = map[string]string{
	"microsoft.storage/storageaccounts":          "listing storage account keys is a POST and is blocked",
	"microsoft.containerservice/managedclusters": "AKS cannot scale, upgrade or rotate certificates",
	"microsoft.compute/virtualmachines":          "VMs cannot be started, stopped or resized",
	"microsoft.compute/virtualmachinescalesets":  "scale sets cannot scale",
	"microsoft.web/sites":                        "App Service cannot list publishing credentials or swap slots",
	"microsoft.web/serverfarms":                  "App Service plans cannot scale",
	"microsoft.recoveryservices/vaults":          "Site Recovery failover and backup operations fail",
}

var checkLOCK002 = &Check{
	ID: "LOCK-002", Title: "Lock scope fits the resource", Area: AreaManagement, Principle: AssumeBreach, Severity: Medium,
	Rationale: "A lock that breaks operations gets removed, and then protects nothing. ReadOnly blocks POST operations such as " +
		"listing storage keys, starting VMs or failing over; the guidance recommends CanNotDelete and locking the specific " +
		"resource (\"lock the VNet, not the resource group\") so that operations continue.",
	Fix: Remediation{
		Text: "Replace ReadOnly locks on resources that must keep operating with CanNotDelete, and move whole-group locks to the critical resources in the group.",
		Command: func(t Target) string {
			p, _ := t.Obj.ID.Parent()
			return "az lock delete --ids " + t.ID() + " && az lock create --name bulwark-no-delete --lock-type CanNotDelete --resource " + p.String()
		},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.Authorization/locks") },
	Eval: func(e *Env, t Target) Verdict {
		level := prop(t.Obj, "properties.level")
		scope, _ := t.Obj.ID.Parent()
		if names := e.ReadOnlyBreaks(t.Obj); len(names) > 0 {
			return fail("ReadOnly lock breaks "+count(len(names), "resource", "resources")+" it covers", append([]Evidence{level}, ev("breaks", strings.Join(names, "; ")))...)
		}
		if strings.EqualFold(scope.Type(), "Microsoft.Resources/resourceGroups") {
			return warn("locks the whole resource group "+scope.Name()+"; a lock on its critical resources would do", level, ev("scope", scope.String()))
		}
		return pass("lock scope fits", level, ev("scope", scope.String()))
	},
}

// ReadOnlyBreaks lists what a ReadOnly lock breaks among the resources it covers ("name: why",
// sorted); nothing for a CanNotDelete lock. LOCK-002 fails on it, and respond re-applies such a
// lock as CanNotDelete.
func (e *Env) ReadOnlyBreaks(lock *arm.Object) []string {
	if !lock.Get("properties.level").Is("ReadOnly") {
		return nil
	}
	scope, ok := lock.ID.Parent()
	if !ok {
		return nil
	}
	covered := append([]*arm.Object{}, e.Index.Descendants(scope, "")...)
	if o, ok := e.Index.Get(scope.String()); ok {
		covered = append(covered, o)
	}
	broken := map[string]bool{}
	for _, o := range covered {
		if why, ok := readOnlyBreaks[strings.ToLower(o.Type())]; ok && !o.ID.IsExtension() {
			broken[o.Name()+": "+why] = true
		}
	}
	if len(broken) == 0 {
		return nil
	}
	return sortedKeys(broken)
}

// needRBAC returns an unknown verdict when the role assignments of id's subscription are not in
// the snapshot.
func (e *Env) needRBAC(id arm.ID) (Verdict, bool) {
	if !e.rbacCollected(id) {
		return unknown("the role assignments of subscription " + id.SubscriptionID()), false
	}
	return Verdict{}, true
}

const lockDelete = "Microsoft.Authorization/locks/delete"

// standing returns the active grants of action on target that are not break-glass accounts.
func (e *Env) standing(target arm.ID, action string) (active, eligible []rbac.Grant) {
	for _, g := range e.RBAC.Who(target, action) {
		if e.Config.IsBreakGlass(g.PrincipalID) {
			continue
		}
		if g.JIT() {
			eligible = append(eligible, g)
		} else {
			active = append(active, g)
		}
	}
	return active, eligible
}

// jitCount says how many just-in-time grants there are: "2 PIM-eligible", "1 PIM-eligible, 1
// PIM-active until its end time".
func jitCount(gs []rbac.Grant) string {
	eligible, timeBound := 0, 0
	for _, g := range gs {
		if g.TimeBound {
			timeBound++
		} else {
			eligible++
		}
	}
	s := fmt.Sprintf("%d PIM-eligible", eligible)
	if timeBound > 0 {
		s += fmt.Sprintf(", %d PIM-active until its end time", timeBound)
	}
	return s
}

func grantEvidence(gs []rbac.Grant) []Evidence {
	var out []Evidence
	for _, g := range gs {
		kind := "active"
		switch {
		case g.Eligible:
			kind = "PIM-eligible"
		case g.TimeBound:
			kind = "PIM-active until " + g.Until
		}
		out = append(out, Evidence{Path: g.Object.ID.String(), Value: fmt.Sprintf("%s %s %s holds %s at %s", kind, g.PrincipalType, g.PrincipalID, g.Role.Name, g.Scope)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

var checkLOCK003 = &Check{
	ID: "LOCK-003", Title: "No standing access to remove locks", Area: AreaManagement, Principle: LeastPrivilege, Severity: Critical,
	Rationale: "A lock only helps if the attacker cannot simply delete it. Every principal that holds Microsoft.Authorization/locks/delete " +
		"permanently (Owner, User Access Administrator, custom roles with Microsoft.Authorization/*) is one stolen credential away from " +
		"unlocking everything. The guidance asks for just-in-time elevation (PIM) for this right, with break-glass accounts the only exception. " +
		"One finding per standing assignment, listing the critical resources whose locks it can remove.",
	Fix: Remediation{
		Text: "Make the assignment PIM-eligible and remove the standing one (the command does both: a roleEligibilityScheduleRequest, then the delete); keep break-glass accounts on the allow-list in bulwark.yaml.",
		Command: func(t Target) string {
			if !t.Obj.IsType("Microsoft.Authorization/roleAssignments") {
				return ""
			}
			return pimMove(t.Obj, "Bulwark LOCK-003: lock removal just-in-time")
		},
	},
	Targets: lockDeleterTargets,
	Eval: func(e *Env, t Target) Verdict {
		if d, ok := e.lockAccess().deleters[t.Obj.ID.Key()]; ok {
			names := make([]string, 0, len(d.resources))
			for _, o := range d.resources {
				names = append(names, o.Name())
			}
			sort.Strings(names)
			shown := names
			if len(shown) > 10 {
				shown = append(append([]string(nil), shown[:10]...), fmt.Sprintf("+%d more", len(names)-10))
			}
			v := fail("can delete the locks of "+count(len(names), "critical resource", "critical resources")+" at any time",
				append(grantEvidence([]rbac.Grant{d.grant}), ev("critical resources it can unlock", strings.Join(shown, ", ")))...)
			for _, o := range d.resources { // each resource, and what depends on it
				v.AtRisk += 1 + e.Graph.BlastRadius(o.ID)
			}
			return v
		}
		// A subscription none of whose critical resources a standing assignment can unlock.
		if v, ok := e.needRBAC(t.Obj.ID); !ok {
			return v
		}
		sub := e.lockAccess().subs[strings.ToLower(t.Obj.ID.SubscriptionID())]
		return pass(fmt.Sprintf("no standing lock-delete access to its %s (%s)", count(sub.critical, "critical resource", "critical resources"), jitCount(sub.jit)), grantEvidence(sub.jit)...)
	},
}

// lockDeleter is a standing assignment that can delete the locks of critical resources.
type lockDeleter struct {
	grant     rbac.Grant
	resources []*arm.Object
}

// lockSubscription is what LOCK-003 knows of one subscription's critical resources.
type lockSubscription struct {
	critical int          // critical resources
	jit      []rbac.Grant // the just-in-time grants of lock deletion on them, each once
	unlocked bool         // some standing assignment can delete the locks of one of them
}

// lockAccesses is LOCK-003's view of the estate, computed once from each critical resource's
// grants of lock deletion.
type lockAccesses struct {
	deleters map[string]*lockDeleter      // standing, non-break-glass assignment ID key → what it covers
	subs     map[string]*lockSubscription // subscription ID (lower) → its critical resources
}

func (e *Env) lockAccess() *lockAccesses {
	e.lockingOnce.Do(func() { e.locking = e.buildLockAccess() })
	return e.locking
}

func (e *Env) buildLockAccess() *lockAccesses {
	la := &lockAccesses{deleters: map[string]*lockDeleter{}, subs: map[string]*lockSubscription{}}
	seen := map[string]bool{} // JIT grants already listed
	for _, t := range criticalTargets(e) {
		s := strings.ToLower(t.Obj.ID.SubscriptionID())
		sub := la.subs[s]
		if sub == nil {
			sub = &lockSubscription{}
			la.subs[s] = sub
		}
		sub.critical++
		if !e.rbacCollected(t.Obj.ID) {
			continue
		}
		active, jit := e.standing(t.Obj.ID, lockDelete)
		for _, g := range active {
			k := g.Object.ID.Key()
			d := la.deleters[k]
			if d == nil {
				d = &lockDeleter{grant: g}
				la.deleters[k] = d
			}
			d.resources = append(d.resources, t.Obj)
			sub.unlocked = true
		}
		for _, g := range jit {
			if k := s + "|" + g.Object.ID.Key(); !seen[k] {
				seen[k] = true
				sub.jit = append(sub.jit, g)
			}
		}
	}
	return la
}

// lockDeleterTargets: every standing assignment that can unlock a critical resource (a finding
// each), and every subscription with critical resources that none can unlock (a pass, or unknown
// without its role assignments).
func lockDeleterTargets(e *Env) []Target {
	la := e.lockAccess()
	keys := make([]string, 0, len(la.deleters))
	for k := range la.deleters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Target
	for _, k := range keys {
		g := la.deleters[k].grant
		out = append(out, Target{Obj: g.Object, Label: fmt.Sprintf("%s %s (%s at %s)", g.PrincipalType, g.PrincipalID, g.Role.Name, scopeName(g.Scope))})
	}
	for _, t := range subscriptions(e) {
		if sub, ok := la.subs[strings.ToLower(t.Obj.ID.SubscriptionID())]; ok && !sub.unlocked {
			out = append(out, t)
		}
	}
	return out
}

// scopeName is a scope for a sentence: "/" is the tenant root, a management group or
// subscription by its kind and name, anything else by its ID.
func scopeName(scope string) string {
	k := rbac.ScopeKey(scope)
	switch {
	case k == "":
		return "the tenant root"
	case strings.HasPrefix(k, "/providers/microsoft.management/managementgroups/"):
		return "management group " + scope[strings.LastIndexByte(scope, '/')+1:]
	case strings.Count(k, "/") == 2 && strings.HasPrefix(k, "/subscriptions/"):
		return "subscription " + scope[strings.LastIndexByte(scope, '/')+1:]
	case strings.Count(k, "/") == 4 && strings.Contains(k, "/resourcegroups/"):
		return "resource group " + scope[strings.LastIndexByte(scope, '/')+1:]
	}
	return scope
}

// pimMove is the command that makes a standing role assignment PIM-eligible (a
// roleEligibilityScheduleRequest with AdminAssign, REST spec authorization 2020-10-01) and then
// removes the standing one.
func pimMove(assignment *arm.Object, why string) string {
	scope, _ := assignment.Get("properties.scope").String()
	if scope == "" || scope == "/" {
		if p, ok := assignment.ID.Parent(); ok {
			scope = p.String()
		} else {
			scope = ""
		}
	}
	principal, _ := assignment.Get("properties.principalId").String()
	role, _ := assignment.Get("properties.roleDefinitionId").String()
	body := fmt.Sprintf(`{"properties":{"principalId":"%s","roleDefinitionId":"%s","requestType":"AdminAssign","justification":"%s","scheduleInfo":{"expiration":{"type":"NoExpiration"}}}}`, principal, role, why)
	return fmt.Sprintf("az rest --method put --url \"https://management.azure.com%s/providers/Microsoft.Authorization/roleEligibilityScheduleRequests/$(uuidgen)?api-version=2020-10-01\" --body '%s' && az role assignment delete --ids %s",
		strings.TrimSuffix(scope, "/"), body, assignment.ID.String())
}

func subscriptions(e *Env) []Target {
	out := e.ofTypes("Microsoft.Resources/subscriptions")
	if len(out) > 0 {
		return out
	}
	// No subscription objects: synthesise targets from the subscriptions seen in IDs.
	seen := map[string]bool{}
	for _, o := range e.Index.All() {
		if s, ok := o.ID.SubscriptionScope(); ok && !seen[s.Key()] {
			seen[s.Key()] = true
			out = append(out, Target{Obj: arm.MustObject(`{"id":"` + s.String() + `","type":"Microsoft.Resources/subscriptions"}`)})
		}
	}
	return out
}

var privileged = map[string]bool{strings.ToLower(rbac.Owner): true, strings.ToLower(rbac.Contributor): true, strings.ToLower(rbac.UserAccessAdministrator): true}

// atOrAbove reports whether a scope is the subscription itself, a management group or the root.
func atOrAbove(scope string, sub arm.ID) bool {
	s := rbac.ScopeKey(scope)
	return s == "" || s == sub.Key() || strings.HasPrefix(s, "/providers/microsoft.management/managementgroups/")
}

func subscriptionGrants(e *Env, sub arm.ID, principalType string, roles map[string]bool) (active, eligible []rbac.Grant) {
	all := e.RBAC.Assignments()
	for i := range all {
		a := &all[i]
		if !roles[strings.ToLower(a.RoleGUID)] || !strings.EqualFold(a.PrincipalType, principalType) || e.Config.IsBreakGlass(a.PrincipalID) {
			continue
		}
		if !atOrAbove(a.Scope, sub) || !e.RBAC.Covers(a.Scope, sub) {
			continue
		}
		r, _ := e.RBAC.Role(a.RoleGUID)
		g := rbac.Grant{Assignment: a, Role: r}
		if a.JIT() {
			eligible = append(eligible, g)
		} else {
			active = append(active, g)
		}
	}
	return active, eligible
}

var checkIAM001 = &Check{
	ID: "IAM-001", Title: "Privileged roles are just-in-time", Area: AreaManagement, Principle: LeastPrivilege, Severity: High,
	Rationale: "Destructive attacks start with a privileged identity. Users who hold Owner, Contributor or User Access Administrator on " +
		"a whole subscription around the clock turn one phished password into an estate-wide deletion; PIM makes the same access " +
		"time-bound, approved and logged.",
	Fix: Remediation{
		Text: "Convert standing privileged assignments of users at subscription or management-group scope into PIM eligible assignments.",
		Command: func(t Target) string {
			return "az role assignment list --scope " + t.ID() + " --query \"[?principalType=='User']\" -o table"
		},
	},
	Targets: subscriptions,
	Eval: func(e *Env, t Target) Verdict {
		if v, ok := e.needRBAC(t.Obj.ID); !ok {
			return v
		}
		active, eligible := subscriptionGrants(e, t.Obj.ID, "User", privileged)
		if len(active) > 0 {
			return fail(count(len(active), "user holds", "users hold")+" privileged roles permanently", grantEvidence(active)...)
		}
		return pass("no standing privileged users ("+jitCount(eligible)+")", grantEvidence(eligible)...)
	},
}

var checkIAM002 = &Check{
	ID: "IAM-002", Title: "Automation identities are least-privileged", Area: AreaManagement, Principle: LeastPrivilege, Severity: High,
	Rationale: "Pipeline and automation identities hold credentials that live in many places (agents, variable groups, scripts). " +
		"Owner or User Access Administrator on a subscription lets whoever steals them grant themselves anything and remove every " +
		"protection; deployments need scoped roles, not ownership.",
	Fix: Remediation{
		Text: "Give automation identities Contributor (or narrower) on the resource groups they deploy to, and remove Owner/User Access Administrator at subscription scope.",
		Command: func(t Target) string {
			return "az role assignment list --scope " + t.ID() + " --query \"[?principalType=='ServicePrincipal']\" -o table"
		},
	},
	Targets: subscriptions,
	Eval: func(e *Env, t Target) Verdict {
		if v, ok := e.needRBAC(t.Obj.ID); !ok {
			return v
		}
		roles := map[string]bool{strings.ToLower(rbac.Owner): true, strings.ToLower(rbac.UserAccessAdministrator): true}
		active, _ := subscriptionGrants(e, t.Obj.ID, "ServicePrincipal", roles)
		if len(active) > 0 {
			return fail(count(len(active), "service principal or managed identity owns", "service principals or managed identities own")+" the subscription", grantEvidence(active)...)
		}
		return pass("no automation identity holds Owner or User Access Administrator on the subscription")
	},
}
