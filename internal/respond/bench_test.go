package respond

import (
	"fmt"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/config"
)

// bigApp is one application of n VMs, each with a NIC on a shared VNet, an OS disk encrypted
// through a shared disk encryption set and Key Vault, and an Azure Backup item.
func bigApp(n int) *assess.Env {
	const sub = "/subscriptions/11111111-1111-4111-8111-111111111111"
	rg := sub + "/resourceGroups/rg-big"
	objs := []*arm.Object{
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.Network/virtualNetworks/vnet","type":"Microsoft.Network/virtualNetworks","name":"vnet","location":"westeurope","properties":{"subnets":[{"id":"` + rg + `/providers/Microsoft.Network/virtualNetworks/vnet/subnets/s","name":"s"}]}}`),
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.KeyVault/vaults/kv","type":"Microsoft.KeyVault/vaults","name":"kv","location":"westeurope","properties":{"enableSoftDelete":true,"enablePurgeProtection":true}}`),
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.Compute/diskEncryptionSets/des","type":"Microsoft.Compute/diskEncryptionSets","name":"des","location":"westeurope","properties":{"activeKey":{"sourceVault":{"id":"` + rg + `/providers/Microsoft.KeyVault/vaults/kv"}}}}`),
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.RecoveryServices/vaults/rsv","type":"Microsoft.RecoveryServices/vaults","name":"rsv","location":"westeurope","properties":{}}`),
	}
	for i := 0; i < n; i++ {
		vm := fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm%d", rg, i)
		nic := fmt.Sprintf("%s/providers/Microsoft.Network/networkInterfaces/nic%d", rg, i)
		disk := fmt.Sprintf("%s/providers/Microsoft.Compute/disks/os%d", rg, i)
		objs = append(objs,
			arm.MustObject(fmt.Sprintf(`{"id":%q,"type":"Microsoft.Compute/virtualMachines","name":"vm%d","location":"westeurope","properties":{"networkProfile":{"networkInterfaces":[{"id":%q}]},"storageProfile":{"osDisk":{"managedDisk":{"id":%q}}}}}`, vm, i, nic, disk)),
			arm.MustObject(fmt.Sprintf(`{"id":%q,"type":"Microsoft.Network/networkInterfaces","name":"nic%d","location":"westeurope","properties":{"virtualMachine":{"id":%q},"ipConfigurations":[{"properties":{"subnet":{"id":"%s/providers/Microsoft.Network/virtualNetworks/vnet/subnets/s"}}}]}}`, nic, i, vm, rg)),
			arm.MustObject(fmt.Sprintf(`{"id":%q,"type":"Microsoft.Compute/disks","name":"os%d","location":"westeurope","managedBy":%q,"properties":{"encryption":{"diskEncryptionSetId":"%s/providers/Microsoft.Compute/diskEncryptionSets/des"}}}`, disk, i, vm, rg)),
			arm.MustObject(fmt.Sprintf(`{"id":"%s/providers/Microsoft.RecoveryServices/vaults/rsv/backupFabrics/Azure/protectionContainers/iaasvmcontainerv2;rg-big;vm%d/protectedItems/vm;iaasvmcontainerv2;rg-big;vm%d","type":"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems","properties":{"sourceResourceId":%q,"lastRecoveryPoint":"2026-11-25T02:00:00Z"}}`, rg, i, i, vm)),
		)
	}
	return assess.NewEnv(assess.Inputs{Snapshot: &arm.Snapshot{Resources: objs}, Config: config.Default()})
}

// BenchmarkGenerate2000VMs: a playbook for an application of 2,000 VMs (8,004 objects).
var benchVMs = 2000

func BenchmarkGenerate2000VMs(b *testing.B) {
	env := bigApp(benchVMs)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pb, err := Generate(Inputs{Env: env, App: "rg-big"})
		if err != nil {
			b.Fatal(err)
		}
		if len(pb.Steps) < benchVMs {
			b.Fatalf("%d steps", len(pb.Steps))
		}
	}
}

// BenchmarkGenerate20000VMs: the same with 20,000 VMs (80,004 objects).
func BenchmarkGenerate20000VMs(b *testing.B) {
	old := benchVMs
	benchVMs = 20000
	defer func() { benchVMs = old }()
	BenchmarkGenerate2000VMs(b)
}
