package assess

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/iac"
)

// configTypes are the configuration-based services CFG-001/002 expect in IaC.
var configTypes = []string{
	"Microsoft.Network/virtualNetworks", "Microsoft.Network/networkSecurityGroups", "Microsoft.Network/routeTables",
	"Microsoft.Network/loadBalancers", "Microsoft.Network/publicIPAddresses", "Microsoft.Network/virtualNetworkGateways",
	"Microsoft.Network/applicationGateways", "Microsoft.Network/azureFirewalls", "Microsoft.Network/dnszones", "Microsoft.Network/privateDnsZones",
}

func noIaC() Verdict {
	return Verdict{Status: Unknown, Message: "cannot tell: no IaC was given (--iac PATH)", Missing: "infrastructure as code (--iac)"}
}

var checkCFG001 = &Check{
	ID: "CFG-001", Title: "Configuration-based services can be redeployed from IaC", Area: AreaConfig, Principle: AssumeBreach, Severity: Medium,
	Rationale: "Networks, gateways, firewalls and DNS hold no data: the guidance's recovery for them is redeployment from infrastructure " +
		"as code. A service declared nowhere must be rebuilt by hand, from memory, during an incident.",
	Fix: Remediation{Text: "Export the resource (az group export / Bicep decompile), review it, and add it to the application's IaC.",
		Command: func(t Target) string {
			return "az resource show --ids " + t.ID() + " -o json > " + name(t) + ".json && az bicep decompile --file " + name(t) + ".json"
		}},
	Targets: func(e *Env) []Target { return e.ofTypes(configTypes...) },
	Eval: func(e *Env, t Target) Verdict {
		if e.IaC == nil {
			return noIaC()
		}
		if d, ok := e.IaC.Find(t.Obj); ok {
			return pass("declared in IaC", ev("declared at", d.Source))
		}
		if u := e.IaC.UnresolvedOfType(t.Obj.Type()); len(u) > 0 {
			return warn("not found in IaC, but a declaration of this type has a name Bulwark could not resolve", ev(u[0].Source, u[0].Unresolved))
		}
		return fail("declared in none of the IaC given", ev("declarations of "+arm.CanonicalType(t.Obj.Type())+" named "+t.Obj.Name(), "none"))
	},
}

var checkCFG002 = &Check{
	ID: "CFG-002", Title: "IaC matches reality", Area: AreaConfig, Principle: VerifyExplicitly, Severity: Medium,
	Rationale: "A template that has drifted from what runs restores yesterday's network: missing subnets, rules or backend pools " +
		"break the applications that depend on them exactly when they are being recovered.",
	Fix:     Remediation{Text: "Bring the template up to date with the live configuration (or the live configuration back to the template), then redeploy in a test subscription to prove it."},
	Targets: func(e *Env) []Target { return e.ofTypes(configTypes...) },
	Eval: func(e *Env, t Target) Verdict {
		if e.IaC == nil {
			return noIaC()
		}
		d, ok := e.IaC.Find(t.Obj)
		if !ok {
			return na("not declared in IaC (see CFG-001)")
		}
		diffs, compared := iac.Compare(d, t.Obj)
		if !compared {
			return na("nothing Bulwark compares for this type")
		}
		if len(diffs) == 0 {
			return pass("the declaration matches the live configuration", ev("declared at", d.Source))
		}
		var evs []Evidence
		for _, df := range diffs {
			evs = append(evs, Evidence{Path: df.Path, Value: "declared " + df.Declared + ", live " + df.Live})
		}
		return fail(count(len(diffs), "difference", "differences")+": a redeploy would not restore what runs", evs...)
	},
}

func (e *Env) isBuildAgent(o *arm.Object) bool {
	for k, v := range e.Config.BuildAgentTag {
		if got, ok := o.Tag(k); ok && strings.EqualFold(got, v) {
			return true
		}
	}
	for _, p := range e.Config.BuildAgentName {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(o.Name())); ok {
			return true
		}
	}
	return false
}

var checkDEV001 = &Check{
	ID: "DEV-001", Title: "Build agents are recoverable", Area: AreaAutomation, Principle: AssumeBreach, Severity: Medium,
	Rationale: "Recovery runs through pipelines; if the build agents are gone, so is the ability to redeploy. Agents need a backup or, " +
		"better, a template that recreates them.",
	Fix: Remediation{Text: "Declare the agents (VM or scale set) in IaC, or back up agent VMs."},
	Targets: func(e *Env) []Target {
		var out []Target
		for _, t := range e.ofTypes("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets") {
			if e.isBuildAgent(t.Obj) {
				out = append(out, t)
			}
		}
		return out
	},
	Eval: func(e *Env, t Target) Verdict {
		if items := e.ProtectedItems(t.Obj.ID); len(items) > 0 {
			return pass("backed up", ev(items[0].ID.String()+" properties.protectionState", items[0].Get("properties.protectionState").Display()))
		}
		if d, ok := e.IaC.Find(t.Obj); ok {
			return pass("redeployable from IaC", ev("declared at", d.Source))
		}
		if e.IaC == nil && e.backupDataMissing() {
			return unknown("backups and IaC")
		}
		return fail("build agent with neither backup nor a redeploy template", ev("backup", "none"), ev("IaC declaration", "none"))
	},
}

// destructive actions DEV-002 looks for.
var recoveryDestroying = []string{
	lockDelete,
	"Microsoft.RecoveryServices/vaults/delete",
	"Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/delete",
	"Microsoft.DataProtection/backupVaults/delete",
	"Microsoft.DataProtection/backupVaults/backupInstances/delete",
}

var checkDEV002 = &Check{
	ID: "DEV-002", Title: "Pipeline identities cannot destroy recovery", Area: AreaAutomation, Principle: LeastPrivilege, Severity: High,
	Rationale: "Pipelines and automation are the usual way into an estate for attackers who compromise source control. Their " +
		"identities must not be able to delete locks, vaults or backups — the deployments never need to.",
	Fix: Remediation{Text: "Scope automation identities to the resource groups they deploy, with roles that exclude Microsoft.Authorization/*/Delete and backup deletion (Contributor, or a custom role)."},
	Targets: func(e *Env) []Target {
		seen := map[string]bool{}
		var out []Target
		for _, a := range e.RBAC.Assignments() {
			if strings.EqualFold(a.PrincipalType, "ServicePrincipal") && a.Standing() && !seen[strings.ToLower(a.PrincipalID)] {
				seen[strings.ToLower(a.PrincipalID)] = true
				out = append(out, Target{Obj: a.Object, Label: "service principal " + a.PrincipalID})
			}
		}
		return out
	},
	Eval: func(e *Env, t Target) Verdict {
		principal, _ := t.Obj.Get("properties.principalId").String()
		var can []string
		var evs []Evidence
		for _, a := range e.RBAC.Assignments() {
			if !a.Standing() || !strings.EqualFold(a.PrincipalID, principal) {
				continue
			}
			r, ok := e.RBAC.Role(a.RoleGUID)
			if !ok {
				continue
			}
			for _, act := range recoveryDestroying {
				if r.Allows(act) {
					can = append(can, act)
					evs = append(evs, Evidence{Path: a.Object.ID.String(), Value: r.Name + " at " + a.Scope + " allows " + act})
					break
				}
			}
		}
		if len(can) > 0 {
			return fail("service principal "+principal+" can destroy recovery", evs...)
		}
		return pass("service principal " + principal + " cannot delete locks, vaults or backups")
	},
}

var checkDEV003 = &Check{
	ID: "DEV-003", Title: "Source and pipelines are backed up", Area: AreaAutomation, Principle: AssumeBreach, Severity: Info,
	Rationale: "Azure has no native backup for Azure DevOps organisations or automation runbooks: repositories, pipelines and runbooks " +
		"must be exported or mirrored. apps.yaml is where that recovery method is declared.",
	Fix: Remediation{Text: "Mirror repositories and export pipelines/runbooks on a schedule to immutable storage, and declare the method under the application's backups in apps.yaml."},
	Targets: func(e *Env) []Target {
		return e.ofTypes("microsoft.visualstudio/account", "Microsoft.Automation/automationAccounts")
	},
	Eval: func(e *Env, t Target) Verdict {
		if e.Apps != nil {
			for _, a := range e.Apps.Apps {
				for _, b := range a.Backups {
					if strings.EqualFold(strings.TrimSuffix(b.Resource, "/"), t.Obj.ID.String()) {
						return pass("backup declared by application "+a.Name, ev("apps.yaml "+a.Name+" backups", b.Method))
					}
				}
			}
		}
		return fail("no backup declared in apps.yaml", ev("apps.yaml backups for this resource", "none"))
	},
}

// activityCategories are the activity log categories DET-001 requires.
var activityCategories = []string{"Administrative", "Security", "Policy", "Alert"}

// diagProp reads a diagnostic setting's property, from "properties" as ARM returns it or from the
// top level, where older az CLI versions flatten it ("az monitor diagnostic-settings list" output
// quoted in azure-cli issue 18242: "logs", "workspaceId" beside "id").
func diagProp(ds *arm.Object, name string) arm.Value {
	if v := ds.Get("properties." + name); v.Exists() {
		return v
	}
	if v := ds.Get(name); v.Exists() {
		return v
	}
	return ds.Get("properties." + name)
}

func sendsActivity(ds *arm.Object) (map[string]bool, bool) {
	got := map[string]bool{}
	for _, l := range diagProp(ds, "logs").List() {
		if on, _ := l.Get("enabled").Bool(); !on {
			continue
		}
		if g, _ := l.Get("categoryGroup").String(); strings.EqualFold(g, "allLogs") {
			for _, c := range activityCategories {
				got[c] = true
			}
		}
		if c, _ := l.Get("category").String(); c != "" {
			for _, want := range activityCategories {
				if strings.EqualFold(c, want) {
					got[want] = true
				}
			}
		}
	}
	ws, _ := diagProp(ds, "workspaceId").String()
	return got, ws != ""
}

var checkDET001 = &Check{
	ID: "DET-001", Title: "Activity log reaches a workspace", Area: AreaDetection, Principle: VerifyExplicitly, Severity: High,
	Rationale: "Every destructive operation is written to the activity log, which Azure keeps for only 90 days and cannot query at " +
		"scale. Detection needs the Administrative, Security, Policy and Alert categories flowing to a Log Analytics workspace.",
	Fix: Remediation{Bicep: bicepDiag, Text: "Create a subscription diagnostic setting sending allLogs to the security workspace.",
		Command: func(t Target) string {
			return "az monitor diagnostic-settings subscription create --name activity-to-sentinel --location westeurope --subscription " + t.Obj.ID.SubscriptionID() +
				" --workspace <workspace-id> --logs '[{\"categoryGroup\":\"allLogs\",\"enabled\":true}]'"
		},
		Policy: &Policy{Name: "Configure Azure Activity logs to stream to specified Log Analytics workspace", ID: "2465583e-4e78-4c15-b6be-a36cbc7c8b0f"}},
	Targets: subscriptions,
	Eval: func(e *Env, t Target) Verdict {
		settings := e.Index.ExtensionsAt(t.Obj.ID, "Microsoft.Insights/diagnosticSettings")
		if len(settings) == 0 {
			if ce, ok := e.collectFailed(t.Obj.ID, "diagnostic"); ok {
				return unknown("the subscription's diagnostic settings", ev(ce.Operation, ce.Message))
			}
			if len(e.Index.OfType("Microsoft.Insights/diagnosticSettings")) == 0 {
				return unknown("subscription diagnostic settings (Microsoft.Insights/diagnosticSettings)")
			}
			return fail("no subscription diagnostic setting", ev("diagnosticSettings", "none"))
		}
		var best []string
		for _, ds := range settings {
			got, toWS := sendsActivity(ds)
			var miss []string
			for _, c := range activityCategories {
				if !got[c] {
					miss = append(miss, c)
				}
			}
			if toWS && len(miss) == 0 {
				ws, logs := diagProp(ds, "workspaceId"), diagProp(ds, "logs")
				return pass("setting "+ds.Name()+" sends the activity log to a workspace", Evidence{Path: ws.Path(), Value: ws.Display()}, Evidence{Path: logs.Path(), Value: logs.Display()})
			}
			if best == nil || len(miss) < len(best) {
				best = miss
				if !toWS {
					best = append(best, "(no workspace)")
				}
			}
		}
		logs := diagProp(settings[0], "logs")
		return fail("the activity log does not fully reach a workspace: missing "+strings.Join(best, ", "), Evidence{Path: logs.Path(), Value: logs.Display()})
	},
}

func activityWorkspaces(e *Env) []Target {
	var out []Target
	for _, o := range e.Index.OfType("Microsoft.OperationalInsights/workspaces") {
		if len(e.activityWorkspace[o.ID.Key()]) > 0 {
			out = append(out, Target{Obj: o})
		}
	}
	return out
}

var checkDET002 = &Check{
	ID: "DET-002", Title: "Microsoft Sentinel watches it", Area: AreaDetection, Principle: VerifyExplicitly, Severity: Medium,
	Rationale: "A workspace that nobody queries detects nothing. Sentinel (or Bulwark's rules exported to it) runs detections over the activity log continuously.",
	Fix: Remediation{Bicep: bicepSentinel, Text: "Onboard the workspace to Microsoft Sentinel.", Command: func(t Target) string {
		return "az sentinel onboarding-state create --resource-group " + rg(t) + " --workspace-name " + name(t) + " --name default"
	}},
	Targets: activityWorkspaces,
	Eval: func(e *Env, t Target) Verdict {
		on := e.Index.ChildrenOfType(t.Obj.ID, "Microsoft.SecurityInsights/onboardingStates")
		if len(on) > 0 {
			return pass("onboarded to Sentinel", ev("onboardingStates", on[0].ID.String()))
		}
		return fail("receives the activity log but is not onboarded to Sentinel", ev("Microsoft.SecurityInsights/onboardingStates", "none"))
	},
}

var defenderPlans = []string{"VirtualMachines", "StorageAccounts", "SqlServers", "KeyVaults", "Arm", "Containers", "CloudPosture"}

var checkDET003 = &Check{
	ID: "DET-003", Title: "Defender for Cloud plans", Area: AreaDetection, Principle: VerifyExplicitly, Severity: Medium,
	Rationale: "Defender for Resource Manager, Key Vault, Storage and servers alert on the suspicious operations that precede " +
		"destruction (mass deletes, unusual key access, anomalous ARM calls); the free tier does not.",
	Fix: Remediation{Bicep: bicepDefender, Text: "Enable the Standard tier of the listed plans.", Command: func(t Target) string {
		return "az security pricing create --subscription " + t.Obj.ID.SubscriptionID() + " --tier Standard --name <plan>"
	}},
	Targets: subscriptions,
	Eval: func(e *Env, t Target) Verdict {
		pricings := e.Index.ExtensionsAt(t.Obj.ID, "Microsoft.Security/pricings")
		if len(pricings) == 0 {
			return unknown("Microsoft.Security/pricings of subscription " + t.Obj.ID.SubscriptionID())
		}
		tiers := map[string]string{}
		for _, p := range pricings {
			tier, _ := p.Get("properties.pricingTier").String()
			tiers[strings.ToLower(p.Name())] = tier
		}
		var off []string
		var evs []Evidence
		for _, plan := range defenderPlans {
			tier, ok := tiers[strings.ToLower(plan)]
			if !ok {
				tier = "absent"
			}
			evs = append(evs, Evidence{Path: "pricings/" + plan, Value: tier})
			if !strings.EqualFold(tier, "Standard") {
				off = append(off, plan)
			}
		}
		if len(off) > 0 {
			return fail("plans not on Standard: "+strings.Join(off, ", "), evs...)
		}
		return pass("all plans on Standard", evs...)
	},
}

var checkDET004 = &Check{
	ID: "DET-004", Title: "The log itself is protected", Area: AreaDetection, Principle: AssumeBreach, Severity: High,
	Rationale: "Attackers delete the evidence too. The workspace that receives the activity log needs a lock, and retention long " +
		"enough (90 days or more) to investigate an intrusion that started weeks before the destruction.",
	Fix: Remediation{Bicep: bicepWorkspace, Text: "Lock the workspace and set retention to at least 90 days.", Command: func(t Target) string {
		return "az monitor log-analytics workspace update --resource-group " + rg(t) + " --workspace-name " + name(t) + " --retention-time 365"
	}},
	Targets: activityWorkspaces,
	Eval: func(e *Env, t Target) Verdict {
		ret := prop(t.Obj, "properties.retentionInDays")
		n, _ := t.Obj.Prop("properties.retentionInDays").Int()
		if !e.locksSeen {
			return unknown("Microsoft.Authorization/locks", ret)
		}
		locks := e.Locks(t.Obj.ID)
		var bad []string
		if len(locks) == 0 {
			bad = append(bad, "no lock")
		}
		if n < 90 {
			bad = append(bad, fmt.Sprintf("retention %d days", n))
		}
		evs := append(lockEvidence(locks), ret)
		if len(bad) > 0 {
			return fail("the activity log's workspace is exposed: "+strings.Join(bad, ", "), evs...)
		}
		return pass(fmt.Sprintf("locked, %d days retention", n), evs...)
	},
}

// responseTargets are the resources of components A–E that RSP-001/002 judge.
func responseTargets(e *Env) []Target {
	var out []Target
	for _, o := range e.Index.All() {
		if topLevel(o) && arm.ComponentOf(o.Type()) != arm.ComponentNone {
			out = append(out, Target{Obj: o})
		}
	}
	return out
}

var checkRSP001 = &Check{
	ID: "RSP-001", Title: "Every resource belongs to an application with a recovery plan", Area: AreaResponse, Principle: VerifyExplicitly, Severity: Low,
	Rationale: "The guidance asks for recovery plans per application and shared service, with defined dependencies. A resource that " +
		"belongs to no application is in nobody's plan and will be forgotten during recovery.",
	Fix:     Remediation{Text: "Add the resource (or its resource group) to an application in apps.yaml, or tag it with the application tag."},
	Targets: responseTargets,
	Eval: func(e *Env, t Target) Verdict {
		app, how, ok := e.Members.Of(t.Obj.ID)
		if ok && how != "resource group" {
			return pass("belongs to application "+app, ev("mapped by", string(how)))
		}
		return fail("belongs to no application", ev("apps.yaml selectors and the "+e.Config.ApplicationTag+" tag", "no match"))
	},
}

var checkRSP002 = &Check{
	ID: "RSP-002", Title: "Every resource has a recovery path", Area: AreaResponse, Principle: AssumeBreach, Severity: High,
	Rationale: "A resource with no backup, no replica, no protected soft-delete window and no template is lost for good the moment it " +
		"is deleted. These are the resources a destructive attack costs permanently.",
	Fix:     Remediation{Text: "Give the resource a recovery path: backup, replication, soft delete with purge protection, or a template that recreates it."},
	Targets: responseTargets,
	Eval: func(e *Env, t Target) Verdict {
		if p := e.recoveryPath(t.Obj); p != "" {
			return pass("recoverable: "+p, ev("recovery path", p))
		}
		if e.IaC == nil && arm.ComponentOf(t.Obj.Type()) == arm.ComponentConfig {
			return noIaC()
		}
		return fail("no recovery path: lost for good if destroyed", ev("backup, replication, protected soft delete, IaC", "none"))
	},
}

var checkRSP003 = &Check{
	ID: "RSP-003", Title: "Recovery is rehearsed", Area: AreaResponse, Principle: VerifyExplicitly, Severity: Medium,
	Rationale: "A recovery plan that has never run fails in ways nobody predicted. The guidance asks for regular drills; Site Recovery " +
		"test failovers older than 180 days no longer prove anything about today's configuration.",
	Fix: Remediation{Text: "Run a recovery drill (restore into an isolated subscription, Site Recovery test failover) and record it under drills in apps.yaml."},
	Targets: func(e *Env) []Target {
		if e.Apps == nil {
			return nil
		}
		var out []Target
		for _, a := range e.Apps.Apps {
			out = append(out, Target{App: a.Name})
		}
		return out
	},
	Eval: func(e *Env, t Target) Verdict {
		a, _ := e.Apps.Find(t.App)
		if len(a.Drills) == 0 {
			return fail("no recorded drill", ev("apps.yaml "+a.Name+" drills", "none"))
		}
		last, _ := a.Drills[0].Time()
		for _, d := range a.Drills[1:] {
			if tm, _ := d.Time(); tm.After(last) {
				last = tm
			}
		}
		dev := ev("apps.yaml "+a.Name+" drills (latest)", last.Format("2006-01-02"))
		for _, o := range e.Index.All() {
			if app, _, ok := e.Members.Of(o.ID); !ok || !strings.EqualFold(app, a.Name) {
				continue
			}
			for _, ri := range e.Recovery.Replicated(o.ID) {
				if a, ok := age(e, ri.Get("properties.lastSuccessfulTestFailoverTime")); !ok || a > 180*24*time.Hour {
					return warn("drilled, but "+o.Name()+"'s replica has not been test-failed-over in 180 days", dev, prop(ri, "properties.lastSuccessfulTestFailoverTime"))
				}
			}
		}
		if e.Now.Sub(last) > 365*24*time.Hour {
			return warn("last drill is more than a year old", dev)
		}
		return pass("rehearsed", dev)
	},
}
