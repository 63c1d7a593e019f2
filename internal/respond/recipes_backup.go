package respond

// This file: the recovery infrastructure (Backup vaults, Recovery Services vault settings changed
// by an incident) and the ARM ID helpers of backup items.

import (
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

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
			cfg := vaultID + "/backupconfig/vaultconfig?api-version=" + arm.APIVersions["microsoft.recoveryservices/backup"]
			s := &Step{Phase: RecoveryInfra, Action: "re-enable-vault-soft-delete", Minutes: minVaultSettings, Activity: "revert-system",
				Title:  "Re-enable soft delete and security features on " + v.Name(),
				Detail: "The attacker turned soft delete or the security features off on this vault. Turn them back on before any restore, so the items restored next cannot be deleted for good. Then make it AlwaysON through the harden plan (irreversible).",
				Commands: []string{fmt.Sprintf("az backup vault backup-properties set --name %s --resource-group %s --subscription %s --soft-delete-feature-state Enable",
					q(v.Name()), q(rg(v)), sub(v))},
				REST: []arm.Request{{Method: "PATCH", Endpoint: b.host, Path: cfg, Body: map[string]any{"properties": map[string]any{"softDeleteFeatureState": "Enabled", "enhancedSecurityState": "Enabled"}}}},
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
			s := &Step{Phase: RecoveryInfra, Action: "undelete-backup-item", Path: recovery.KindBackup, Minutes: minBackupUndelete, Activity: "restore-data",
				Title:  "Undelete the backup of " + protectedName(it),
				Detail: fmt.Sprintf("Protection was stopped and the backup data deleted while soft delete was on: the data is kept for %d days. Undelete it, then resume protection with its policy.", b.env.Recovery.BackupSoftDeleteDays(vaultID)),
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
				REST: []arm.Request{{Method: "PUT", Endpoint: b.host, Path: it.ID.String() + "?api-version=" + arm.APIVersions["microsoft.recoveryservices/backup"],
					Body: map[string]any{"properties": map[string]any{"protectedItemType": "Microsoft.Compute/virtualMachines", "isRehydrate": true}}}},
			}
			b.add(s, it)
		}
	}
}

// parentID drops n segments from the end of an ID.
// parentID returns the ID n/2 resource levels above id (an ID's segments come in type/name
// pairs): parentID(item, 6) is a protected item's vault. "" when id is not an ARM ID or is
// not that deep.
func parentID(id string, n int) string {
	x, err := arm.ParseID(id)
	if err != nil {
		return ""
	}
	for i := 0; i < n/2; i++ {
		p, ok := x.Parent()
		if !ok {
			return ""
		}
		x = p
	}
	return x.String()
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
