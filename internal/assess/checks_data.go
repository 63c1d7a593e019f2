package assess

import (
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

func storageAccounts(e *Env) []Target { return e.ofTypes("Microsoft.Storage/storageAccounts") }

// blobService returns the account's blobServices/default, or an unknown verdict naming what is missing.
func blobService(e *Env, t Target) (*arm.Object, Verdict, bool) {
	bs := e.Index.ChildrenOfType(t.Obj.ID, "Microsoft.Storage/storageAccounts/blobServices")
	if len(bs) == 0 {
		if ce, ok := e.collectFailed(t.Obj.ID, "blobServices"); ok {
			return nil, unknown(t.Obj.Name()+"/blobServices/default", ev(ce.Operation, ce.Message)), false
		}
		return nil, unknown(t.Obj.Name() + "/blobServices/default"), false
	}
	return bs[0], Verdict{}, true
}

func blobCheck(id, title string, sev Severity, rationale string, fix Remediation, bc bool, judge func(bs *arm.Object) Verdict) *Check {
	return &Check{ID: id, Title: title, Area: AreaData, Principle: AssumeBreach, Severity: sev, Rationale: rationale, Fix: fix, BusinessCritical: bc,
		Targets: storageAccounts,
		Eval: func(e *Env, t Target) Verdict {
			if bc {
				if v, ok := bcGate(e, t); !ok {
					return v
				}
			}
			bs, v, ok := blobService(e, t)
			if !ok {
				return v
			}
			return judge(bs)
		}}
}

func blobPropsCmd(flags string) func(t Target) string {
	return func(t Target) string {
		return "az storage account blob-service-properties update --account-name " + name(t) + " --resource-group " + rg(t) + " " + flags
	}
}

var checkST001 = blobCheck("ST-001", "Blob soft delete", High,
	"Deleted or overwritten blobs are recoverable only while soft delete keeps them. The guidance asks for soft delete on every "+
		"account, long enough to notice an attack (at least 7 days), and without permanent delete, which lets an attacker skip the bin.",
	Remediation{Bicep: bicepBlob, Text: "Enable blob soft delete for at least 7 days (14 or more recommended) and disallow permanent delete.",
		Command: blobPropsCmd("--enable-delete-retention true --delete-retention-days 14")}, false,
	func(bs *arm.Object) Verdict {
		en, d, perm := prop(bs, "properties.deleteRetentionPolicy.enabled"), prop(bs, "properties.deleteRetentionPolicy.days"), prop(bs, "properties.deleteRetentionPolicy.allowPermanentDelete")
		on, _ := bs.Prop("properties.deleteRetentionPolicy.enabled").Bool()
		n, _ := bs.Get("properties.deleteRetentionPolicy.days").Int()
		p, _ := bs.Prop("properties.deleteRetentionPolicy.allowPermanentDelete").Bool()
		switch {
		case !on:
			return fail("blob soft delete is off", en)
		case n < 7:
			return fail(fmt.Sprintf("blob soft delete keeps deleted blobs only %d days", n), en, d)
		case p:
			return fail("permanent delete is allowed: soft-deleted blobs can be purged at once", en, d, perm)
		}
		return pass(fmt.Sprintf("blob soft delete keeps deleted blobs %d days", n), en, d, perm)
	})

var checkST002 = blobCheck("ST-002", "Container soft delete", Medium,
	"Deleting a container deletes every blob in it at once. Container soft delete lets the container and its contents be restored.",
	Remediation{Bicep: bicepBlob, Text: "Enable container soft delete for at least 7 days.", Command: blobPropsCmd("--enable-container-delete-retention true --container-delete-retention-days 14")}, false,
	func(bs *arm.Object) Verdict {
		en, d := prop(bs, "properties.containerDeleteRetentionPolicy.enabled"), prop(bs, "properties.containerDeleteRetentionPolicy.days")
		on, _ := bs.Prop("properties.containerDeleteRetentionPolicy.enabled").Bool()
		n, _ := bs.Get("properties.containerDeleteRetentionPolicy.days").Int()
		if !on {
			return fail("container soft delete is off", en)
		}
		if n < 7 {
			return fail(fmt.Sprintf("container soft delete keeps deleted containers only %d days", n), en, d)
		}
		return pass(fmt.Sprintf("container soft delete keeps deleted containers %d days", n), en, d)
	})

var checkST003 = blobCheck("ST-003", "Blob versioning", Medium,
	"Ransomware overwrites blobs with encrypted copies rather than deleting them. Versioning keeps the previous version of every "+
		"overwritten blob, so the original can be restored.",
	Remediation{Bicep: bicepBlob, Text: "Enable blob versioning.", Command: blobPropsCmd("--enable-versioning true")}, false,
	func(bs *arm.Object) Verdict {
		if b, _ := bs.Prop("properties.isVersioningEnabled").Bool(); b {
			return pass("versioning is on", prop(bs, "properties.isVersioningEnabled"))
		}
		return fail("versioning is off: overwritten blobs are gone", prop(bs, "properties.isVersioningEnabled"))
	})

var checkST004 = blobCheck("ST-004", "Point-in-time restore", Medium,
	"Point-in-time restore rolls a whole account's block blobs back to before an attack in one operation, instead of restoring "+
		"blob by blob. It needs versioning, change feed and blob soft delete, with a restore window shorter than the soft-delete window.",
	Remediation{Bicep: bicepBlob, Text: "Enable versioning, change feed and soft delete, then point-in-time restore with a window shorter than soft delete.",
		Command: blobPropsCmd("--enable-versioning true --enable-change-feed true --enable-delete-retention true --delete-retention-days 14 --enable-restore-policy true --restore-days 13")}, true,
	func(bs *arm.Object) Verdict {
		ev := []Evidence{prop(bs, "properties.restorePolicy.enabled"), prop(bs, "properties.restorePolicy.days"), prop(bs, "properties.isVersioningEnabled"),
			prop(bs, "properties.changeFeed.enabled"), prop(bs, "properties.deleteRetentionPolicy.days")}
		on, _ := bs.Prop("properties.restorePolicy.enabled").Bool()
		if !on {
			return fail("point-in-time restore is off", ev...)
		}
		ver, _ := bs.Prop("properties.isVersioningEnabled").Bool()
		cf, _ := bs.Prop("properties.changeFeed.enabled").Bool()
		rd, _ := bs.Get("properties.restorePolicy.days").Int()
		dd, _ := bs.Get("properties.deleteRetentionPolicy.days").Int()
		if !ver || !cf || rd >= dd {
			return fail("point-in-time restore is on but its prerequisites are not met (versioning, change feed, restore days < soft-delete days)", ev...)
		}
		return pass(fmt.Sprintf("accounts can be restored to any point in the last %d days", rd), ev...)
	})

var checkST005 = &Check{
	ID: "ST-005", Title: "Immutable storage for business-critical data", Area: AreaData, Principle: AssumeBreach, Severity: High, BusinessCritical: true,
	Rationale: "Immutability (WORM) is the only storage protection an administrator cannot switch off once locked: neither deletion nor " +
		"overwrite is possible before the retention ends. The guidance asks for it on business-critical data, locked.",
	Fix: Remediation{Bicep: bicepImmutableAccount,
		Text: "Enable version-level immutability on the account (or time-based retention on its containers) and lock the policy once tested.",
		Command: func(t Target) string {
			return "az storage container immutability-policy create --account-name " + name(t) + " --resource-group " + rg(t) + " --container-name <container> --period 30"
		},
	},
	Targets: storageAccounts,
	Eval: func(e *Env, t Target) Verdict {
		if v, ok := bcGate(e, t); !ok {
			return v
		}
		acct := prop(t.Obj, "properties.immutableStorageWithVersioning.enabled")
		if b, _ := t.Obj.Prop("properties.immutableStorageWithVersioning.enabled").Bool(); b {
			state := prop(t.Obj, "properties.immutableStorageWithVersioning.immutabilityPolicy.state")
			if t.Obj.Get("properties.immutableStorageWithVersioning.immutabilityPolicy.state").Is("Unlocked") {
				return warn("account-level immutability is enabled but not locked", acct, state)
			}
			return pass("account-level immutability is enabled", acct, state)
		}
		var ev []Evidence
		locked, unlocked := 0, 0
		for _, c := range e.Index.Descendants(t.Obj.ID, "Microsoft.Storage/storageAccounts/blobServices/containers") {
			st := c.Get("properties.immutabilityPolicy.properties.state")
			if !st.Exists() {
				continue
			}
			ev = append(ev, Evidence{Path: c.Name() + " properties.immutabilityPolicy.properties.state", Value: st.Display()})
			if st.Is("Locked") {
				locked++
			} else {
				unlocked++
			}
		}
		switch {
		case locked > 0:
			return pass(count(locked, "container has a locked immutability policy", "containers have locked immutability policies"), append([]Evidence{acct}, ev...)...)
		case unlocked > 0:
			return warn("container immutability policies exist but none is locked", append([]Evidence{acct}, ev...)...)
		}
		return fail("business-critical data without immutability", acct, Evidence{Path: "containers with immutability policies", Value: "none"})
	},
}

var geoSKUs = map[string]bool{"standard_grs": true, "standard_ragrs": true, "standard_gzrs": true, "standard_ragzrs": true}

var checkST006 = &Check{
	ID: "ST-006", Title: "Geo-redundant storage", Area: AreaData, Principle: AssumeBreach, Severity: Medium,
	Rationale: "Geo-redundant storage keeps a copy in the paired region, which survives the loss of the primary region and lets " +
		"Microsoft-managed or customer-initiated failover bring data back. The built-in policy audits every account.",
	Fix: Remediation{Bicep: bicepGZRS,
		Text: "Move the account to GZRS (or GRS where zone redundancy is unavailable).",
		Command: func(t Target) string {
			return "az storage account update --name " + name(t) + " --resource-group " + rg(t) + " --sku Standard_GZRS"
		},
		Policy: &Policy{Name: "Geo-redundant storage should be enabled for Storage Accounts", ID: "bf045164-79ba-4215-8f95-f8048dc1780b"},
	},
	Targets: storageAccounts,
	Eval: func(e *Env, t Target) Verdict {
		sku := prop(t.Obj, "sku.name")
		if geoSKUs[strings.ToLower(sku.Value)] {
			return pass("geo-redundant", sku)
		}
		if !t.Obj.Get("sku.name").Exists() {
			return unknown("sku.name of " + t.Obj.Name())
		}
		return fail("not geo-redundant: the data lives in one region", sku)
	},
}

var checkST007 = &Check{
	ID: "ST-007", Title: "File share soft delete", Area: AreaData, Principle: AssumeBreach, Severity: Medium,
	Rationale: "A deleted Azure file share, with all its files, is gone unless share soft delete keeps it. Azure Backup for file shares also relies on it.",
	Fix: Remediation{Bicep: bicepFiles,
		Text: "Enable share soft delete for at least 7 days.",
		Command: func(t Target) string {
			return "az storage account file-service-properties update --account-name " + name(t) + " --resource-group " + rg(t) + " --enable-delete-retention true --delete-retention-days 14"
		},
	},
	Targets: storageAccounts,
	Eval: func(e *Env, t Target) Verdict {
		fs := e.Index.ChildrenOfType(t.Obj.ID, "Microsoft.Storage/storageAccounts/fileServices")
		if len(fs) == 0 {
			if len(e.Index.Descendants(t.Obj.ID, "Microsoft.Storage/storageAccounts/fileServices/shares")) > 0 {
				return unknown(t.Obj.Name() + "/fileServices/default")
			}
			return na("no file services in the snapshot")
		}
		en, d := prop(fs[0], "properties.shareDeleteRetentionPolicy.enabled"), prop(fs[0], "properties.shareDeleteRetentionPolicy.days")
		on, _ := fs[0].Prop("properties.shareDeleteRetentionPolicy.enabled").Bool()
		n, _ := fs[0].Get("properties.shareDeleteRetentionPolicy.days").Int()
		if !on {
			return fail("share soft delete is off", en)
		}
		if n < 7 {
			return fail(fmt.Sprintf("share soft delete keeps deleted shares only %d days", n), en, d)
		}
		return pass(fmt.Sprintf("share soft delete keeps deleted shares %d days", n), en, d)
	},
}

var checkST008 = &Check{
	ID: "ST-008", Title: "File shares are backed up", Area: AreaData, Principle: AssumeBreach, Severity: Medium,
	Rationale: "Share snapshots live in the share and die with it. Azure Backup for file shares keeps recovery points under the " +
		"vault's soft delete and immutability, outside the attacker's reach.",
	Fix: Remediation{
		Text: "Protect the share with Azure Backup.",
		Command: func(t Target) string {
			acct, _ := t.Obj.ID.Parent()
			acct, _ = acct.Parent()
			return "az backup protection enable-for-azurefileshare --resource-group <vault-rg> --vault-name <vault> --policy-name <policy> --storage-account " + acct.Name() + " --azure-file-share " + name(t)
		},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.Storage/storageAccounts/fileServices/shares") },
	Eval: func(e *Env, t Target) Verdict {
		fsvc, _ := t.Obj.ID.Parent()
		acct, _ := fsvc.Parent()
		for _, it := range e.Recovery.ProtectedItems(acct) {
			fn, _ := it.Get("properties.friendlyName").String()
			if it.Get("properties.protectedItemType").Is("AzureFileShareProtectedItem") && strings.EqualFold(fn, t.Obj.Name()) {
				return pass("backed up", Evidence{Path: it.ID.String() + " properties.protectionState", Value: it.Get("properties.protectionState").Display()})
			}
		}
		if e.backupDataMissing() {
			return unknown("Recovery Services protected items")
		}
		return fail("no Azure Backup protected item for this share", ev("AzureFileShareProtectedItem with properties.sourceResourceId = "+acct.String()+" and friendlyName = "+t.Obj.Name(), "none"))
	},
}

func sqlDatabases(e *Env) []Target {
	var out []Target
	for _, o := range e.Index.OfType("Microsoft.Sql/servers/databases") {
		if !strings.EqualFold(o.Name(), "master") {
			out = append(out, Target{Obj: o})
		}
	}
	return out
}

func server(t Target) string {
	s, _ := t.Obj.ID.Parent()
	return s.Name()
}

func isGeoSecondary(o *arm.Object) bool {
	return o.Get("properties.secondaryType").Exists() && !o.Get("properties.secondaryType").Is("")
}

var checkSQL001 = &Check{
	ID: "SQL-001", Title: "SQL databases keep point-in-time backups", Area: AreaData, Principle: AssumeBreach, Severity: High,
	Rationale: "Point-in-time restore recovers a database as it was before rows were deleted or encrypted, and restores dropped " +
		"databases. A week is the minimum to notice an attack; the maximum is 35 days.",
	Fix: Remediation{Bicep: bicepSQLSTR,
		Text: "Set short-term retention to at least 7 days (14–35 recommended).",
		Command: func(t Target) string {
			return "az sql db str-policy set --resource-group " + rg(t) + " --server " + server(t) + " --name " + name(t) + " --retention-days 14 --diffbackup-hours 12"
		},
	},
	Targets: sqlDatabases,
	Eval: func(e *Env, t Target) Verdict {
		if isGeoSecondary(t.Obj) {
			return na("geo-secondary: backups are taken on the primary")
		}
		p := e.Index.ChildrenOfType(t.Obj.ID, "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies")
		if len(p) == 0 {
			return unknown(t.Obj.Name() + "/backupShortTermRetentionPolicies/default")
		}
		d := prop(p[0], "properties.retentionDays")
		n, _ := p[0].Prop("properties.retentionDays").Int()
		if n < 7 {
			return fail(fmt.Sprintf("point-in-time backups are kept only %d days", n), d)
		}
		return pass(fmt.Sprintf("point-in-time backups are kept %d days", n), d)
	},
}

var checkSQL002 = &Check{
	ID: "SQL-002", Title: "SQL databases keep long-term geo backups", Area: AreaData, Principle: AssumeBreach, Severity: Medium,
	Rationale: "Long-term retention keeps weekly, monthly or yearly full backups for years, and geo-redundant backup storage keeps " +
		"them readable when the primary region is lost; locally redundant backups die with the region.",
	Fix: Remediation{Bicep: bicepSQLLTR,
		Text: "Configure long-term retention and geo-redundant backup storage.",
		Command: func(t Target) string {
			return "az sql db ltr-policy set --resource-group " + rg(t) + " --server " + server(t) + " --name " + name(t) + " --weekly-retention P4W --monthly-retention P12M --yearly-retention P5Y --week-of-year 1"
		},
		Policy: &Policy{Name: "Long-term geo-redundant backup should be enabled for Azure SQL Databases", ID: "d38fc420-0735-4ef3-ac11-c806f651a570"},
	},
	Targets: sqlDatabases,
	Eval: func(e *Env, t Target) Verdict {
		if isGeoSecondary(t.Obj) {
			return na("geo-secondary: backups are taken on the primary")
		}
		// Dedicated SQL pools (formerly SQL DW) have no long-term retention: ARM answers the policy
		// GET with 400 LongTermRetentionPolicyNotSupported; they recover from geo-backups and
		// restore points instead.
		kind, _ := t.Obj.Get("kind").String()
		if t.Obj.Get("sku.tier").Is("DataWarehouse") || t.Obj.Get("properties.currentSku.tier").Is("DataWarehouse") ||
			strings.Contains(strings.ToLower(kind), "datawarehouse") {
			return na("dedicated SQL pool (DataWarehouse): long-term retention is not supported")
		}
		red := t.Obj.Get("properties.requestedBackupStorageRedundancy")
		if !red.Exists() {
			red = t.Obj.Get("properties.currentBackupStorageRedundancy")
		}
		redEv := Evidence{Path: red.Path(), Value: red.Display()}
		p := e.Index.ChildrenOfType(t.Obj.ID, "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies")
		if len(p) == 0 {
			return unknown(t.Obj.Name()+"/backupLongTermRetentionPolicies/default", redEv)
		}
		ltr := []Evidence{prop(p[0], "properties.weeklyRetention"), prop(p[0], "properties.monthlyRetention"), prop(p[0], "properties.yearlyRetention")}
		any := false
		for _, f := range []string{"weekly", "monthly", "yearly"} {
			if v, _ := p[0].Prop("properties." + f + "Retention").String(); v != "" && !strings.EqualFold(v, "PT0S") {
				any = true
			}
		}
		if !any {
			return fail("no long-term retention", append(ltr, redEv)...)
		}
		if red.Is("Local", "Zone") {
			return fail("long-term backups are not geo-redundant", append(ltr, redEv)...)
		}
		return pass("long-term retention with geo-redundant backups", append(ltr, redEv)...)
	},
}

var checkSQL003 = &Check{
	ID: "SQL-003", Title: "SQL databases can fail over to another region", Area: AreaData, Principle: AssumeBreach, Severity: Medium,
	Rationale: "A failover group or geo-replica keeps a readable copy in another region that can take over within minutes, instead " +
		"of a geo-restore that takes hours.",
	Fix: Remediation{Bicep: bicepFailoverGroup,
		Text: "Add the database to a failover group with a server in another region.",
		Command: func(t Target) string {
			return "az sql failover-group create --name fg-" + server(t) + " --resource-group " + rg(t) + " --server " + server(t) + " --partner-server <secondary-server> --add-db " + name(t)
		},
	},
	Targets: sqlDatabases,
	Eval: func(e *Env, t Target) Verdict {
		if isGeoSecondary(t.Obj) {
			return pass("is itself a geo-secondary", prop(t.Obj, "properties.secondaryType"))
		}
		srv, _ := t.Obj.ID.Parent()
		for _, fg := range e.Index.ChildrenOfType(srv, "Microsoft.Sql/servers/failoverGroups") {
			for _, d := range fg.Get("properties.databases").List() {
				if s, ok := d.String(); ok && strings.EqualFold(s, t.Obj.ID.String()) {
					return pass("in failover group "+fg.Name(), ev(fg.ID.String()+" properties.databases", "contains this database"))
				}
			}
		}
		if links := e.Index.ChildrenOfType(t.Obj.ID, "Microsoft.Sql/servers/databases/replicationLinks"); len(links) > 0 {
			return pass("geo-replicated", prop(links[0], "properties.partnerServer"), prop(links[0], "properties.partnerLocation"))
		}
		return fail("in no failover group and not geo-replicated", ev("failover groups and replication links", "none"))
	},
}

var checkSQL004 = &Check{
	ID: "SQL-004", Title: "SQL managed instances can fail over", Area: AreaData, Principle: AssumeBreach, Severity: Medium,
	Rationale: "A managed instance in an instance failover group has a secondary in another region; geo-redundant backup storage " +
		"keeps its backups restorable when the region is lost.",
	Fix: Remediation{Bicep: bicepInstanceFailoverGroup,
		Text: "Create an instance failover group with a secondary instance and use geo-redundant backup storage.",
		Command: func(t Target) string {
			return "az sql instance-failover-group create --name fg-" + name(t) + " --resource-group " + rg(t) + " --mi " + name(t) + " --partner-mi <secondary-mi> --partner-resource-group <secondary-rg>"
		},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.Sql/managedInstances") },
	Eval: func(e *Env, t Target) Verdict {
		group, geo, red := e.Recovery.InstanceFailoverGroup(t.Obj)
		redEv := Evidence{Path: red.Path(), Value: red.Display()}

		switch {
		case group == nil && !geo:
			return fail("in no instance failover group, and backups are not geo-redundant", redEv)
		case group == nil:
			return fail("in no instance failover group", redEv)
		case !geo:
			return fail("in instance failover group "+group.Name()+", but backups are not geo-redundant", redEv)
		}
		return pass("in instance failover group "+group.Name()+" with geo-redundant backups", redEv, ev("instance failover group", group.ID.String()))
	},
}

var checkSQL005 = &Check{
	ID: "SQL-005", Title: "SQL Server on VMs is backed up", Area: AreaData, Principle: AssumeBreach, Severity: High,
	Rationale: "SQL Server on a VM is a data service the platform does not back up by itself. It needs either SQL workload backup " +
		"(log backups, point-in-time) or at least a VM backup.",
	Fix:     Remediation{Text: "Enable Azure Backup for SQL Server in Azure VM (workload backup) in a protected vault."},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.SqlVirtualMachine/sqlVirtualMachines") },
	Eval: func(e *Env, t Target) Verdict {
		vm, _ := t.Obj.Get("properties.virtualMachineResourceId").String()
		if vm == "" {
			return unknown("properties.virtualMachineResourceId of " + t.Obj.Name())
		}
		items := e.Recovery.ProtectedItemsOf(strings.ToLower(vm))
		for _, it := range items {
			if it.Get("properties.protectedItemType").Is("AzureVmWorkloadSQLDatabase") {
				return pass("SQL workload backup", ev(it.ID.String()+" properties.protectedItemType", "AzureVmWorkloadSQLDatabase"))
			}
		}
		if len(items) > 0 {
			return pass("the VM is backed up (no log backups: point-in-time is limited to VM recovery points)", ev(items[0].ID.String()+" properties.protectedItemType", items[0].Get("properties.protectedItemType").Display()))
		}
		if e.backupDataMissing() {
			return unknown("Recovery Services protected items")
		}
		return fail("neither SQL workload backup nor VM backup", ev("protected items for "+vm, "none"))
	},
}

func keyVaults(e *Env) []Target { return e.ofTypes("Microsoft.KeyVault/vaults") }

var checkKV001 = &Check{
	ID: "KV-001", Title: "Key Vault soft delete", Area: AreaData, Principle: AssumeBreach, Severity: High,
	Rationale: "Keys encrypt disks, storage, databases and backups: a deleted key makes all of them unreadable. Soft delete keeps a " +
		"deleted vault recoverable for its retention period (90 days by default).",
	Fix: Remediation{Bicep: bicepKeyVault,
		Text:   "Soft delete cannot be turned on for an old vault that has it off; migrate the secrets to a new vault (soft delete is mandatory for new vaults). Keep retention at 90 days.",
		Policy: &Policy{Name: "Key vaults should have soft delete enabled", ID: "1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d"},
	},
	Targets: keyVaults,
	Eval: func(e *Env, t Target) Verdict {
		sd, days := prop(t.Obj, "properties.enableSoftDelete"), prop(t.Obj, "properties.softDeleteRetentionInDays")
		on, ok := t.Obj.Prop("properties.enableSoftDelete").Bool()
		if !ok || !on {
			return fail("soft delete is off: a deleted vault is gone at once", sd)
		}
		n, _ := t.Obj.Prop("properties.softDeleteRetentionInDays").Int()
		if n < 90 {
			return warn(fmt.Sprintf("soft delete keeps a deleted vault only %d days", n), sd, days)
		}
		return pass(fmt.Sprintf("soft delete keeps a deleted vault %d days", n), sd, days)
	},
}

var checkKV002 = &Check{
	ID: "KV-002", Title: "Key Vault purge protection", Area: AreaData, Principle: AssumeBreach, Severity: Critical,
	Rationale: "Without purge protection, an attacker who deletes a vault can purge it immediately, and every key in it — with every " +
		"disk, account and backup it encrypts — is lost for good. With it, nobody, not even Microsoft, can purge before the retention ends.",
	Fix: Remediation{
		Text: "Enable purge protection (it cannot be turned off again).",
		Command: func(t Target) string {
			return "az keyvault update --name " + name(t) + " --resource-group " + rg(t) + " --enable-purge-protection true"
		},
		Bicep:  "resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {\n  // …\n  properties: {\n    enableSoftDelete: true\n    softDeleteRetentionInDays: 90\n    enablePurgeProtection: true\n  }\n}",
		Policy: &Policy{Name: "Key vaults should have deletion protection enabled", ID: "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53"},
	},
	Targets: keyVaults,
	Eval: func(e *Env, t Target) Verdict {
		pp := prop(t.Obj, "properties.enablePurgeProtection")
		if b, _ := t.Obj.Prop("properties.enablePurgeProtection").Bool(); b {
			return pass("purge protection is on", pp)
		}
		return fail("purge protection is off: a deleted vault can be purged at once", pp)
	},
}

var checkCOSMOS001 = &Check{
	ID: "COSMOS-001", Title: "Cosmos DB continuous backup", Area: AreaData, Principle: AssumeBreach, Severity: Medium, BusinessCritical: true,
	Rationale: "Continuous backup restores a Cosmos DB account, database or container to any second in the last 7 or 30 days, " +
		"including after deletion, without a support request; periodic backup keeps only a few snapshots.",
	Fix: Remediation{Bicep: bicepCosmos,
		Text: "Migrate the account to continuous backup (30-day tier for business-critical data).",
		Command: func(t Target) string {
			return "az cosmosdb update --name " + name(t) + " --resource-group " + rg(t) + " --backup-policy-type Continuous --continuous-tier Continuous30Days"
		},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.DocumentDB/databaseAccounts") },
	Eval: func(e *Env, t Target) Verdict {
		if v, ok := bcGate(e, t); !ok {
			return v
		}
		bp := prop(t.Obj, "properties.backupPolicy.type")
		if t.Obj.Prop("properties.backupPolicy.type").Is("Continuous") {
			return pass("continuous backup", bp)
		}
		return fail("periodic backup only", bp)
	},
}
