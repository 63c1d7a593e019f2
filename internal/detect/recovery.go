package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// incidentFacts are what the recovery of one resource depends on elsewhere in the incident.
type incidentFacts struct {
	purgedVaults     map[string]bool      // Key Vault names (lower case) purged
	softDeleteOff    map[string]time.Time // Recovery Services vault IDs (lower case) → when soft delete was disabled
	deletedVaults    map[string]bool      // backup vault IDs (lower case) deleted
	estate           *Estate
	deletedResources map[string]bool
}

// recoveryOf classifies one resource. Sources: Key Vault soft delete (90 days by default),
// Azure Backup soft delete (the vault's retention), storage account recovery and Log Analytics
// workspace soft delete (recovery's service windows), SQL deleted-database restore (within the
// backup retention).
func recoveryOf(r *Resource, f *incidentFacts) Recovery {
	typ := strings.ToLower(r.Type)
	if !r.Deleted {
		if strings.HasSuffix(typ, "/deletedvaults") && r.Status != "Failure" {
			return rec(Lost, "the soft-deleted Key Vault "+r.Name+" was purged: its keys, secrets and certificates are gone")
		}
		return rec(Reversible, "configuration change: restore the previous settings (IaC, or the request body in the Activity Log)")
	}
	switch typ {
	case "microsoft.keyvault/vaults":
		if f.purgedVaults[strings.ToLower(r.Name)] {
			return rec(Lost, "deleted, then purged")
		}
		days, _ := arm.DefaultInt("Microsoft.KeyVault/vaults", "properties.softDeleteRetentionInDays")
		if f.estate != nil {
			if o, ok := f.estate.Index.Get(r.ID); ok {
				if on, ok := o.Prop("properties.enableSoftDelete").Bool(); ok && !on {
					return rec(Lost, "deleted with soft delete off")
				}
				if n, ok := o.Prop("properties.softDeleteRetentionInDays").Int(); ok && n > 0 {
					days = n
				}
			}
		}
		until := r.Last.AddDate(0, 0, int(days)).UTC().Format("2006-01-02")
		return rec(Reversible, fmt.Sprintf("soft-deleted: recover by %s (%d days' retention): az keyvault recover --name %s", until, days, r.Name))
	case "microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems":
		vault := vaultOf(r.ID)
		if f.deletedVaults[vault] {
			return rec(Lost, "backup data deleted and its vault deleted")
		}
		if t, ok := f.softDeleteOff[vault]; ok && !r.Last.Before(t) {
			return rec(Lost, "backup data deleted after soft delete was disabled on the vault")
		}
		if f.estate.recovery().SoftDeleteOff(vault) {
			return rec(Lost, "backup data deleted from a vault whose soft delete is disabled (snapshot)")
		}
		return rec(Reversible, fmt.Sprintf("backup data is soft-deleted for %d days: undelete the backup item in the vault", f.estate.recovery().BackupSoftDeleteDays(vault)))
	case "microsoft.recoveryservices/vaults", "microsoft.dataprotection/backupvaults":
		return rec(Lost, "vault deleted: its recovery points are gone unless another vault holds copies")
	case "microsoft.storage/storageaccounts":
		return rec(Reversible, fmt.Sprintf("a deleted storage account can be recovered within %d days if no account with its name was created since (Recover deleted storage account)", recovery.StorageAccountRecoveryDays))
	case "microsoft.sql/servers/databases", "microsoft.sql/managedinstances/databases":
		if f.deletedResources[strings.ToLower(parentOf(r.ID))] {
			return rec(Lost, "database deleted with its server: the server's backups are gone")
		}
		return rec(Reversible, "restore the deleted database from its automated backups within the retention period")
	case "microsoft.sql/servers", "microsoft.sql/managedinstances":
		return rec(Lost, "server deleted: its databases and their automated backups are gone (long-term retention copies survive)")
	case "microsoft.operationalinsights/workspaces":
		return rec(Reversible, fmt.Sprintf("soft-deleted for %d days unless deleted with force: recover the workspace", recovery.WorkspaceSoftDeleteDays))
	case "microsoft.resources/subscriptions/resourcegroups", "microsoft.resources/resourcegroups":
		return rec(Lost, "resource group deleted with everything in it: see each resource")
	case "microsoft.authorization/locks", "microsoft.insights/diagnosticsettings", "microsoft.authorization/policyassignments",
		"microsoft.authorization/roleassignments", "microsoft.securityinsights/alertrules", "microsoft.security/alertssuppressionrules":
		return rec(Reversible, "configuration deleted: re-create it (IaC, or its definition in the snapshot)")
	}
	if strings.HasPrefix(typ, "microsoft.documentdb/") {
		return rec(Unknown, "restorable only if the account used continuous backup; open a support request within its retention")
	}
	if f.estate != nil {
		return recoveryFromPaths(r, f, 0)
	}
	return rec(Unknown, "deleted: recoverable only from a backup or IaC (give --snapshot to check backups)")
}

// vaultOf returns the lower-case ID of the Recovery Services vault an ID is below, or "".
func vaultOf(id string) string {
	return strings.ToLower(arm.AncestorOf(id, "Microsoft.RecoveryServices/vaults"))
}

// parentOf returns the ID of a resource's parent resource, or "".
func parentOf(id string) string {
	x, err := arm.ParseID(id)
	if err != nil {
		return ""
	}
	p, ok := x.Parent()
	if !ok {
		return ""
	}
	return p.String()
}

// recoveryFromPaths classifies a deleted resource by the recovery paths the snapshot shows
// (recovery.Model.Paths, the same ones respond builds playbooks from), keeping only those the
// incident left standing: an Azure Backup item (unless its vault was deleted, or the item was
// deleted after soft delete was turned off), a Site Recovery replica, a Backup vault instance, the
// VM a disk or NIC is restored with; then data disks that outlived their VM, and the snapshot's
// definition of a configuration-based resource.
func recoveryFromPaths(r *Resource, f *incidentFacts, depth int) Recovery {
	x := f.estate
	o, ok := x.Index.Get(r.ID)
	if !ok {
		// Not in the snapshot (collected after it was deleted, say): its backups may still be.
		stub, err := arm.NewObject([]byte(fmt.Sprintf(`{"id":%q,"type":%q,"name":%q}`, r.ID, r.Type, r.Name)), arm.Source{})
		if err != nil {
			return rec(Lost, "deleted, and the snapshot does not hold it")
		}
		o = stub
	}
	var gone []string
	for _, p := range x.Recovery.Paths(o) {
		if p.Weak || p.Partial {
			continue
		}
		via := strings.ToLower(p.Via)
		switch p.Kind {
		case recovery.KindBackup:
			vault := vaultOf(via)
			name := vault[strings.LastIndex(vault, "/")+1:]
			if f.deletedVaults[vault] {
				gone = append(gone, "its backup vault "+name+" was deleted too")
				continue
			}
			if f.deletedResources[via] {
				if _, ok := f.softDeleteOff[vault]; ok || x.recovery().SoftDeleteOff(vault) {
					gone = append(gone, "its backup was deleted after soft delete was disabled on "+name)
					continue
				}
				return rec(Reversible, fmt.Sprintf("its backup was deleted but is soft-deleted for %d days: undelete it in vault %s, then restore", x.Recovery.BackupSoftDeleteDays(vault), name))
			}
			return rec(Reversible, "restore from its backup in vault "+name)
		case recovery.KindSiteRecovery:
			vault := vaultOf(via)
			if f.deletedVaults[vault] || f.deletedResources[via] {
				gone = append(gone, "its Site Recovery vault or replica was deleted")
				continue
			}
			return rec(Reversible, "fail over to its Site Recovery replica (vault "+vault[strings.LastIndex(vault, "/")+1:]+")")
		case recovery.KindBackupVault:
			vault := strings.ToLower(parentOf(p.Via))
			if f.deletedVaults[vault] || f.deletedResources[via] {
				gone = append(gone, "its Backup vault instance was deleted")
				continue
			}
			return rec(Reversible, "restore from Backup vault "+vault[strings.LastIndex(vault, "/")+1:])
		case recovery.KindWithVM:
			if depth > 0 {
				continue
			}
			vm := &Resource{ID: p.Via, Deleted: f.deletedResources[via]}
			if id, err := arm.ParseID(p.Via); err == nil {
				vm.Type, vm.Name = canonicalType(id.Type()), id.Name()
			}
			if !vm.Deleted {
				return rec(Reversible, "its VM "+vm.Name+" still exists: re-create it from the snapshot's definition and attach it")
			}
			if rv := recoveryFromPaths(vm, f, depth+1); rv.Status == Reversible {
				return rec(Reversible, "restored with its VM "+vm.Name+": "+rv.Reason)
			}
		case recovery.KindIaC:
			return rec(Reversible, "redeploy it from IaC ("+p.Via+")")
		}
	}
	if o.IsType("Microsoft.Compute/virtualMachines") {
		var kept []string
		for _, dd := range o.Get("properties.storageProfile.dataDisks").List() {
			if id, ok := dd.Get("managedDisk.id").String(); ok && !f.deletedResources[strings.ToLower(id)] && !dd.Get("deleteOption").Is("Delete") {
				if d, ok := x.Index.Get(id); ok {
					kept = append(kept, d.Name())
				}
			}
		}
		if len(kept) > 0 {
			return rec(Reversible, "its data disks survived ("+strings.Join(kept, ", ")+"): rebuild the VM from its image and attach them; the OS disk is lost")
		}
	}
	if arm.ComponentOf(o.Type()) == arm.ComponentConfig {
		return rec(Reversible, "configuration: re-create it from the snapshot's definition (no IaC declares it; child resources such as record sets must be re-entered)")
	}
	if len(gone) > 0 {
		return rec(Lost, "deleted, and "+strings.Join(gone, "; "))
	}
	return rec(Lost, "deleted, and no backup of it is in the snapshot")
}
