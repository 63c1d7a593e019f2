package assess

import (
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/rbac"
)

func rsVaults(e *Env) []Target { return e.ofTypes("Microsoft.RecoveryServices/vaults") }
func bVaults(e *Env) []Target  { return e.ofTypes("Microsoft.DataProtection/backupVaults") }

func vaultCmd(flags string) func(t Target) string {
	return func(t Target) string {
		return "az backup vault update --resource-group " + rg(t) + " --name " + name(t) + " " + flags
	}
}

var checkRSV001 = &Check{
	ID: "RSV-001", Title: "Vault soft delete is always on", Area: AreaRecovery, Principle: AssumeBreach, Severity: Critical,
	Rationale: "Soft delete keeps deleted backups for at least 14 days. Attackers turn it off first (it is one API call), then delete " +
		"the backups; always-on soft delete cannot be turned off by anyone. Retention shorter than 14 days leaves too little time to notice.",
	Fix: Remediation{Bicep: bicepRSV, Text: "Set soft delete to always-on with at least 14 days of retention.", Command: vaultCmd("--soft-delete-state AlwaysON --soft-delete-duration 14"),
		Policy: &Policy{Name: "[Preview]: Soft delete should be enabled for Recovery Services Vaults", ID: "31b8092a-36b8-434b-9af7-5ec844364148"}},
	Targets: rsVaults,
	Eval: func(e *Env, t Target) Verdict {
		st, days := prop(t.Obj, "properties.securitySettings.softDeleteSettings.softDeleteState"), prop(t.Obj, "properties.securitySettings.softDeleteSettings.softDeleteRetentionPeriodInDays")
		s := t.Obj.Prop("properties.securitySettings.softDeleteSettings.softDeleteState")
		n, _ := t.Obj.Prop("properties.securitySettings.softDeleteSettings.softDeleteRetentionPeriodInDays").Int()
		switch {
		case s.Is("Disabled"):
			return fail("soft delete is off: deleted backups are gone at once", st)
		case !s.Is("AlwaysON"):
			return warn("soft delete is on but can still be turned off", st, days)
		case n < 14:
			return warn(fmt.Sprintf("soft delete is always on but keeps deleted backups only %d days", n), st, days)
		}
		return pass("soft delete is always on", st, days)
	},
}

var checkRSV002 = &Check{
	ID: "RSV-002", Title: "Vault immutability is locked", Area: AreaRecovery, Principle: AssumeBreach, Severity: High,
	Rationale: "Immutability stops anyone from deleting recovery points before they expire or shortening retention. Unlocked, an " +
		"administrator (or an attacker with their rights) can still disable it; locked, it is irreversible.",
	Fix: Remediation{Bicep: bicepRSV, Text: "Enable immutability, test it, then lock it.", Command: vaultCmd("--immutability-state Locked"),
		Policy: &Policy{Name: "[Preview]: Immutability must be enabled for Recovery Services vaults", ID: "d6f6f560-14b7-49a4-9fc8-d2c3a9807868"}},
	Targets: rsVaults,
	Eval: func(e *Env, t Target) Verdict {
		st := prop(t.Obj, "properties.securitySettings.immutabilitySettings.state")
		s := t.Obj.Prop("properties.securitySettings.immutabilitySettings.state")
		switch {
		case s.Is("Locked"):
			return pass("immutability is locked", st)
		case s.Is("Unlocked"):
			return warn("immutability is on but not locked", st)
		}
		return fail("immutability is off: recovery points can be deleted early", st)
	},
}

// guardProxies returns a vault's Resource Guard proxies: Recovery Services vaults'
// backupResourceGuardProxies and Backup vaults' (…/backupVaults/{v}/backupResourceGuardProxies/
// DppResourceGuardProxy). They are matched by the type their ID names, because the Backup vault
// proxy's own "type" says "Microsoft.DataProtection/vaults/backupResourceGuardProxies" (REST spec
// dataprotection 2025-07-01 ListResourceGuardProxy.json).
func (e *Env) guardProxies(vault arm.ID) []*arm.Object {
	var out []*arm.Object
	for _, o := range e.Index.Children(vault) {
		if strings.EqualFold(o.ID.Type(), vault.Type()+"/backupResourceGuardProxies") {
			out = append(out, o)
		}
	}
	return out
}

// guardVerdict judges a vault protected by the Resource Guard its first proxy names: a guard in
// another subscription passes, one in the vault's own subscription warns (its owners can remove both).
func guardVerdict(vault *arm.Object, proxy *arm.Object, evs ...Evidence) Verdict {
	guard, _ := proxy.Get("properties.resourceGuardResourceId").String()
	evs = append(evs, ev(proxy.ID.String()+" properties.resourceGuardResourceId", guard))
	if gid, err := arm.ParseID(guard); err == nil && strings.EqualFold(gid.SubscriptionID(), vault.ID.SubscriptionID()) {
		return warn("protected by a Resource Guard in the vault's own subscription: its owners can remove both", evs...)
	}
	return pass("protected by a Resource Guard in another subscription", evs...)
}

var checkRSV003 = &Check{
	ID: "RSV-003", Title: "Multi-user authorization", Area: AreaRecovery, Principle: LeastPrivilege, Severity: High,
	Rationale: "Multi-user authorization puts critical vault operations (disable soft delete, reduce retention, remove protection) " +
		"behind a Resource Guard owned by someone else — ideally in another subscription and tenant team — so one compromised " +
		"backup admin cannot destroy backups alone.",
	Fix: Remediation{Bicep: bicepGuardProxy,
		Text: "Create a Resource Guard in a separate subscription owned by the security team and associate it with the vault.",
		Command: func(t Target) string {
			return "az backup vault resource-guard-mapping update --resource-group " + rg(t) + " --vault-name " + name(t) + " --resource-guard-id <guard-id>"
		},
	},
	Targets: rsVaults,
	Eval: func(e *Env, t Target) Verdict {
		mua := prop(t.Obj, "properties.securitySettings.multiUserAuthorization")
		proxies := e.guardProxies(t.Obj.ID)
		if len(proxies) == 0 {
			// securitySettings.multiUserAuthorization is read-only: the service sets it from the
			// vault's Resource Guard proxy (REST spec recoveryservices 2025-02-01), so Enabled is
			// evidence of a guard even when the proxy itself was not collected.
			if t.Obj.Prop("properties.securitySettings.multiUserAuthorization").Is("Enabled") {
				return pass("multi-user authorization is enabled (the vault's Resource Guard proxy was not in the snapshot, so its guard's subscription is not checked)", mua)
			}
			return fail("no Resource Guard: one backup admin can destroy the backups", mua, ev("backupResourceGuardProxies", "none"))
		}
		return guardVerdict(t.Obj, proxies[0], mua)
	},
}

var checkRSV004 = &Check{
	ID: "RSV-004", Title: "Cross-region restore", Area: AreaRecovery, Principle: AssumeBreach, Severity: Medium,
	Rationale: "A geo-redundant vault keeps backups in the paired region, but only cross-region restore lets you restore from there " +
		"when the primary region is unavailable. A locally redundant vault holding critical backups loses them with the region.",
	Fix: Remediation{Bicep: bicepRSV, Text: "Enable cross-region restore on geo-redundant vaults; move critical backups to geo-redundant vaults.",
		Command: func(t Target) string {
			return "az backup vault backup-properties set --resource-group " + rg(t) + " --name " + name(t) + " --cross-region-restore-flag true"
		}},
	Targets: rsVaults,
	Eval: func(e *Env, t Target) Verdict {
		red, crr := prop(t.Obj, "properties.redundancySettings.standardTierStorageRedundancy"), prop(t.Obj, "properties.redundancySettings.crossRegionRestore")
		r := t.Obj.Get("properties.redundancySettings.standardTierStorageRedundancy")
		switch {
		case r.Is("GeoRedundant"):
			if t.Obj.Prop("properties.redundancySettings.crossRegionRestore").Is("Enabled") {
				return pass("geo-redundant with cross-region restore", red, crr)
			}
			return fail("geo-redundant but cross-region restore is off", red, crr)
		case !r.Exists():
			return unknown("properties.redundancySettings of "+t.Obj.Name(), red)
		}
		for _, it := range e.Index.Descendants(t.Obj.ID, typeProtectedItem) {
			src, _ := it.Get("properties.sourceResourceId").String()
			if o, ok := e.Index.Get(src); ok {
				if c, why := e.Critical(o); c {
					return warn("locally redundant vault holding backups of critical "+o.Name()+" ("+why+")", red)
				}
				if bc, why := e.BusinessCritical(o); bc {
					return warn("locally redundant vault holding backups of business-critical "+o.Name()+" ("+why+")", red)
				}
			}
		}
		return pass("locally redundant, holding no critical backups", red)
	},
}

var checkRSV005 = &Check{
	ID: "RSV-005", Title: "Vault encryption keys are safe", Area: AreaRecovery, Principle: AssumeBreach, Severity: High,
	Rationale: "A vault encrypted with a customer-managed key is only as safe as that key: purge the key and every backup in the vault " +
		"is unreadable. The key's vault needs soft delete, purge protection and a lock.",
	Fix:     Remediation{Bicep: bicepKeyVault, Text: "Enable purge protection and a CanNotDelete lock on the Key Vault that holds the vault's key."},
	Targets: rsVaults,
	Eval: func(e *Env, t Target) Verdict {
		uri, ok := t.Obj.Get("properties.encryption.keyVaultProperties.keyUri").String()
		if !ok || uri == "" {
			return na("platform-managed keys")
		}
		kv := keyVaultByURI(e, uri)
		kev := ev("properties.encryption.keyVaultProperties.keyUri", uri)
		if kv == nil {
			return unknown("the Key Vault of "+uri, kev)
		}
		var bad []string
		if b, _ := kv.Prop("properties.enableSoftDelete").Bool(); !b {
			bad = append(bad, "soft delete off")
		}
		if b, _ := kv.Prop("properties.enablePurgeProtection").Bool(); !b {
			bad = append(bad, "purge protection off")
		}
		if len(e.Locks(kv.ID)) == 0 && e.locksSeen {
			bad = append(bad, "no lock")
		}
		if len(bad) > 0 {
			return fail("the key's vault "+kv.Name()+" is exposed: "+strings.Join(bad, ", "), kev, prop(kv, "properties.enablePurgeProtection"))
		}
		return pass("the key's vault "+kv.Name()+" has soft delete, purge protection and a lock", kev)
	},
}

func keyVaultByURI(e *Env, uri string) *arm.Object {
	host := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(uri, "https://"), "http://"))
	if i := strings.IndexByte(host, '.'); i > 0 {
		host = host[:i]
	}
	for _, kv := range e.Index.OfType("Microsoft.KeyVault/vaults") {
		if strings.EqualFold(kv.Name(), host) {
			return kv
		}
	}
	return nil
}

var checkBV001 = &Check{
	ID: "BV-001", Title: "Backup vault soft delete always on", Area: AreaRecovery, Principle: AssumeBreach, Severity: Critical,
	Rationale: "Backup vaults (disks, blobs, AKS, databases) keep deleted backup instances only while soft delete is on; always-on " +
		"cannot be turned off by an attacker.",
	Fix: Remediation{Bicep: bicepBV, Text: "Set soft delete to always-on.", Command: func(t Target) string {
		return "az dataprotection backup-vault update --resource-group " + rg(t) + " --vault-name " + name(t) + " --soft-delete-state AlwaysOn"
	}, Policy: &Policy{Name: "[Preview]: Soft delete should be enabled for Backup Vaults", ID: "9798d31d-6028-4dee-8643-46102185c016"}},
	Targets: bVaults,
	Eval: func(e *Env, t Target) Verdict {
		st := prop(t.Obj, "properties.securitySettings.softDeleteSettings.state")
		s := t.Obj.Prop("properties.securitySettings.softDeleteSettings.state")
		switch {
		case s.Is("Off"):
			return fail("soft delete is off", st)
		case s.Is("AlwaysOn"):
			return pass("soft delete is always on", st)
		}
		return warn("soft delete is on but can be turned off", st)
	},
}

var checkBV002 = &Check{
	ID: "BV-002", Title: "Backup vault immutability locked", Area: AreaRecovery, Principle: AssumeBreach, Severity: High,
	Rationale: "Locked immutability makes recovery points in a Backup vault impossible to delete before expiry, by anyone.",
	Fix: Remediation{Bicep: bicepBV, Text: "Enable and lock immutability.", Command: func(t Target) string {
		return "az dataprotection backup-vault update --resource-group " + rg(t) + " --vault-name " + name(t) + " --immutability-state Locked"
	}, Policy: &Policy{Name: "[Preview]: Immutability must be enabled for backup vaults", ID: "2514263b-bc0d-4b06-ac3e-f262c0979018"}},
	Targets: bVaults,
	Eval: func(e *Env, t Target) Verdict {
		st := prop(t.Obj, "properties.securitySettings.immutabilitySettings.state")
		if t.Obj.Prop("properties.securitySettings.immutabilitySettings.state").Is("Locked") {
			return pass("immutability is locked", st)
		}
		return fail("immutability is not locked", st)
	},
}

var checkBV003 = &Check{
	ID: "BV-003", Title: "Backup vault multi-user authorization", Area: AreaRecovery, Principle: LeastPrivilege, Severity: High,
	Rationale: "A Resource Guard on a Backup vault makes deleting backup instances and disabling soft delete need a second party's approval.",
	Fix:       Remediation{Bicep: bicepBV, Text: "Associate a Resource Guard owned by the security team with the vault."},
	Targets:   bVaults,
	Eval: func(e *Env, t Target) Verdict {
		g := prop(t.Obj, "properties.isVaultProtectedByResourceGuard")
		if proxies := e.guardProxies(t.Obj.ID); len(proxies) > 0 {
			return guardVerdict(t.Obj, proxies[0], g)
		}
		reqs := t.Obj.Get("properties.resourceGuardOperationRequests").List()
		if b, _ := t.Obj.Prop("properties.isVaultProtectedByResourceGuard").Bool(); b || len(reqs) > 0 {
			return pass("protected by a Resource Guard ("+count(len(reqs), "critical operation", "critical operations")+")", g)
		}
		return fail("no Resource Guard", g, ev("properties.resourceGuardOperationRequests", "none"))
	},
}

const typeReplicatedItem = "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems"

var checkASR001 = &Check{
	ID: "ASR-001", Title: "Site Recovery is guarded", Area: AreaRecovery, Principle: LeastPrivilege, Severity: High,
	Rationale: "A vault that replicates VMs holds the failover path; deleting it or disabling replication removes the option to fail " +
		"over. It needs a lock, and the rights to manage replication should be just-in-time.",
	Fix: Remediation{Text: "Lock the vault and make Site Recovery Contributor/Owner assignments on it PIM-eligible.",
		Command: func(t Target) string {
			return "az lock create --name bulwark-no-delete --lock-type CanNotDelete --resource " + t.ID()
		}},
	Targets: rsVaults,
	Eval: func(e *Env, t Target) Verdict {
		items := e.Index.Descendants(t.Obj.ID, typeReplicatedItem)
		if len(items) == 0 {
			return na("no replicated items")
		}
		if !e.locksSeen || !e.rbacCollected(t.Obj.ID) {
			return unknown("locks and role assignments")
		}
		var standing []rbac.Grant
		for _, g := range e.RBAC.Who(t.Obj.ID, "Microsoft.RecoveryServices/Vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems/delete") {
			if g.Standing() && !e.Config.IsBreakGlass(g.PrincipalID) && (strings.EqualFold(g.RoleGUID, rbac.Owner) || strings.EqualFold(g.RoleGUID, rbac.SiteRecoveryContributor)) {
				standing = append(standing, g)
			}
		}
		locks := e.Locks(t.Obj.ID)
		var why []string
		if len(locks) == 0 {
			why = append(why, "no lock")
		}
		if len(standing) > 0 {
			why = append(why, count(len(standing), "standing Owner/Site Recovery Contributor assignment", "standing Owner/Site Recovery Contributor assignments"))
		}
		evs := append(lockEvidence(locks), grantEvidence(standing)...)
		if len(why) > 0 {
			return fail(count(len(items), "replicated item", "replicated items")+" exposed: "+strings.Join(why, ", "), evs...)
		}
		return pass(count(len(items), "replicated item", "replicated items")+", vault locked, no standing replication admins", evs...)
	},
}

var checkRI001 = &Check{
	ID: "RI-001", Title: "Recovery documents and templates are immutable", Area: AreaRecovery, Principle: AssumeBreach, Severity: High,
	Rationale: "Runbooks, templates and documentation needed to recover are themselves a target: the guidance asks to keep them where " +
		"an attacker cannot delete or alter them — locked, with soft delete and immutability.",
	Fix: Remediation{Bicep: bicepImmutableAccount, Text: "Lock the account, enable blob soft delete and versioning, and apply a locked immutability policy to the containers holding recovery material."},
	Targets: func(e *Env) []Target {
		var out []Target
		for _, o := range e.Index.OfType("Microsoft.Storage/storageAccounts") {
			if _, ok := o.Tag(e.Config.RecoveryTag); ok {
				out = append(out, Target{Obj: o})
			}
		}
		return out
	},
	Eval: func(e *Env, t Target) Verdict {
		var missing []string
		evs := []Evidence{}
		if !e.locksSeen {
			return unknown("Microsoft.Authorization/locks")
		}
		locks := e.Locks(t.Obj.ID)
		evs = append(evs, lockEvidence(locks)...)
		if len(locks) == 0 {
			missing = append(missing, "a lock")
		}
		if b, _ := t.Obj.Prop("properties.immutableStorageWithVersioning.enabled").Bool(); !b {
			missing = append(missing, "immutability")
		}
		evs = append(evs, prop(t.Obj, "properties.immutableStorageWithVersioning.enabled"))
		bs, v, ok := blobService(e, t)
		if ok {
			if on, _ := bs.Prop("properties.deleteRetentionPolicy.enabled").Bool(); !on {
				missing = append(missing, "blob soft delete")
			}
			evs = append(evs, prop(bs, "properties.deleteRetentionPolicy.enabled"))
		}
		if len(missing) > 0 {
			return fail("recovery material without "+strings.Join(missing, ", "), evs...)
		}
		if !ok {
			return v
		}
		return pass("recovery material is locked, soft-deleted and immutable", evs...)
	},
}
