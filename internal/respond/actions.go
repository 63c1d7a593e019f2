package respond

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/incident"
)

const armHost = "https://management.azure.com"

func url(id, typ string) string {
	v, ok := arm.APIVersion(typ)
	if !ok {
		return armHost + id
	}
	return armHost + id + "?api-version=" + v
}

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

// planResource gives one target its restore step (or records it lost), by type and by the
// strongest recovery path the snapshot shows that survived the incident.
func (b *builder) planResource(o *arm.Object) {
	typ := strings.ToLower(arm.CanonicalType(o.Type()))
	switch typ {
	case "microsoft.keyvault/vaults":
		b.keyVault(o)
	case "microsoft.recoveryservices/vaults", "microsoft.dataprotection/backupvaults":
		b.backupVault(o)
	case "microsoft.storage/storageaccounts":
		b.storageAccount(o)
	case "microsoft.sql/servers", "microsoft.sql/managedinstances":
		b.sqlServer(o)
	case "microsoft.sql/servers/databases", "microsoft.sql/managedinstances/databases":
		b.sqlDatabase(o)
	case "microsoft.documentdb/databaseaccounts":
		b.cosmos(o)
	case "microsoft.compute/virtualmachines":
		b.virtualMachine(o)
	case "microsoft.containerservice/managedclusters":
		b.aks(o)
	case "microsoft.managedidentity/userassignedidentities":
		b.identity(o)
	default:
		b.generic(o)
	}
}

// paths returns the recovery paths of o that the incident left standing.
func (b *builder) paths(o *arm.Object) []assess.RecoveryPath {
	var out []assess.RecoveryPath
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

func strongest(paths []assess.RecoveryPath, kinds ...string) (assess.RecoveryPath, bool) {
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
	return assess.RecoveryPath{}, false
}

// ---- recovery infrastructure -------------------------------------------------------------

func (b *builder) keyVault(o *arm.Object) {
	name, loc := o.Name(), o.Location()
	if b.purged[strings.ToLower(name)] {
		b.lose(o, RecoveryInfra, "keys, secrets and certificates", "deleted, then purged"+b.dependentsNote(o))
		return
	}
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok && r.Recovery.Status == "lost" {
		b.lose(o, RecoveryInfra, "keys, secrets and certificates", r.Recovery.Reason+b.dependentsNote(o))
		return
	}
	p, ok := strongest(b.env.RecoveryPaths(o), "soft-delete")
	if !ok {
		if d, ok := strongest(b.env.RecoveryPaths(o), "iac"); ok {
			s := b.deploy(o, d, RecoveryInfra)
			s.Detail += " Soft delete is off, so its keys, secrets and certificates are lost: re-issue them and re-point what used them" + b.dependentsNote(o) + "."
			b.lostData(o, "keys, secrets and certificates", "soft delete is off: deleting the vault destroys its contents")
			return
		}
		b.lose(o, RecoveryInfra, "keys, secrets and certificates", "soft delete is off and no IaC declares it"+b.dependentsNote(o))
		return
	}
	tenant, _ := o.Prop("properties.tenantId").String()
	sku, _ := o.Prop("properties.sku.name").String()
	s := &Step{Phase: RecoveryInfra, Action: "recover-key-vault", Path: p.Kind, Minutes: minKeyVaultRecover, Activity: "restore-capabilities", Weak: p.Weak,
		Title: "Recover Key Vault " + name + " from soft delete",
		Detail: fmt.Sprintf("Recover the vault (do not re-create it: a new vault has new keys). %s keeps deleted vaults for %s; purge protection %s.",
			name, days(p.Window), map[bool]string{true: "is OFF, so recover it now, before anyone purges it", false: "is on"}[p.Weak]),
		Condition: &Condition{
			Check:     fmt.Sprintf("az keyvault show-deleted --name %s --subscription %s --query id -o tsv", q(name), sub(o)),
			Means:     "the soft-deleted vault still exists",
			Otherwise: "it was purged or has expired: its keys, secrets and certificates are lost; redeploy it from IaC and re-issue them",
		},
		Commands: []string{fmt.Sprintf("az keyvault recover --name %s --resource-group %s --subscription %s", q(name), q(rg(o)), sub(o))},
		REST: []REST{{Method: "PUT", URL: url(o.ID.String(), o.Type()), Body: map[string]any{"location": loc,
			"properties": map[string]any{"createMode": "recover", "tenantId": tenant, "sku": map[string]any{"family": "A", "name": orDefault(sku, "standard")}}}}},
		Undo: "none needed: deleting it again returns it to soft delete",
	}
	b.add(s, o)
}

func (b *builder) dependentsNote(o *arm.Object) string {
	var names []string
	for _, d := range b.env.Graph.Dependents(o) {
		if !d.ID.IsExtension() && !strings.HasPrefix(strings.ToLower(d.Type()), "microsoft.resources/") {
			names = append(names, d.Name())
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "; what depends on it (" + strings.Join(names, ", ") + ") loses its keys: data encrypted with them is unreadable"
}

func days(d time.Duration) string {
	if d <= 0 {
		return "its retention period"
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// backupVault: a deleted vault's recovery points are gone; the vault itself is rebuilt so that
// protection can resume.
func (b *builder) backupVault(o *arm.Object) {
	if b.inc == nil {
		// An application plan assumes the recovery infrastructure did its job: Azure refuses to
		// delete a vault that still holds items, soft-deleted ones included. The step checks.
		s := b.rebuild(o, RecoveryInfra, "rebuild-backup-vault", minVaultRebuild)
		s.Activity = "restore-capabilities"
		s.Condition = &Condition{
			Check:     fmt.Sprintf("! az resource show --ids %s --query id -o tsv", q(o.ID.String())),
			Means:     "the vault is gone",
			Otherwise: "the vault survived: skip this step and restore from it",
		}
		s.Detail += " If it is gone, its recovery points are gone with it: everything it protected can then only come back from another copy. After rebuilding, re-enable soft delete (AlwaysON), immutability and multi-user authorization, and re-protect every item."
		return
	}
	b.lostData(o, "its recovery points", "a deleted vault's recovery points cannot be brought back (vault soft delete keeps items, not the vault)")
	s := b.rebuild(o, RecoveryInfra, "rebuild-backup-vault", minVaultRebuild)
	s.Activity = "restore-capabilities"
	s.Detail += " Then re-enable soft delete (AlwaysON), immutability and multi-user authorization, and re-protect every item with its policy: new backups start from zero."
}

// recoveryInfraChanges: settings the incident changed on vaults that survived, and backup items it
// deleted that are still soft-deleted.
func (b *builder) recoveryInfraChanges() {
	for _, r := range b.inc.Resources {
		typ := strings.ToLower(r.Type)
		if r.Status == "Failure" {
			continue
		}
		switch {
		case typ == "microsoft.recoveryservices/vaults/backupconfig":
			vaultID := parentID(r.ID, 2)
			if b.deleted[strings.ToLower(vaultID)] {
				continue
			}
			v, ok := b.env.Index.Get(vaultID)
			if !ok {
				continue
			}
			cfg := armHost + vaultID + "/backupconfig/vaultconfig?api-version=" + arm.APIVersions["microsoft.recoveryservices/backup"]
			s := &Step{Phase: RecoveryInfra, Action: "re-enable-vault-soft-delete", Minutes: minVaultSettings, Activity: "revert-system",
				Title:  "Re-enable soft delete and security features on " + v.Name(),
				Detail: "The attacker turned soft delete or the security features off on this vault. Turn them back on before any restore, so the items restored next cannot be deleted for good. Then make it AlwaysON through the harden plan (irreversible).",
				Commands: []string{fmt.Sprintf("az backup vault backup-properties set --name %s --resource-group %s --subscription %s --soft-delete-feature-state Enable",
					q(v.Name()), q(rg(v)), sub(v))},
				REST: []REST{{Method: "PATCH", URL: cfg, Body: map[string]any{"properties": map[string]any{"softDeleteFeatureState": "Enabled", "enhancedSecurityState": "Enabled"}}}},
				Undo: "none: leave it on",
			}
			b.requires(b.add(s, v), b.covered[v.ID.Key()])
		case strings.HasSuffix(typ, "/protecteditems") && r.Deleted && r.Recovery.Status == "reversible":
			vaultID := parentID(r.ID, 6)
			if b.deleted[strings.ToLower(vaultID)] {
				continue
			}
			it, ok := b.env.Index.Get(r.ID)
			if !ok {
				continue
			}
			container := parentName(r.ID, 2)
			s := &Step{Phase: RecoveryInfra, Action: "undelete-backup-item", Path: "backup", Minutes: minBackupUndelete, Activity: "restore-data",
				Title:  "Undelete the backup of " + protectedName(it),
				Detail: "Protection was stopped and the backup data deleted while soft delete was on: the data is kept for 14 days. Undelete it, then resume protection with its policy.",
				Condition: &Condition{
					Check:     fmt.Sprintf("az backup item show --resource-group %s --vault-name %s --container-name %s --name %s --backup-management-type AzureIaasVM --subscription %s --query properties.isScheduledForDeferredDelete -o tsv", q(rg(it)), q(parentName(r.ID, 6)), q(container), q(it.Name()), sub(it)),
					Means:     "the backup item is soft-deleted (true)",
					Otherwise: "its soft-delete retention has expired: the recovery points are lost",
				},
				Commands: []string{
					fmt.Sprintf("az backup protection undelete --resource-group %s --vault-name %s --container-name %s --item-name %s --backup-management-type AzureIaasVM --workload-type VM --subscription %s",
						q(rg(it)), q(parentName(r.ID, 6)), q(container), q(it.Name()), sub(it)),
					fmt.Sprintf("az backup protection resume --resource-group %s --vault-name %s --container-name %s --item-name %s --policy-name %s --backup-management-type AzureIaasVM --subscription %s",
						q(rg(it)), q(parentName(r.ID, 6)), q(container), q(it.Name()), q(policyName(it)), sub(it)),
				},
				REST: []REST{{Method: "PUT", URL: armHost + it.ID.String() + "?api-version=" + arm.APIVersions["microsoft.recoveryservices/backup"],
					Body: map[string]any{"properties": map[string]any{"protectedItemType": "Microsoft.Compute/virtualMachines", "isRehydrate": true}}}},
			}
			b.add(s, it)
		}
	}
}

// parentID drops n segments from the end of an ID.
func parentID(id string, n int) string {
	parts := strings.Split(strings.TrimSuffix(id, "/"), "/")
	if n >= len(parts) {
		return ""
	}
	return strings.Join(parts[:len(parts)-n], "/")
}

func parentName(id string, n int) string {
	p := parentID(id, n)
	return p[strings.LastIndex(p, "/")+1:]
}

func protectedName(it *arm.Object) string {
	if s, ok := it.Prop("properties.friendlyName").String(); ok && s != "" {
		return s
	}
	return it.Name()
}

func policyName(it *arm.Object) string {
	if s, ok := it.Prop("properties.policyId").String(); ok && s != "" {
		return s[strings.LastIndex(s, "/")+1:]
	}
	return "DefaultPolicy"
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
	if d, ok := strongest(b.paths(o), "iac"); ok {
		b.deploy(o, d, phase)
		return
	}
	if p, ok := strongest(b.paths(o), "declared"); ok {
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
func (b *builder) deploy(o *arm.Object, p assess.RecoveryPath, phase Phase) *Step {
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
	var rest []REST
	name := "bulwark-restore-" + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if d.Format == "terraform" {
		cmds = []string{fmt.Sprintf("terraform -chdir=%s apply -target=%s", q(filepath.Dir(file)), q(where))}
	} else {
		cmds = []string{fmt.Sprintf("az deployment group create --subscription %s --resource-group %s --name %s --template-file %s --mode Incremental",
			sub(o), q(group), q(name), q(file))}
		rest = []REST{{Method: "PUT", URL: fmt.Sprintf("%s/subscriptions/%s/resourcegroups/%s/providers/Microsoft.Resources/deployments/%s?api-version=2024-03-01", armHost, sub(o), group, name),
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
	if d, ok := strongest(b.env.RecoveryPaths(o), "iac"); ok {
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
		s.REST = []REST{{Method: "PUT", URL: url(o.ID.String(), o.Type()), Body: body}}
	}
	return b.add(s, o)
}

// declared: a recovery method written in apps.yaml (a DevOps organisation, an automation account).
func (b *builder) declared(o *arm.Object, p assess.RecoveryPath, phase Phase) {
	method := strings.TrimPrefix(p.Summary, "declared in apps.yaml: ")
	s := &Step{Phase: phase, Action: "restore-as-declared", Path: p.Kind, Minutes: minAutomation, Manual: true, Activity: "restore-capabilities",
		Title:    "Restore " + o.Name() + " as apps.yaml declares",
		Detail:   "apps.yaml declares how it is recovered: " + method + ".",
		Commands: []string{fmt.Sprintf("az resource show --ids %s --query id -o tsv  # confirm it is back", q(o.ID.String()))},
	}
	b.add(s, o)
}

// ---- data services -----------------------------------------------------------------------

func (b *builder) storageAccount(o *arm.Object) {
	name, s0 := o.Name(), sub(o)
	deleted := armHost + "/subscriptions/" + s0 + "/providers/Microsoft.Storage/deletedAccounts?api-version=" + arm.APIVersions["microsoft.storage/deletedaccounts"]
	s := &Step{Phase: Data, Action: "recover-storage-account", Path: "account-recovery", Minutes: minStorageRecover, Manual: true, Activity: "restore-data",
		Title:  "Recover storage account " + name,
		Detail: "A deleted storage account can be recovered for 14 days if no account with its name has been created since, and only if its resource group exists. In the portal: Storage accounts → Restore deleted account (or open a support request). Its blobs, files and their soft-deleted versions come back with it.",
		Condition: &Condition{
			Check:     fmt.Sprintf("az rest --method get --url %s --query \"value[?name=='%s'].properties.restoreReference\" -o tsv", q(deleted), name),
			Means:     "the deleted account is still listed as recoverable",
			Otherwise: "it is past 14 days or its name was taken: its data is lost unless another copy exists",
		},
		Commands: []string{"# Portal: Storage accounts → Restore deleted account → " + name},
		REST:     []REST{{Method: "GET", URL: deleted}},
		Undo:     "none",
	}
	st := b.add(s, o)
	if p, ok := firstPartial(b.paths(o), "point-in-time"); ok {
		pit := &Step{Phase: Data, Action: "restore-blobs-point-in-time", Path: p.Kind, Minutes: minBlobRestore, Activity: "restore-data",
			Title:  "Restore " + name + "'s block blobs to before the attack",
			Detail: fmt.Sprintf("Point-in-time restore reaches back %s. Pick the last time before the first destructive change; restore only the containers that were changed.", days(p.Window)),
			Commands: []string{fmt.Sprintf("az storage blob restore --account-name %s --resource-group %s --subscription %s --time-to-restore %s",
				q(name), q(rg(o)), s0, q(b.beforeAttack()))},
			REST: []REST{{Method: "POST", URL: armHost + o.ID.String() + "/restoreBlobRanges?api-version=" + arm.APIVersions["microsoft.storage/storageaccounts"],
				Body: map[string]any{"timeToRestore": b.beforeAttack(), "blobRanges": []any{map[string]any{"startRange": "", "endRange": ""}}}}},
			Undo: "run a new restore to a later time (restores are themselves reversible within the window)",
		}
		b.requires(b.add(pit, o), st)
		b.covered[o.ID.Key()] = st
	}
}

func firstPartial(paths []assess.RecoveryPath, kind string) (assess.RecoveryPath, bool) {
	for _, p := range paths {
		if p.Kind == kind {
			return p, true
		}
	}
	return assess.RecoveryPath{}, false
}

// beforeAttack is the time to restore data to: just before the incident's first alert, or the
// placeholder the on-call engineer fills in for an application plan.
func (b *builder) beforeAttack() string {
	if b.inc != nil {
		return b.inc.First.Add(-time.Minute).UTC().Format(time.RFC3339)
	}
	return "<last good time, RFC 3339>"
}

func (b *builder) sqlServer(o *arm.Object) {
	paths := b.paths(o)
	if p, ok := strongest(paths, "failover-group"); ok {
		fg, _ := b.env.Index.Get(p.Via)
		partner := ""
		if fg != nil {
			for _, ps := range fg.Get("properties.partnerServers").List() {
				if id, ok := ps.Get("id").String(); ok {
					partner = id
				}
			}
		}
		pid, perr := arm.ParseID(partner)
		if partner != "" && perr != nil {
			b.warn("input", fmt.Sprintf("%s: failover group partner %q is not an ARM resource ID (%v): the server is rebuilt instead of failed over", o.ID, partner, perr))
		}
		if partner != "" && perr == nil {
			s := &Step{Phase: Data, Action: "failover-sql", Path: p.Kind, Minutes: minSQLFailover, Activity: "restore-capabilities",
				Title:  "Fail over " + fg.Name() + " to " + pid.Name(),
				Detail: "The primary server is gone: make the secondary the primary (forced failover allows data loss of the last seconds of replication). Applications using the failover group listener follow automatically.",
				Commands: []string{fmt.Sprintf("az sql failover-group set-primary --name %s --resource-group %s --server %s --subscription %s --allow-data-loss",
					q(fg.Name()), q(pid.ResourceGroup()), q(pid.Name()), pid.SubscriptionID())},
				REST:    []REST{{Method: "POST", URL: armHost + partner + "/failoverGroups/" + fg.Name() + "/forceFailoverAllowDataLoss?api-version=2023-08-01"}},
				Undo:    "fail back once the primary region is rebuilt: az sql failover-group set-primary on the original server",
				partner: partner,
			}
			b.add(s, o)
			return
		}
	}
	s := b.rebuild(o, Data, "rebuild-sql-server", minServerRebuild)
	s.Detail += " A deleted server takes its databases' automated backups with it: databases come back only from a geo-replica, geo-redundant backups or long-term retention."
}

func (b *builder) sqlDatabase(o *arm.Object) {
	server, _ := o.ID.Parent()
	paths := b.paths(o)
	serverGone := b.inc == nil || b.deleted[strings.ToLower(server.String())]
	if b.inc == nil {
		serverGone = b.targetSet[server.Key()] // an application plan restores the whole application
	}
	if p, ok := strongest(paths, "failover-group", "geo-replica"); ok {
		if st, ok := b.covered[server.Key()]; ok && st.Action == "failover-sql" && p.Kind == "failover-group" && st.Path == p.Kind && strings.Contains(st.Title, nameOf(p.Via)) {
			// Failing the server's group over brings this database with it.
			st.Resources = append(st.Resources, ref(o))
			st.keys = append(st.keys, o.ID.Key())
			b.covered[o.ID.Key()] = st
			if a, _, ok := b.env.Members.Of(o.ID); ok {
				b.appRes[a]++
			}
			return
		}
		s := &Step{Phase: Data, Action: "use-sql-replica", Path: p.Kind, Minutes: minSQLFailover, Activity: "restore-data",
			Title: "Serve " + o.Name() + " from its " + p.Summary, REST: []REST{},
			Undo: "fail back once the primary is rebuilt (set-primary on the original side)"}
		if p.Kind == "failover-group" {
			fg, _ := b.env.Index.Get(p.Via)
			partner := ""
			if fg != nil {
				for _, ps := range fg.Get("properties.partnerServers").List() {
					partner, _ = ps.Get("id").String()
				}
			}
			s.Detail = "The database is in failover group " + fg.Name() + ": if the group was already failed over with its server, it is served from the partner; check, then fail over if not."
			if pid, err := arm.ParseID(partner); err == nil {
				s.Commands = []string{fmt.Sprintf("az sql failover-group set-primary --name %s --resource-group %s --server %s --subscription %s --allow-data-loss",
					q(fg.Name()), q(pid.ResourceGroup()), q(pid.Name()), pid.SubscriptionID())}
				s.REST = []REST{{Method: "POST", URL: armHost + partner + "/failoverGroups/" + fg.Name() + "/forceFailoverAllowDataLoss?api-version=" + arm.APIVersions["microsoft.sql/servers"]}}
			} else {
				s.Manual = true
				s.Detail += " The snapshot does not name the partner server."
			}
		} else {
			rl, _ := b.env.Index.Get(p.Via)
			name, _ := rl.Get("properties.partnerServer").String()
			partnerDB := ""
			for _, srv := range b.env.Index.OfType("Microsoft.Sql/servers") {
				if strings.EqualFold(srv.Name(), name) {
					partnerDB = srv.ID.String() + "/databases/" + o.Name()
				}
			}
			s.Detail = "The database has a readable geo-replica on " + name + ": make it the primary (forced: the last seconds of replication may be lost) and point the applications at it."
			if pid, err := arm.ParseID(partnerDB); err == nil {
				srv, _ := pid.Parent()
				s.Commands = []string{fmt.Sprintf("az sql db replica set-primary --name %s --resource-group %s --server %s --subscription %s --allow-data-loss",
					q(o.Name()), q(pid.ResourceGroup()), q(srv.Name()), pid.SubscriptionID())}
				s.REST = []REST{{Method: "POST", URL: armHost + partnerDB + "/replicationLinks/" + rl.Name() + "/forceFailoverAllowDataLoss?api-version=" + arm.APIVersions["microsoft.sql/servers"]}}
			} else {
				s.Manual = true
				s.Commands = []string{fmt.Sprintf("az sql db replica set-primary --name %s --server %s --resource-group <resource group of %s> --allow-data-loss", q(o.Name()), q(name), name)}
				s.Detail += " The partner server is not in the snapshot: find its resource group first."
			}
		}
		b.add(s, o)
		return
	}
	if _, ok := strongest(paths, "point-in-time"); ok && !serverGone {
		p, _ := strongest(paths, "point-in-time")
		s := &Step{Phase: Data, Action: "restore-deleted-database", Path: p.Kind, Minutes: minSQLRestore, Activity: "restore-data",
			Title:  "Restore deleted database " + o.Name() + " on " + server.Name(),
			Detail: fmt.Sprintf("Restore the dropped database from its automated backups (kept %s) to the moment it was deleted.", days(p.Window)),
			Condition: &Condition{
				Check:     fmt.Sprintf("az sql db list-deleted --resource-group %s --server %s --subscription %s --query \"[?databaseName=='%s'] | [0].deletionDate\" -o tsv", q(rg(o)), q(server.Name()), sub(o), o.Name()),
				Means:     "the dropped database is still restorable (prints its deletion time)",
				Otherwise: "its backup retention has passed: use long-term retention or geo-restore if configured, else it is lost",
			},
			Commands: []string{
				fmt.Sprintf("DELETED_AT=$(az sql db list-deleted --resource-group %s --server %s --subscription %s --query \"[?databaseName=='%s'] | [0].deletionDate\" -o tsv)", q(rg(o)), q(server.Name()), sub(o), o.Name()),
				fmt.Sprintf("az sql db restore --resource-group %s --server %s --name %s --dest-name %s --deleted-time \"$DELETED_AT\" --time \"$DELETED_AT\" --subscription %s",
					q(rg(o)), q(server.Name()), q(o.Name()), q(o.Name()), sub(o)),
			},
			REST: []REST{{Method: "PUT", URL: url(o.ID.String(), "Microsoft.Sql/servers/databases"), Body: map[string]any{"location": o.Location(),
				"properties": map[string]any{"createMode": "Restore", "restorableDroppedDatabaseId": server.String() + "/restorableDroppedDatabases/" + o.Name() + ",<deletion time in ticks>"}}}},
			Undo: "az sql db delete (the restored copy)",
		}
		if b.inc == nil {
			s.Detail = fmt.Sprintf("If only the database was dropped, restore it from its automated backups (kept %s); if data was corrupted, restore it to a point in time under a new name and swap.", days(p.Window))
		}
		b.add(s, o)
		return
	}
	if p, ok := strongest(paths, "geo-restore"); ok {
		dest := server // geo-restore into the server, or into the partner its failover group moved to
		if st, ok := b.covered[server.Key()]; ok && st.partner != "" {
			if pid, err := arm.ParseID(st.partner); err == nil {
				dest = pid
			}
		}
		b.add(&Step{Phase: Data, Action: "geo-restore-database", Path: p.Kind, Minutes: minSQLRestore + 30, Activity: "restore-data",
			Title:  "Geo-restore " + o.Name() + " from geo-redundant backups",
			Detail: "The server and its local backups are gone; the geo-redundant copy of the backups survives (up to an hour behind).",
			Commands: []string{fmt.Sprintf("az sql db geo-backup restore --geo-backup-id %s --dest-database %s --dest-server %s --resource-group %s --subscription %s",
				q(server.String()+"/recoverableDatabases/"+o.Name()), q(o.Name()), q(dest.Name()), q(dest.ResourceGroup()), dest.SubscriptionID())},
			REST:     []REST{{Method: "PUT", URL: url(dest.String()+"/databases/"+o.Name(), "Microsoft.Sql/servers/databases"), Body: map[string]any{"properties": map[string]any{"createMode": "Recovery", "recoverableDatabaseId": server.String() + "/recoverableDatabases/" + o.Name()}}}},
			DataLoss: "up to 1h", dataLoss: time.Hour,
		}, o)
		return
	}
	if p, ok := strongest(paths, "long-term-retention"); ok {
		b.add(&Step{Phase: Data, Action: "restore-ltr-backup", Path: p.Kind, Minutes: minSQLRestore + 30, Activity: "restore-data",
			Title:  "Restore " + o.Name() + " from its long-term retention backup",
			Detail: "Only the long-term retention copies survive: the newest one is up to a week (weekly) or a month old. " + p.Summary + ".",
			Commands: []string{
				fmt.Sprintf("BACKUP_ID=$(az sql db ltr-backup list --location %s --server %s --database %s --subscription %s --query \"sort_by([], &backupTime)[-1].id\" -o tsv)", q(o.Location()), q(server.Name()), q(o.Name()), sub(o)),
				fmt.Sprintf("az sql db ltr-backup restore --backup-id \"$BACKUP_ID\" --dest-database %s --dest-server %s --dest-resource-group %s --subscription %s", q(o.Name()), q(server.Name()), q(rg(o)), sub(o)),
			},
			REST: []REST{}, DataLoss: "up to the age of the newest long-term backup", dataLoss: 7 * 24 * time.Hour,
		}, o)
		return
	}
	reason := "no surviving backup: its automated backups went with the server"
	if !serverGone {
		reason = "its backup retention has passed and it has no replica or long-term retention"
	}
	b.lose(o, Data, "the database and its data", reason)
}

func (b *builder) cosmos(o *arm.Object) {
	typ, _ := o.Prop("properties.backupPolicy.type").String()
	if strings.EqualFold(typ, "Continuous") {
		b.add(&Step{Phase: Data, Action: "restore-cosmos-continuous", Path: "backup", Minutes: minCosmosRestore, Activity: "restore-data",
			Title:  "Restore Cosmos DB account " + o.Name() + " to before the attack",
			Detail: "Continuous backup restores the account to any second in its retention, into a new account.",
			Commands: []string{fmt.Sprintf("az cosmosdb restore --resource-group %s --account-name %s --target-database-account-name %s --restore-timestamp %s --location %s --subscription %s",
				q(rg(o)), q(o.Name()), q(o.Name()+"-restored"), q(b.beforeAttack()), q(o.Location()), sub(o))},
			REST: []REST{}}, o)
		return
	}
	b.add(&Step{Phase: Data, Action: "restore-cosmos-periodic", Path: "backup", Minutes: 8 * 60, Manual: true, Activity: "restore-data",
		Title:    "Ask Microsoft support to restore Cosmos DB account " + o.Name(),
		Detail:   "Periodic backup can only be restored by Microsoft support, within its retention: plan for a working day. Open a severity A case at once: the retention clock is running.",
		Commands: []string{"az support tickets create  # Cosmos DB restore from periodic backup; give the account name " + o.Name() + " and the time to restore to"},
		REST:     []REST{}}, o)
}

// ---- virtual machines and clusters -------------------------------------------------------

// attachments are the disks and NICs of a VM that its restore brings back with it.
func (b *builder) attachments(vm *arm.Object) []*arm.Object {
	var out []*arm.Object
	for _, p := range []string{"properties.storageProfile.osDisk.managedDisk.id"} {
		if id, ok := vm.Get(p).String(); ok {
			if d, ok := b.env.Index.Get(id); ok {
				out = append(out, d)
			}
		}
	}
	for _, dd := range vm.Get("properties.storageProfile.dataDisks").List() {
		if id, ok := dd.Get("managedDisk.id").String(); ok {
			if d, ok := b.env.Index.Get(id); ok {
				out = append(out, d)
			}
		}
	}
	for _, n := range vm.Get("properties.networkProfile.networkInterfaces").List() {
		if id, ok := n.Get("id").String(); ok {
			if d, ok := b.env.Index.Get(id); ok {
				out = append(out, d)
			}
		}
	}
	return out
}

func (b *builder) virtualMachine(o *arm.Object) {
	with := b.withVM[o.ID.Key()]
	paths := b.paths(o)
	name := o.Name()
	if p, ok := strongest(paths, "backup"); ok {
		it, _ := b.env.Index.Get(p.Via)
		vaultID := parentID(p.Via, 6)
		vault := parentName(p.Via, 6)
		container := parentName(p.Via, 2)
		vnet, subnet, vnetRG := b.subnetOf(o)
		staging := b.stagingAccount(o)
		s := &Step{Phase: VirtualMachine, Action: "restore-vm-from-backup", Path: p.Kind, Minutes: minVMRestore, Activity: "restore-data",
			Title: "Restore VM " + name + " from Azure Backup (vault " + vault + ")",
			Detail: fmt.Sprintf("Restore the newest recovery point%s as a new VM with its original name, disks and network (alternate-location restore into %s). The restore stages disks through storage account %s in the VM's region.",
				lastPoint(p), rg(o), staging),
			Commands: []string{
				fmt.Sprintf("RP=$(az backup recoverypoint list --resource-group %s --vault-name %s --container-name %s --item-name %s --backup-management-type AzureIaasVM --subscription %s --query \"[0].name\" -o tsv)",
					q(rgOfID(vaultID)), q(vault), q(container), q(itemName(it, p.Via)), sub(o)),
				fmt.Sprintf("az backup restore restore-disks --resource-group %s --vault-name %s --container-name %s --item-name %s --rp-name \"$RP\" --restore-mode AlternateLocation --target-vm-name %s --target-resource-group %s --target-vnet-name %s --target-subnet-name %s --target-vnet-resource-group %s --storage-account %s --subscription %s",
					q(rgOfID(vaultID)), q(vault), q(container), q(itemName(it, p.Via)), q(name), q(rg(o)), q(vnet), q(subnet), q(vnetRG), q(staging), sub(o)),
			},
			REST: []REST{{Method: "POST", URL: armHost + p.Via + "/recoveryPoints/{recoveryPointName}/restore?api-version=" + arm.APIVersions["microsoft.recoveryservices/backup"],
				Body: map[string]any{"properties": map[string]any{"objectType": "IaasVMRestoreRequest", "recoveryType": "AlternateLocation", "sourceResourceId": o.ID.String(),
					"targetVirtualMachineId": o.ID.String(), "targetResourceGroupId": "/subscriptions/" + sub(o) + "/resourceGroups/" + rg(o), "storageAccountId": b.stagingAccountID(o, staging),
					"region": o.Location(), "originalStorageAccountOption": false}}}},
			Undo: fmt.Sprintf("az vm delete --ids %s (the restored VM; the recovery point is untouched)", q(o.ID.String())),
		}
		if !p.LastPoint.IsZero() {
			s.dataLoss = b.lossAt(o).Sub(p.LastPoint)
			if s.dataLoss > 0 {
				s.DataLoss = Duration(minutes(s.dataLoss))
			}
		}
		st := b.add(s, append([]*arm.Object{o}, with...)...)
		if it != nil {
			b.requires(st, b.covered[it.ID.Key()])
		}
		b.requires(st, b.covered[strings.ToLower(vaultID)])
		return
	}
	if p, ok := strongest(paths, "site-recovery"); ok {
		ri, _ := b.env.Index.Get(p.Via)
		s := &Step{Phase: VirtualMachine, Action: "failover-site-recovery", Path: p.Kind, Minutes: minFailover, Activity: "restore-capabilities",
			Title:  "Fail over " + name + " with Site Recovery",
			Detail: "Unplanned failover to the recovery region from the latest recovery point, then commit. " + testFailoverNote(p),
			Commands: []string{
				fmt.Sprintf("az rest --method post --url %s --body %s", q(armHost+p.Via+"/unplannedFailover?api-version="+arm.APIVersions["microsoft.recoveryservices/siterecovery"]), q(`{"properties":{"failoverDirection":"PrimaryToRecovery","sourceSiteOperations":"NotRequired"}}`)),
				fmt.Sprintf("az rest --method post --url %s", q(armHost+p.Via+"/failoverCommit?api-version="+arm.APIVersions["microsoft.recoveryservices/siterecovery"])),
			},
			REST: []REST{
				{Method: "POST", URL: armHost + p.Via + "/unplannedFailover?api-version=" + arm.APIVersions["microsoft.recoveryservices/siterecovery"], Body: map[string]any{"properties": map[string]any{"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired"}}},
				{Method: "POST", URL: armHost + p.Via + "/failoverCommit?api-version=" + arm.APIVersions["microsoft.recoveryservices/siterecovery"]},
			},
			Undo: "re-protect and fail back once the primary region is rebuilt",
		}
		st := b.add(s, append([]*arm.Object{o}, with...)...)
		if ri != nil {
			b.requires(st, b.covered[strings.ToLower(parentID(p.Via, 6))])
		}
		return
	}
	if b.inc != nil {
		if disk := b.survivingOSDisk(o); disk != nil {
			osType, _ := o.Prop("properties.storageProfile.osDisk.osType").String()
			var nics []string
			for _, n := range o.Get("properties.networkProfile.networkInterfaces").List() {
				if id, ok := n.Get("id").String(); ok && !b.deleted[strings.ToLower(id)] {
					nics = append(nics, id)
				}
			}
			size, _ := o.Prop("properties.hardwareProfile.vmSize").String()
			cmd := fmt.Sprintf("az vm create --resource-group %s --name %s --attach-os-disk %s --os-type %s --size %s --subscription %s",
				q(rg(o)), q(name), q(disk.ID.String()), q(strings.ToLower(orDefault(osType, "linux"))), q(orDefault(size, "Standard_D2s_v5")), sub(o))
			if len(nics) > 0 {
				cmd += " --nics " + q(nics[0])
			}
			s := &Step{Phase: VirtualMachine, Action: "recreate-vm-from-disks", Path: "surviving-disks", Minutes: minVMFromDisks, Activity: "restore-capabilities",
				Title:    "Re-create VM " + name + " on its surviving OS disk " + disk.Name(),
				Detail:   "The VM was deleted but its OS disk was not: attach it to a new VM with the same name and size. Snapshot the disk first (contain phase); re-attach data disks that survived.",
				Commands: []string{cmd},
				REST:     []REST{{Method: "PUT", URL: url(o.ID.String(), o.Type()), Body: map[string]any{"location": o.Location(), "properties": map[string]any{"storageProfile": map[string]any{"osDisk": map[string]any{"createOption": "Attach", "osType": orDefault(osType, "Linux"), "managedDisk": map[string]any{"id": disk.ID.String()}}}, "hardwareProfile": map[string]any{"vmSize": size}}}}},
				Undo:     fmt.Sprintf("az vm delete --ids %s (keeps the disk)", q(o.ID.String())),
			}
			b.add(s, append([]*arm.Object{o}, with...)...)
			return
		}
	}
	if b.inc != nil {
		if disks := b.survivingDataDisks(o); len(disks) > 0 {
			b.rebuildOnDataDisks(o, disks, with)
			return
		}
	}
	if d, ok := strongest(paths, "iac"); ok {
		s := b.deploy(o, d, VirtualMachine)
		for _, a := range with {
			s.Resources = append(s.Resources, ref(a))
			s.keys = append(s.keys, a.ID.Key())
			b.covered[a.ID.Key()] = s
		}
		b.lostData(o, "the data on its disks", "redeployed from IaC: a new, empty VM")
		return
	}
	reason := "no backup, Site Recovery replica or IaC for it in the snapshot"
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok && r.Recovery.Status == "lost" {
		reason = r.Recovery.Reason
	}
	b.lose(o, VirtualMachine, "the VM, its disks and their data", reason, with...)
}

func lastPoint(p assess.RecoveryPath) string {
	if p.LastPoint.IsZero() {
		return ""
	}
	return " (" + p.LastPoint.UTC().Format("2006-01-02 15:04 UTC") + ")"
}

func testFailoverNote(p assess.RecoveryPath) string {
	if p.LastPoint.IsZero() {
		return "No test failover is recorded: expect surprises."
	}
	return "Last test failover: " + p.LastPoint.UTC().Format("2006-01-02") + "."
}

// lossAt is when data stopped being written: the deletion (incident) or the reference time.
func (b *builder) lossAt(o *arm.Object) time.Time {
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok && !r.Last.IsZero() {
		return r.Last
	}
	return b.ref
}

func itemName(it *arm.Object, via string) string {
	if it != nil {
		return it.Name()
	}
	return via[strings.LastIndex(via, "/")+1:]
}

// subnetOf reads the VM's first NIC's subnet: VNet name, subnet name, VNet resource group.
func (b *builder) subnetOf(vm *arm.Object) (vnet, subnet, vnetRG string) {
	for _, n := range vm.Get("properties.networkProfile.networkInterfaces").List() {
		id, _ := n.Get("id").String()
		nic, ok := b.env.Index.Get(id)
		if !ok {
			continue
		}
		for _, ipc := range nic.Get("properties.ipConfigurations").List() {
			if s, ok := ipc.Get("properties.subnet.id").String(); ok {
				if sid, err := arm.ParseID(s); err == nil {
					if p, ok := sid.Parent(); ok {
						return p.Name(), sid.Name(), p.ResourceGroup()
					}
				}
			}
		}
	}
	return "<vnet>", "<subnet>", rg(vm)
}

// stagingAccount picks a surviving storage account in the VM's subscription and region for the
// restore to stage disks through.
func (b *builder) stagingAccount(vm *arm.Object) string {
	var names []string
	for _, sa := range b.env.Index.OfType("Microsoft.Storage/storageAccounts") {
		if sub(sa) == sub(vm) && strings.EqualFold(strings.ReplaceAll(sa.Location(), " ", ""), strings.ReplaceAll(vm.Location(), " ", "")) &&
			!b.deleted[strings.ToLower(sa.ID.String())] && !b.targetSet[sa.ID.Key()] {
			names = append(names, sa.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "<staging storage account in " + vm.Location() + ">"
	}
	return names[0]
}

func (b *builder) stagingAccountID(vm *arm.Object, name string) string {
	for _, sa := range b.env.Index.OfType("Microsoft.Storage/storageAccounts") {
		if sa.Name() == name {
			return sa.ID.String()
		}
	}
	return name
}

// survivingOSDisk: the deleted VM's OS disk, when the incident did not delete it and the VM did
// not delete it with itself.
func (b *builder) survivingOSDisk(vm *arm.Object) *arm.Object {
	id, ok := vm.Get("properties.storageProfile.osDisk.managedDisk.id").String()
	if !ok {
		return nil
	}
	if opt, ok := vm.Get("properties.storageProfile.osDisk.deleteOption").String(); ok && strings.EqualFold(opt, "Delete") {
		return nil
	}
	d, ok := b.env.Index.Get(id)
	if !ok || b.deleted[strings.ToLower(d.ID.String())] {
		return nil
	}
	return d
}

// survivingDataDisks: data disks of a deleted VM that the incident left (deleteOption Detach).
func (b *builder) survivingDataDisks(vm *arm.Object) []*arm.Object {
	var out []*arm.Object
	for _, dd := range vm.Get("properties.storageProfile.dataDisks").List() {
		id, ok := dd.Get("managedDisk.id").String()
		if !ok {
			continue
		}
		if d, ok := b.env.Index.Get(id); ok && !b.deleted[strings.ToLower(d.ID.String())] {
			out = append(out, d)
		}
	}
	return out
}

// rebuildOnDataDisks: the OS disk is gone but the data disks survived: a new VM from the same
// image, size and network, with the data disks attached. The OS disk's state is lost.
func (b *builder) rebuildOnDataDisks(o *arm.Object, disks, with []*arm.Object) {
	img := o.Get("properties.storageProfile.imageReference")
	image := strings.Join([]string{img.Get("publisher").Display(), img.Get("offer").Display(), img.Get("sku").Display(), img.Get("version").Display()}, ":")
	if id, ok := img.Get("id").String(); ok && id != "" {
		image = id
	}
	size, _ := o.Prop("properties.hardwareProfile.vmSize").String()
	vnet, subnet, vnetRG := b.subnetOf(o)
	cmds := []string{fmt.Sprintf("az vm create --resource-group %s --name %s --image %s --size %s --subnet %s --location %s --subscription %s",
		q(rg(o)), q(o.Name()), q(image), q(orDefault(size, "Standard_D2s_v5")),
		q("/subscriptions/"+sub(o)+"/resourceGroups/"+vnetRG+"/providers/Microsoft.Network/virtualNetworks/"+vnet+"/subnets/"+subnet), q(o.Location()), sub(o))}
	var names []string
	for _, d := range disks {
		cmds = append(cmds, fmt.Sprintf("az vm disk attach --resource-group %s --vm-name %s --name %s --subscription %s", q(rg(o)), q(o.Name()), q(d.ID.String()), sub(o)))
		names = append(names, d.Name())
	}
	s := &Step{Phase: VirtualMachine, Action: "rebuild-vm-on-data-disks", Path: "surviving-disks", Minutes: minVMFromDisks + 30, Manual: true, Weak: true, Activity: "restore-capabilities",
		Title:    "Rebuild VM " + o.Name() + " from its image and re-attach its surviving data disks",
		Detail:   fmt.Sprintf("Its OS disk was deleted with it, but %s survived. Create a new VM from the same image (%s) and size, attach the data disks, then reinstall and configure the software: the OS disk's state is lost.", strings.Join(names, ", "), image),
		Commands: cmds,
		REST:     []REST{{Method: "PUT", URL: url(o.ID.String(), o.Type()), Body: arm.Definition(o)}},
		Undo:     fmt.Sprintf("az vm delete --ids %s (the data disks are detached, not deleted)", q(o.ID.String())),
	}
	b.add(s, append([]*arm.Object{o}, with...)...)
	for _, a := range with {
		if a.IsType("Microsoft.Compute/disks") {
			b.lostDataAt(a, b.lossAt(o), "the operating system disk and its state", "deleted with the VM (deleteOption Delete)")
		}
	}
}

func (b *builder) aks(o *arm.Object) {
	paths := b.paths(o)
	if p, ok := strongest(paths, "backup-vault"); ok {
		bi, _ := arm.ParseID(p.Via) // a recovery path's Via is the ID of an object in the snapshot
		vault, _ := bi.Parent()
		s := &Step{Phase: VirtualMachine, Action: "restore-aks-from-backup-vault", Path: p.Kind, Minutes: minAKSRestore, Manual: true, Activity: "restore-data",
			Title:  "Rebuild AKS cluster " + o.Name() + " and restore its workloads from Backup vault " + vault.Name(),
			Detail: "AKS backup restores namespaces and persistent volumes into a cluster: re-create the cluster first (IaC, or the snapshot's configuration), install the backup extension and trusted access, then restore the newest recovery point into it.",
			Commands: []string{
				fmt.Sprintf("RP=$(az dataprotection recovery-point list --resource-group %s --vault-name %s --backup-instance-name %s --subscription %s --query \"[0].name\" -o tsv)", q(vault.ResourceGroup()), q(vault.Name()), q(bi.Name()), bi.SubscriptionID()),
				fmt.Sprintf("az dataprotection backup-instance initialize-restoreconfig --datasource-type AzureKubernetesService > restoreconfig.json"),
				fmt.Sprintf("az dataprotection backup-instance restore initialize-for-item-recovery --datasource-type AzureKubernetesService --restore-location %s --source-datastore OperationalStore --recovery-point-id \"$RP\" --backup-instance-id %s --target-resource-id %s --restore-configuration restoreconfig.json > restorerequest.json",
					q(o.Location()), q(p.Via), q(o.ID.String())),
				fmt.Sprintf("az dataprotection backup-instance restore trigger --resource-group %s --vault-name %s --backup-instance-name %s --restore-request-object restorerequest.json --subscription %s", q(vault.ResourceGroup()), q(vault.Name()), q(bi.Name()), bi.SubscriptionID()),
			},
			REST: []REST{{Method: "POST", URL: armHost + p.Via + "/restore?api-version=" + arm.APIVersions["microsoft.dataprotection/backupvaults"]}},
		}
		st := b.add(s, o)
		b.requires(st, b.covered[vault.Key()])
		return
	}
	if p, ok := strongest(paths, "secondary-cluster"); ok {
		b.add(&Step{Phase: VirtualMachine, Action: "switch-to-secondary-cluster", Path: p.Kind, Minutes: 30, Manual: true, Activity: "restore-capabilities",
			Title:    "Move " + o.Name() + "'s traffic to its secondary cluster",
			Detail:   "A secondary cluster runs the same workloads: switch DNS or the front door to it, then rebuild the primary from IaC.",
			Commands: []string{"# switch the traffic manager / front door endpoint to the secondary cluster"}, REST: []REST{}}, o)
		return
	}
	if d, ok := strongest(paths, "iac"); ok {
		s := b.deploy(o, d, VirtualMachine)
		s.Minutes = minAKSRedeploy
		b.lostData(o, "persistent volumes and in-cluster state", "no AKS backup: the cluster is redeployed empty; workloads come back from GitOps or pipelines")
		return
	}
	reason := "no AKS backup, secondary cluster or IaC for it in the snapshot"
	b.lose(o, VirtualMachine, "the cluster, its persistent volumes and in-cluster state", reason)
}

// ---- automation and DevOps ---------------------------------------------------------------

func (b *builder) identity(o *arm.Object) {
	principal, _ := o.Prop("properties.principalId").String()
	cmds := []string{fmt.Sprintf("az identity create --resource-group %s --name %s --location %s --subscription %s", q(rg(o)), q(o.Name()), q(o.Location()), sub(o)),
		fmt.Sprintf("NEW_PRINCIPAL=$(az identity show --resource-group %s --name %s --subscription %s --query principalId -o tsv)", q(rg(o)), q(o.Name()), sub(o))}
	n := 0
	for _, a := range b.env.RBAC.Assignments() {
		if principal == "" || !strings.EqualFold(a.PrincipalID, principal) || a.Eligible {
			continue
		}
		cmds = append(cmds, fmt.Sprintf("az role assignment create --assignee-object-id \"$NEW_PRINCIPAL\" --assignee-principal-type ServicePrincipal --role %s --scope %s",
			q(a.RoleGUID), q(a.Scope)))
		n++
	}
	s := &Step{Phase: Automation, Action: "recreate-identity", Path: "snapshot-configuration", Minutes: minIdentity, Activity: "restore-capabilities",
		Title:    fmt.Sprintf("Re-create managed identity %s and its %d role %s", o.Name(), n, plural(n, "assignment", "assignments")),
		Detail:   "A re-created identity has a new principal ID: grant it the same roles at the same scopes (from the snapshot), and update federated credentials and whatever refers to the old principal ID.",
		Commands: cmds,
		REST:     []REST{{Method: "PUT", URL: url(o.ID.String(), o.Type()), Body: map[string]any{"location": o.Location()}}},
		Undo:     fmt.Sprintf("az identity delete --ids %s", q(o.ID.String())),
	}
	if d, ok := strongest(b.paths(o), "iac"); ok {
		s.Path = d.Kind
	}
	b.add(s, o)
}

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
			REST:      []REST{{Method: "PUT", URL: armHost + "/subscriptions/" + id.SubscriptionID() + "/resourcegroups/" + id.Name() + "?api-version=" + arm.APIVersions["microsoft.resources/resourcegroups"], Body: map[string]any{"location": orDefault(loc, "<location>")}}},
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
