package respond

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/incident"
)

// contain: remove the role assignments the attacker created, disable every principal of the
// incident and strip its standing access, preserve the evidence, and snapshot surviving disks of
// destroyed VMs before anything is restored over them.
func (b *builder) contain() {
	inc := b.inc
	created := map[string]bool{}
	for _, r := range inc.Resources {
		if !strings.EqualFold(r.Type, "Microsoft.Authorization/roleAssignments") || r.Deleted || r.Status == "Failure" || !hasOp(r, "/write") {
			continue
		}
		created[strings.ToLower(r.ID)] = true
		s := &Step{Phase: Contain, Action: "remove-role-assignment", Minutes: minRoleAssignment, Activity: "restrict-access",
			Title:    "Remove the role assignment " + r.Name + " created during the attack",
			Detail:   fmt.Sprintf("Created at %s by the incident's principals; it is how they gained the rights they used.", r.First.UTC().Format("2006-01-02 15:04:05 UTC")),
			Commands: []string{fmt.Sprintf("az role assignment delete --ids %s", q(r.ID))},
			REST:     []arm.Request{{Method: "DELETE", Endpoint: b.host, Path: b.path(r.ID, "Microsoft.Authorization/roleAssignments")}},
			Undo:     "re-create it with az role assignment create only once it is proven legitimate",
		}
		b.add(s)
		s.Resources = []Ref{{ID: r.ID, Name: r.Name, Type: "Microsoft.Authorization/roleAssignments"}}
	}
	for _, p := range inc.Principals {
		b.disablePrincipal(p, created)
	}
	b.evidence()
	b.diskSnapshots()
}

func (b *builder) disablePrincipal(p *incident.Principal, created map[string]bool) {
	who := p.Caller
	var cmds []string
	var rest []arm.Request
	var undo string
	switch {
	case p.AppID != "":
		cmds = []string{
			fmt.Sprintf("az ad sp update --id %s --set accountEnabled=false", q(p.AppID)),
			fmt.Sprintf("az ad app credential list --id %s --query \"[].keyId\" -o tsv | xargs -r -n1 az ad app credential delete --id %s --key-id", q(p.AppID), q(p.AppID)),
		}
		rest = []arm.Request{{Method: "PATCH", Endpoint: graphEndpoint, Path: "/v1.0/servicePrincipals(appId='" + p.AppID + "')", Body: map[string]any{"accountEnabled": false}}}
		undo = fmt.Sprintf("az ad sp update --id %s --set accountEnabled=true (new credentials must be issued)", q(p.AppID))
	case strings.Contains(who, "@"):
		cmds = []string{
			fmt.Sprintf("az ad user update --id %s --account-enabled false", q(who)),
			fmt.Sprintf("az rest --method post --url %s", q(graphEndpoint+"/v1.0/users/"+who+"/revokeSignInSessions")),
		}
		rest = []arm.Request{{Method: "PATCH", Endpoint: graphEndpoint, Path: "/v1.0/users/" + who, Body: map[string]any{"accountEnabled": false}},
			{Method: "POST", Endpoint: graphEndpoint, Path: "/v1.0/users/" + who + "/revokeSignInSessions"}}
		undo = fmt.Sprintf("az ad user update --id %s --account-enabled true (after a password reset and MFA re-registration)", q(who))
	default:
		cmds = []string{fmt.Sprintf("az ad sp update --id %s --set accountEnabled=false", q(orDefault(p.PrincipalID, who)))}
		undo = "re-enable it once its credentials are rotated"
	}
	n := 0
	if p.PrincipalID != "" {
		var ids []string
		for _, a := range b.env.RBAC.Assignments() {
			if !strings.EqualFold(a.PrincipalID, p.PrincipalID) || created[a.Object.ID.Key()] {
				continue
			}
			if a.Eligible {
				cmds = append(cmds, fmt.Sprintf("az rest --method put --url %s --body %s",
					q(b.host+a.Scope+"/providers/Microsoft.Authorization/roleEligibilityScheduleRequests/$(uuidgen)?api-version=2020-10-01"),
					q(fmt.Sprintf(`{"properties":{"principalId":%q,"roleDefinitionId":%q,"requestType":"AdminRemove"}}`, a.PrincipalID, roleDefinitionID(a.Scope, a.RoleGUID)))))
			} else {
				ids = append(ids, a.Object.ID.String())
			}
			n++
		}
		sort.Strings(ids)
		for _, id := range ids {
			cmds = append(cmds, fmt.Sprintf("az role assignment delete --ids %s  # %s", q(id), b.env.RBAC.RoleName(roleOf(b, id))))
		}
	}
	detail := "Disable the principal, revoke its sessions and credentials"
	if n > 0 {
		detail += fmt.Sprintf(", and remove its %d standing role %s and eligibilities (from the snapshot: re-grant only what is still needed, after the incident)", n, plural(n, "assignment", "assignments"))
	}
	detail += "."
	if p.GrantedBy != "" {
		detail += fmt.Sprintf(" %s was granted its role by %s at %s.", who, p.GrantedBy, p.GrantedAt.UTC().Format("15:04:05 UTC"))
	}
	s := &Step{Phase: Contain, Action: "disable-principal", Minutes: minDisablePrincipal, Activity: "restrict-access",
		Title: "Disable " + who + " and revoke its access", Detail: detail, Commands: cmds, REST: rest, Undo: undo}
	b.add(s)
	s.Resources = []Ref{{ID: orDefault(p.PrincipalID, who), Name: who, Type: "Microsoft.Graph/principals"}}
	b.pb.Summary.Contained = append(b.pb.Summary.Contained, who)
}

func roleOf(b *builder, assignmentID string) string {
	for _, a := range b.env.RBAC.Assignments() {
		if strings.EqualFold(a.Object.ID.String(), assignmentID) {
			return a.RoleGUID
		}
	}
	return ""
}

func roleDefinitionID(scope, guid string) string {
	sub := scope
	if i := strings.Index(strings.ToLower(scope), "/resourcegroups/"); i >= 0 {
		sub = scope[:i]
	}
	return sub + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
}

// evidence exports the Activity Log of every subscription the incident touched, from an hour
// before its first alert to an hour after its last event, and fingerprints the files.
func (b *builder) evidence() {
	subs := map[string]bool{}
	for _, r := range b.inc.Resources {
		if id, err := arm.ParseID(r.ID); err == nil && id.SubscriptionID() != "" {
			subs[strings.ToLower(id.SubscriptionID())] = true
		}
	}
	var list []string
	for s := range subs {
		list = append(list, s)
	}
	sort.Strings(list)
	from := b.inc.First.Add(-time.Hour).UTC().Format(time.RFC3339)
	to := b.inc.Last.Add(time.Hour).UTC().Format(time.RFC3339)
	var cmds []string
	var rest []arm.Request
	for _, s := range list {
		file := fmt.Sprintf("evidence-%s-%s.json", b.inc.ID, s)
		cmds = append(cmds, fmt.Sprintf("az monitor activity-log list --subscription %s --start-time %s --end-time %s --max-events 100000 -o json > %s", s, from, to, file))
		rest = append(rest, arm.Request{Method: "GET", Endpoint: b.host, Path: fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Insights/eventtypes/management/values?api-version=%s&$filter=eventTimestamp ge '%s' and eventTimestamp le '%s'",
			s, arm.APIVersions["microsoft.insights/eventtypes"], from, to)})
	}
	cmds = append(cmds, fmt.Sprintf("sha256sum evidence-%s-*.json > evidence-%s.sha256", b.inc.ID, b.inc.ID))
	s := &Step{Phase: Contain, Action: "preserve-evidence", Minutes: minEvidence, Activity: "analyze-collected-data",
		Title:    fmt.Sprintf("Export the Activity Log of %d %s as evidence", len(list), plural(len(list), "subscription", "subscriptions")),
		Detail:   fmt.Sprintf("The Activity Log keeps 90 days and restores add events to it: export the window %s – %s now, store it outside the affected subscriptions, and record the checksums.", from, to),
		Commands: cmds, REST: rest,
	}
	b.add(s)
}

// diskSnapshots: disks of destroyed VMs that survived are snapshotted before a restore or a
// re-created VM writes to them.
func (b *builder) diskSnapshots() {
	var cmds []string
	var disks []*arm.Object
	for _, o := range b.targets {
		if !o.IsType("Microsoft.Compute/virtualMachines") {
			continue
		}
		for _, d := range b.attachments(o) {
			if !d.IsType("Microsoft.Compute/disks") || b.deleted[strings.ToLower(d.ID.String())] {
				continue
			}
			disks = append(disks, d)
			cmds = append(cmds, fmt.Sprintf("az snapshot create --resource-group %s --name %s --source %s --incremental true --subscription %s",
				q(rg(d)), q(d.Name()+"-evidence-"+strings.ToLower(strings.TrimPrefix(b.inc.ID, "INC-"))[:8]), q(d.ID.String()), sub(d)))
		}
	}
	if len(disks) == 0 {
		return
	}
	s := &Step{Phase: Contain, Action: "snapshot-disks", Minutes: minDiskSnapshot, Activity: "analyze-collected-data",
		Title:    fmt.Sprintf("Snapshot %d surviving %s of destroyed VMs", len(disks), plural(len(disks), "disk", "disks")),
		Detail:   "Preserve the disks as they are now — for forensics, and so a restore or a re-created VM cannot destroy evidence.",
		Commands: cmds, REST: []arm.Request{},
		Undo: "az snapshot delete once the investigation is closed",
	}
	b.add(s)
	for _, d := range disks {
		s.Resources = append(s.Resources, ref(d))
	}
}

// locks re-creates the locks the incident deleted and those that went with a restored resource,
// from their definitions in the snapshot: those on recovery infrastructure as soon as it is back,
// the others when re-hardening.
func (b *builder) locks() {
	type lock struct {
		id    string
		obj   *arm.Object
		scope *arm.Object
	}
	var list []lock
	seen := map[string]bool{}
	addLock := func(id string, obj *arm.Object) {
		k := strings.ToLower(id)
		if seen[k] {
			return
		}
		seen[k] = true
		l := lock{id: id, obj: obj}
		if scope := arm.LockScope(id); scope != "" {
			if o, ok := b.env.Index.Get(scope); ok {
				l.scope = o
			}
		}
		list = append(list, l)
	}
	for _, r := range b.incResources() {
		if strings.EqualFold(r.Type, "Microsoft.Authorization/locks") && r.Deleted {
			o, _ := b.env.Index.Get(r.ID)
			addLock(r.ID, o)
		}
	}
	for _, s := range b.steps {
		if s.Lost || s.Phase == Contain {
			continue
		}
		for _, k := range s.keys {
			o, ok := b.env.Index.Get(k)
			if !ok {
				continue
			}
			for _, l := range b.env.Index.ExtensionsAt(o.ID, "Microsoft.Authorization/locks") {
				addLock(l.ID.String(), l)
			}
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return strings.ToLower(list[i].id) < strings.ToLower(list[j].id) })
	groups := map[Phase][]lock{}
	for _, l := range list {
		ph := Verify
		if l.scope != nil && arm.ComponentOf(l.scope.Type()) == arm.ComponentRecovery {
			ph = RecoveryInfra
		}
		groups[ph] = append(groups[ph], l)
	}
	for _, ph := range []Phase{RecoveryInfra, Verify} {
		ls := groups[ph]
		if len(ls) == 0 {
			continue
		}
		s := &Step{Phase: ph, Action: "restore-locks", Minutes: minLocks, Activity: "configure-systems", Commands: []string{}, REST: []arm.Request{},
			Title:  fmt.Sprintf("Re-apply %d %s", len(ls), plural(len(ls), "lock", "locks")),
			Detail: "Put back each lock exactly as the snapshot defines it (name, level, notes). Locks on recovery infrastructure go back as soon as it is restored; the rest once the restore is done, through the controlled lock procedure (bulwark lock).",
			Undo:   "remove a lock only through the controlled lock release procedure",
		}
		if ph == RecoveryInfra {
			s.Title += " on the recovery infrastructure"
		}
		var deps []*Step
		for _, l := range ls {
			name := l.id[strings.LastIndex(l.id, "/")+1:]
			level, notes, why := "CanNotDelete", "", ""
			known := l.obj != nil
			if known {
				level = orDefault(l.obj.Prop("properties.level").Display(), level)
				notes, _ = l.obj.Prop("properties.notes").String()
				// A ReadOnly lock that breaks what it covers (LOCK-002) goes back as CanNotDelete,
				// which protects from deletion without breaking them.
				if broken := b.env.ReadOnlyBreaks(l.obj); len(broken) > 0 {
					level, why = "CanNotDelete", "  # was ReadOnly, which breaks "+strings.Join(broken, "; ")+" (LOCK-002)"
				}
			}
			scope := arm.LockScope(l.id)
			cmd := "az lock create --name " + q(name) + " --lock-type " + level
			sid, err := arm.ParseID(scope)
			switch {
			case err == nil && strings.EqualFold(sid.Type(), "Microsoft.Resources/resourceGroups"):
				cmd += " --resource-group " + q(sid.Name()) + " --subscription " + sid.SubscriptionID()
			case err == nil && strings.EqualFold(sid.Type(), "Microsoft.Resources/subscriptions"):
				cmd += " --subscription " + sid.SubscriptionID()
			default:
				cmd += " --resource " + q(scope)
			}
			if notes != "" {
				cmd += " --notes " + q(notes)
			}
			if !known {
				cmd += "  # not in the snapshot: level assumed"
			}
			cmd += why
			s.Commands = append(s.Commands, cmd)
			body := map[string]any{"properties": map[string]any{"level": level}}
			if notes != "" {
				body["properties"].(map[string]any)["notes"] = notes
			}
			s.REST = append(s.REST, arm.Request{Method: "PUT", Endpoint: b.host, Path: b.path(l.id, "Microsoft.Authorization/locks"), Body: body})
			s.Resources = append(s.Resources, Ref{ID: l.id, Name: name, Type: "Microsoft.Authorization/locks"})
			if err == nil {
				if t, ok := b.covered[sid.Key()]; ok {
					deps = append(deps, t)
				}
			}
		}
		b.steps = append(b.steps, s)
		s.rank = -1
		b.requires(s, deps...)
	}
}

// verify re-assesses the restored scope and hands over to the owners.
func (b *builder) verify() {
	subs := map[string]bool{}
	for _, o := range b.targets {
		subs[strings.ToLower(o.ID.SubscriptionID())] = true
	}
	var list []string
	for s := range subs {
		if s != "" {
			list = append(list, s)
		}
	}
	sort.Strings(list)
	var prior []*Step
	for _, s := range b.steps {
		if s.Phase == Verify {
			prior = append(prior, s)
		}
	}
	flags := ""
	if b.env.Apps != nil {
		flags = " --apps apps.yaml"
	}
	if b.env.IaC != nil {
		flags += " --iac <your IaC folder>"
	}
	collect := "bulwark collect"
	for _, s := range list {
		collect += " --subscription " + s
	}
	a := &Step{Phase: Verify, Action: "reassess", Minutes: minAssess, Activity: "scan-system",
		Title:  "Re-assess the restored estate",
		Detail: "Collect a fresh snapshot of the affected subscriptions — locks, role assignments, backup items and service settings, not only the resources — and run the assessment: restored resources come back without their protections (backup, soft delete, diagnostic settings, locks). Fix every critical or high finding on them before closing.",
		Commands: []string{
			collect + " -o restored-estate.json",
			"bulwark assess --snapshot restored-estate.json" + flags + " --fail-on high",
		},
		REST: []arm.Request{},
	}
	b.steps = append(b.steps, a)
	a.rank = -1
	a.Resources = []Ref{}
	b.requires(a, prior...)
	owners := map[string]bool{}
	for _, o := range b.targets {
		if app, ok := b.appOf(o); ok && app.Owner != "" {
			owners[app.Owner] = true
		}
	}
	var ol []string
	for o := range owners {
		ol = append(ol, o)
	}
	sort.Strings(ol)
	title, detail := "Hand over to the application owners", "The owners verify the application end to end"
	if b.inc != nil {
		title = "Close incident " + b.inc.ID
		detail = "The owners verify their applications end to end; record what was lost, the timeline and the root cause (how the first principal was compromised); keep the evidence"
	}
	if len(ol) > 0 {
		detail += " (" + strings.Join(ol, ", ") + ")"
	}
	c := &Step{Phase: Verify, Action: "close", Minutes: minClose, Manual: true, Activity: "identify-steps", Title: title, Detail: detail + ".",
		Commands: []string{}, REST: []arm.Request{}, Resources: []Ref{}}
	b.steps = append(b.steps, c)
	c.rank = -1
	b.requires(c, a)
}
