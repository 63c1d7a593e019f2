// Package harden turns failing findings into an ordered remediation plan — locks first on what
// has the largest blast radius, then settings in the order their prerequisites demand — and renders
// it (text, an az CLI script, Bicep). Irreversible changes are marked and left out unless asked
// for. It decides from the assessment alone; package harden/apply applies a plan to Azure.
package harden

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
)

// Schema names the JSON layout of a Plan.
const Schema = "bulwark.harden/v1"

// Plan is the ordered list of changes.
type Plan struct {
	Schema    string    `json:"schema"`
	Generated time.Time `json:"generated"` // the snapshot's collection time
	Actions   []*Action `json:"actions"`
	// Left are failing findings the plan does not change, with why: irreversible without
	// --allow-irreversible, or a fix that needs a decision (a partner region, a new vault).
	Left []Left `json:"left"`
}

// Left is a finding without an action.
type Left struct {
	Check    string `json:"check"`
	Resource string `json:"resource"`
	Name     string `json:"name"`
	Reason   string `json:"reason"`
	Command  string `json:"command,omitempty"` // the assessment's suggested command, to run by hand
}

// Action is one change.
type Action struct {
	ID           string      `json:"id"`  // A01, A02, … in order
	Key          string      `json:"key"` // stable: kind and resource, the journal's action name
	Kind         string      `json:"kind"`
	Finding      Finding     `json:"finding"`
	Resource     Ref         `json:"resource"`
	Title        string      `json:"title"`
	Operations   string      `json:"operations"` // what it changes for the people operating the resource
	Irreversible bool        `json:"irreversible"`
	Requires     []string    `json:"requires"`
	AzCLI        string      `json:"azcli"`
	Request      arm.Request `json:"request"` // the write: method, path under the management endpoint (no Endpoint: any cloud), body
	Bicep        string      `json:"bicep"`
	BlastRadius  int         `json:"blastRadius"`
	// Verify says when the change is in place: the GET and the property values that satisfy it.
	Verify Verify `json:"verify"`

	after []*Action
	order int
	obj   *arm.Object // the resource whose definition a whole-resource update starts from
}

// Finding is the assessment result an action fixes.
type Finding struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Ref names a resource.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Body is the write's body: harden builds every one as a JSON object. For a PUT of a whole child
// resource (blob service settings), apply merges it into the definition it reads first.
func (a *Action) Body() map[string]any {
	m, _ := a.Request.Body.(map[string]any)
	return m
}

// Verify is the read that tells whether the change is in place.
type Verify struct {
	Path     string   `json:"path"`              // GET, under the management endpoint
	Property string   `json:"property"`          // dotted path in the response
	Accept   []string `json:"accept"`            // values (compared ignoring case) that mean done
	AtLeast  int      `json:"atLeast,omitempty"` // or, for a number, this much or more
}

// Options select what to plan.
type Options struct {
	Checks            []string // only these checks (empty: all)
	AllowIrreversible bool
	ResourceGroup     string // only actions on resources in this resource group ID (for Bicep)
}

// Build plans the fixes for the failing results of rep.
func Build(env *assess.Env, rep *assess.Report, o Options) *Plan {
	p := &Plan{Schema: Schema, Generated: env.Now, Actions: []*Action{}, Left: []Left{}}
	want := map[string]bool{}
	for _, c := range o.Checks {
		want[strings.ToUpper(c)] = true
	}
	b := &builder{env: env, byKey: map[string]*Action{}}
	for _, r := range rep.Results {
		if !r.Failed() || len(want) > 0 && !want[r.CheckID] {
			continue
		}
		obj, _ := env.Index.Get(r.Resource)
		if o.ResourceGroup != "" && (obj == nil || !strings.EqualFold(groupOf(obj.ID), strings.TrimSuffix(o.ResourceGroup, "/"))) {
			continue
		}
		if reason := b.fix(r, obj); reason != "" {
			p.Left = append(p.Left, Left{Check: r.CheckID, Resource: r.Resource, Name: r.Name, Reason: reason, Command: r.Command})
		}
	}
	var out []*Action
	for _, a := range b.actions {
		if a.Irreversible && !o.AllowIrreversible {
			p.Left = append(p.Left, Left{Check: a.Finding.Check, Resource: a.Resource.ID, Name: a.Resource.Name,
				Reason: "irreversible (" + a.Title + "): add --allow-irreversible once you accept it", Command: a.AzCLI})
			continue
		}
		out = append(out, a)
	}
	p.Actions = order(out)
	return p
}

func groupOf(id arm.ID) string {
	if g, ok := id.ResourceGroupScope(); ok {
		return g.String()
	}
	return ""
}

type builder struct {
	env     *assess.Env
	actions []*Action
	byKey   map[string]*Action
}

// add registers an action once per key (two findings may ask for the same change).
func (b *builder) add(a *Action, r assess.Result, o *arm.Object) *Action {
	if cur, ok := b.byKey[a.Key]; ok {
		return cur
	}
	a.Finding = Finding{Check: r.CheckID, Severity: r.Severity.String(), Message: r.Message}
	a.Resource = Ref{ID: o.ID.String(), Name: o.Name(), Type: arm.CanonicalType(o.Type())}
	a.BlastRadius = b.env.Graph.BlastRadius(o.ID)
	a.obj = o
	a.order = len(b.actions)
	b.byKey[a.Key] = a
	b.actions = append(b.actions, a)
	return a
}

// fix adds the actions for one finding, or says why there are none.
func (b *builder) fix(r assess.Result, o *arm.Object) string {
	if o == nil {
		if strings.HasPrefix(r.Resource, "apps.yaml") || !strings.HasPrefix(r.Resource, "/") {
			return "an application-level finding: update apps.yaml or the recovery plan"
		}
		return "the resource is not in the snapshot"
	}
	id := o.ID.String()
	switch r.CheckID {
	case "LOCK-001", "ASR-001":
		b.lock(r, o)
	case "KV-002":
		if on, ok := o.Prop("properties.enableSoftDelete").Bool(); ok && !on {
			return "purge protection needs soft delete, which an existing vault cannot turn on: migrate the secrets to a new vault"
		}
		b.setting(r, o, "kv-purge-protection", "PATCH", id, arm.WriteKeyVault, "properties.enablePurgeProtection", true, true,
			"Turn on Key Vault purge protection", "nobody — not even an owner — can purge the vault or its objects before the retention period ends; it cannot be turned off",
			fmt.Sprintf("az keyvault update --name %s --resource-group %s --subscription %s --enable-purge-protection true", o.Name(), o.ID.ResourceGroup(), o.ID.SubscriptionID()))
	case "RSV-001", "BV-001":
		b.vaultSoftDelete(r, o, vaultKindOf(o))
	case "RSV-002", "BV-002":
		b.vaultImmutability(r, o, vaultKindOf(o))
	case "ST-001", "ST-002", "ST-003", "ST-004":
		b.blob(r, o)
	case "ST-007":
		b.setting(r, o, "file-soft-delete", "PUT", id+"/fileServices/default", arm.WriteStorage, "properties.shareDeleteRetentionPolicy.enabled", true, false,
			"Turn on file share soft delete (14 days)", "deleted shares are kept 14 days; deleted shares count towards capacity until then",
			fmt.Sprintf("az storage account file-service-properties update --account-name %s --resource-group %s --subscription %s --enable-delete-retention true --delete-retention-days 14", o.Name(), o.ID.ResourceGroup(), o.ID.SubscriptionID())).
			Request.Body = props("shareDeleteRetentionPolicy", map[string]any{"enabled": true, "days": 14})
	case "SQL-001":
		a := b.setting(r, o, "sql-short-term-retention", "PUT", id+"/backupShortTermRetentionPolicies/default", arm.WriteSQLShort, "properties.retentionDays", 14, false,
			"Keep 14 days of point-in-time backups", "backup storage grows with the retention",
			fmt.Sprintf("az sql db str-policy set --resource-group %s --server %s --name %s --subscription %s --retention-days 14 --diffbackup-hours 12", o.ID.ResourceGroup(), parentName(o), o.Name(), o.ID.SubscriptionID()))
		a.Request.Body = map[string]any{"properties": map[string]any{"retentionDays": 14, "diffBackupIntervalInHours": 12}}
		a.Verify.Accept, a.Verify.AtLeast = nil, 14
	case "SQL-002":
		a := b.setting(r, o, "sql-long-term-retention", "PUT", id+"/backupLongTermRetentionPolicies/default", arm.WriteSQLLong, "properties.weeklyRetention", "P4W", false,
			"Keep long-term backups (4 weeks, 12 months, 5 years)", "long-term backups are billed by size; they survive the server's deletion",
			fmt.Sprintf("az sql db ltr-policy set --resource-group %s --server %s --name %s --subscription %s --weekly-retention P4W --monthly-retention P12M --yearly-retention P5Y --week-of-year 1", o.ID.ResourceGroup(), parentName(o), o.Name(), o.ID.SubscriptionID()))
		a.Request.Body = map[string]any{"properties": map[string]any{"weeklyRetention": "P4W", "monthlyRetention": "P12M", "yearlyRetention": "P5Y", "weekOfYear": 1}}
	case "DET-003":
		b.defender(r, o)
	default:
		if why, ok := manual[r.CheckID]; ok {
			return why
		}
		return "no automated fix"
	}
	return ""
}

// manual says why a finding has no automated fix.
var manual = map[string]string{
	"KV-001":     "soft delete and its retention can only be set when a vault is created: migrate the secrets to a new vault",
	"LOCK-002":   "replacing a lock removes one first: release it through bulwark lock release, then lock the resource CanNotDelete",
	"LOCK-003":   "changes who may remove locks: move the standing assignments to PIM-eligible ones",
	"IAM-001":    "changes role assignments: decide who keeps which role, then make it PIM-eligible",
	"IAM-002":    "changes an automation identity's roles: scope them to what its pipelines deploy",
	"CFG-001":    "needs a template written for the resource",
	"CFG-002":    "the template and the resource disagree: decide which is right",
	"COSMOS-001": "the migration to continuous backup is one-way and has prerequisites: run it by hand",
	"DET-001":    "needs the workspace to send the Activity Log to",
	"DET-002":    "needs a Sentinel workspace decision",
	"DET-004":    "changes workspace retention and access (billed): decide the retention",
	"SQL-003":    "needs a partner server in another region",
	"SQL-004":    "needs a partner managed instance in another region",
	"SQL-005":    "needs a vault and a SQL backup policy",
	"ST-005":     "needs the container and the retention period",
	"ST-006":     "a redundancy conversion takes hours and is billed: start it by hand",
	"ST-008":     "needs a vault and a file share backup policy",
	"VM-001":     "needs a vault and a backup policy",
	"VM-002":     "protect the VM's vault (RSV-001, RSV-002)",
	"VM-003":     "needs a target region and a Site Recovery vault",
	"VM-004":     "needs a Key Vault in the target region",
	"AKS-001":    "needs a Backup vault, the backup extension and trusted access",
	"RSV-003":    "needs a Resource Guard in a different subscription, owned by another team",
	"RSV-004":    "cross-region restore cannot be turned off once on, and needs geo-redundant storage: run it by hand",
	"RSV-005":    "changes the vault's encryption key",
}

func parentName(o *arm.Object) string {
	p, _ := o.ID.Parent()
	return p.Name()
}

func props(key string, v any) map[string]any {
	return map[string]any{"properties": map[string]any{key: v}}
}

func requires(a *Action, before ...*Action) {
	for _, b := range before {
		if b != nil && b != a {
			a.after = append(a.after, b)
		}
	}
}

// setting is a change of one property: a PATCH of the resource, or a PUT of a child settings
// resource. accept lists further values that also satisfy it (AlwaysON satisfies Enabled).
func (b *builder) setting(r assess.Result, o *arm.Object, kind, method, path, api, property string, value any, irreversible bool, title, ops, cli string, accept ...string) *Action {
	body := map[string]any{}
	cur := body
	parts := strings.Split(property, ".")
	for _, p := range parts[:len(parts)-1] {
		next := map[string]any{}
		cur[p] = next
		cur = next
	}
	cur[parts[len(parts)-1]] = value
	a := &Action{Kind: kind, Key: kind + "|" + o.ID.Key(), Title: title, Operations: ops, Irreversible: irreversible, AzCLI: cli,
		Request: arm.Request{Method: method, Path: path + "?api-version=" + api, Body: body},
		Verify:  Verify{Path: path + "?api-version=" + api, Property: property, Accept: append([]string{fmt.Sprint(value)}, accept...)}}
	return b.add(a, r, o)
}

// vaultKind describes a Recovery Services vault or a Backup vault: the same protections under
// different property paths, values and commands.
type vaultKind struct {
	prefix, label, api           string
	softPath, softOn, softAlways string
	softFlag                     string // the az value that turns soft delete on
	immPath                      string
	cli                          func(o *arm.Object, flag string) string
}

func vaultKindOf(o *arm.Object) vaultKind {
	if o.IsType("Microsoft.DataProtection/backupVaults") {
		return vaultKind{prefix: "bv", label: "Backup vault", api: arm.WriteBV,
			softPath: "properties.securitySettings.softDeleteSettings.state", softOn: "On", softAlways: "AlwaysOn", softFlag: "On",
			immPath: "properties.securitySettings.immutabilitySettings.state",
			cli: func(o *arm.Object, flag string) string {
				return fmt.Sprintf("az dataprotection backup-vault update --vault-name %s --resource-group %s --subscription %s %s", o.Name(), o.ID.ResourceGroup(), o.ID.SubscriptionID(), flag)
			}}
	}
	return vaultKind{prefix: "rsv", label: "vault", api: arm.WriteRSV,
		softPath: "properties.securitySettings.softDeleteSettings.softDeleteState", softOn: "Enabled", softAlways: "AlwaysON", softFlag: "Enable",
		immPath: "properties.securitySettings.immutabilitySettings.state",
		cli: func(o *arm.Object, flag string) string {
			return fmt.Sprintf("az backup vault update --name %s --resource-group %s --subscription %s %s", o.Name(), o.ID.ResourceGroup(), o.ID.SubscriptionID(), flag)
		}}
}

// vaultSoftDelete: soft delete on (reversible), then always on (irreversible).
func (b *builder) vaultSoftDelete(r assess.Result, o *arm.Object, k vaultKind) {
	on := b.setting(r, o, k.prefix+"-soft-delete", "PATCH", o.ID.String(), k.api, k.softPath, k.softOn, false,
		"Turn on "+k.label+" soft delete", "deleted backup data is kept for the retention period (14 days by default) and can be undeleted",
		k.cli(o, "--soft-delete-state "+k.softFlag), k.softAlways)
	always := b.setting(r, o, k.prefix+"-soft-delete-always-on", "PATCH", o.ID.String(), k.api, k.softPath, k.softAlways, true,
		"Make "+k.label+" soft delete always on", "soft delete can no longer be turned off, by anyone",
		k.cli(o, "--soft-delete-state "+k.softAlways))
	requires(always, on)
}

// vaultImmutability: after soft delete, immutability unlocked (reversible), then locked.
func (b *builder) vaultImmutability(r assess.Result, o *arm.Object, k vaultKind) {
	soft := b.byKey[k.prefix+"-soft-delete|"+o.ID.Key()]
	un := b.setting(r, o, k.prefix+"-immutability", "PATCH", o.ID.String(), k.api, k.immPath, "Unlocked", false,
		"Turn on "+k.label+" immutability (unlocked)", "recovery points cannot be deleted before they expire; retention can still be reduced until it is locked",
		k.cli(o, "--immutability-state Unlocked"), "Locked")
	requires(un, soft)
	lk := b.setting(r, o, k.prefix+"-immutability-locked", "PATCH", o.ID.String(), k.api, k.immPath, "Locked", true,
		"Lock "+k.label+" immutability", "recovery points can no longer be deleted early nor retention reduced, by anyone, for the vault's life",
		k.cli(o, "--immutability-state Locked"))
	requires(lk, un)
}

// lock: CanNotDelete on the resource itself — the narrowest scope that protects it ("lock a VNet
// instead of a whole resource group"); ReadOnly only where nothing operates through writes.
func (b *builder) lock(r assess.Result, o *arm.Object) {
	level := "CanNotDelete"
	if o.IsType("Microsoft.DataProtection/resourceGuards") {
		level = "ReadOnly" // a guard is configured once; ReadOnly also stops its protected operations being edited
	}
	path := o.ID.String() + "/providers/Microsoft.Authorization/locks/bulwark-no-delete"
	notes := "Bulwark " + r.CheckID + ": lift only through the controlled lock procedure (bulwark lock release)"
	ops := "the resource cannot be deleted until the lock is released; changes and operations continue"
	if level == "ReadOnly" {
		ops = "the guard cannot be changed or deleted until the lock is released"
	}
	a := &Action{Kind: "lock", Key: "lock|" + o.ID.Key(), Title: "Lock " + o.Name() + " (" + level + ")", Operations: ops,
		AzCLI: fmt.Sprintf("az lock create --name bulwark-no-delete --lock-type %s --resource %s --notes %q", level, o.ID.String(), notes),
		Request: arm.Request{Method: "PUT", Path: path + "?api-version=" + arm.WriteLocks,
			Body: map[string]any{"properties": map[string]any{"level": level, "notes": notes}}},
		Verify: Verify{Path: path + "?api-version=" + arm.WriteLocks, Property: "properties.level", Accept: []string{level}}}
	b.add(a, r, o)
}

// blob: the blob service settings, in the order point-in-time restore needs them (soft delete,
// versioning and change feed first; restore days below the soft-delete days).
func (b *builder) blob(r assess.Result, o *arm.Object) {
	path := o.ID.String() + "/blobServices/default"
	cli := func(flags string) string {
		return fmt.Sprintf("az storage account blob-service-properties update --account-name %s --resource-group %s --subscription %s %s", o.Name(), o.ID.ResourceGroup(), o.ID.SubscriptionID(), flags)
	}
	set := func(kind, property string, value any, body map[string]any, title, ops, flags string) *Action {
		a := b.setting(r, o, kind, "PUT", path, arm.WriteStorage, property, value, false, title, ops, cli(flags))
		if body != nil {
			a.Request.Body = body
		}
		return a
	}
	soft := func() *Action {
		return set("blob-soft-delete", "properties.deleteRetentionPolicy.enabled", true, props("deleteRetentionPolicy", map[string]any{"enabled": true, "days": 14}),
			"Turn on blob soft delete (14 days)", "deleted and overwritten blobs are kept 14 days and billed as data until then", "--enable-delete-retention true --delete-retention-days 14")
	}
	versioning := func() *Action {
		return set("blob-versioning", "properties.isVersioningEnabled", true, nil,
			"Turn on blob versioning", "every overwrite keeps the previous version (billed); lifecycle rules should expire old versions", "--enable-versioning true")
	}
	switch r.CheckID {
	case "ST-001":
		soft()
	case "ST-002":
		set("container-soft-delete", "properties.containerDeleteRetentionPolicy.enabled", true, props("containerDeleteRetentionPolicy", map[string]any{"enabled": true, "days": 14}),
			"Turn on container soft delete (14 days)", "deleted containers are kept 14 days", "--enable-container-delete-retention true --container-delete-retention-days 14")
	case "ST-003":
		versioning()
	case "ST-004":
		s, v := soft(), versioning()
		cf := set("blob-change-feed", "properties.changeFeed.enabled", true, props("changeFeed", map[string]any{"enabled": true, "retentionInDays": 14}),
			"Turn on the blob change feed (14 days)", "every change is logged to $blobchangefeed (billed)", "--enable-change-feed true --change-feed-days 14")
		pit := set("blob-point-in-time-restore", "properties.restorePolicy.enabled", true, props("restorePolicy", map[string]any{"enabled": true, "days": 13}),
			"Turn on point-in-time restore (13 days)", "block blobs can be restored to any time in the last 13 days", "--enable-restore-policy true --restore-days 13")
		requires(pit, s, v, cf)
	}
}

// defender: the Standard tier of each Defender plan that is off in the subscription.
func (b *builder) defender(r assess.Result, o *arm.Object) {
	for _, p := range b.env.Index.ExtensionsAt(o.ID, "Microsoft.Security/pricings") {
		if tier, _ := p.Get("properties.pricingTier").String(); strings.EqualFold(tier, "Standard") || !defenderPlan(p.Name()) {
			continue
		}
		a := &Action{Kind: "defender-plan", Key: "defender-plan|" + p.ID.Key(), Title: "Turn on Defender for " + p.Name() + " (Standard)",
			Operations: "billed per protected resource; alerts on the suspicious operations that precede destruction",
			AzCLI:      fmt.Sprintf("az security pricing create --subscription %s --name %s --tier Standard", o.ID.SubscriptionID(), p.Name()),
			Request:    arm.Request{Method: "PUT", Path: p.ID.String() + "?api-version=" + arm.WriteSecurity, Body: props("pricingTier", "Standard")},
			Verify:     Verify{Path: p.ID.String() + "?api-version=" + arm.WriteSecurity, Property: "properties.pricingTier", Accept: []string{"Standard"}}}
		b.add(a, r, p)
	}
}

func defenderPlan(name string) bool {
	switch strings.ToLower(name) {
	case "virtualmachines", "storageaccounts", "keyvaults", "sqlservers", "sqlservervirtualmachines", "arm", "containers", "cloudposture":
		return true
	}
	return false
}

// order: locks first by blast radius (largest first), then every other action by its resource's
// blast radius, prerequisites before what needs them.
func order(actions []*Action) []*Action {
	rank := func(a *Action) (int, int, int) {
		lock := 1
		if a.Kind == "lock" {
			lock = 0
		}
		return lock, -a.BlastRadius, a.order
	}
	sort.SliceStable(actions, func(i, j int) bool {
		a1, b1, c1 := rank(actions[i])
		a2, b2, c2 := rank(actions[j])
		if a1 != a2 {
			return a1 < a2
		}
		if b1 != b2 {
			return b1 < b2
		}
		return c1 < c2
	})
	// Move each action after its prerequisites (stable: a prerequisite always exists earlier in
	// build order, so one pass of insertion suffices).
	in := map[*Action]bool{}
	for _, a := range actions {
		in[a] = true
	}
	var out []*Action
	placed := map[*Action]bool{}
	var place func(a *Action)
	place = func(a *Action) {
		if placed[a] {
			return
		}
		for _, p := range a.after {
			if in[p] {
				place(p)
			}
		}
		placed[a] = true
		out = append(out, a)
	}
	for _, a := range actions {
		place(a)
	}
	for i, a := range out {
		a.ID = fmt.Sprintf("A%02d", i+1)
	}
	for _, a := range out {
		a.Requires = []string{}
		for _, p := range a.after {
			if in[p] {
				a.Requires = append(a.Requires, p.ID)
			}
		}
		a.Bicep = bicepOf(a)
	}
	return out
}
