package activitysim

import (
	"fmt"
	"time"
)

// The days (from Start) and hours the attacks happen on; a log too short for one leaves it out.
var attackDay = map[string]int{"kill-chain": 4, "cmk-ransomware": 10, "slow": 15, "insider": 21, "managed-identity": 26}

func (g *gen) attacksOn(d int, day time.Time) {
	for _, name := range g.o.Attacks {
		want, ok := attackDay[name]
		if !ok {
			continue
		}
		if g.o.Days <= want { // a short log: every attack on the last day but one
			want = max(0, g.o.Days-2)
		}
		if d != want {
			continue
		}
		var a Attack
		switch name {
		case "kill-chain":
			a = g.killChain(day.Add(21 * time.Hour))
		case "cmk-ransomware":
			a = g.cmkRansomware(day.Add(3 * time.Hour))
		case "slow":
			a = g.slow(day.Add(2 * time.Hour))
		case "insider":
			a = g.insider(day.Add(13 * time.Hour))
		case "managed-identity":
			a = g.managedIdentity(day.Add(23 * time.Hour))
		}
		a.Name = name
		g.truth.Attacks = append(g.truth.Attacks, a)
	}
}

// killChain is the demo's: a compromised admin grants Owner to a new service principal, which
// removes locks, turns off the vault's soft delete, deletes the backups, deletes and purges Key
// Vaults and deletes the workloads.
func (g *gen) killChain(t time.Time) Attack {
	admin := &identity{upn: "it-admin@contoso.example", name: "IT Admin", oid: "a11ce000-0000-4000-8000-0000000000a1", appid: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
		ip: "203.0.113.77", role: "Owner"}
	sp := &identity{name: "contoso-maint", oid: "7f3a0000-0000-4000-8000-0000000000f1", appid: "7f3a1111-aaaa-4bbb-8ccc-0000000000f1", app: true, ip: "198.51.100.23", role: "Owner"}
	scope := "/subscriptions/" + subs[0]
	g.grant(t, admin, sp, roleOwner, scope)
	t = t.Add(6 * time.Minute)
	for i := 0; i < 3; i++ {
		g.op(t.Add(time.Duration(i)*20*time.Second), sp, "Microsoft.Authorization/locks/delete", rg(subs[0], fmt.Sprintf("rg-app%02d", i))+"/providers/Microsoft.Authorization/locks/no-delete", "", false, time.Second)
	}
	vault := g.vaults[0]
	t = t.Add(4 * time.Minute)
	g.op(t, sp, "Microsoft.RecoveryServices/vaults/backupconfig/write", vault+"/backupconfig/vaultconfig",
		`{"properties":{"softDeleteFeatureState":"Disabled","enhancedSecurityState":"Disabled"}}`, false, 2*time.Second)
	for i := 0; i < 4; i++ {
		item := fmt.Sprintf("%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-app%02d;vm-app%02d/protectedItems/VM;iaasvmcontainerv2;rg-app%02d;vm-app%02d", vault, i, i, i, i)
		g.op(t.Add(time.Duration(2+i)*time.Minute), sp, "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/delete", item, "", true, time.Minute)
	}
	t = t.Add(10 * time.Minute)
	g.op(t, sp, "Microsoft.KeyVault/vaults/delete", g.kvs[0], "", false, 5*time.Second)
	g.op(t.Add(2*time.Minute), sp, "Microsoft.KeyVault/locations/deletedVaults/purge/action", "/subscriptions/"+subs[0]+"/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-app00", "", true, time.Minute)
	for i := 0; i < 12; i++ {
		g.op(t.Add(time.Duration(4+i)*time.Minute), sp, "Microsoft.Compute/virtualMachines/delete", g.vms[i], "", true, time.Minute)
	}
	g.op(t.Add(17*time.Minute), sp, "Microsoft.Sql/servers/databases/delete", g.dbs[0], "", true, time.Minute)
	return Attack{Description: "a granted service principal removes locks, soft delete, backups and Key Vaults, then deletes VMs and a database",
		Actor: admin.upn, From: t.Add(-20 * time.Minute), To: t.Add(20 * time.Minute), Stages: []string{"privilege", "impairment", "recovery", "destruction"}}
}

// cmkRansomware: an attacker with Owner re-encrypts storage accounts with a key in a vault it
// controls, then deletes and purges that vault: the data is unreadable.
func (g *gen) cmkRansomware(t time.Time) Attack {
	x := &identity{upn: "svc-reporting@contoso.example", name: "Reporting service account", oid: "5a5a0000-0000-4000-8000-0000000000c1", appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
		ip: "203.0.113.140", role: "Owner"}
	kv := rg(subs[0], "rg-app14") + "/providers/Microsoft.KeyVault/vaults/kv-ransom-7731"
	g.create(t, x, "Microsoft.KeyVault/vaults/write", kv, `{"location":"westeurope","properties":{"enableSoftDelete":true,"softDeleteRetentionInDays":7}}`, false, 20*time.Second)
	for i := 0; i < 6; i++ {
		g.op(t.Add(time.Duration(5+i)*time.Minute), x, "Microsoft.Storage/storageAccounts/write", g.storage[i],
			fmt.Sprintf(`{"properties":{"encryption":{"keySource":"Microsoft.Keyvault","keyvaultproperties":{"keyname":"k1","keyvaulturi":"https://kv-ransom-7731.vault.azure.net/"}}}}`), false, 10*time.Second)
	}
	g.op(t.Add(40*time.Minute), x, "Microsoft.KeyVault/vaults/delete", kv, "", false, 5*time.Second)
	g.op(t.Add(42*time.Minute), x, "Microsoft.KeyVault/locations/deletedVaults/purge/action", "/subscriptions/"+subs[0]+"/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-ransom-7731", "", true, time.Minute)
	return Attack{Description: "storage re-encrypted with an attacker's key, whose vault is then deleted and purged", Actor: x.upn, From: t, To: t.Add(45 * time.Minute),
		Stages: []string{"recovery", "destruction"}}
}

// slow: the chain spread over 20 hours, each step hours after the last.
func (g *gen) slow(t time.Time) Attack {
	u := &identity{upn: "contractor7@contoso.example", name: "Contractor 7", oid: "c0de0000-0000-4000-8000-0000000000d7", appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
		ip: "203.0.113.201", role: "User Access Administrator"}
	sp := &identity{name: "app-sync", oid: "c0de0000-0000-4000-8000-0000000000e7", appid: "c0de1111-0000-4000-8000-0000000000e7", app: true, ip: "203.0.113.202", role: "Contributor"}
	scope := "/subscriptions/" + subs[0]
	g.grant(t, u, sp, roleContributor, scope)
	g.op(t.Add(6*time.Hour), sp, "Microsoft.Insights/diagnosticSettings/delete", scope+"/providers/Microsoft.Insights/diagnosticSettings/to-sentinel", "", false, time.Second)
	g.op(t.Add(12*time.Hour), sp, "Microsoft.RecoveryServices/vaults/backupPolicies/delete", g.vaults[1]+"/backupPolicies/DailyPolicy", "", true, time.Minute)
	for i := 0; i < 4; i++ {
		g.op(t.Add(20*time.Hour+time.Duration(i)*3*time.Minute), sp, "Microsoft.Compute/virtualMachines/delete", g.vms[20+i], "", true, time.Minute)
	}
	g.op(t.Add(20*time.Hour+15*time.Minute), sp, "Microsoft.Sql/servers/databases/delete", g.dbs[5], "", true, time.Minute)
	return Attack{Description: "privilege, impairment, recovery and destruction six to eight hours apart", Actor: u.upn, From: t, To: t.Add(21 * time.Hour),
		Stages: []string{"privilege", "impairment", "recovery", "destruction"}}
}

// insider: one of the operators, with standing Owner and no grant, turns off soft delete,
// deletes the backups and then the databases and storage.
func (g *gen) insider(t time.Time) Attack {
	u := g.operators[3]
	vault := g.vaults[2]
	g.op(t, u, "Microsoft.Authorization/locks/delete", rg(subs[0], "rg-app05")+"/providers/Microsoft.Authorization/locks/no-delete", "", false, time.Second)
	g.op(t.Add(3*time.Minute), u, "Microsoft.RecoveryServices/vaults/backupconfig/write", vault+"/backupconfig/vaultconfig",
		`{"properties":{"softDeleteFeatureState":"Disabled"}}`, false, 2*time.Second)
	for i := 0; i < 3; i++ {
		item := fmt.Sprintf("%s/backupFabrics/Azure/protectionContainers/SQLAGWorkLoadContainer;db%02d/protectedItems/SQLDataBase;db%02d", vault, i+5, i+5)
		g.op(t.Add(time.Duration(6+i)*time.Minute), u, "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/delete", item, "", true, time.Minute)
	}
	for i := 0; i < 4; i++ {
		g.op(t.Add(time.Duration(15+i)*time.Minute), u, "Microsoft.Sql/servers/databases/delete", g.dbs[5+i], "", true, time.Minute)
	}
	g.op(t.Add(25*time.Minute), u, "Microsoft.Storage/storageAccounts/delete", g.storage[20], "", false, 3*time.Second)
	return Attack{Description: "an operator with standing Owner disables soft delete, deletes backups, then databases", Actor: u.upn, From: t, To: t.Add(30 * time.Minute),
		Stages: []string{"impairment", "recovery", "destruction"}}
}

// managedIdentity: an attacker on a VM uses its managed identity (Contributor on the
// subscription): snapshots and restore points deleted, disks exported, VMs deallocated, then the
// vault's protection reduced and the disks deleted.
func (g *gen) managedIdentity(t time.Time) Attack {
	mi := &identity{name: "vm-jump01", oid: "1d1d0000-0000-4000-8000-0000000000b9", appid: "1d1d1111-0000-4000-8000-0000000000b9", app: true, ip: "10.20.0.4", role: "Contributor"}
	for i := 0; i < 14; i++ {
		g.op(t.Add(time.Duration(i)*30*time.Second), mi, "Microsoft.Compute/virtualMachines/deallocate/action", g.vms[30+i], "", true, 2*time.Minute)
	}
	for i := 0; i < 3; i++ {
		g.op(t.Add(10*time.Minute+time.Duration(i)*time.Minute), mi, "Microsoft.Compute/disks/beginGetAccess/action", g.vms[30+i]+"-osdisk", `{"access":"Read","durationInSeconds":86400}`, true, time.Minute)
	}
	g.op(t.Add(20*time.Minute), mi, "Microsoft.RecoveryServices/vaults/write", g.vaults[3],
		`{"properties":{"securitySettings":{"softDeleteSettings":{"softDeleteState":"Disabled"}}}}`, true, time.Minute)
	for i := 0; i < 3; i++ {
		g.op(t.Add(30*time.Minute+time.Duration(i)*time.Minute), mi, "Microsoft.Compute/disks/delete", fmt.Sprintf("%s-osdisk", g.vms[30+i]), "", true, time.Minute)
	}
	return Attack{Description: "a VM's managed identity stops VMs, exports disks, reduces vault protection, deletes disks", Actor: mi.appid, From: t, To: t.Add(35 * time.Minute),
		Stages: []string{"recovery", "destruction"}}
}

// grant writes the role assignment by which who gives the service principal sp a role at scope.
func (g *gen) grant(t time.Time, who, sp *identity, role, scope string) {
	id := g.uuid()
	g.create(t, who, "Microsoft.Authorization/roleAssignments/write", scope+"/providers/Microsoft.Authorization/roleAssignments/"+id,
		roleBody(id, sp.oid, "ServicePrincipal", role, scope), false, 3*time.Second)
}
