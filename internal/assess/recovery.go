package assess

import (
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// RecoveryPath is one way to bring a resource back after it is destroyed, read from the snapshot.
// Respond builds playbook steps from these; RSP-002 judges whether a resource has one.
type RecoveryPath struct {
	Kind    string `json:"kind"`    // backup, backup-vault, site-recovery, iac, soft-delete, point-in-time, versioning, failover-group, secondary-cluster, with-vm, declared
	Summary string `json:"summary"` // one line, as RSP-002 shows it
	Via     string `json:"via,omitempty"`
	// LastPoint is the newest recovery point (Azure Backup) or the last test failover (Site Recovery).
	LastPoint time.Time `json:"lastPoint,omitzero"`
	// Window is how far back the path reaches (soft-delete or point-in-time retention).
	Window time.Duration `json:"window,omitempty"`
	// Weak paths can be taken away by an attacker with the same rights (soft delete without purge
	// protection); RSP-002 does not count them.
	Weak bool `json:"weak,omitempty"`
	// Partial paths restore data inside a resource that still exists (blob versions, point-in-time
	// restore of blobs); they do not bring back a deleted resource. RSP-002 does not count them.
	Partial bool `json:"partial,omitempty"`
}

// RecoveryPaths lists every way o could be brought back, strongest first; none means it is lost
// for good if destroyed.
func (e *Env) RecoveryPaths(o *arm.Object) []RecoveryPath {
	var out []RecoveryPath
	k := o.ID.Key()
	for _, it := range e.protectedItems[k] {
		p := RecoveryPath{Kind: "backup", Summary: "Azure Backup", Via: it.ID.String()}
		for _, f := range []string{"properties.lastRecoveryPoint", "properties.lastBackupTime"} {
			if t, ok := timeProp(it, f); ok && p.LastPoint.IsZero() {
				p.LastPoint = t
			}
		}
		out = append(out, p)
	}
	for _, bi := range e.backupInstances[k] {
		out = append(out, RecoveryPath{Kind: "backup-vault", Summary: "Backup vault", Via: bi.ID.String()})
	}
	for _, ri := range e.replicated[k] {
		p := RecoveryPath{Kind: "site-recovery", Summary: "Site Recovery", Via: ri.ID.String()}
		p.LastPoint, _ = timeProp(ri, "properties.lastSuccessfulTestFailoverTime")
		out = append(out, p)
	}
	if d, ok := e.IaC.Find(o); ok {
		out = append(out, RecoveryPath{Kind: "iac", Summary: "redeploy from IaC (" + d.Source + ")", Via: d.Source})
	}
	switch strings.ToLower(o.Type()) {
	case "microsoft.keyvault/vaults":
		soft, _ := o.Prop("properties.enableSoftDelete").Bool()
		purge, _ := o.Prop("properties.enablePurgeProtection").Bool()
		days, _ := o.Prop("properties.softDeleteRetentionInDays").Int()
		window := time.Duration(days) * 24 * time.Hour
		switch {
		case soft && purge:
			out = append(out, RecoveryPath{Kind: "soft-delete", Summary: "Key Vault soft delete with purge protection", Window: window})
		case soft:
			out = append(out, RecoveryPath{Kind: "soft-delete", Summary: "Key Vault soft delete without purge protection (can be purged)", Window: window, Weak: true})
		}
	case "microsoft.sql/servers":
		for _, fg := range e.Index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/failoverGroups") {
			out = append(out, RecoveryPath{Kind: "failover-group", Summary: "failover group " + fg.Name(), Via: fg.ID.String()})
		}
	case "microsoft.sql/servers/databases":
		out = append(out, e.sqlDatabasePaths(o)...)
	case "microsoft.sql/managedinstances":
		if checkSQL004.Eval(e, Target{Obj: o}).Status == Pass {
			out = append(out, RecoveryPath{Kind: "failover-group", Summary: "instance failover group"})
		}
	case "microsoft.storage/storageaccounts":
		if bs := e.Index.ChildrenOfType(o.ID, "Microsoft.Storage/storageAccounts/blobServices"); len(bs) > 0 {
			b := bs[0]
			if on, _ := b.Prop("properties.deleteRetentionPolicy.enabled").Bool(); on {
				d, _ := b.Prop("properties.deleteRetentionPolicy.days").Int()
				out = append(out, RecoveryPath{Kind: "soft-delete", Summary: "blob soft delete", Via: b.ID.String(), Window: time.Duration(d) * 24 * time.Hour})
			}
			if on, _ := b.Prop("properties.restorePolicy.enabled").Bool(); on {
				d, _ := b.Prop("properties.restorePolicy.days").Int()
				out = append(out, RecoveryPath{Kind: "point-in-time", Summary: "blob point-in-time restore", Via: b.ID.String(), Window: time.Duration(d) * 24 * time.Hour, Partial: true})
			}
			if on, _ := b.Prop("properties.isVersioningEnabled").Bool(); on {
				out = append(out, RecoveryPath{Kind: "versioning", Summary: "blob versioning", Via: b.ID.String(), Partial: true})
			}
		}
	case "microsoft.documentdb/databaseaccounts":
		out = append(out, RecoveryPath{Kind: "backup", Summary: "Cosmos DB " + strings.ToLower(o.Prop("properties.backupPolicy.type").Display()) + " backup"})
	case "microsoft.compute/disks", "microsoft.network/networkinterfaces", "microsoft.sqlvirtualmachine/sqlvirtualmachines":
		// Restored with their VM.
		for _, p := range []string{"managedBy", "properties.virtualMachine.id", "properties.virtualMachineResourceId"} {
			if vm, ok := o.Get(p).String(); ok && vm != "" {
				if v, ok := e.Index.Get(vm); ok && v != o {
					if path := e.recoveryPath(v); path != "" {
						out = append(out, RecoveryPath{Kind: "with-vm", Summary: "with VM " + v.Name() + " (" + path + ")", Via: v.ID.String()})
						break
					}
				}
			}
		}
	case "microsoft.containerservice/managedclusters":
		if checkAKS002.Eval(e, Target{Obj: o}).Status == Pass {
			out = append(out, RecoveryPath{Kind: "secondary-cluster", Summary: "secondary cluster"})
		}
	}
	if a, ok := e.Members.App(o.ID); ok {
		for _, b := range a.Backups {
			if strings.EqualFold(strings.TrimSuffix(b.Resource, "/"), o.ID.String()) {
				out = append(out, RecoveryPath{Kind: "declared", Summary: "declared in apps.yaml: " + b.Method})
			}
		}
	}
	return out
}

// sqlDatabasePaths: a failover group or geo-replica holding the database, automated backups for
// point-in-time and dropped-database restore (both lost with the server), geo-restore when backups
// are geo-redundant, and long-term retention copies.
func (e *Env) sqlDatabasePaths(o *arm.Object) []RecoveryPath {
	var out []RecoveryPath
	server, _ := o.ID.Parent()
	for _, fg := range e.Index.ChildrenOfType(server, "Microsoft.Sql/servers/failoverGroups") {
		for _, db := range fg.Get("properties.databases").List() {
			if id, ok := db.String(); ok && strings.EqualFold(id, o.ID.String()) {
				out = append(out, RecoveryPath{Kind: "failover-group", Summary: "failover group " + fg.Name(), Via: fg.ID.String()})
			}
		}
	}
	for _, rl := range e.Index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/databases/replicationLinks") {
		if partner, ok := rl.Get("properties.partnerServer").String(); ok {
			out = append(out, RecoveryPath{Kind: "geo-replica", Summary: "geo-replica on " + partner, Via: rl.ID.String()})
		}
	}
	days := int64(7) // Azure SQL's default point-in-time retention
	for _, p := range e.Index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies") {
		if n, ok := p.Get("properties.retentionDays").Int(); ok && n > 0 {
			days = n
		}
	}
	out = append(out, RecoveryPath{Kind: "point-in-time", Summary: "point-in-time or dropped-database restore from automated backups (not if the server is deleted)",
		Window: time.Duration(days) * 24 * time.Hour})
	red := o.Get("properties.requestedBackupStorageRedundancy")
	if !red.Exists() {
		red = o.Get("properties.currentBackupStorageRedundancy")
	}
	if red.Is("Geo", "GeoZone") {
		out = append(out, RecoveryPath{Kind: "geo-restore", Summary: "geo-restore from geo-redundant backups"})
	}
	for _, p := range e.Index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies") {
		for _, f := range []string{"properties.weeklyRetention", "properties.monthlyRetention", "properties.yearlyRetention"} {
			if v, ok := p.Get(f).String(); ok && v != "" && v != "PT0S" {
				out = append(out, RecoveryPath{Kind: "long-term-retention", Summary: "long-term retention backups (" + v + ")", Via: p.ID.String()})
				break
			}
		}
	}
	return out
}

// recoveryPath is the strongest recovery path's summary, or "" when there is none that an
// attacker could not take away.
func (e *Env) recoveryPath(o *arm.Object) string {
	for _, p := range e.RecoveryPaths(o) {
		if !p.Weak && !p.Partial {
			return p.Summary
		}
	}
	return ""
}

func timeProp(o *arm.Object, path string) (time.Time, bool) { return valueTime(o.Get(path)) }

// valueTime reads an RFC 3339 time property.
func valueTime(v arm.Value) (time.Time, bool) {
	s, ok := v.String()
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
