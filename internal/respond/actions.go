package respond

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// DefaultEndpoint is Azure Resource Manager in the public cloud.
const DefaultEndpoint = arm.PublicEndpoint

// path is id with the api-version query of its type, when Bulwark knows one.
func (b *builder) path(id, typ string) string {
	v, ok := arm.APIVersion(typ)
	if !ok {
		return id
	}
	return id + "?api-version=" + v
}

// graphEndpoint is Microsoft Graph's, where a compromised user or service principal is disabled.
const graphEndpoint = "https://graph.microsoft.com"

func sub(o *arm.Object) string { return o.ID.SubscriptionID() }
func rg(o *arm.Object) string  { return o.ID.ResourceGroup() }

// q quotes a value for a POSIX shell when it needs it.
func q(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Estimated durations in minutes, per action: a planning figure for the critical path, not a promise.
const (
	minRoleAssignment   = 5
	minDisablePrincipal = 10
	minEvidence         = 20
	minDiskSnapshot     = 15
	minKeyVaultRecover  = 10
	minVaultSettings    = 10
	minBackupUndelete   = 15
	minVaultRebuild     = 30
	minIaCDeploy        = 20
	minNetworkGateway   = 60
	minSnapshotRebuild  = 45
	minStorageRecover   = 30
	minBlobRestore      = 60
	minSQLRestore       = 60
	minSQLFailover      = 15
	minServerRebuild    = 30
	minVMRestore        = 120
	minVMFromDisks      = 30
	minFailover         = 45
	minAKSRestore       = 90
	minAKSRedeploy      = 60
	minCosmosRestore    = 120
	minAutomation       = 30
	minIdentity         = 15
	minLocks            = 10
	minAssess           = 30
	minClose            = 15
	minDeclareLost      = 5
	minGroup            = 5
)

// planResource gives one target its restore step (or records it lost) with the recipe of its type
// (recipes.go), from the strongest recovery path the snapshot shows that survived the incident.
func (b *builder) planResource(o *arm.Object) { recipeFor(o.Type()).Plan(b, o) }

// paths returns the recovery paths of o that the incident left standing.
func (b *builder) paths(o *arm.Object) []recovery.Path {
	var out []recovery.Path
	for _, p := range b.env.RecoveryPaths(o) {
		if p.Via != "" && b.inc != nil {
			via := strings.ToLower(p.Via)
			gone := false
			for k := range b.deleted {
				// The path's vehicle (a protected item, a vault, a replicated item) or something above it was deleted.
				if via == k || strings.HasPrefix(via, k+"/") {
					if !b.reversibleItem(k) {
						gone = true
					}
				}
			}
			if gone {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// reversibleItem: a deleted backup item that is still soft-deleted can be undeleted.
func (b *builder) reversibleItem(k string) bool {
	r, ok := b.touched[k]
	return ok && strings.HasSuffix(strings.ToLower(r.Type), "/protecteditems") && r.Recovery.Status == "reversible"
}

func strongest(paths []recovery.Path, kinds ...string) (recovery.Path, bool) {
	for _, p := range paths {
		if p.Partial {
			continue
		}
		for _, k := range kinds {
			if p.Kind == k {
				return p, true
			}
		}
	}
	return recovery.Path{}, false
}

// ---- recovery infrastructure -------------------------------------------------------------

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// lostData records data that a rebuild cannot bring back, without a step of its own.
func (b *builder) lostData(o *arm.Object, what, reason string) {
	since := time.Time{}
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok {
		since = r.Last
	}
	b.lostDataAt(o, since, what, reason)
}

func (b *builder) lostDataAt(o *arm.Object, since time.Time, what, reason string) {
	b.pb.Lost = append(b.pb.Lost, Lost{Resource: ref(o), What: what, Since: since, Reason: reason})
}

// ---- configuration-based services --------------------------------------------------------

// generic: configuration-based and other resources — IaC, else the snapshot's configuration, else lost.
func (b *builder) generic(o *arm.Object) {
	phase := phaseOf(o)
	if d, ok := strongest(b.paths(o), recovery.KindIaC); ok {
		b.deploy(o, d, phase)
		return
	}
	if p, ok := strongest(b.paths(o), recovery.KindDeclared); ok {
		b.declared(o, p, phase)
		return
	}
	if _, fromSnapshot := b.env.Index.Get(o.ID.String()); fromSnapshot && o.Get("properties").Exists() {
		s := b.rebuild(o, phase, "rebuild-from-snapshot", rebuildMinutes(o))
		if arm.ComponentOf(o.Type()) == arm.ComponentConfig {
			b.warn("no-iac", fmt.Sprintf("no IaC declares %s (%s): it is rebuilt by hand from the snapshot's configuration (%s), a weaker path than a tested template",
				o.Name(), arm.CanonicalType(o.Type()), s.Action))
		}
		return
	}
	b.lose(o, phase, "its configuration", "no IaC declares it and the snapshot does not hold its configuration")
}

func phaseOf(o *arm.Object) Phase {
	switch arm.ComponentOf(o.Type()) {
	case arm.ComponentVM:
		return VirtualMachine
	case arm.ComponentData:
		return Data
	case arm.ComponentRecovery:
		return RecoveryInfra
	case arm.ComponentAutomation:
		return Automation
	}
	return Configuration
}

func rebuildMinutes(o *arm.Object) int {
	if o.IsType("Microsoft.Network/virtualNetworkGateways") || o.IsType("Microsoft.Network/azureFirewalls") || o.IsType("Microsoft.Network/applicationGateways") {
		return minNetworkGateway
	}
	return minSnapshotRebuild
}

// deploy redeploys a resource from the template that declares it, incrementally. Resources from
// the same template and resource group share one step.
func (b *builder) deploy(o *arm.Object, p recovery.Path, phase Phase) *Step {
	d, _ := b.env.IaC.Find(o)
	file, where := d.File, d.Address
	group := rg(o)
	for _, s := range b.steps {
		if s.Action == "redeploy-from-iac" && s.Phase == phase && s.deployKey == file+"|"+strings.ToLower(sub(o))+"|"+strings.ToLower(group) {
			s.Resources = append(s.Resources, ref(o))
			s.keys = append(s.keys, o.ID.Key())
			b.covered[o.ID.Key()] = s
			if r, ok := b.rank[o.ID.Key()]; ok && r < s.rank {
				s.rank = r
			}
			if a, _, ok := b.env.Members.Of(o.ID); ok {
				b.appRes[a]++
			}
			s.Title = fmt.Sprintf("Redeploy %d resources from %s", len(s.Resources), filepath.Base(file))
			if rebuildMinutes(o) == minNetworkGateway && s.Minutes < minNetworkGateway {
				s.Minutes = minNetworkGateway
			}
			return s
		}
	}
	minutes := minIaCDeploy
	if rebuildMinutes(o) == minNetworkGateway {
		minutes = minNetworkGateway
	}
	var cmds []string
	var rest []arm.Request
	name := "bulwark-restore-" + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if d.Format == "terraform" {
		cmds = []string{fmt.Sprintf("terraform -chdir=%s apply -target=%s", q(filepath.Dir(file)), q(where))}
	} else {
		cmds = []string{fmt.Sprintf("az deployment group create --subscription %s --resource-group %s --name %s --template-file %s --mode Incremental",
			sub(o), q(group), q(name), q(file))}
		rest = []arm.Request{{Method: "PUT", Endpoint: b.host, Path: fmt.Sprintf("/subscriptions/%s/resourcegroups/%s/providers/Microsoft.Resources/deployments/%s?api-version=2024-03-01", sub(o), group, name),
			Body: map[string]any{"properties": map[string]any{"mode": "Incremental", "template": "<contents of " + file + ">"}}}}
	}
	s := &Step{Phase: phase, Action: "redeploy-from-iac", Path: p.Kind, Minutes: minutes, Activity: "restore-capabilities",
		Title:    "Redeploy " + o.Name() + " from " + filepath.Base(file),
		Detail:   "Deploy the template in incremental mode: it re-creates what is missing and leaves what exists. Check its parameters against the snapshot first (the template may have drifted: bulwark assess reports IAC-002).",
		Commands: cmds, REST: rest,
		Undo:      "delete what the deployment created (az deployment operation group list shows it)",
		deployKey: file + "|" + strings.ToLower(sub(o)) + "|" + strings.ToLower(group),
	}
	return b.add(s, o)
}

// rebuild re-creates a resource from the configuration the snapshot holds.
func (b *builder) rebuild(o *arm.Object, phase Phase, action string, min int) *Step {
	if d, ok := strongest(b.env.RecoveryPaths(o), recovery.KindIaC); ok {
		s := b.deploy(o, d, phase)
		s.Action = action
		return s
	}
	body := arm.Definition(o)
	file := o.Name() + ".json"
	s := &Step{Phase: phase, Action: action, Path: "snapshot-configuration", Minutes: min, Manual: true, Weak: true, Activity: "restore-capabilities",
		Title:    "Rebuild " + o.Name() + " from the snapshot's configuration",
		Detail:   "No IaC declares it: save its body (below; in CACAO the first command writes it) as " + file + " and re-create it. This is weaker than a template: secret values (keys, passwords, certificates) are not in the snapshot and must be set by hand, child resources (record sets, rules, containers) are not in the body, and the snapshot may be older than the last change.",
		Commands: []string{fmt.Sprintf("az resource create --id %s --is-full-object --properties @%s", q(o.ID.String()), q(file))},
		Body:     body,
		bodyFile: file,
		Undo:     fmt.Sprintf("az resource delete --ids %s", q(o.ID.String())),
	}
	if _, ok := arm.APIVersion(o.Type()); ok {
		s.REST = []arm.Request{{Method: "PUT", Endpoint: b.host, Path: b.path(o.ID.String(), o.Type()), Body: body}}
	}
	return b.add(s, o)
}

// declared: a recovery method written in apps.yaml (a DevOps organisation, an automation account).
func (b *builder) declared(o *arm.Object, p recovery.Path, phase Phase) {
	method := strings.TrimPrefix(p.Summary, "declared in apps.yaml: ")
	s := &Step{Phase: phase, Action: "restore-as-declared", Path: p.Kind, Minutes: minAutomation, Manual: true, Activity: "restore-capabilities",
		Title:    "Restore " + o.Name() + " as apps.yaml declares",
		Detail:   "apps.yaml declares how it is recovered: " + method + ".",
		Commands: []string{fmt.Sprintf("az resource show --ids %s --query id -o tsv  # confirm it is back", q(o.ID.String()))},
	}
	b.add(s, o)
}

// ---- data services -----------------------------------------------------------------------

// ---- virtual machines and clusters -------------------------------------------------------

// ---- automation and DevOps ---------------------------------------------------------------

// ---- resource groups, locks, containment and verification ---------------------------------

// resourceGroups re-creates deleted resource groups that something is restored into.
func (b *builder) resourceGroups() {
	for _, r := range b.incResources() {
		if !r.Deleted || !strings.EqualFold(r.Type, "Microsoft.Resources/resourceGroups") && !strings.EqualFold(r.Type, "Microsoft.Resources/subscriptions/resourceGroups") {
			continue
		}
		id, err := arm.ParseID(r.ID)
		if err != nil {
			continue
		}
		var inside []*Step
		for _, s := range b.steps {
			if s.Lost {
				continue
			}
			for _, k := range s.keys {
				if strings.HasPrefix(k, id.Key()+"/") {
					inside = append(inside, s)
					break
				}
			}
		}
		if len(inside) == 0 {
			continue // everything in it is lost: re-creating it would restore nothing
		}
		loc := ""
		if o, ok := b.env.Index.Get(r.ID); ok {
			loc = o.Location()
		}
		g := &Step{Phase: Configuration, Action: "recreate-resource-group", Minutes: minGroup, Activity: "restore-capabilities",
			Title:     "Re-create resource group " + id.Name(),
			Detail:    "Resources are restored into it, so it must exist first; re-apply its tags and locks from the snapshot.",
			Commands:  []string{fmt.Sprintf("az group create --name %s --location %s --subscription %s", q(id.Name()), q(orDefault(loc, "<location>")), id.SubscriptionID())},
			REST:      []arm.Request{{Method: "PUT", Endpoint: b.host, Path: "/subscriptions/" + id.SubscriptionID() + "/resourcegroups/" + id.Name() + "?api-version=" + arm.APIVersions["microsoft.resources/resourcegroups"], Body: map[string]any{"location": orDefault(loc, "<location>")}}},
			Undo:      "az group delete (only while empty)",
			Resources: []Ref{{ID: id.String(), Name: id.Name(), Type: "Microsoft.Resources/resourceGroups"}},
		}
		g.keys = []string{id.Key()}
		g.rank = -1
		b.steps = append(b.steps, g)
		for _, s := range inside {
			b.requires(s, g)
		}
	}
}

func (b *builder) incResources() []*incident.Resource {
	if b.inc == nil {
		return nil
	}
	return b.inc.Resources
}

// nameOf returns the last segment of an ARM ID, or "" when it is not one.
func nameOf(id string) string {
	if x, err := arm.ParseID(id); err == nil {
		return x.Name()
	}
	return ""
}

// rgOfID returns the resource group of an ARM ID, or "" when it is not one.
func rgOfID(id string) string {
	if x, err := arm.ParseID(id); err == nil {
		return x.ResourceGroup()
	}
	return ""
}
