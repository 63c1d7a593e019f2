package detect

import (
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

func TestRecoveryOf(t *testing.T) {
	const rg = "/subscriptions/s/resourceGroups/rg/providers/"
	objs := []*arm.Object{
		arm.MustObject(`{"id":"` + rg + `Microsoft.KeyVault/vaults/kvoff","type":"Microsoft.KeyVault/vaults","properties":{"enableSoftDelete":"false"}}`),
		arm.MustObject(`{"id":"` + rg + `Microsoft.KeyVault/vaults/kv7","type":"Microsoft.KeyVault/vaults","properties":{"softDeleteRetentionInDays":7}}`),
		arm.MustObject(`{"id":"` + rg + `Microsoft.RecoveryServices/vaults/rsvoff","type":"Microsoft.RecoveryServices/vaults","properties":{"securitySettings":{"softDeleteSettings":{"softDeleteState":"Disabled"}}}}`),
		arm.MustObject(`{"id":"` + rg + `Microsoft.RecoveryServices/vaults/rsvoff/backupFabrics/Azure/protectionContainers/c/protectedItems/vm1","type":"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems","properties":{"sourceResourceId":"` + rg + `Microsoft.Compute/virtualMachines/vm1"}}`),
		arm.MustObject(`{"id":"` + rg + `Microsoft.RecoveryServices/vaults/rsvon/backupFabrics/Azure/protectionContainers/c/protectedItems/vm2","type":"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems","properties":{"sourceResourceId":"` + rg + `Microsoft.Compute/virtualMachines/vm2"}}`),
	}
	estate := NewEstate(&arm.Snapshot{Resources: objs})
	at := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	res := func(id string, deleted bool) *Resource {
		r := &Resource{ID: id, Deleted: deleted, Status: "Success", Last: at}
		p := arm.MustParseID(id)
		r.Type, r.Name = canonicalType(p.Type()), p.Name()
		return r
	}
	facts := func(e *Estate) *incidentFacts {
		return &incidentFacts{purgedVaults: map[string]bool{"kvpurged": true}, softDeleteOff: map[string]time.Time{},
			deletedVaults: map[string]bool{}, deletedResources: map[string]bool{}, estate: e}
	}
	for _, c := range []struct {
		id      string
		deleted bool
		estate  *Estate
		want    string
		reason  string
	}{
		{rg + "Microsoft.KeyVault/vaults/kvpurged", true, nil, Lost, "purged"},
		{rg + "Microsoft.KeyVault/vaults/kv", true, nil, Reversible, "recover by 2027-02-23 (90 days"},
		{rg + "Microsoft.KeyVault/vaults/kv7", true, estate, Reversible, "recover by 2026-12-02 (7 days"},
		{rg + "Microsoft.KeyVault/vaults/kvoff", true, estate, Lost, "soft delete off"},
		{rg + "Microsoft.RecoveryServices/vaults/rsvon/backupFabrics/Azure/protectionContainers/c/protectedItems/x", true, nil, Reversible, "14 days"},
		{rg + "Microsoft.RecoveryServices/vaults/rsvoff/backupFabrics/Azure/protectionContainers/c/protectedItems/x", true, estate, Lost, "soft delete is disabled"},
		{rg + "Microsoft.Compute/virtualMachines/vm2", true, estate, Reversible, "restore from its backup in vault rsvon"},
		{rg + "Microsoft.Compute/virtualMachines/vm3", true, estate, Lost, "no backup"},
		{rg + "Microsoft.Compute/virtualMachines/vm3", true, nil, Unknown, "--snapshot"},
		{rg + "Microsoft.Storage/storageAccounts/st", true, nil, Reversible, "14 days"},
		{rg + "Microsoft.Sql/servers/sql", true, nil, Lost, "server deleted"},
		{rg + "Microsoft.Sql/servers/sql/databases/db", true, nil, Reversible, "automated backups"},
		{rg + "Microsoft.RecoveryServices/vaults/rsvon", true, nil, Lost, "vault deleted"},
		{rg + "Microsoft.Authorization/locks/l", true, nil, Reversible, "re-create"},
		{"/subscriptions/s/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kvpurged", false, nil, Lost, "was purged"},
		{rg + "Microsoft.Network/networkSecurityGroups/nsg", false, nil, Reversible, "configuration change"},
	} {
		got := recoveryOf(res(c.id, c.deleted), facts(c.estate))
		if got.Status != c.want || !strings.Contains(got.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s and %q", c.id, got.Status, got.Reason, c.want, c.reason)
		}
	}
}
