package assess

import (
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

const typeProtectedItem = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"

func rg(t Target) string   { return t.Obj.ID.ResourceGroup() }
func name(t Target) string { return t.Obj.Name() }

// backupDataMissing says whether Recovery Services backup data is absent from the snapshot although
// vaults are present (protected items were not collected), so "no backup" would be a guess.
func (e *Env) backupDataMissing() bool {
	return len(e.Index.OfType("Microsoft.RecoveryServices/vaults")) > 0 && len(e.Index.OfType(typeProtectedItem)) == 0
}

func age(e *Env, v arm.Value) (time.Duration, bool) {
	t, ok := v.Time()
	if !ok {
		return 0, false
	}
	return e.Now.Sub(t), true
}

func days(d time.Duration) string { return fmt.Sprintf("%.1f days", d.Hours()/24) }

func hours(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

var checkVM001 = &Check{
	ID: "VM-001", Title: "VMs are backed up", Area: AreaVM, Principle: AssumeBreach, Severity: High,
	Rationale: "When a VM and its disks are deleted or encrypted, Azure Backup is the way back. The guidance asks for every VM to be " +
		"protected in a Recovery Services vault, with recent recovery points: a backup that stopped running weeks ago restores weeks-old data.",
	Fix: Remediation{
		Text: "Protect the VM with an Enhanced backup policy in a vault with immutability and multi-user authorization.",
		Command: func(t Target) string {
			return "az backup protection enable-for-vm --resource-group <vault-rg> --vault-name <vault> --policy-name EnhancedPolicy --vm " + t.ID()
		},
		Policy: &Policy{Name: "Azure Backup should be enabled for Virtual Machines", ID: "013e242c-8828-4970-87b3-ab247555486d"},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.Compute/virtualMachines") },
	Eval: func(e *Env, t Target) Verdict {
		items := e.ProtectedItems(t.Obj.ID)
		if len(items) == 0 {
			if e.backupDataMissing() {
				return unknown("Recovery Services protected items")
			}
			return fail("no Recovery Services protected item backs up this VM", ev("protectedItems with properties.sourceResourceId = this VM", "none"))
		}
		it := items[0]
		state := prop(it, "properties.protectionState")
		last := prop(it, "properties.lastBackupTime")
		if !it.Get("properties.protectionState").Is("Protected", "IRPending") {
			return warn("backed up, but protection is "+state.Value, Evidence{Path: it.ID.String() + " properties.protectionState", Value: state.Value})
		}
		if a, ok := age(e, it.Get("properties.lastBackupTime")); ok && a > e.Config.RPO.Duration {
			return warn(fmt.Sprintf("last backup is %s old, beyond the %s RPO", days(a), hours(e.Config.RPO.Duration)), Evidence{Path: it.ID.String() + " properties.lastBackupTime", Value: last.Value})
		}
		return pass("backed up", Evidence{Path: it.ID.String() + " properties.protectionState", Value: state.Value}, Evidence{Path: "properties.lastBackupTime", Value: last.Value})
	},
}

// vaultProtected judges a Recovery Services vault for VM-002: soft delete not disabled (RSV-001)
// and immutability not disabled (RSV-002).
func vaultProblems(v *arm.Object) []Evidence {
	var bad []Evidence
	if v.Prop("properties.securitySettings.softDeleteSettings.softDeleteState").Is("Disabled") {
		bad = append(bad, prop(v, "properties.securitySettings.softDeleteSettings.softDeleteState"))
	}
	if v.Prop("properties.securitySettings.immutabilitySettings.state").Is("Disabled") {
		bad = append(bad, prop(v, "properties.securitySettings.immutabilitySettings.state"))
	}
	return bad
}

var checkVM002 = &Check{
	ID: "VM-002", Title: "Backups of VMs are protected from deletion", Area: AreaVM, Principle: AssumeBreach, Severity: High,
	Rationale: "Ransomware crews delete backups before they encrypt. A VM's backup is only a recovery path if its vault keeps deleted " +
		"backups (soft delete) and refuses early deletion (immutability); this reports the vault's weakness on the VM, where its owner sees it.",
	Fix: Remediation{Bicep: bicepRSV,
		Text: "Turn soft delete to always-on and lock immutability on the vault holding this VM's backup.",
		Command: func(t Target) string {
			return "az backup vault update --resource-group <vault-rg> --name <vault> --soft-delete-state AlwaysON --immutability-state Locked"
		},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.Compute/virtualMachines") },
	Eval: func(e *Env, t Target) Verdict {
		items := e.ProtectedItems(t.Obj.ID)
		if len(items) == 0 {
			return na("not backed up (see VM-001)")
		}
		v, ok := e.vaultOf(items[0])
		if !ok {
			return unknown("the Recovery Services vault of " + items[0].ID.String())
		}
		bad := vaultProblems(v)
		if len(bad) > 0 {
			for i := range bad {
				bad[i].Path = v.Name() + " " + bad[i].Path
			}
			return fail("its backups sit in vault "+v.Name()+", which does not protect them from deletion", bad...)
		}
		return pass("vault "+v.Name()+" keeps deleted backups and refuses early deletion",
			prop(v, "properties.securitySettings.softDeleteSettings.softDeleteState"), prop(v, "properties.securitySettings.immutabilitySettings.state"))
	},
}

func businessCriticalOf(types ...string) func(e *Env) []Target {
	return func(e *Env) []Target { return e.ofTypes(types...) }
}

// bcGate returns n/a for resources that are not business-critical.
func bcGate(e *Env, t Target) (Verdict, bool) {
	if ok, _ := e.BusinessCritical(t.Obj); !ok {
		return na("not business-critical"), false
	}
	return Verdict{}, true
}

var checkVM003 = &Check{
	ID: "VM-003", Title: "Business-critical VMs replicate to another region", Area: AreaVM, Principle: AssumeBreach, Severity: High, BusinessCritical: true,
	Rationale: "Restoring from backup takes hours; for business-critical VMs the guidance asks for Site Recovery replication to another " +
		"region, tested regularly, so that a destroyed primary can fail over within the RTO.",
	Fix: Remediation{
		Text:   "Enable Azure-to-Azure Site Recovery replication to a paired region and run a test failover at least every 180 days.",
		Policy: &Policy{Name: "Audit virtual machines without disaster recovery configured", ID: "0015ea4d-51ff-4ce3-8d8c-f3f8f0179a56"},
	},
	Targets: businessCriticalOf("Microsoft.Compute/virtualMachines"),
	Eval: func(e *Env, t Target) Verdict {
		if v, ok := bcGate(e, t); !ok {
			return v
		}
		items := e.Recovery.Replicated(t.Obj.ID)
		if len(items) == 0 {
			return fail("business-critical and not replicated to another region", ev("replicationProtectedItems with providerSpecificDetails.fabricObjectId = this VM", "none"))
		}
		it := items[0]
		health := prop(it, "properties.replicationHealth")
		if !it.Get("properties.replicationHealth").Is("Normal") {
			return warn("replicated, but replication health is "+health.Value, health)
		}
		tfo := it.Get("properties.lastSuccessfulTestFailoverTime")
		a, ok := age(e, tfo)
		if !ok {
			return warn("replicated, but never test-failed-over", prop(it, "properties.lastSuccessfulTestFailoverTime"))
		}
		if a > 180*24*time.Hour {
			return warn("last test failover is "+days(a)+" old", prop(it, "properties.lastSuccessfulTestFailoverTime"))
		}
		return pass("replicated and tested", health, prop(it, "properties.lastSuccessfulTestFailoverTime"))
	},
}

// encryptedWith returns the disk encryption sets (or "Azure Disk Encryption") a VM's disks use.
func encryptedWith(vm *arm.Object) []string {
	set := map[string]bool{}
	disks := append([]arm.Value{vm.Get("properties.storageProfile.osDisk")}, vm.Get("properties.storageProfile.dataDisks").List()...)
	for _, d := range disks {
		if s, ok := d.Get("managedDisk.diskEncryptionSet.id").String(); ok && s != "" {
			set[s] = true
		}
	}
	if b, _ := vm.Get("properties.storageProfile.osDisk.encryptionSettings.enabled").Bool(); b {
		set["Azure Disk Encryption"] = true
	}
	return sortedKeys(set)
}

var checkVM004 = &Check{
	ID: "VM-004", Title: "Keys for encrypted replicas live in the target region", Area: AreaVM, Principle: AssumeBreach, Severity: High,
	Rationale: "A replica encrypted with customer-managed keys can only start if a Key Vault in the target region holds the keys — and " +
		"that vault must itself survive an attack, with soft delete and purge protection. Otherwise failover brings up disks nobody can read.",
	Fix: Remediation{
		Text: "Create a Key Vault with soft delete and purge protection in the replication target region and replicate the keys to it.",
		Command: func(t Target) string {
			return "az keyvault create --name <kv-dr> --resource-group <dr-rg> --location <target-region> --enable-purge-protection true --retention-days 90"
		},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.Compute/virtualMachines") },
	Eval: func(e *Env, t Target) Verdict {
		items := e.Recovery.Replicated(t.Obj.ID)
		if len(items) == 0 {
			return na("not replicated")
		}
		enc := encryptedWith(t.Obj)
		if len(enc) == 0 {
			return na("disks use platform-managed keys")
		}
		target, _ := items[0].Get("properties.providerSpecificDetails.recoveryFabricLocation").String()
		if target == "" {
			return unknown("the replication target region (providerSpecificDetails.recoveryFabricLocation)")
		}
		for _, kv := range e.Index.OfType("Microsoft.KeyVault/vaults") {
			soft, _ := kv.Prop("properties.enableSoftDelete").Bool()
			purge, _ := kv.Prop("properties.enablePurgeProtection").Bool()
			if regionKey(kv.Location()) == regionKey(target) && soft && purge {
				return pass("Key Vault "+kv.Name()+" in "+target+" has soft delete and purge protection", ev("encryption", strings.Join(enc, ", ")), ev("target region", target))
			}
		}
		return fail("replicas are encrypted but no protected Key Vault exists in "+target, ev("encryption", strings.Join(enc, ", ")), ev("target region", target),
			ev("Key Vaults in "+target+" with soft delete and purge protection", "none"))
	},
}

var checkVM005 = &Check{
	ID: "VM-005", Title: "Scale sets: replicas don't scale", Area: AreaVM, Principle: AssumeBreach, Severity: Info,
	Rationale: "Site Recovery replicates scale-set VMs as individual VMs: after failover they do not scale. The guidance suggests an " +
		"active/passive deployment of the scale set in the second region instead.",
	Fix:     Remediation{Text: "Deploy a passive copy of the scale set in the recovery region from IaC, instead of relying on Site Recovery."},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.Compute/virtualMachines") },
	Eval: func(e *Env, t Target) Verdict {
		if len(e.Recovery.Replicated(t.Obj.ID)) == 0 {
			return na("not replicated")
		}
		if s, ok := t.Obj.Get("properties.virtualMachineScaleSet.id").String(); ok && s != "" {
			return fail("replicated scale-set member: the replica will not scale", prop(t.Obj, "properties.virtualMachineScaleSet.id"))
		}
		return pass("replicated standalone VM", prop(t.Obj, "properties.virtualMachineScaleSet.id"))
	},
}

var checkAKS001 = &Check{
	ID: "AKS-001", Title: "AKS clusters are backed up", Area: AreaVM, Principle: AssumeBreach, Severity: High,
	Rationale: "Cluster state and persistent volumes are lost with the cluster. AKS backup in a Backup vault restores them; Site " +
		"Recovery cannot replicate cluster state.",
	Fix: Remediation{
		Text: "Install the backup extension and configure a backup instance for the cluster in a Backup vault with immutability and multi-user authorization.",
		Command: func(t Target) string {
			return "az dataprotection backup-instance initialize --datasource-type AzureKubernetesService --datasource-id " + t.ID() + " --datasource-location " + t.Obj.Location() + " --policy-id <policy-id>"
		},
	},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.ContainerService/managedClusters") },
	Eval: func(e *Env, t Target) Verdict {
		bis := e.Recovery.BackupInstances(t.Obj.ID)
		if len(bis) == 0 {
			if len(e.Index.OfType("Microsoft.DataProtection/backupVaults")) > 0 && len(e.Index.OfType("Microsoft.DataProtection/backupVaults/backupInstances")) == 0 {
				return unknown("Backup vault backup instances")
			}
			return fail("no Backup vault instance protects this cluster", ev("backupInstances with properties.dataSourceInfo.resourceID = this cluster", "none"))
		}
		st := prop(bis[0], "properties.protectionStatus.status")
		if !bis[0].Get("properties.protectionStatus.status").Is("ProtectionConfigured") {
			return warn("a backup instance exists but protection is "+st.Value, Evidence{Path: bis[0].ID.String() + " properties.protectionStatus.status", Value: st.Value})
		}
		return pass("backed up", Evidence{Path: bis[0].ID.String() + " properties.protectionStatus.status", Value: st.Value})
	},
}

var checkAKS002 = &Check{
	ID: "AKS-002", Title: "AKS has a recovery path beyond Site Recovery", Area: AreaVM, Principle: AssumeBreach, Severity: Medium,
	Rationale: "Site Recovery cannot replicate an AKS cluster. The guidance asks for an active/passive design: a secondary cluster in " +
		"another region that the application can move to.",
	Fix:     Remediation{Text: "Deploy a secondary cluster for the application in another region (from IaC) and include it in the application's resources in apps.yaml."},
	Targets: func(e *Env) []Target { return e.ofTypes("Microsoft.ContainerService/managedClusters") },
	Eval: func(e *Env, t Target) Verdict {
		o, app, ok := e.Recovery.SecondaryCluster(t.Obj)
		if !ok {
			return fail("belongs to no application, so no secondary cluster can be declared for it")
		}
		if o != nil {
			return pass("application "+app+" has a secondary cluster "+o.Name()+" in "+o.Location(), ev("secondary cluster", o.ID.String()))
		}
		return fail("application "+app+" has no cluster in another region", ev("clusters of "+app+" outside "+t.Obj.Location(), "none"))
	},
}
