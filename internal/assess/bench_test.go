package assess

import (
	"fmt"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
)

// genEstate builds an estate of about n objects: per resource group a VNet and NSG, three VMs with
// NICs and disks, a storage account with its blob service, a Key Vault, a SQL server with a
// database and its retention policy, a Recovery Services vault backing up the VMs, a lock and
// two role assignments; per subscription owners, diagnostic settings and Defender plans.
func genEstate(n int) *arm.Snapshot {
	var objs []*arm.Object
	add := func(format string, args ...any) {
		o, err := arm.NewObject([]byte(fmt.Sprintf(format, args...)), arm.Source{File: "generated"})
		if err != nil {
			panic(err)
		}
		objs = append(objs, o)
	}
	const perGroup = 27
	groups := n / perGroup
	subs := max(1, groups/200)
	for s := 0; s < subs; s++ {
		sub := fmt.Sprintf("/subscriptions/%08d-0000-4000-8000-000000000000", s)
		add(`{"id":"%s","type":"microsoft.resources/subscriptions","name":"sub-%d"}`, sub, s)
		add(`{"id":"%s/providers/Microsoft.Authorization/roleAssignments/owner","type":"Microsoft.Authorization/roleAssignments","properties":{"scope":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"user-%d","principalType":"User"}}`, sub, sub, sub, owner, s)
		add(`{"id":"%s/providers/Microsoft.Authorization/roleAssignments/pipeline","type":"Microsoft.Authorization/roleAssignments","properties":{"scope":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"sp-%d","principalType":"ServicePrincipal"}}`, sub, sub, sub, contributor, s)
		add(`{"id":"%s/providers/microsoft.insights/diagnosticSettings/ds","type":"Microsoft.Insights/diagnosticSettings","properties":{"workspaceId":"%s/resourceGroups/rg-0/providers/Microsoft.OperationalInsights/workspaces/law","logs":[{"categoryGroup":"allLogs","enabled":true}]}}`, sub, sub)
		for _, p := range defenderPlans {
			add(`{"id":"%s/providers/Microsoft.Security/pricings/%s","type":"Microsoft.Security/pricings","properties":{"pricingTier":"Standard"}}`, sub, p)
		}
	}
	for g := 0; g < groups; g++ {
		sub := fmt.Sprintf("/subscriptions/%08d-0000-4000-8000-000000000000", g%subs)
		rg := fmt.Sprintf("%s/resourceGroups/rg-%d", sub, g)
		tags := fmt.Sprintf(`{"app":"app-%d","criticality":"%s"}`, g%50, []string{"high", "low", "medium"}[g%3])
		add(`{"id":"%s","type":"Microsoft.Resources/resourceGroups","name":"rg-%d","tags":%s}`, rg, g, tags)
		vnet := rg + "/providers/Microsoft.Network/virtualNetworks/vnet"
		nsg := rg + "/providers/Microsoft.Network/networkSecurityGroups/nsg"
		add(`{"id":"%s","type":"Microsoft.Network/virtualNetworks","name":"vnet","location":"westeurope","tags":%s,"properties":{"addressSpace":{"addressPrefixes":["10.%d.0.0/16"]},"subnets":[{"name":"a","id":"%s/subnets/a","properties":{"addressPrefix":"10.%d.1.0/24","networkSecurityGroup":{"id":"%s"}}}]}}`, vnet, tags, g%250, vnet, g%250, nsg)
		add(`{"id":"%s","type":"Microsoft.Network/networkSecurityGroups","name":"nsg","location":"westeurope","properties":{"securityRules":[{"name":"https","properties":{"priority":100,"direction":"Inbound","access":"Allow","protocol":"Tcp","destinationPortRange":"443"}}]}}`, nsg)
		vault := rg + "/providers/Microsoft.RecoveryServices/vaults/rsv"
		add(`{"id":"%s","type":"Microsoft.RecoveryServices/vaults","name":"rsv","location":"westeurope","properties":{"securitySettings":{"softDeleteSettings":{"softDeleteState":"%s"},"immutabilitySettings":{"state":"Unlocked"}},"redundancySettings":{"standardTierStorageRedundancy":"GeoRedundant"}}}`, vault, []string{"AlwaysON", "Enabled"}[g%2])
		for v := 0; v < 3; v++ {
			vm := fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm%d", rg, v)
			nic := fmt.Sprintf("%s/providers/Microsoft.Network/networkInterfaces/nic%d", rg, v)
			disk := fmt.Sprintf("%s/providers/Microsoft.Compute/disks/vm%d-os", rg, v)
			add(`{"id":"%s","type":"Microsoft.Compute/virtualMachines","name":"vm%d","location":"westeurope","tags":%s,"properties":{"networkProfile":{"networkInterfaces":[{"id":"%s"}]},"storageProfile":{"osDisk":{"managedDisk":{"id":"%s"}}}}}`, vm, v, tags, nic, disk)
			add(`{"id":"%s","type":"Microsoft.Network/networkInterfaces","name":"nic%d","location":"westeurope","properties":{"ipConfigurations":[{"properties":{"subnet":{"id":"%s/subnets/a"}}}],"virtualMachine":{"id":"%s"}}}`, nic, v, vnet, vm)
			add(`{"id":"%s","type":"Microsoft.Compute/disks","name":"vm%d-os","location":"westeurope","managedBy":"%s","properties":{"diskSizeGB":128}}`, disk, v, vm)
			if v < 2 {
				c := fmt.Sprintf("iaasvmcontainerv2;rg-%d;vm%d", g, v)
				add(`{"id":"%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectedItems/VM;%s","type":"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems","properties":{"sourceResourceId":"%s","protectionState":"Protected","lastBackupTime":"2026-11-25T22:00:00Z"}}`, vault, c, c, vm)
			}
		}
		st := rg + "/providers/Microsoft.Storage/storageAccounts/st"
		add(`{"id":"%s","type":"Microsoft.Storage/storageAccounts","name":"st","location":"westeurope","tags":%s,"sku":{"name":"%s"},"properties":{}}`, st, tags, []string{"Standard_GRS", "Standard_LRS"}[g%2])
		add(`{"id":"%s/blobServices/default","type":"Microsoft.Storage/storageAccounts/blobServices","name":"default","properties":{"deleteRetentionPolicy":{"enabled":true,"days":%d},"isVersioningEnabled":%t}}`, st, 3+g%20, g%2 == 0)
		add(`{"id":"%s/providers/Microsoft.KeyVault/vaults/kv-%d","type":"Microsoft.KeyVault/vaults","name":"kv-%d","location":"westeurope","properties":{"enablePurgeProtection":%t}}`, rg, g, g, g%3 == 0)
		srv := rg + "/providers/Microsoft.Sql/servers/sql"
		add(`{"id":"%s","type":"Microsoft.Sql/servers","name":"sql","location":"westeurope","properties":{}}`, srv)
		add(`{"id":"%s/databases/db","type":"Microsoft.Sql/servers/databases","name":"db","location":"westeurope","properties":{"requestedBackupStorageRedundancy":"Geo"}}`, srv)
		add(`{"id":"%s/databases/db/backupShortTermRetentionPolicies/default","type":"Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies","properties":{"retentionDays":%d}}`, srv, 1+g%35)
		add(`{"id":"%s/providers/Microsoft.Authorization/locks/no-delete","type":"Microsoft.Authorization/locks","name":"no-delete","properties":{"level":"%s"}}`, rg, []string{"CanNotDelete", "ReadOnly"}[g%7/6])
		add(`{"id":"%s/providers/Microsoft.Authorization/roleAssignments/ops","type":"Microsoft.Authorization/roleAssignments","properties":{"scope":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"ops-%d","principalType":"Group"}}`, rg, rg, sub, contributor, g%40)
		add(`{"id":"%s/providers/Microsoft.Authorization/roleAssignments/backup","type":"Microsoft.Authorization/roleAssignments","properties":{"scope":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"backup-%d","principalType":"ServicePrincipal"}}`, rg, rg, sub, backupOp, g%10)
	}
	return &arm.Snapshot{Resources: objs, CollectedAt: time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)}
}

func benchmarkAssess(b *testing.B, n int) {
	snap := genEstate(n)
	b.ReportMetric(float64(len(snap.Resources)), "objects")
	b.ResetTimer()
	for b.Loop() {
		rep := Run(NewEnv(Inputs{Snapshot: snap, Config: config.Default()}), Checks())
		if len(rep.Results) == 0 {
			b.Fatal("no results")
		}
	}
}

// BenchmarkAssess10k and BenchmarkAssess100k show how the cost grows with the estate.
func BenchmarkAssess10k(b *testing.B)  { benchmarkAssess(b, 10_000) }
func BenchmarkAssess100k(b *testing.B) { benchmarkAssess(b, 100_000) }
