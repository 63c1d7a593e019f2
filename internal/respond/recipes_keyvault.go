package respond

// This file: the restore recipes of Key Vaults (recover a soft-deleted vault).

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

func (b *builder) keyVault(o *arm.Object) {
	name, loc := o.Name(), o.Location()
	if b.purged[strings.ToLower(name)] {
		b.lose(o, RecoveryInfra, "keys, secrets and certificates", "deleted, then purged"+b.dependentsNote(o))
		return
	}
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok && r.Recovery.Status == "lost" {
		b.lose(o, RecoveryInfra, "keys, secrets and certificates", r.Recovery.Reason+b.dependentsNote(o))
		return
	}
	p, ok := strongest(b.env.RecoveryPaths(o), recovery.KindSoftDelete)
	if !ok {
		if d, ok := strongest(b.env.RecoveryPaths(o), recovery.KindIaC); ok {
			s := b.deploy(o, d, RecoveryInfra)
			s.Detail += " Soft delete is off, so its keys, secrets and certificates are lost: re-issue them and re-point what used them" + b.dependentsNote(o) + "."
			b.lostData(o, "keys, secrets and certificates", "soft delete is off: deleting the vault destroys its contents")
			return
		}
		b.lose(o, RecoveryInfra, "keys, secrets and certificates", "soft delete is off and no IaC declares it"+b.dependentsNote(o))
		return
	}
	tenant, _ := o.Prop("properties.tenantId").String()
	sku, _ := o.Prop("properties.sku.name").String()
	s := &Step{Phase: RecoveryInfra, Action: "recover-key-vault", Path: p.Kind, Minutes: minKeyVaultRecover, Activity: "restore-capabilities", Weak: p.Weak,
		Title: "Recover Key Vault " + name + " from soft delete",
		Detail: fmt.Sprintf("Recover the vault (do not re-create it: a new vault has new keys). %s keeps deleted vaults for %s; purge protection %s.",
			name, days(p.Window), map[bool]string{true: "is OFF, so recover it now, before anyone purges it", false: "is on"}[p.Weak]),
		Condition: &Condition{
			Check:     fmt.Sprintf("az keyvault show-deleted --name %s --subscription %s --query id -o tsv", q(name), sub(o)),
			Means:     "the soft-deleted vault still exists",
			Otherwise: "it was purged or has expired: its keys, secrets and certificates are lost; redeploy it from IaC and re-issue them",
		},
		Commands: []string{fmt.Sprintf("az keyvault recover --name %s --resource-group %s --subscription %s", q(name), q(rg(o)), sub(o))},
		REST: []arm.Request{{Method: "PUT", Endpoint: b.host, Path: b.path(o.ID.String(), o.Type()), Body: map[string]any{"location": loc,
			"properties": map[string]any{"createMode": "recover", "tenantId": tenant, "sku": map[string]any{"family": "A", "name": orDefault(sku, "standard")}}}}},
		Undo: "none needed: deleting it again returns it to soft delete",
	}
	b.add(s, o)
}

func (b *builder) dependentsNote(o *arm.Object) string {
	var names []string
	for _, d := range b.env.Graph.Dependents(o) {
		if !d.ID.IsExtension() && !strings.HasPrefix(strings.ToLower(d.Type()), "microsoft.resources/") {
			names = append(names, d.Name())
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "; what depends on it (" + strings.Join(names, ", ") + ") loses its keys: data encrypted with them is unreadable"
}

func days(d time.Duration) string {
	if d <= 0 {
		return "its retention period"
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
