// Package recovery is what Bulwark knows about bringing a resource back: the recovery paths the
// snapshot shows for each resource (Azure Backup items, Backup vault instances, Site Recovery
// replicas, IaC, soft delete, point-in-time restore, failover groups, secondary clusters), with
// their windows. assess judges them (RSP-002, SQL-004, AKS-002), detect asks which survived an
// incident, respond builds its playbook steps from them.
package recovery

import (
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/iac"
)

// Model indexes what the recovery paths are read from.
type Model struct {
	index           *arm.Index
	members         *apps.Membership         // nil: no application memberships
	iac             *iac.Inventory           // nil: no IaC given
	protectedItems  map[string][]*arm.Object // source resource ID key → Recovery Services protected items
	backupInstances map[string][]*arm.Object // data source ID key → Backup vault instances
	replicated      map[string][]*arm.Object // VM ID key → Site Recovery replicated items
}

// New indexes a snapshot's backup items, Backup vault instances and Site Recovery replicas.
// members and inv may be nil.
func New(x *arm.Index, members *apps.Membership, inv *iac.Inventory) *Model {
	m := &Model{index: x, members: members, iac: inv, protectedItems: map[string][]*arm.Object{},
		backupInstances: map[string][]*arm.Object{}, replicated: map[string][]*arm.Object{}}
	for _, it := range x.OfType("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems") {
		seen := map[string]bool{}
		for _, p := range []string{"properties.sourceResourceId", "properties.virtualMachineId"} {
			if s, ok := it.Get(p).String(); ok && s != "" {
				k := strings.ToLower(strings.TrimSuffix(s, "/"))
				if !seen[k] {
					seen[k] = true
					m.protectedItems[k] = append(m.protectedItems[k], it)
				}
			}
		}
	}
	for _, bi := range x.OfType("Microsoft.DataProtection/backupVaults/backupInstances") {
		if s, ok := bi.Get("properties.dataSourceInfo.resourceID").String(); ok {
			k := strings.ToLower(s)
			m.backupInstances[k] = append(m.backupInstances[k], bi)
		}
	}
	for _, ri := range x.OfType("Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems") {
		if s, ok := ri.Get("properties.providerSpecificDetails.fabricObjectId").String(); ok {
			k := strings.ToLower(s)
			m.replicated[k] = append(m.replicated[k], ri)
		}
	}
	return m
}

// ProtectedItems returns the Recovery Services protected items backing up a resource (matched by
// sourceResourceId or virtualMachineId).
func (m *Model) ProtectedItems(id arm.ID) []*arm.Object { return m.protectedItems[id.Key()] }

// ProtectedItemsOf is ProtectedItems by a lower-case ID as written in another object.
func (m *Model) ProtectedItemsOf(key string) []*arm.Object { return m.protectedItems[key] }

// BackupInstances returns the Backup vault instances protecting a resource.
func (m *Model) BackupInstances(id arm.ID) []*arm.Object { return m.backupInstances[id.Key()] }

// Replicated returns the Site Recovery replicated items of a VM.
func (m *Model) Replicated(id arm.ID) []*arm.Object { return m.replicated[id.Key()] }

// InstanceFailoverGroup returns the instance failover group a SQL managed instance is in (or nil),
// whether its backups are geo-redundant, and the redundancy property read.
func (m *Model) InstanceFailoverGroup(mi *arm.Object) (*arm.Object, bool, arm.Value) {
	red := mi.Get("properties.requestedBackupStorageRedundancy")
	if !red.Exists() {
		red = mi.Get("properties.storageAccountType")
	}
	var group *arm.Object
	for _, fg := range m.index.OfType("Microsoft.Sql/locations/instanceFailoverGroups") {
		for _, p := range fg.Get("properties.managedInstancePairs").List() {
			for _, k := range []string{"primaryManagedInstanceId", "partnerManagedInstanceId"} {
				if s, _ := p.Get(k).String(); strings.EqualFold(s, mi.ID.String()) {
					group = fg
				}
			}
		}
	}
	return group, red.Is("Geo", "GeoZone", "GRS", "RA-GRS", "GZRS", "RA-GZRS"), red
}

// SecondaryCluster returns a cluster of the same application as an AKS cluster in another region
// (or nil), the application, and whether the cluster belongs to one at all.
func (m *Model) SecondaryCluster(c *arm.Object) (*arm.Object, string, bool) {
	if m.members == nil {
		return nil, "", false
	}
	app, _, ok := m.members.Of(c.ID)
	if !ok {
		return nil, "", false
	}
	for _, o := range m.index.OfType("Microsoft.ContainerService/managedClusters") {
		if o == c || regionKey(o.Location()) == regionKey(c.Location()) {
			continue
		}
		if other, _, ok := m.members.Of(o.ID); ok && strings.EqualFold(other, app) {
			return o, app, true
		}
	}
	return nil, app, true
}

func regionKey(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }

// The kinds of recovery path: how a resource comes back. A Path's Kind is one of these; respond's
// restore recipes say which of them each resource type is restored from (respond/recipes.go).
const (
	KindBackup            = "backup"              // Azure Backup protected item (Recovery Services vault), or Cosmos DB's own backup
	KindBackupVault       = "backup-vault"        // Backup vault (Data Protection) backup instance
	KindSiteRecovery      = "site-recovery"       // Site Recovery replicated item
	KindIaC               = "iac"                 // redeploy from an ARM template, Bicep build or Terraform state
	KindSoftDelete        = "soft-delete"         // Key Vault soft delete, blob soft delete
	KindPointInTime       = "point-in-time"       // SQL automated backups, blob point-in-time restore
	KindVersioning        = "versioning"          // blob versions
	KindFailoverGroup     = "failover-group"      // SQL (instance) failover group
	KindGeoReplica        = "geo-replica"         // SQL active geo-replication
	KindGeoRestore        = "geo-restore"         // SQL geo-redundant backups
	KindLongTermRetention = "long-term-retention" // SQL long-term retention
	KindSecondaryCluster  = "secondary-cluster"   // an AKS cluster of the same application in another region
	KindWithVM            = "with-vm"             // a disk, NIC or SQL VM restored with its virtual machine
	KindDeclared          = "declared"            // a method apps.yaml declares
)

// typeKinds are the kinds Paths can give a resource of each type (canonical, lower case) beyond
// those any resource can have (AnyKinds). A test holds Paths to it on the demo and reference
// estates, and respond's recipe table to covering it.
var typeKinds = map[string][]string{
	"microsoft.compute/virtualmachines":              {KindBackup, KindSiteRecovery},
	"microsoft.compute/disks":                        {KindBackupVault, KindWithVM},
	"microsoft.network/networkinterfaces":            {KindWithVM},
	"microsoft.sqlvirtualmachine/sqlvirtualmachines": {KindBackup, KindWithVM},
	"microsoft.storage/storageaccounts":              {KindBackup, KindBackupVault, KindSoftDelete, KindPointInTime, KindVersioning},
	"microsoft.keyvault/vaults":                      {KindSoftDelete},
	"microsoft.sql/servers":                          {KindFailoverGroup},
	"microsoft.sql/managedinstances":                 {KindFailoverGroup},
	"microsoft.sql/servers/databases":                {KindFailoverGroup, KindGeoReplica, KindPointInTime, KindGeoRestore, KindLongTermRetention},
	"microsoft.documentdb/databaseaccounts":          {KindBackup},
	"microsoft.containerservice/managedclusters":     {KindBackupVault, KindSecondaryCluster},
	"microsoft.dbforpostgresql/flexibleservers":      {KindBackupVault},
}

// AnyKinds are the kinds any resource can have: a template that declares it, a method apps.yaml declares.
var AnyKinds = []string{KindIaC, KindDeclared}

// KindsFor lists the kinds Paths can give a resource of type typ: those of its type, then AnyKinds.
func KindsFor(typ string) []string {
	return append(append([]string(nil), typeKinds[strings.ToLower(arm.CanonicalType(typ))]...), AnyKinds...)
}

// Types are the types with kinds of their own, sorted.
func Types() []string {
	out := make([]string, 0, len(typeKinds))
	for t := range typeKinds {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Kinds are all the kinds, in the order above.
var Kinds = []string{KindBackup, KindBackupVault, KindSiteRecovery, KindIaC, KindSoftDelete, KindPointInTime, KindVersioning,
	KindFailoverGroup, KindGeoReplica, KindGeoRestore, KindLongTermRetention, KindSecondaryCluster, KindWithVM, KindDeclared}

// Path is one way to bring a resource back after it is destroyed, read from the snapshot. Respond
// builds playbook steps from these, RSP-002 judges whether a resource has one, detect whether one
// survived an incident.
type Path struct {
	Kind    string `json:"kind"`    // one of the Kind constants
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

// Paths lists every way o could be brought back, strongest first; none means it is lost
// for good if destroyed.
func (m *Model) Paths(o *arm.Object) []Path {
	var out []Path
	k := o.ID.Key()
	for _, it := range m.protectedItems[k] {
		p := Path{Kind: KindBackup, Summary: "Azure Backup", Via: it.ID.String()}
		for _, f := range []string{"properties.lastRecoveryPoint", "properties.lastBackupTime"} {
			if t, ok := timeProp(it, f); ok && p.LastPoint.IsZero() {
				p.LastPoint = t
			}
		}
		out = append(out, p)
	}
	for _, bi := range m.backupInstances[k] {
		out = append(out, Path{Kind: KindBackupVault, Summary: "Backup vault", Via: bi.ID.String()})
	}
	for _, ri := range m.replicated[k] {
		p := Path{Kind: KindSiteRecovery, Summary: "Site Recovery", Via: ri.ID.String()}
		p.LastPoint, _ = timeProp(ri, "properties.lastSuccessfulTestFailoverTime")
		out = append(out, p)
	}
	if d, ok := m.iac.Find(o); ok {
		out = append(out, Path{Kind: KindIaC, Summary: "redeploy from IaC (" + d.Source + ")", Via: d.Source})
	}
	switch strings.ToLower(o.Type()) {
	case "microsoft.keyvault/vaults":
		soft, _ := o.Prop("properties.enableSoftDelete").Bool()
		purge, _ := o.Prop("properties.enablePurgeProtection").Bool()
		days, _ := o.Prop("properties.softDeleteRetentionInDays").Int()
		window := time.Duration(days) * 24 * time.Hour
		switch {
		case soft && purge:
			out = append(out, Path{Kind: KindSoftDelete, Summary: "Key Vault soft delete with purge protection", Window: window})
		case soft:
			out = append(out, Path{Kind: KindSoftDelete, Summary: "Key Vault soft delete without purge protection (can be purged)", Window: window, Weak: true})
		}
	case "microsoft.sql/servers":
		for _, fg := range m.index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/failoverGroups") {
			out = append(out, Path{Kind: KindFailoverGroup, Summary: "failover group " + fg.Name(), Via: fg.ID.String()})
		}
	case "microsoft.sql/servers/databases":
		out = append(out, m.sqlDatabasePaths(o)...)
	case "microsoft.sql/managedinstances":
		if fg, geo, _ := m.InstanceFailoverGroup(o); fg != nil && geo {
			out = append(out, Path{Kind: KindFailoverGroup, Summary: "instance failover group"})
		}
	case "microsoft.storage/storageaccounts":
		if bs := m.index.ChildrenOfType(o.ID, "Microsoft.Storage/storageAccounts/blobServices"); len(bs) > 0 {
			b := bs[0]
			if on, _ := b.Prop("properties.deleteRetentionPolicy.enabled").Bool(); on {
				d, _ := b.Prop("properties.deleteRetentionPolicy.days").Int()
				out = append(out, Path{Kind: KindSoftDelete, Summary: "blob soft delete", Via: b.ID.String(), Window: time.Duration(d) * 24 * time.Hour})
			}
			if on, _ := b.Prop("properties.restorePolicy.enabled").Bool(); on {
				d, _ := b.Prop("properties.restorePolicy.days").Int()
				out = append(out, Path{Kind: KindPointInTime, Summary: "blob point-in-time restore", Via: b.ID.String(), Window: time.Duration(d) * 24 * time.Hour, Partial: true})
			}
			if on, _ := b.Prop("properties.isVersioningEnabled").Bool(); on {
				out = append(out, Path{Kind: KindVersioning, Summary: "blob versioning", Via: b.ID.String(), Partial: true})
			}
		}
	case "microsoft.documentdb/databaseaccounts":
		out = append(out, Path{Kind: KindBackup, Summary: "Cosmos DB " + strings.ToLower(o.Prop("properties.backupPolicy.type").Display()) + " backup"})
	case "microsoft.compute/disks", "microsoft.network/networkinterfaces", "microsoft.sqlvirtualmachine/sqlvirtualmachines":
		// Restored with their VM.
		for _, p := range []string{"managedBy", "properties.virtualMachine.id", "properties.virtualMachineResourceId"} {
			if vm, ok := o.Get(p).String(); ok && vm != "" {
				if v, ok := m.index.Get(vm); ok && v != o {
					if path := m.Strongest(v); path != "" {
						out = append(out, Path{Kind: KindWithVM, Summary: "with VM " + v.Name() + " (" + path + ")", Via: v.ID.String()})
						break
					}
				}
			}
		}
	case "microsoft.containerservice/managedclusters":
		if c, _, _ := m.SecondaryCluster(o); c != nil {
			out = append(out, Path{Kind: KindSecondaryCluster, Summary: "secondary cluster"})
		}
	}
	if a, ok := m.memberApp(o.ID); ok {
		for _, b := range a.Backups {
			if strings.EqualFold(strings.TrimSuffix(b.Resource, "/"), o.ID.String()) {
				out = append(out, Path{Kind: KindDeclared, Summary: "declared in apps.yaml: " + b.Method})
			}
		}
	}
	return out
}

// sqlDatabasePaths: a failover group or geo-replica holding the database, automated backups for
// point-in-time and dropped-database restore (both lost with the server), geo-restore when backups
// are geo-redundant, and long-term retention copies.
func (m *Model) sqlDatabasePaths(o *arm.Object) []Path {
	var out []Path
	server, _ := o.ID.Parent()
	for _, fg := range m.index.ChildrenOfType(server, "Microsoft.Sql/servers/failoverGroups") {
		for _, db := range fg.Get("properties.databases").List() {
			if id, ok := db.String(); ok && strings.EqualFold(id, o.ID.String()) {
				out = append(out, Path{Kind: KindFailoverGroup, Summary: "failover group " + fg.Name(), Via: fg.ID.String()})
			}
		}
	}
	for _, rl := range m.index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/databases/replicationLinks") {
		if partner, ok := rl.Get("properties.partnerServer").String(); ok {
			out = append(out, Path{Kind: KindGeoReplica, Summary: "geo-replica on " + partner, Via: rl.ID.String()})
		}
	}
	days := int64(7) // Azure SQL's default point-in-time retention
	for _, p := range m.index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies") {
		if n, ok := p.Get("properties.retentionDays").Int(); ok && n > 0 {
			days = n
		}
	}
	out = append(out, Path{Kind: KindPointInTime, Summary: "point-in-time or dropped-database restore from automated backups (not if the server is deleted)",
		Window: time.Duration(days) * 24 * time.Hour})
	red := o.Get("properties.requestedBackupStorageRedundancy")
	if !red.Exists() {
		red = o.Get("properties.currentBackupStorageRedundancy")
	}
	if red.Is("Geo", "GeoZone") {
		out = append(out, Path{Kind: KindGeoRestore, Summary: "geo-restore from geo-redundant backups"})
	}
	for _, p := range m.index.ChildrenOfType(o.ID, "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies") {
		for _, f := range []string{"properties.weeklyRetention", "properties.monthlyRetention", "properties.yearlyRetention"} {
			if v, ok := p.Get(f).String(); ok && v != "" && v != "PT0S" {
				out = append(out, Path{Kind: KindLongTermRetention, Summary: "long-term retention backups (" + v + ")", Via: p.ID.String()})
				break
			}
		}
	}
	return out
}

// Strongest is the strongest recovery path's summary, or "" when there is none that an
// attacker could not take away.
func (m *Model) Strongest(o *arm.Object) string {
	for _, p := range m.Paths(o) {
		if !p.Weak && !p.Partial {
			return p.Summary
		}
	}
	return ""
}

func timeProp(o *arm.Object, path string) (time.Time, bool) { return o.Get(path).Time() }

func (m *Model) memberApp(id arm.ID) (*apps.App, bool) {
	if m.members == nil {
		return nil, false
	}
	return m.members.App(id)
}

// Service windows that no property of the resource sets, as the services document them.
const (
	// StorageAccountRecoveryDays: a deleted storage account can be recovered this long, if no
	// account has taken its name (Recover a deleted storage account).
	StorageAccountRecoveryDays = 14
	// WorkspaceSoftDeleteDays: a Log Analytics workspace deleted without force is kept this long.
	WorkspaceSoftDeleteDays = 14
)

// BackupSoftDeleteDays is how long a Recovery Services vault keeps soft-deleted backup data: the
// vault's own setting when the snapshot has the vault, else the service default.
func (m *Model) BackupSoftDeleteDays(vault string) int64 {
	const path = "properties.securitySettings.softDeleteSettings.softDeleteRetentionPeriodInDays"
	if m != nil && vault != "" {
		if o, ok := m.index.Get(vault); ok {
			if n, ok := o.Prop(path).Int(); ok && n > 0 {
				return n
			}
		}
	}
	n, _ := arm.DefaultInt("Microsoft.RecoveryServices/vaults", path)
	return n
}

// SoftDeleteOff reports whether the snapshot shows the vault that holds id — a Recovery Services
// vault or a Backup vault, id being the vault or anything below it — with soft delete off.
func (m *Model) SoftDeleteOff(id string) bool {
	if m == nil || id == "" {
		return false
	}
	if v := arm.AncestorOf(id, "Microsoft.RecoveryServices/vaults"); v != "" {
		o, ok := m.index.Get(v)
		return ok && o.Prop("properties.securitySettings.softDeleteSettings.softDeleteState").Is("Disabled")
	}
	if v := arm.AncestorOf(id, "Microsoft.DataProtection/backupVaults"); v != "" {
		o, ok := m.index.Get(v)
		return ok && o.Prop("properties.securitySettings.softDeleteSettings.state").Is("Off")
	}
	return false
}
