package assess

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/iac"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite testdata/checks.golden")

const (
	subName = "00000000-0000-4000-8000-000000000001"
	sub     = "/subscriptions/00000000-0000-4000-8000-000000000001"
	sub2    = "/subscriptions/00000000-0000-4000-8000-000000000002"
	rgID    = sub + "/resourceGroups/rg"
)

// r builds an ARM object in rg: typ "Microsoft.KeyVault/vaults", name "kv", extra JSON members.
func r(typ, name, extra string) string {
	ns, rest, _ := strings.Cut(typ, "/")
	parts := strings.Split(rest, "/")
	names := strings.Split(name, "/")
	path := ""
	for i := range parts {
		path += "/" + parts[i] + "/" + names[i]
	}
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"id":"%s/providers/%s%s","type":"%s","name":"%s","location":"westeurope"%s}`, rgID, ns, path, typ, names[len(names)-1], extra)
}

func lock(scope, name, level string) string {
	return fmt.Sprintf(`{"id":"%s/providers/Microsoft.Authorization/locks/%s","type":"Microsoft.Authorization/locks","name":"%s","properties":{"level":"%s"}}`, scope, name, name, level)
}

func assign(scope, guid, role, principal, ptype string) string {
	return fmt.Sprintf(`{"id":"%s/providers/Microsoft.Authorization/roleAssignments/%s","type":"Microsoft.Authorization/roleAssignments","name":"%s","properties":{"scope":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"%s","principalType":"%s"}}`,
		scope, guid, guid, scope, sub, role, principal, ptype)
}

// activated is PIM's roleAssignmentScheduleInstances entry for an activation of role assignment
// guid at scope, ending at end.
func activated(scope, guid, role, principal, end string) string {
	return fmt.Sprintf(`{"id":"%s/providers/Microsoft.Authorization/RoleAssignmentScheduleInstances/%s","type":"Microsoft.Authorization/RoleAssignmentScheduleInstances","name":"%s","properties":{"originRoleAssignmentId":"%s/providers/Microsoft.Authorization/roleAssignments/%s","assignmentType":"Activated","scope":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"%s","principalType":"User","status":"Accepted","endDateTime":"%s","memberType":"Direct"}}`,
		scope, guid, guid, scope, guid, scope, sub, role, principal, end)
}

func eligible(scope, guid, role, principal string) string {
	return fmt.Sprintf(`{"id":"%s/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/%s","type":"Microsoft.Authorization/roleEligibilityScheduleInstances","name":"%s","properties":{"scope":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"%s","principalType":"User","status":"Provisioned"}}`,
		scope, guid, guid, scope, sub, role, principal)
}

const (
	owner        = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	contributor  = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	backupOp     = "00c29273-979b-4161-815c-10b084fb9324"
	siteRecovery = "6670b86e-a3f7-4917-ac9b-5d6ab1be4567"
)

var (
	vmID    = rgID + "/providers/Microsoft.Compute/virtualMachines/vm1"
	vaultID = rgID + "/providers/Microsoft.RecoveryServices/vaults/rsv1"
	kvOK    = r("Microsoft.KeyVault/vaults", "kv1", `"properties":{"enableSoftDelete":true,"softDeleteRetentionInDays":90,"enablePurgeProtection":true}`)
	vm      = r("Microsoft.Compute/virtualMachines", "vm1", `"properties":{"storageProfile":{"osDisk":{"managedDisk":{"id":"`+rgID+`/providers/Microsoft.Compute/disks/d1"}}}}`)
	rsvOK   = r("Microsoft.RecoveryServices/vaults", "rsv1", `"properties":{"securitySettings":{"softDeleteSettings":{"softDeleteState":"AlwaysON","softDeleteRetentionPeriodInDays":14},"immutabilitySettings":{"state":"Locked"},"multiUserAuthorization":"Enabled"},"redundancySettings":{"standardTierStorageRedundancy":"GeoRedundant","crossRegionRestore":"Enabled"}}`)
	rsvBad  = r("Microsoft.RecoveryServices/vaults", "rsv1", `"properties":{"securitySettings":{"softDeleteSettings":{"softDeleteState":"Disabled"}},"redundancySettings":{"standardTierStorageRedundancy":"GeoRedundant"}}`)
)

func vmItem(last, state string) string {
	c := "iaasvmcontainerv2;rg;vm1"
	return fmt.Sprintf(`{"id":"%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectedItems/VM;%s","type":"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems","properties":{"sourceResourceId":"%s","protectionState":"%s","lastBackupTime":"%s","protectedItemType":"Microsoft.Compute/virtualMachines"}}`,
		vaultID, c, c, strings.ToUpper(vmID), state, last)
}

func replicated(vault, vm, health, tfo, target string) string {
	t := ""
	if tfo != "" {
		t = `,"lastSuccessfulTestFailoverTime":"` + tfo + `"`
	}
	return fmt.Sprintf(`{"id":"%s/replicationFabrics/f/replicationProtectionContainers/c/replicationProtectedItems/i1","type":"Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems","properties":{"replicationHealth":"%s"%s,"providerSpecificDetails":{"instanceType":"A2A","fabricObjectId":"%s","recoveryFabricLocation":"%s"}}}`,
		vault, health, t, vm, target)
}

type checkCase struct {
	name   string
	objs   []string
	apps   string // apps.yaml
	cfg    string // bulwark.yaml
	iac    string // one ARM template
	target string // result name to judge
	want   Status
}

var bcTag = `"tags":{"criticality":"high"}`

func checkCases() map[string][]checkCase {
	storage := func(sku, extra string) string {
		return r("Microsoft.Storage/storageAccounts", "st1", `"sku":{"name":"`+sku+`"},`+bcTag+`,"properties":{`+extra+`}`)
	}
	blob := func(props string) string {
		return r("Microsoft.Storage/storageAccounts/blobServices", "st1/default", `"properties":{`+props+`}`)
	}
	db := func(extra string) string {
		return r("Microsoft.Sql/servers/databases", "sql1/db1", `"properties":{`+extra+`}`)
	}
	diag := func(logs string) string {
		return `{"id":"` + sub + `/providers/microsoft.insights/diagnosticSettings/ds","type":"Microsoft.Insights/diagnosticSettings","name":"ds","properties":{"workspaceId":"` + rgID + `/providers/Microsoft.OperationalInsights/workspaces/law","logs":` + logs + `}}`
	}
	subObj := `{"id":"` + sub + `","type":"microsoft.resources/subscriptions","name":"prod"}`
	law := func(extra string) string {
		return r("Microsoft.OperationalInsights/workspaces", "law", `"properties":{`+extra+`}`)
	}
	vnetTpl := `{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#","resources":[{"type":"Microsoft.Network/virtualNetworks","name":"vnet1","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"a","properties":{"addressPrefix":"10.0.1.0/24"}}]}}]}`
	vnet := func(prefix string) string {
		return r("Microsoft.Network/virtualNetworks", "vnet1", `"properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"a","properties":{"addressPrefix":"`+prefix+`"}}]}`)
	}
	return map[string][]checkCase{
		"LOCK-001": {
			{name: "locked at group", objs: []string{kvOK, lock(rgID, "l", "CanNotDelete")}, target: "kv1", want: Pass},
			{name: "no lock", objs: []string{kvOK, lock(sub2, "elsewhere", "CanNotDelete")}, target: "kv1", want: Fail},
			{name: "locks not collected", objs: []string{kvOK}, target: "kv1", want: Unknown},
		},
		"LOCK-002": {
			{name: "resource CanNotDelete", objs: []string{kvOK, lock(rgID+"/providers/Microsoft.KeyVault/vaults/kv1", "l", "CanNotDelete")}, target: "l", want: Pass},
			{name: "ReadOnly on storage", objs: []string{storage("Standard_GRS", ""), lock(rgID, "ro", "ReadOnly")}, target: "ro", want: Fail},
			{name: "group lock", objs: []string{kvOK, lock(rgID, "g", "CanNotDelete")}, target: "g", want: Warn},
		},
		"LOCK-003": {
			// One result per standing assignment that can unlock critical resources, named by its
			// principal and scope; a subscription none of whose critical resources one can unlock passes.
			{name: "only eligible", objs: []string{kvOK, eligible(sub, "e1", owner, "alice")}, target: subName, want: Pass},
			{name: "standing owner", objs: []string{kvOK, assign(sub, "a1", owner, "alice", "User")}, target: "User alice (Owner at subscription " + subName + ")", want: Fail},
			{name: "break-glass allowed", objs: []string{kvOK, assign(sub, "a1", owner, "bg", "User")}, cfg: "breakGlass: [bg]\n", target: subName, want: Pass},
			{name: "contributor cannot", objs: []string{kvOK, assign(sub, "a1", contributor, "bob", "User")}, target: subName, want: Pass},
			{name: "assignments of another subscription only", objs: []string{kvOK, assign(sub2, "a1", owner, "alice", "User")}, target: subName, want: Unknown},
		},
		"IAM-001": {
			{name: "eligible only", objs: []string{subObj, eligible(sub, "e1", owner, "alice"), assign(sub, "a1", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "alice", "User")}, target: "prod", want: Pass},
			{name: "standing user owner", objs: []string{subObj, assign(sub, "a1", owner, "alice", "User")}, target: "prod", want: Fail},
			// A PIM activation is an ordinary role assignment that a roleAssignmentScheduleInstances
			// entry with an end time links to (REST spec authorization 2020-10-01).
			{name: "owner through a PIM activation", objs: []string{subObj, assign(sub, "a1", owner, "alice", "User"), activated(sub, "a1", owner, "alice", "2026-11-26T13:00:00Z")}, target: "prod", want: Pass},
			{name: "owner at a management group above", objs: []string{`{"id":"` + sub + `","type":"microsoft.resources/subscriptions","name":"prod","properties":{"managementGroupAncestorsChain":[{"name":"mg-lz"},{"name":"root"}]}}`,
				assign("/providers/Microsoft.Management/managementGroups/mg-lz", "a1", owner, "bob", "User")}, target: "prod", want: Fail},
		},
		"IAM-002": {
			{name: "scoped pipeline", objs: []string{subObj, assign(rgID, "a1", contributor, "sp1", "ServicePrincipal")}, target: "prod", want: Pass},
			{name: "pipeline owns subscription", objs: []string{subObj, assign(sub, "a1", owner, "sp1", "ServicePrincipal")}, target: "prod", want: Fail},
		},
		"VM-001": {
			{name: "recent backup", objs: []string{vm, rsvOK, vmItem("2026-11-25T22:00:00Z", "Protected")}, target: "vm1", want: Pass},
			{name: "stale backup", objs: []string{vm, rsvOK, vmItem("2026-11-20T22:00:00Z", "Protected")}, target: "vm1", want: Warn},
			{name: "no backup", objs: []string{vm}, target: "vm1", want: Fail},
			{name: "items not collected", objs: []string{vm, rsvOK}, target: "vm1", want: Unknown},
		},
		"VM-002": {
			{name: "protected vault", objs: []string{vm, rsvOK, vmItem("2026-11-25T22:00:00Z", "Protected")}, target: "vm1", want: Pass},
			{name: "vault without soft delete", objs: []string{vm, rsvBad, vmItem("2026-11-25T22:00:00Z", "Protected")}, target: "vm1", want: Fail},
		},
		"VM-003": {
			{name: "replicated and tested", objs: []string{strings.Replace(vm, `"location"`, bcTag+`,"location"`, 1), replicated(vaultID, vmID, "Normal", "2026-09-14T09:30:00Z", "northeurope")}, target: "vm1", want: Pass},
			{name: "not replicated", objs: []string{strings.Replace(vm, `"location"`, bcTag+`,"location"`, 1)}, target: "vm1", want: Fail},
			{name: "not business-critical", objs: []string{vm}, target: "vm1", want: NA},
		},
		"VM-004": {
			{name: "key vault in target", objs: []string{r("Microsoft.Compute/virtualMachines", "vm1", `"properties":{"storageProfile":{"osDisk":{"managedDisk":{"diskEncryptionSet":{"id":"`+rgID+`/providers/Microsoft.Compute/diskEncryptionSets/des"}}}}}`),
				replicated(vaultID, vmID, "Normal", "", "northeurope"), strings.Replace(kvOK, "westeurope", "North Europe", 1)}, target: "vm1", want: Pass},
			{name: "no key vault in target", objs: []string{r("Microsoft.Compute/virtualMachines", "vm1", `"properties":{"storageProfile":{"osDisk":{"managedDisk":{"diskEncryptionSet":{"id":"`+rgID+`/providers/Microsoft.Compute/diskEncryptionSets/des"}}}}}`),
				replicated(vaultID, vmID, "Normal", "", "northeurope"), kvOK}, target: "vm1", want: Fail},
		},
		"VM-005": {
			{name: "standalone", objs: []string{vm, replicated(vaultID, vmID, "Normal", "", "northeurope")}, target: "vm1", want: Pass},
			{name: "scale-set member", objs: []string{r("Microsoft.Compute/virtualMachines", "vm1", `"properties":{"virtualMachineScaleSet":{"id":"`+rgID+`/providers/Microsoft.Compute/virtualMachineScaleSets/ss"}}`), replicated(vaultID, vmID, "Normal", "", "northeurope")}, target: "vm1", want: Fail},
		},
		"AKS-001": {
			{name: "backed up", objs: []string{r("Microsoft.ContainerService/managedClusters", "aks1", ""), r("Microsoft.DataProtection/backupVaults/backupInstances", "bv/bi", `"properties":{"dataSourceInfo":{"resourceID":"`+rgID+`/providers/Microsoft.ContainerService/managedClusters/aks1"},"protectionStatus":{"status":"ProtectionConfigured"}}`)}, target: "aks1", want: Pass},
			{name: "not backed up", objs: []string{r("Microsoft.ContainerService/managedClusters", "aks1", "")}, target: "aks1", want: Fail},
		},
		"AKS-002": {
			{name: "secondary region", objs: []string{r("Microsoft.ContainerService/managedClusters", "aks1", `"tags":{"app":"web"}`), strings.Replace(r("Microsoft.ContainerService/managedClusters", "aks2", `"tags":{"app":"web"}`), "westeurope", "northeurope", 1)}, target: "aks1", want: Pass},
			{name: "single region", objs: []string{r("Microsoft.ContainerService/managedClusters", "aks1", `"tags":{"app":"web"}`)}, target: "aks1", want: Fail},
		},
		"ST-001": {
			{name: "30 days", objs: []string{storage("Standard_GRS", ""), blob(`"deleteRetentionPolicy":{"enabled":true,"days":30}`)}, target: "st1", want: Pass},
			{name: "permanent delete", objs: []string{storage("Standard_GRS", ""), blob(`"deleteRetentionPolicy":{"enabled":true,"days":7,"allowPermanentDelete":true}`)}, target: "st1", want: Fail},
			{name: "absent policy", objs: []string{storage("Standard_GRS", ""), blob(``)}, target: "st1", want: Fail},
			{name: "no blob service", objs: []string{storage("Standard_GRS", "")}, target: "st1", want: Unknown},
		},
		"ST-002": {
			{name: "on", objs: []string{storage("Standard_GRS", ""), blob(`"containerDeleteRetentionPolicy":{"enabled":true,"days":14}`)}, target: "st1", want: Pass},
			{name: "off", objs: []string{storage("Standard_GRS", ""), blob(`"containerDeleteRetentionPolicy":{"enabled":false}`)}, target: "st1", want: Fail},
		},
		"ST-003": {
			{name: "on", objs: []string{storage("Standard_GRS", ""), blob(`"isVersioningEnabled":true`)}, target: "st1", want: Pass},
			{name: "string false", objs: []string{storage("Standard_GRS", ""), blob(`"isVersioningEnabled":"False"`)}, target: "st1", want: Fail},
		},
		"ST-004": {
			{name: "enabled", objs: []string{storage("Standard_GRS", ""), blob(`"deleteRetentionPolicy":{"enabled":true,"days":14},"isVersioningEnabled":true,"changeFeed":{"enabled":true},"restorePolicy":{"enabled":true,"days":13}`)}, target: "st1", want: Pass},
			{name: "off", objs: []string{storage("Standard_GRS", ""), blob(`"isVersioningEnabled":true`)}, target: "st1", want: Fail},
		},
		"ST-005": {
			{name: "account immutability", objs: []string{storage("Standard_GRS", `"immutableStorageWithVersioning":{"enabled":true,"immutabilityPolicy":{"state":"Locked"}}`)}, target: "st1", want: Pass},
			{name: "none", objs: []string{storage("Standard_GRS", "")}, target: "st1", want: Fail},
			{name: "unlocked container", objs: []string{storage("Standard_GRS", ""), r("Microsoft.Storage/storageAccounts/blobServices/containers", "st1/default/c1", `"properties":{"immutabilityPolicy":{"properties":{"state":"Unlocked"}}}`)}, target: "st1", want: Warn},
		},
		"ST-006": {
			{name: "GZRS", objs: []string{storage("Standard_GZRS", "")}, target: "st1", want: Pass},
			{name: "LRS", objs: []string{storage("Standard_LRS", "")}, target: "st1", want: Fail},
		},
		"ST-007": {
			{name: "on", objs: []string{storage("Standard_GRS", ""), r("Microsoft.Storage/storageAccounts/fileServices", "st1/default", `"properties":{"shareDeleteRetentionPolicy":{"enabled":true,"days":14}}`)}, target: "st1", want: Pass},
			{name: "absent", objs: []string{storage("Standard_GRS", ""), r("Microsoft.Storage/storageAccounts/fileServices", "st1/default", `"properties":{}`)}, target: "st1", want: Fail},
		},
		"ST-008": {
			{name: "backed up", objs: []string{r("Microsoft.Storage/storageAccounts/fileServices/shares", "st1/default/share1", ""), `{"id":"` + vaultID + `/backupFabrics/Azure/protectionContainers/StorageContainer;Storage;rg;st1/protectedItems/AzureFileShare;share1","type":"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems","properties":{"friendlyName":"share1","protectedItemType":"AzureFileShareProtectedItem","sourceResourceId":"` + rgID + `/providers/Microsoft.Storage/storageAccounts/st1","protectionState":"Protected"}}`}, target: "share1", want: Pass},
			{name: "not backed up", objs: []string{r("Microsoft.Storage/storageAccounts/fileServices/shares", "st1/default/share1", "")}, target: "share1", want: Fail},
		},
		"SQL-001": {
			{name: "14 days", objs: []string{db(""), r("Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies", "sql1/db1/default", `"properties":{"retentionDays":14}`)}, target: "db1", want: Pass},
			{name: "3 days", objs: []string{db(""), r("Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies", "sql1/db1/default", `"properties":{"retentionDays":"3"}`)}, target: "db1", want: Fail},
			{name: "not collected", objs: []string{db("")}, target: "db1", want: Unknown},
		},
		"SQL-002": {
			{name: "LTR geo", objs: []string{db(`"requestedBackupStorageRedundancy":"Geo"`), r("Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies", "sql1/db1/default", `"properties":{"weeklyRetention":"P4W"}`)}, target: "db1", want: Pass},
			{name: "local", objs: []string{db(`"requestedBackupStorageRedundancy":"Local"`), r("Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies", "sql1/db1/default", `"properties":{"weeklyRetention":"P4W"}`)}, target: "db1", want: Fail},
			// ARM answers a dedicated SQL pool's LTR GET with 400 LongTermRetentionPolicyNotSupported.
			{name: "dedicated SQL pool", objs: []string{r("Microsoft.Sql/servers/databases", "sql1/db1", `"kind":"v12.0,user,datawarehouse,gen2","sku":{"name":"DW100c","tier":"DataWarehouse"},"properties":{}`)}, target: "db1", want: NA},
		},
		"SQL-003": {
			{name: "failover group", objs: []string{db(""), r("Microsoft.Sql/servers/failoverGroups", "sql1/fg1", `"properties":{"databases":["`+strings.ToUpper(rgID)+`/providers/Microsoft.Sql/servers/sql1/databases/db1"]}`)}, target: "db1", want: Pass},
			{name: "alone", objs: []string{db("")}, target: "db1", want: Fail},
		},
		"SQL-004": {
			{name: "group and geo", objs: []string{r("Microsoft.Sql/managedInstances", "mi1", `"properties":{"requestedBackupStorageRedundancy":"Geo"}`), `{"id":"` + rgID + `/providers/Microsoft.Sql/locations/westeurope/instanceFailoverGroups/fg","type":"Microsoft.Sql/locations/instanceFailoverGroups","properties":{"managedInstancePairs":[{"primaryManagedInstanceId":"` + rgID + `/providers/Microsoft.Sql/managedInstances/mi1"}]}}`}, target: "mi1", want: Pass},
			{name: "local, no group", objs: []string{r("Microsoft.Sql/managedInstances", "mi1", `"properties":{"requestedBackupStorageRedundancy":"Local"}`)}, target: "mi1", want: Fail},
		},
		"SQL-005": {
			{name: "VM backed up", objs: []string{r("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "vm1", `"properties":{"virtualMachineResourceId":"`+vmID+`"}`), vm, rsvOK, vmItem("2026-11-25T22:00:00Z", "Protected")}, target: "vm1", want: Pass},
			{name: "nothing", objs: []string{r("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "vm1", `"properties":{"virtualMachineResourceId":"`+vmID+`"}`)}, target: "vm1", want: Fail},
		},
		"KV-001": {
			{name: "default on, 90 days", objs: []string{r("Microsoft.KeyVault/vaults", "kv1", `"properties":{}`)}, target: "kv1", want: Pass},
			{name: "string false", objs: []string{r("Microsoft.KeyVault/vaults", "kv1", `"properties":{"enableSoftDelete":"false"}`)}, target: "kv1", want: Fail},
			{name: "7 days", objs: []string{r("Microsoft.KeyVault/vaults", "kv1", `"properties":{"softDeleteRetentionInDays":7}`)}, target: "kv1", want: Warn},
		},
		"KV-002": {
			{name: "on", objs: []string{kvOK}, target: "kv1", want: Pass},
			{name: "absent means off", objs: []string{r("Microsoft.KeyVault/vaults", "kv1", `"properties":{"enableSoftDelete":true}`)}, target: "kv1", want: Fail},
		},
		"COSMOS-001": {
			{name: "continuous", objs: []string{r("Microsoft.DocumentDB/databaseAccounts", "cos1", bcTag+`,"properties":{"backupPolicy":{"type":"Continuous"}}`)}, target: "cos1", want: Pass},
			{name: "periodic by default", objs: []string{r("Microsoft.DocumentDB/databaseAccounts", "cos1", bcTag+`,"properties":{}`)}, target: "cos1", want: Fail},
		},
		"RSV-001": {
			{name: "always on", objs: []string{rsvOK}, target: "rsv1", want: Pass},
			{name: "enabled only (default)", objs: []string{r("Microsoft.RecoveryServices/vaults", "rsv1", `"properties":{}`)}, target: "rsv1", want: Warn},
			{name: "disabled", objs: []string{rsvBad}, target: "rsv1", want: Fail},
		},
		"RSV-002": {
			{name: "locked", objs: []string{rsvOK}, target: "rsv1", want: Pass},
			{name: "absent means disabled", objs: []string{rsvBad}, target: "rsv1", want: Fail},
		},
		"RSV-003": {
			{name: "guard elsewhere", objs: []string{rsvOK, r("Microsoft.RecoveryServices/vaults/backupResourceGuardProxies", "rsv1/VaultProxy", `"properties":{"resourceGuardResourceId":"`+sub2+`/resourceGroups/sec/providers/Microsoft.DataProtection/resourceGuards/g"}`)}, target: "rsv1", want: Pass},
			{name: "guard in own subscription", objs: []string{rsvOK, r("Microsoft.RecoveryServices/vaults/backupResourceGuardProxies", "rsv1/VaultProxy", `"properties":{"resourceGuardResourceId":"`+sub+`/resourceGroups/sec/providers/Microsoft.DataProtection/resourceGuards/g"}`)}, target: "rsv1", want: Warn},
			{name: "none", objs: []string{rsvBad}, target: "rsv1", want: Fail},
			// securitySettings.multiUserAuthorization is read-only, set by the service from the proxy.
			{name: "enabled, proxy not collected", objs: []string{rsvOK}, target: "rsv1", want: Pass},
		},
		"RSV-004": {
			{name: "geo with CRR", objs: []string{rsvOK}, target: "rsv1", want: Pass},
			{name: "geo without CRR", objs: []string{rsvBad}, target: "rsv1", want: Fail},
		},
		"RSV-005": {
			{name: "safe key", objs: []string{strings.Replace(rsvOK, `"redundancySettings"`, `"encryption":{"keyVaultProperties":{"keyUri":"https://kv1.vault.azure.net/keys/k"}},"redundancySettings"`, 1), kvOK, lock(rgID, "l", "CanNotDelete")}, target: "rsv1", want: Pass},
			{name: "purgeable key", objs: []string{strings.Replace(rsvOK, `"redundancySettings"`, `"encryption":{"keyVaultProperties":{"keyUri":"https://kv1.vault.azure.net/keys/k"}},"redundancySettings"`, 1), r("Microsoft.KeyVault/vaults", "kv1", `"properties":{}`), lock(sub2, "l", "CanNotDelete")}, target: "rsv1", want: Fail},
		},
		"BV-001": {
			{name: "always on", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{"securitySettings":{"softDeleteSettings":{"state":"AlwaysOn"}}}`)}, target: "bv1", want: Pass},
			{name: "off", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{"securitySettings":{"softDeleteSettings":{"state":"Off"}}}`)}, target: "bv1", want: Fail},
			{name: "on by default", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{}`)}, target: "bv1", want: Warn},
		},
		"BV-002": {
			{name: "locked", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{"securitySettings":{"immutabilitySettings":{"state":"Locked"}}}`)}, target: "bv1", want: Pass},
			{name: "unlocked", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{"securitySettings":{"immutabilitySettings":{"state":"Unlocked"}}}`)}, target: "bv1", want: Fail},
		},
		"BV-003": {
			{name: "guarded", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{"isVaultProtectedByResourceGuard":true,"resourceGuardOperationRequests":["x"]}`)}, target: "bv1", want: Pass},
			{name: "not guarded", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{}`)}, target: "bv1", want: Fail},
			// The proxy's "type" names "vaults", not "backupVaults" (REST spec dataprotection 2025-07-01
			// ListResourceGuardProxy.json); its ID is what places it under the vault.
			{name: "guard proxy", objs: []string{r("Microsoft.DataProtection/backupVaults", "bv1", `"properties":{}`),
				`{"id":"` + rgID + `/providers/Microsoft.DataProtection/backupVaults/bv1/backupResourceGuardProxies/DppResourceGuardProxy","name":"DppResourceGuardProxy","type":"Microsoft.DataProtection/vaults/backupResourceGuardProxies","properties":{"resourceGuardResourceId":"` + sub2 + `/resourceGroups/sec/providers/Microsoft.DataProtection/resourceGuards/g"}}`}, target: "bv1", want: Pass},
		},
		"ASR-001": {
			{name: "locked, eligible admins", objs: []string{rsvOK, replicated(vaultID, vmID, "Normal", "", "northeurope"), lock(rgID, "l", "CanNotDelete"), eligible(vaultID, "e1", siteRecovery, "carol")}, target: "rsv1", want: Pass},
			{name: "standing admin, no lock", objs: []string{rsvOK, replicated(vaultID, vmID, "Normal", "", "northeurope"), lock(sub2, "l", "CanNotDelete"), assign(vaultID, "a1", siteRecovery, "carol", "User")}, target: "rsv1", want: Fail},
		},
		"RI-001": {
			{name: "protected", objs: []string{r("Microsoft.Storage/storageAccounts", "docs", `"tags":{"bulwark:recovery":"runbooks"},"properties":{"immutableStorageWithVersioning":{"enabled":true}}`), r("Microsoft.Storage/storageAccounts/blobServices", "docs/default", `"properties":{"deleteRetentionPolicy":{"enabled":true,"days":30}}`), lock(rgID, "l", "CanNotDelete")}, target: "docs", want: Pass},
			{name: "unprotected", objs: []string{r("Microsoft.Storage/storageAccounts", "docs", `"tags":{"bulwark:recovery":"runbooks"},"properties":{}`), lock(sub2, "l", "CanNotDelete")}, target: "docs", want: Fail},
		},
		"CFG-001": {
			{name: "declared", objs: []string{vnet("10.0.1.0/24")}, iac: vnetTpl, target: "vnet1", want: Pass},
			{name: "not declared", objs: []string{r("Microsoft.Network/networkSecurityGroups", "nsg9", "")}, iac: vnetTpl, target: "nsg9", want: Fail},
			{name: "no IaC given", objs: []string{vnet("10.0.1.0/24")}, target: "vnet1", want: Unknown},
		},
		"CFG-002": {
			{name: "matches", objs: []string{vnet("10.0.1.0/24")}, iac: vnetTpl, target: "vnet1", want: Pass},
			{name: "drifted", objs: []string{vnet("10.0.2.0/24")}, iac: vnetTpl, target: "vnet1", want: Fail},
		},
		"DEV-001": {
			{name: "agent in IaC", objs: []string{r("Microsoft.Compute/virtualMachineScaleSets", "build-agents", "")}, iac: `{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#","resources":[{"type":"Microsoft.Compute/virtualMachineScaleSets","name":"build-agents"}]}`, target: "build-agents", want: Pass},
			{name: "agent nowhere", objs: []string{r("Microsoft.Compute/virtualMachineScaleSets", "gh-runner", "")}, target: "gh-runner", want: Fail},
		},
		"DEV-002": {
			{name: "backup operator", objs: []string{assign(rgID, "a1", backupOp, "sp1", "ServicePrincipal")}, target: "service principal sp1", want: Pass},
			{name: "owner", objs: []string{assign(sub, "a1", owner, "sp1", "ServicePrincipal")}, target: "service principal sp1", want: Fail},
		},
		"DEV-003": {
			{name: "declared", objs: []string{r("Microsoft.Automation/automationAccounts", "aa1", "")}, apps: "apps:\n  - name: ops\n    backups:\n      - resource: " + rgID + "/providers/Microsoft.Automation/automationAccounts/aa1\n        method: runbooks in git\n", target: "aa1", want: Pass},
			{name: "undeclared", objs: []string{`{"id":"` + rgID + `/providers/microsoft.visualstudio/account/org1","type":"microsoft.visualstudio/account","name":"org1"}`}, target: "org1", want: Fail},
		},
		"DET-001": {
			{name: "allLogs", objs: []string{subObj, diag(`[{"categoryGroup":"allLogs","enabled":true}]`)}, target: "prod", want: Pass},
			{name: "administrative only", objs: []string{subObj, diag(`[{"category":"Administrative","enabled":true},{"category":"Security","enabled":false}]`)}, target: "prod", want: Fail},
		},
		"DET-002": {
			{name: "onboarded", objs: []string{law(""), diag(`[]`), `{"id":"` + rgID + `/providers/Microsoft.OperationalInsights/workspaces/law/providers/Microsoft.SecurityInsights/onboardingStates/default","type":"Microsoft.SecurityInsights/onboardingStates","name":"default"}`}, target: "law", want: Pass},
			{name: "not onboarded", objs: []string{law(""), diag(`[]`)}, target: "law", want: Fail},
		},
		"DET-003": {
			{name: "all standard", objs: pricings(subObj, "Standard"), target: "prod", want: Pass},
			{name: "free plans", objs: pricings(subObj, "Free"), target: "prod", want: Fail},
			{name: "not collected", objs: []string{subObj}, target: "prod", want: Unknown},
		},
		"DET-004": {
			{name: "locked, 365 days", objs: []string{law(`"retentionInDays":365`), diag(`[]`), lock(rgID, "l", "CanNotDelete")}, target: "law", want: Pass},
			{name: "default retention, no lock", objs: []string{law(``), diag(`[]`), lock(sub2, "l", "CanNotDelete")}, target: "law", want: Fail},
		},
		"RSP-001": {
			{name: "tagged", objs: []string{r("Microsoft.KeyVault/vaults", "kv1", `"tags":{"app":"web"}`)}, target: "kv1", want: Pass},
			{name: "orphan", objs: []string{r("Microsoft.KeyVault/vaults", "kv1", ``)}, target: "kv1", want: Fail},
		},
		"RSP-002": {
			{name: "backed up VM", objs: []string{vm, rsvOK, vmItem("2026-11-25T22:00:00Z", "Protected")}, target: "vm1", want: Pass},
			{name: "purgeable key vault", objs: []string{r("Microsoft.KeyVault/vaults", "kv1", `"properties":{}`)}, target: "kv1", want: Fail},
		},
		"RSP-003": {
			{name: "drilled", apps: "apps:\n  - name: web\n    drills:\n      - date: 2026-09-01\n        result: pass\n", target: "web", want: Pass},
			{name: "never drilled", apps: "apps:\n  - name: web\n", target: "web", want: Fail},
		},
	}
}

func pricings(subObj, tier string) []string {
	out := []string{subObj}
	for _, p := range defenderPlans {
		out = append(out, `{"id":"`+sub+`/providers/Microsoft.Security/pricings/`+p+`","type":"Microsoft.Security/pricings","name":"`+p+`","properties":{"pricingTier":"`+tier+`"}}`)
	}
	return out
}

// TestChecks runs every check on its passing and failing literals. The status is asserted here;
// the message and evidence text are pinned in testdata/checks.golden (go test -update rewrites it).
func TestChecks(t *testing.T) {
	cases := checkCases()
	var golden []string
	for _, c := range Checks() {
		cs := cases[c.ID]
		var sawPass, sawFail bool
		for _, tc := range cs {
			got := runCase(t, c, tc)
			sawPass = sawPass || got.Status == Pass
			sawFail = sawFail || got.Status == Fail
			if got.Status != tc.want {
				t.Errorf("%s %s: status %s, want %s (%s)", c.ID, tc.name, got.Status, tc.want, got.Message)
			}
			var evs []string
			for _, e := range got.Evidence {
				evs = append(evs, "    "+e.String())
			}
			golden = append(golden, fmt.Sprintf("%s / %s: %s — %s\n%s", c.ID, tc.name, got.Status, got.Message, strings.Join(evs, "\n")))
		}
		if !sawPass || !sawFail {
			t.Errorf("%s needs a passing and a failing case (pass %v, fail %v)", c.ID, sawPass, sawFail)
		}
	}
	for id := range cases {
		if _, err := Select([]string{id}, nil); err != nil {
			t.Errorf("cases for unknown check %s", id)
		}
	}
	got := strings.Join(golden, "\n") + "\n"
	path := filepath.Join("testdata", "checks.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/assess -update creates it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("messages or evidence changed (-want +got); run with -update if intended\n%s", d)
	}
}

func runCase(t *testing.T, c *Check, tc checkCase) Result {
	t.Helper()
	var objs []*arm.Object
	for _, j := range tc.objs {
		o, err := arm.NewObject([]byte(j), arm.Source{File: "case"})
		if err != nil {
			t.Fatalf("%s %s: bad literal: %v\n%s", c.ID, tc.name, err, j)
		}
		objs = append(objs, o)
	}
	cfg, err := config.Parse(strings.NewReader(tc.cfg))
	if err != nil {
		t.Fatal(err)
	}
	var af *apps.File
	if tc.apps != "" {
		if af, err = apps.Parse(strings.NewReader(tc.apps)); err != nil {
			t.Fatalf("%s %s: %v", c.ID, tc.name, err)
		}
	}
	var inv *iac.Inventory
	if tc.iac != "" {
		inv = &iac.Inventory{}
		if err := inv.Add("template.json", []byte(tc.iac)); err != nil {
			t.Fatal(err)
		}
	}
	snap := &arm.Snapshot{Resources: objs, CollectedAt: time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)}
	rep := Run(NewEnv(Inputs{Snapshot: snap, Config: cfg, Apps: af, IaC: inv}), []*Check{c})
	var names []string
	for _, r := range rep.Results {
		if r.Name == tc.target {
			return r
		}
		names = append(names, r.Name)
	}
	sort.Strings(names)
	t.Fatalf("%s %s: no result for %q (results: %v)", c.ID, tc.name, tc.target, names)
	return Result{}
}

// TestRecoveryPaths: the structured paths respond builds on, read from the Contoso snapshot.
func TestRecoveryPaths(t *testing.T) {
	res, err := snapshot.Load(context.Background(), []string{filepath.Join("..", "..", "examples", "contoso", "estate")}, snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEnv(Inputs{Snapshot: res.Snapshot, Config: config.Default()})
	find := func(name string) *arm.Object {
		for _, o := range e.Index.All() {
			if o.Name() == name && arm.TopLevel(o) {
				return o
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	kinds := func(name string) map[string]RecoveryPath {
		m := map[string]RecoveryPath{}
		for _, p := range e.RecoveryPaths(find(name)) {
			m[p.Kind] = p
		}
		return m
	}
	if p, ok := kinds("vm-shop-web01")["backup"]; !ok || p.LastPoint.IsZero() || p.LastPoint.Day() != 20 {
		t.Errorf("vm-shop-web01 backup: %+v", p)
	}
	if p, ok := kinds("vm-pay-app01")["site-recovery"]; !ok || p.LastPoint.IsZero() {
		t.Errorf("vm-pay-app01 Site Recovery: %+v", p)
	}
	if p, ok := kinds("kv-pay-cmk")["soft-delete"]; !ok || p.Weak || p.Window != 90*24*time.Hour {
		t.Errorf("kv-pay-cmk: %+v", p)
	}
	if p, ok := kinds("kv-shop-app")["soft-delete"]; !ok || !p.Weak || p.Window != 7*24*time.Hour {
		t.Errorf("kv-shop-app (no purge protection, 7 days): %+v", p)
	}
	if e.recoveryPath(find("kv-shop-app")) != "" && len(kinds("kv-shop-app")) == 1 {
		t.Error("a weak path counted for RSP-002")
	}
	db := func(server, name string) map[string]RecoveryPath {
		for _, o := range e.Index.OfType("Microsoft.Sql/servers/databases") {
			if o.Name() == name && strings.Contains(o.ID.String(), "/servers/"+server+"/") {
				m := map[string]RecoveryPath{}
				for _, p := range e.RecoveryPaths(o) {
					m[p.Kind] = p
				}
				return m
			}
		}
		t.Fatalf("no database %s/%s", server, name)
		return nil
	}
	if pay := db("sql-pay-weu", "paydb"); pay["failover-group"].Via == "" || pay["point-in-time"].Window != 35*24*time.Hour ||
		pay["geo-restore"].Kind == "" || pay["long-term-retention"].Kind == "" {
		t.Errorf("paydb: %+v", pay)
	}
	if shop := db("sql-shop-weu", "shopdb"); shop["geo-replica"].Kind == "" || shop["geo-restore"].Kind != "" {
		t.Errorf("shopdb (geo-replica, local backups): %+v", shop)
	}
	if ps := e.RecoveryPaths(find("kv-shop-legacy")); len(ps) != 0 {
		t.Errorf("kv-shop-legacy (soft delete off, no IaC) should have no path: %+v", ps)
	}
}

// LOCK-003 reports a principal's standing access once per assignment, listing the critical
// resources it covers, with the PIM move as the fix (it repeated the same Owner for every
// resource: 8 of the demo's top 10 findings).
func TestLOCK003OncePerAssignment(t *testing.T) {
	objs := []string{kvOK, rsvOK, r("Microsoft.Storage/storageAccounts", "st1", bcTag+`,"properties":{}`), assign(sub, "a1", owner, "alice", "User"), eligible(sub, "e1", owner, "carol")}
	var parsed []*arm.Object
	for _, o := range objs {
		parsed = append(parsed, arm.MustObject(o))
	}
	env := NewEnv(Inputs{Snapshot: &arm.Snapshot{Resources: parsed}, Config: config.Default()})
	rep := Run(env, []*Check{checkLOCK003})
	if len(rep.Results) != 1 {
		t.Fatalf("%d LOCK-003 results, want 1: %+v", len(rep.Results), rep.Results)
	}
	r := rep.Results[0]
	if r.Status != Fail || !strings.Contains(r.Message, "can delete the locks of 3 critical resources at any time") || r.BlastRadius < 2 {
		t.Errorf("%+v", r)
	}
	ev := fmt.Sprint(r.Evidence)
	for _, name := range []string{"kv1", "rsv1"} {
		if !strings.Contains(ev, name) {
			t.Errorf("evidence lacks %s: %s", name, ev)
		}
	}
	if !strings.Contains(r.Command, "roleEligibilityScheduleRequests") || !strings.Contains(r.Command, `"requestType":"AdminAssign"`) ||
		!strings.Contains(r.Command, "az role assignment delete --ids "+sub+"/providers/Microsoft.Authorization/roleAssignments/a1") {
		t.Errorf("fix: %s", r.Command)
	}
}

// Selection: a framework narrows the catalogue to its mapped checks, intersected with --check.
func TestSelection(t *testing.T) {
	ids := func(cs []*Check) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		sel  Selection
		want string // or the error's start
	}{
		{Selection{Framework: "mcsb"}, "VM-001,KV-001,KV-002"},
		{Selection{Framework: "mcsb", Exclude: []string{"kv-001"}}, "VM-001,KV-002"},
		{Selection{Framework: "cis-azure", Include: []string{"kv-002", "VM-001"}}, "KV-002"},
		{Selection{Include: []string{"KV-002", "RSV-001"}}, "KV-002,RSV-001"},
		{Selection{Framework: "mcsb", Include: []string{"RSV-001"}}, "error: --framework mcsb: none of the --check checks maps to it"},
		{Selection{Framework: "nist"}, `error: --framework "nist": choose one of cis-azure, mcsb`},
		{Selection{Include: []string{"XX-1"}}, `error: unknown check "XX-1"`},
	} {
		cs, err := c.sel.Checks()
		got := ids(cs)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: %s, want %s", c.sel, got, c.want)
		}
	}
}
