// Package estatesim generates estates of any size, each object shaped as an ARM GET response (id,
// type, name, location, tags, properties with the fields the checks read), for measuring how assess
// and its renderers scale. It is not a fixture of Azure's shapes: those are in collect/collecttest.
// The estate is deterministic: the same n gives the same objects.
package estatesim

import (
	"bufio"
	"fmt"
	"io"
)

// Built-in role definition IDs (the same in every tenant).
const (
	owner       = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	backupOp    = "00c29273-979b-4161-815c-10b084fb9324"
)

var defenderPlans = []string{"VirtualMachines", "StorageAccounts", "SqlServers", "KeyVaults", "Arm", "Containers", "CloudPosture"}

// Objects calls emit with the JSON of about n objects: per resource group a VNet and NSG, three VMs
// with NICs and disks (two of them backed up), a storage account with its blob service, a Key Vault,
// a SQL server with a database and its retention policy, a Recovery Services vault, a lock and two
// role assignments; per 200 groups a subscription with owners, diagnostic settings and Defender
// plans. The settings vary by group, so every check has passes and failures. emit must not keep
// the slice: it is reused.
func Objects(n int, emit func([]byte)) {
	var buf []byte
	add := func(format string, args ...any) {
		buf = fmt.Appendf(buf[:0], format, args...)
		emit(buf)
	}
	const perGroup = 24
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
}

// Snapshot writes about n objects as a bulwark.snapshot/v1 document, as `bulwark collect` does.
func Snapshot(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"schema":"bulwark.snapshot/v1","collectedAt":"2026-11-26T06:00:00Z","resources":[`)
	first := true
	Objects(n, func(b []byte) {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.Write(b)
	})
	bw.WriteString("]}\n")
	return bw.Flush()
}
