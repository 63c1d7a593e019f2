package respond

// This file: the restore recipes of SQL servers and databases (failover groups, geo-replicas,
// point-in-time and long-term retention restores) and Cosmos DB.

import (
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// beforeAttack is the time to restore data to: just before the incident's first alert, or the
// placeholder the on-call engineer fills in for an application plan.
func (b *builder) beforeAttack() string {
	if b.inc != nil {
		return b.inc.First.Add(-time.Minute).UTC().Format(time.RFC3339)
	}
	return "<last good time, RFC 3339>"
}

func (b *builder) sqlServer(o *arm.Object) {
	paths := b.paths(o)
	if p, ok := strongest(paths, recovery.KindFailoverGroup); ok {
		fg, _ := b.env.Index.Get(p.Via)
		partner := ""
		if fg != nil {
			for _, ps := range fg.Get("properties.partnerServers").List() {
				if id, ok := ps.Get("id").String(); ok {
					partner = id
				}
			}
		}
		pid, perr := arm.ParseID(partner)
		if partner != "" && perr != nil {
			b.warn("input", fmt.Sprintf("%s: failover group partner %q is not an ARM resource ID (%v): the server is rebuilt instead of failed over", o.ID, partner, perr))
		}
		if partner != "" && perr == nil {
			s := &Step{Phase: Data, Action: "failover-sql", Path: p.Kind, Minutes: minSQLFailover, Activity: "restore-capabilities",
				Title:  "Fail over " + fg.Name() + " to " + pid.Name(),
				Detail: "The primary server is gone: make the secondary the primary (forced failover allows data loss of the last seconds of replication). Applications using the failover group listener follow automatically.",
				Commands: []string{fmt.Sprintf("az sql failover-group set-primary --name %s --resource-group %s --server %s --subscription %s --allow-data-loss",
					q(fg.Name()), q(pid.ResourceGroup()), q(pid.Name()), pid.SubscriptionID())},
				REST:    []arm.Request{{Method: "POST", Endpoint: b.host, Path: partner + "/failoverGroups/" + fg.Name() + "/forceFailoverAllowDataLoss?api-version=2023-08-01"}},
				Undo:    "fail back once the primary region is rebuilt: az sql failover-group set-primary on the original server",
				partner: partner,
			}
			b.add(s, o)
			return
		}
	}
	s := b.rebuild(o, Data, "rebuild-sql-server", minServerRebuild)
	s.Detail += " A deleted server takes its databases' automated backups with it: databases come back only from a geo-replica, geo-redundant backups or long-term retention."
}

func (b *builder) sqlDatabase(o *arm.Object) {
	server, _ := o.ID.Parent()
	paths := b.paths(o)
	serverGone := b.inc == nil || b.deleted[strings.ToLower(server.String())]
	if b.inc == nil {
		serverGone = b.targetSet[server.Key()] // an application plan restores the whole application
	}
	if p, ok := strongest(paths, recovery.KindFailoverGroup, recovery.KindGeoReplica); ok {
		if st, ok := b.covered[server.Key()]; ok && st.Action == "failover-sql" && p.Kind == recovery.KindFailoverGroup && st.Path == p.Kind && strings.Contains(st.Title, nameOf(p.Via)) {
			// Failing the server's group over brings this database with it.
			st.Resources = append(st.Resources, ref(o))
			st.keys = append(st.keys, o.ID.Key())
			b.covered[o.ID.Key()] = st
			if a, _, ok := b.env.Members.Of(o.ID); ok {
				b.appRes[a]++
			}
			return
		}
		s := &Step{Phase: Data, Action: "use-sql-replica", Path: p.Kind, Minutes: minSQLFailover, Activity: "restore-data",
			Title: "Serve " + o.Name() + " from its " + p.Summary, REST: []arm.Request{},
			Undo: "fail back once the primary is rebuilt (set-primary on the original side)"}
		if p.Kind == recovery.KindFailoverGroup {
			fg, _ := b.env.Index.Get(p.Via)
			partner := ""
			if fg != nil {
				for _, ps := range fg.Get("properties.partnerServers").List() {
					partner, _ = ps.Get("id").String()
				}
			}
			s.Detail = "The database is in failover group " + fg.Name() + ": if the group was already failed over with its server, it is served from the partner; check, then fail over if not."
			if pid, err := arm.ParseID(partner); err == nil {
				s.Commands = []string{fmt.Sprintf("az sql failover-group set-primary --name %s --resource-group %s --server %s --subscription %s --allow-data-loss",
					q(fg.Name()), q(pid.ResourceGroup()), q(pid.Name()), pid.SubscriptionID())}
				s.REST = []arm.Request{{Method: "POST", Endpoint: b.host, Path: partner + "/failoverGroups/" + fg.Name() + "/forceFailoverAllowDataLoss?api-version=" + arm.APIVersions["microsoft.sql/servers"]}}
			} else {
				s.Manual = true
				s.Detail += " The snapshot does not name the partner server."
			}
		} else {
			rl, _ := b.env.Index.Get(p.Via)
			name, _ := rl.Get("properties.partnerServer").String()
			partnerDB := ""
			for _, srv := range b.env.Index.OfType("Microsoft.Sql/servers") {
				if strings.EqualFold(srv.Name(), name) {
					partnerDB = srv.ID.String() + "/databases/" + o.Name()
				}
			}
			s.Detail = "The database has a readable geo-replica on " + name + ": make it the primary (forced: the last seconds of replication may be lost) and point the applications at it."
			if pid, err := arm.ParseID(partnerDB); err == nil {
				srv, _ := pid.Parent()
				s.Commands = []string{fmt.Sprintf("az sql db replica set-primary --name %s --resource-group %s --server %s --subscription %s --allow-data-loss",
					q(o.Name()), q(pid.ResourceGroup()), q(srv.Name()), pid.SubscriptionID())}
				s.REST = []arm.Request{{Method: "POST", Endpoint: b.host, Path: partnerDB + "/replicationLinks/" + rl.Name() + "/forceFailoverAllowDataLoss?api-version=" + arm.APIVersions["microsoft.sql/servers"]}}
			} else {
				s.Manual = true
				s.Commands = []string{fmt.Sprintf("az sql db replica set-primary --name %s --server %s --resource-group <resource group of %s> --allow-data-loss", q(o.Name()), q(name), name)}
				s.Detail += " The partner server is not in the snapshot: find its resource group first."
			}
		}
		b.add(s, o)
		return
	}
	if _, ok := strongest(paths, recovery.KindPointInTime); ok && !serverGone {
		p, _ := strongest(paths, recovery.KindPointInTime)
		s := &Step{Phase: Data, Action: "restore-deleted-database", Path: p.Kind, Minutes: minSQLRestore, Activity: "restore-data",
			Title:  "Restore deleted database " + o.Name() + " on " + server.Name(),
			Detail: fmt.Sprintf("Restore the dropped database from its automated backups (kept %s) to the moment it was deleted.", days(p.Window)),
			Condition: &Condition{
				Check:     fmt.Sprintf("az sql db list-deleted --resource-group %s --server %s --subscription %s --query \"[?databaseName=='%s'] | [0].deletionDate\" -o tsv", q(rg(o)), q(server.Name()), sub(o), o.Name()),
				Means:     "the dropped database is still restorable (prints its deletion time)",
				Otherwise: "its backup retention has passed: use long-term retention or geo-restore if configured, else it is lost",
			},
			Commands: []string{
				fmt.Sprintf("DELETED_AT=$(az sql db list-deleted --resource-group %s --server %s --subscription %s --query \"[?databaseName=='%s'] | [0].deletionDate\" -o tsv)", q(rg(o)), q(server.Name()), sub(o), o.Name()),
				fmt.Sprintf("az sql db restore --resource-group %s --server %s --name %s --dest-name %s --deleted-time \"$DELETED_AT\" --time \"$DELETED_AT\" --subscription %s",
					q(rg(o)), q(server.Name()), q(o.Name()), q(o.Name()), sub(o)),
			},
			REST: []arm.Request{{Method: "PUT", Endpoint: b.host, Path: b.path(o.ID.String(), "Microsoft.Sql/servers/databases"), Body: map[string]any{"location": o.Location(),
				"properties": map[string]any{"createMode": "Restore", "restorableDroppedDatabaseId": server.String() + "/restorableDroppedDatabases/" + o.Name() + ",<deletion time in ticks>"}}}},
			Undo: "az sql db delete (the restored copy)",
		}
		if b.inc == nil {
			s.Detail = fmt.Sprintf("If only the database was dropped, restore it from its automated backups (kept %s); if data was corrupted, restore it to a point in time under a new name and swap.", days(p.Window))
		}
		b.add(s, o)
		return
	}
	if p, ok := strongest(paths, recovery.KindGeoRestore); ok {
		dest := server // geo-restore into the server, or into the partner its failover group moved to
		if st, ok := b.covered[server.Key()]; ok && st.partner != "" {
			if pid, err := arm.ParseID(st.partner); err == nil {
				dest = pid
			}
		}
		b.add(&Step{Phase: Data, Action: "geo-restore-database", Path: p.Kind, Minutes: minSQLRestore + 30, Activity: "restore-data",
			Title:  "Geo-restore " + o.Name() + " from geo-redundant backups",
			Detail: "The server and its local backups are gone; the geo-redundant copy of the backups survives (up to an hour behind).",
			Commands: []string{fmt.Sprintf("az sql db geo-backup restore --geo-backup-id %s --dest-database %s --dest-server %s --resource-group %s --subscription %s",
				q(server.String()+"/recoverableDatabases/"+o.Name()), q(o.Name()), q(dest.Name()), q(dest.ResourceGroup()), dest.SubscriptionID())},
			REST:     []arm.Request{{Method: "PUT", Endpoint: b.host, Path: b.path(dest.String()+"/databases/"+o.Name(), "Microsoft.Sql/servers/databases"), Body: map[string]any{"properties": map[string]any{"createMode": "Recovery", "recoverableDatabaseId": server.String() + "/recoverableDatabases/" + o.Name()}}}},
			DataLoss: "up to 1h", dataLoss: time.Hour,
		}, o)
		return
	}
	if p, ok := strongest(paths, recovery.KindLongTermRetention); ok {
		b.add(&Step{Phase: Data, Action: "restore-ltr-backup", Path: p.Kind, Minutes: minSQLRestore + 30, Activity: "restore-data",
			Title:  "Restore " + o.Name() + " from its long-term retention backup",
			Detail: "Only the long-term retention copies survive: the newest one is up to a week (weekly) or a month old. " + p.Summary + ".",
			Commands: []string{
				fmt.Sprintf("BACKUP_ID=$(az sql db ltr-backup list --location %s --server %s --database %s --subscription %s --query \"sort_by([], &backupTime)[-1].id\" -o tsv)", q(o.Location()), q(server.Name()), q(o.Name()), sub(o)),
				fmt.Sprintf("az sql db ltr-backup restore --backup-id \"$BACKUP_ID\" --dest-database %s --dest-server %s --dest-resource-group %s --subscription %s", q(o.Name()), q(server.Name()), q(rg(o)), sub(o)),
			},
			REST: []arm.Request{}, DataLoss: "up to the age of the newest long-term backup", dataLoss: 7 * 24 * time.Hour,
		}, o)
		return
	}
	reason := "no surviving backup: its automated backups went with the server"
	if !serverGone {
		reason = "its backup retention has passed and it has no replica or long-term retention"
	}
	b.lose(o, Data, "the database and its data", reason)
}

func (b *builder) cosmos(o *arm.Object) {
	typ, _ := o.Prop("properties.backupPolicy.type").String()
	if strings.EqualFold(typ, "Continuous") {
		b.add(&Step{Phase: Data, Action: "restore-cosmos-continuous", Path: recovery.KindBackup, Minutes: minCosmosRestore, Activity: "restore-data",
			Title:  "Restore Cosmos DB account " + o.Name() + " to before the attack",
			Detail: "Continuous backup restores the account to any second in its retention, into a new account.",
			Commands: []string{fmt.Sprintf("az cosmosdb restore --resource-group %s --account-name %s --target-database-account-name %s --restore-timestamp %s --location %s --subscription %s",
				q(rg(o)), q(o.Name()), q(o.Name()+"-restored"), q(b.beforeAttack()), q(o.Location()), sub(o))},
			REST: []arm.Request{}}, o)
		return
	}
	b.add(&Step{Phase: Data, Action: "restore-cosmos-periodic", Path: recovery.KindBackup, Minutes: 8 * 60, Manual: true, Activity: "restore-data",
		Title:    "Ask Microsoft support to restore Cosmos DB account " + o.Name(),
		Detail:   "Periodic backup can only be restored by Microsoft support, within its retention: plan for a working day. Open a severity A case at once: the retention clock is running.",
		Commands: []string{"az support tickets create  # Cosmos DB restore from periodic backup; give the account name " + o.Name() + " and the time to restore to"},
		REST:     []arm.Request{}}, o)
}
