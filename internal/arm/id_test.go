package arm

import "testing"

func TestAncestorOfType(t *testing.T) {
	item := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg;vm1/protectedItems/VM;iaasvmcontainerv2;rg;vm1"
	for typ, want := range map[string]string{
		"Microsoft.RecoveryServices/vaults":                                    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1",
		"microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg;vm1",
		"Microsoft.KeyVault/vaults":                                            "",
	} {
		if got := AncestorOf(item, typ); got != want {
			t.Errorf("%s: %q, want %q", typ, got, want)
		}
	}
	if AncestorOf("not an id", "Microsoft.RecoveryServices/vaults") != "" {
		t.Error("a non-ID has an ancestor")
	}
}
