package assess

import (
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/graph"
	"github.com/bulwarkhq/bulwark/internal/iac"
	"github.com/bulwarkhq/bulwark/internal/rbac"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// Env is everything checks read: the snapshot, its index, and models derived from it once.
type Env struct {
	Snapshot *arm.Snapshot
	Index    *arm.Index
	Config   config.Config
	Apps     *apps.File // nil without apps.yaml
	Members  *apps.Membership
	Graph    *graph.Graph
	RBAC     *rbac.Model
	IaC      *iac.Inventory  // nil without --iac
	Recovery *recovery.Model // the recovery paths of every resource
	Now      time.Time       // the snapshot's collection time: ages are measured from it
	Today    time.Time       // when exceptions' expiry is judged (zero: the wall clock)

	activityWorkspace map[string][]*arm.Object // workspace ID key → subscription diagnostic settings sending to it
	locksSeen         bool
	// Views built on first use; Run evaluates checks on several goroutines.
	rbacMu       sync.Mutex
	rbacSeen     map[string]bool // subscription ID (lower) → some role assignment applies to it
	criticalOnce sync.Once
	critical     []Target
	lockingOnce  sync.Once
	locking      *lockAccesses // LOCK-003's view
}

// Inputs are what NewEnv builds an Env from.
type Inputs struct {
	Snapshot *arm.Snapshot
	Config   config.Config
	Apps     *apps.File
	IaC      *iac.Inventory
}

// NewEnv derives the models every check shares.
func NewEnv(in Inputs) *Env {
	x := in.Snapshot.Index()
	e := &Env{Snapshot: in.Snapshot, Index: x, Config: in.Config, Apps: in.Apps, IaC: in.IaC, Now: in.Snapshot.CollectedAt}
	if e.Now.IsZero() {
		e.Now = time.Now().UTC()
	}
	e.Members = apps.Resolve(in.Apps, x, in.Config)
	e.Graph = graph.Build(x, appDeps{e})
	e.RBAC = rbac.New(x)
	e.Recovery = recovery.New(x, e.Members, in.IaC)
	e.activityWorkspace = map[string][]*arm.Object{}
	for _, ds := range x.OfType("Microsoft.Insights/diagnosticSettings") {
		if p, ok := ds.ID.Parent(); !ok || !strings.EqualFold(p.Type(), "Microsoft.Resources/subscriptions") {
			continue
		}
		if ws, ok := diagProp(ds, "workspaceId").String(); ok && ws != "" {
			k := arm.KeyOf(ws)
			e.activityWorkspace[k] = append(e.activityWorkspace[k], ds)
		}
	}
	e.locksSeen = len(x.OfType("Microsoft.Authorization/locks")) > 0
	e.rbacSeen = map[string]bool{}
	return e
}

// rbacCollected reports whether the snapshot holds role assignments that apply to id's
// subscription. Every real subscription has at least one, so none at all means they were not
// collected, and identity checks must say unknown rather than pass.
func (e *Env) rbacCollected(id arm.ID) bool {
	subScope, ok := id.SubscriptionScope()
	if !ok {
		return e.RBAC.HasAssignmentData()
	}
	k := subScope.Key()
	e.rbacMu.Lock()
	defer e.rbacMu.Unlock()
	if seen, ok := e.rbacSeen[k]; ok {
		return seen
	}
	seen := false
	for _, a := range e.RBAC.Assignments() {
		if e.RBAC.Covers(a.Scope, subScope) || strings.HasPrefix(strings.ToLower(a.Scope), k+"/") {
			seen = true
			break
		}
	}
	e.rbacSeen[k] = seen
	return seen
}

// appDeps adapts the membership and apps.yaml to the graph's application dependencies.
type appDeps struct{ e *Env }

func (a appDeps) Of(id arm.ID) (string, bool) {
	name, how, ok := a.e.Members.Of(id)
	return name, ok && how != apps.ByGroupName
}

func (a appDeps) DependsOn(app string) []string {
	if x, ok := a.e.Apps.Find(app); ok {
		return x.DependsOn
	}
	return nil
}

// collectFailed reports a collection error for scope (or a scope above it) whose operation
// mentions what, so that a check can say unknown instead of fail.
func (e *Env) collectFailed(id arm.ID, what string) (arm.CollectError, bool) {
	for _, ce := range e.Snapshot.Errors {
		if !strings.Contains(strings.ToLower(ce.Operation), strings.ToLower(what)) {
			continue
		}
		scope, err := arm.ParseID(ce.Scope)
		if err == nil && scope.Contains(id) {
			return ce, true
		}
	}
	return arm.CollectError{}, false
}

// topLevel reports whether o is a resource in its own right (not a child setting, an extension or
// a container).
func topLevel(o *arm.Object) bool { return arm.TopLevel(o) }

// BusinessCritical reports whether o is business-critical: tagged with a criticality value from
// the settings, or in an application marked critical in apps.yaml.
func (e *Env) BusinessCritical(o *arm.Object) (bool, string) {
	tag := e.Config.Criticality.Tag
	if v, ok := o.Tag(tag); ok {
		for _, want := range e.Config.Criticality.Values {
			if strings.EqualFold(v, want) {
				return true, "tag " + tag + "=" + v
			}
		}
	}
	if a, ok := e.Members.App(o.ID); ok && a.Critical {
		return true, "application " + a.Name + " is critical"
	}
	return false, ""
}

// Critical reports whether o is critical by kind (what an attacker destroys first) or
// business-critical, and why.
func (e *Env) Critical(o *arm.Object) (bool, string) {
	if !topLevel(o) {
		return false, ""
	}
	t := strings.ToLower(o.Type())
	switch arm.ComponentOf(t) {
	case arm.ComponentRecovery:
		return true, "recovery infrastructure"
	case arm.ComponentData:
		return true, "data service"
	}
	switch t {
	case "microsoft.operationalinsights/workspaces":
		if len(e.activityWorkspace[o.ID.Key()]) > 0 {
			return true, "receives the activity log"
		}
	case "microsoft.network/virtualnetworkgateways", "microsoft.network/azurefirewalls", "microsoft.network/dnszones", "microsoft.network/privatednszones":
		return true, "hub network"
	case "microsoft.network/virtualnetworks":
		if len(o.Get("properties.virtualNetworkPeerings").List()) > 0 {
			return true, "hub network (peered VNet)"
		}
		for _, s := range o.Get("properties.subnets").List() {
			if n, _ := s.Get("name").String(); strings.EqualFold(n, "GatewaySubnet") {
				return true, "hub network (VNet with a gateway)"
			}
		}
	}
	return e.BusinessCritical(o)
}

// Locks returns the CanNotDelete and ReadOnly locks that apply to id: on it or any scope above.
func (e *Env) Locks(id arm.ID) []*arm.Object {
	return e.Index.ExtensionsCovering(id, "Microsoft.Authorization/locks")
}

// ofTypes returns the top-level objects of the given types.
func (e *Env) ofTypes(types ...string) []Target {
	var out []Target
	for _, t := range types {
		for _, o := range e.Index.OfType(t) {
			out = append(out, Target{Obj: o})
		}
	}
	return out
}

// regionKey normalises "West Europe" and "westeurope".
func regionKey(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, " ", ""))
}

// ProtectedItems returns the Recovery Services protected items backing up a resource (matched by
// sourceResourceId or virtualMachineId). Detect uses it to tell whether a deleted resource's backup
// survives.
func (e *Env) ProtectedItems(id arm.ID) []*arm.Object { return e.Recovery.ProtectedItems(id) }

// vaultOf returns the Recovery Services vault a protected item lives in.
func (e *Env) vaultOf(item *arm.Object) (*arm.Object, bool) {
	for _, a := range item.ID.Ancestors() {
		if strings.EqualFold(a.Type(), "Microsoft.RecoveryServices/vaults") {
			return e.Index.Get(a.String())
		}
	}
	return nil, false
}
