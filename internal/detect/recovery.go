package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Recovery says whether what an incident did to a resource can still be undone.
type Recovery struct {
	Status string `json:"status"` // reversible, lost or unknown
	Reason string `json:"reason"`
}

const (
	Reversible = "reversible"
	Lost       = "lost"
	Unknown    = "unknown"
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
// Azure Backup soft delete (14 days), storage account recovery (14 days), SQL deleted-database
// restore (within the backup retention), Log Analytics workspace soft delete (14 days).
func recoveryOf(r *Resource, f *incidentFacts) Recovery {
	typ := strings.ToLower(r.Type)
	if !r.Deleted {
		if strings.HasSuffix(typ, "/deletedvaults") && r.Status != "Failure" {
			return Recovery{Lost, "the soft-deleted Key Vault " + r.Name + " was purged: its keys, secrets and certificates are gone"}
		}
		return Recovery{Reversible, "configuration change: restore the previous settings (IaC, or the request body in the Activity Log)"}
	}
	switch typ {
	case "microsoft.keyvault/vaults":
		if f.purgedVaults[strings.ToLower(r.Name)] {
			return Recovery{Lost, "deleted, then purged"}
		}
		days := int64(90)
		if f.estate != nil {
			if o, ok := f.estate.Index.Get(r.ID); ok {
				if on, ok := o.Prop("properties.enableSoftDelete").Bool(); ok && !on {
					return Recovery{Lost, "deleted with soft delete off"}
				}
				if n, ok := o.Prop("properties.softDeleteRetentionInDays").Int(); ok && n > 0 {
					days = n
				}
			}
		}
		until := r.Last.AddDate(0, 0, int(days)).UTC().Format("2006-01-02")
		return Recovery{Reversible, fmt.Sprintf("soft-deleted: recover by %s (%d days' retention): az keyvault recover --name %s", until, days, r.Name)}
	case "microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems":
		vault := vaultOf(r.ID)
		if f.deletedVaults[vault] {
			return Recovery{Lost, "backup data deleted and its vault deleted"}
		}
		if t, ok := f.softDeleteOff[vault]; ok && !r.Last.Before(t) {
			return Recovery{Lost, "backup data deleted after soft delete was disabled on the vault"}
		}
		if vaultSoftDeleteOff(f.estate, vault) {
			return Recovery{Lost, "backup data deleted from a vault whose soft delete is disabled (snapshot)"}
		}
		return Recovery{Reversible, "backup data is soft-deleted for 14 days: undelete the backup item in the vault"}
	case "microsoft.recoveryservices/vaults", "microsoft.dataprotection/backupvaults":
		return Recovery{Lost, "vault deleted: its recovery points are gone unless another vault holds copies"}
	case "microsoft.storage/storageaccounts":
		return Recovery{Reversible, "a deleted storage account can be recovered within 14 days if no account with its name was created since (Recover deleted storage account)"}
	case "microsoft.sql/servers/databases", "microsoft.sql/managedinstances/databases":
		if f.deletedResources[strings.ToLower(parentOf(r.ID))] {
			return Recovery{Lost, "database deleted with its server: the server's backups are gone"}
		}
		return Recovery{Reversible, "restore the deleted database from its automated backups within the retention period"}
	case "microsoft.sql/servers", "microsoft.sql/managedinstances":
		return Recovery{Lost, "server deleted: its databases and their automated backups are gone (long-term retention copies survive)"}
	case "microsoft.operationalinsights/workspaces":
		return Recovery{Reversible, "soft-deleted for 14 days unless deleted with force: recover the workspace"}
	case "microsoft.resources/subscriptions/resourcegroups", "microsoft.resources/resourcegroups":
		return Recovery{Lost, "resource group deleted with everything in it: see each resource"}
	case "microsoft.authorization/locks", "microsoft.insights/diagnosticsettings", "microsoft.authorization/policyassignments",
		"microsoft.authorization/roleassignments", "microsoft.securityinsights/alertrules", "microsoft.security/alertssuppressionrules":
		return Recovery{Reversible, "configuration deleted: re-create it (IaC, or its definition in the snapshot)"}
	}
	if strings.HasPrefix(typ, "microsoft.documentdb/") {
		return Recovery{Unknown, "restorable only if the account used continuous backup; open a support request within its retention"}
	}
	if f.estate != nil {
		if item := protectedItemFor(f.estate, r.ID); item != nil {
			vault := vaultOf(item.ID.String())
			name := vault[strings.LastIndex(vault, "/")+1:]
			if f.deletedVaults[vault] {
				return Recovery{Lost, "deleted, and its backup vault " + name + " was deleted too"}
			}
			if f.deletedResources[strings.ToLower(item.ID.String())] {
				if _, ok := f.softDeleteOff[vault]; ok || vaultSoftDeleteOff(f.estate, vault) {
					return Recovery{Lost, "deleted, and its backup was deleted after soft delete was disabled on " + name}
				}
				return Recovery{Reversible, "its backup was deleted but is soft-deleted for 14 days: undelete it in vault " + name + ", then restore"}
			}
			return Recovery{Reversible, "restore from its backup in vault " + name}
		}
		return Recovery{Lost, "deleted, and no backup of it is in the snapshot"}
	}
	return Recovery{Unknown, "deleted: recoverable only from a backup or IaC (give --snapshot to check backups)"}
}

// vaultSoftDeleteOff reports whether the snapshot shows a Recovery Services vault with soft
// delete disabled.
func vaultSoftDeleteOff(x *Estate, vault string) bool {
	if x == nil || vault == "" {
		return false
	}
	o, ok := x.Index.Get(vault)
	return ok && o.Prop("properties.securitySettings.softDeleteSettings.softDeleteState").Is("Disabled")
}

// vaultOf returns the lower-case ID of the Recovery Services vault an ID is below, or "".
func vaultOf(id string) string {
	l := strings.ToLower(id)
	i := strings.Index(l, "/providers/microsoft.recoveryservices/vaults/")
	if i < 0 {
		return ""
	}
	rest := l[i+len("/providers/microsoft.recoveryservices/vaults/"):]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return l[:i] + "/providers/microsoft.recoveryservices/vaults/" + rest
}

func parentOf(id string) string {
	if i := strings.LastIndex(id, "/"); i > 0 {
		if j := strings.LastIndex(id[:i], "/"); j > 0 {
			return id[:j]
		}
	}
	return ""
}

// protectedItemFor finds the backup item protecting a resource in the snapshot.
func protectedItemFor(x *Estate, id string) *arm.Object {
	pid, err := arm.ParseID(id)
	if err != nil {
		return nil
	}
	if items := x.Env.ProtectedItems(pid); len(items) > 0 {
		return items[0]
	}
	return nil
}
