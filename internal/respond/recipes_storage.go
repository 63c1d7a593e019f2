package respond

// This file: the restore recipes of storage accounts.

import (
	"fmt"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

func (b *builder) storageAccount(o *arm.Object) {
	name, s0 := o.Name(), sub(o)
	list := arm.Request{Method: "GET", Endpoint: b.host, Path: "/subscriptions/" + s0 + "/providers/Microsoft.Storage/deletedAccounts?api-version=" + arm.APIVersions["microsoft.storage/deletedaccounts"]}
	deleted := list.URL()
	s := &Step{Phase: Data, Action: "recover-storage-account", Path: "account-recovery", Minutes: minStorageRecover, Manual: true, Activity: "restore-data",
		Title:  "Recover storage account " + name,
		Detail: "A deleted storage account can be recovered for " + fmt.Sprint(recovery.StorageAccountRecoveryDays) + " days if no account with its name has been created since, and only if its resource group exists. In the portal: Storage accounts → Restore deleted account (or open a support request). Its blobs, files and their soft-deleted versions come back with it.",
		Condition: &Condition{
			Check:     fmt.Sprintf("az rest --method get --url %s --query \"value[?name=='%s'].properties.restoreReference\" -o tsv", q(deleted), name),
			Means:     "the deleted account is still listed as recoverable",
			Otherwise: "it is past " + fmt.Sprint(recovery.StorageAccountRecoveryDays) + " days or its name was taken: its data is lost unless another copy exists",
		},
		Commands: []string{"# Portal: Storage accounts → Restore deleted account → " + name},
		REST:     []arm.Request{list},
		Undo:     "none",
	}
	st := b.add(s, o)
	if p, ok := firstPartial(b.paths(o), recovery.KindPointInTime); ok {
		pit := &Step{Phase: Data, Action: "restore-blobs-point-in-time", Path: p.Kind, Minutes: minBlobRestore, Activity: "restore-data",
			Title:  "Restore " + name + "'s block blobs to before the attack",
			Detail: fmt.Sprintf("Point-in-time restore reaches back %s. Pick the last time before the first destructive change; restore only the containers that were changed.", days(p.Window)),
			Commands: []string{fmt.Sprintf("az storage blob restore --account-name %s --resource-group %s --subscription %s --time-to-restore %s",
				q(name), q(rg(o)), s0, q(b.beforeAttack()))},
			REST: []arm.Request{{Method: "POST", Endpoint: b.host, Path: o.ID.String() + "/restoreBlobRanges?api-version=" + arm.APIVersions["microsoft.storage/storageaccounts"],
				Body: map[string]any{"timeToRestore": b.beforeAttack(), "blobRanges": []any{map[string]any{"startRange": "", "endRange": ""}}}}},
			Undo: "run a new restore to a later time (restores are themselves reversible within the window)",
		}
		b.requires(b.add(pit, o), st)
		b.covered[o.ID.Key()] = st
	}
}

func firstPartial(paths []recovery.Path, kind string) (recovery.Path, bool) {
	for _, p := range paths {
		if p.Kind == kind {
			return p, true
		}
	}
	return recovery.Path{}, false
}
