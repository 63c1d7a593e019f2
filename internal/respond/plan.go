package respond

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// Inputs select what a playbook is generated for: exactly one of App and Incident.
type Inputs struct {
	Env      *assess.Env        // the snapshot with apps.yaml and IaC
	App      string             // an application: its recovery if every resource of it were destroyed
	Incident *incident.Incident // an incident from `bulwark detect -o json`: what it destroyed or changed
	// Endpoint is the Resource Manager endpoint the REST calls go to (default DefaultEndpoint; the
	// sovereign clouds have their own: bulwark respond --cloud).
	Endpoint string
}

// Generate builds the playbook.
func Generate(in Inputs) (*Playbook, error) {
	if in.Env == nil {
		return nil, fmt.Errorf("respond: no estate")
	}
	if (in.App == "") == (in.Incident == nil) {
		return nil, fmt.Errorf("respond: give an application or an incident")
	}
	host := strings.TrimRight(in.Endpoint, "/")
	if host == "" {
		host = DefaultEndpoint
	}
	b := &builder{host: host, env: in.Env, inc: in.Incident, covered: map[string]*Step{}, touched: map[string]*incident.Resource{},
		deleted: map[string]bool{}, targetSet: map[string]bool{}, lostKeys: map[string]bool{}, appRes: map[string]int{}}
	b.pb = &Playbook{Schema: Schema, Endpoint: host, Apps: []AppRef{}, DependsOnApps: []string{}, Warnings: []Warning{}, Lost: []Lost{},
		Intact: []Ref{}, Cycles: [][]Ref{}, Summary: Summary{Contained: []string{}, Blocked: []string{}}}
	if in.App != "" {
		if err := b.appScope(in.App); err != nil {
			return nil, err
		}
	} else {
		b.incidentScope()
	}
	b.plan()
	b.finish()
	return b.pb, nil
}

type builder struct {
	host string // the Resource Manager endpoint of the estate's cloud
	env  *assess.Env
	inc  *incident.Incident
	pb   *Playbook
	ref  time.Time

	targets   []*arm.Object
	targetSet map[string]bool
	touched   map[string]*incident.Resource // incident resources by lower-case ID
	deleted   map[string]bool               // lower-case IDs the incident deleted (or removed with a resource group)
	purged    map[string]bool               // Key Vault names (lower case) purged
	covered   map[string]*Step              // resource key → the step that restores it or records its loss
	lostKeys  map[string]bool
	rank      map[string]int           // resource key → position in restore order
	cycleOf   map[string]int           // resource key → index of its dependency cycle
	withVM    map[string][]*arm.Object // VM key → its disks, NICs and SQL VM that its restore brings back
	appRes    map[string]int           // application → resources restored or lost
	steps     []*Step
	after     map[*Step][]*Step
}

// appScope: every top-level resource of components A–E of the application, and its SQL databases.
func (b *builder) appScope(name string) error {
	e := b.env
	canonical := ""
	if a, ok := e.Apps.Find(name); ok {
		canonical = a.Name
	}
	for _, n := range e.Members.Names() {
		if strings.EqualFold(n, name) {
			canonical = n
		}
	}
	if canonical == "" {
		return fmt.Errorf("no application %q in the estate; applications: %s", name, strings.Join(e.Members.Names(), ", "))
	}
	b.ref = e.Now
	b.pb.Scope = Scope{Kind: "application", App: canonical}
	b.pb.Title = "Recovery playbook for application " + canonical + " (every resource destroyed)"
	for _, o := range e.Index.All() {
		app, _, ok := e.Members.Of(o.ID)
		if !ok || app != canonical {
			continue
		}
		if arm.TopLevel(o) && arm.ComponentOf(o.Type()) != arm.ComponentNone || isDatabase(o) {
			b.addTarget(o)
		}
	}
	if len(b.targets) == 0 {
		return fmt.Errorf("application %q has no resources of components A–E in the snapshot", canonical)
	}
	if a, ok := e.Apps.Find(canonical); ok {
		b.pb.DependsOnApps = append(b.pb.DependsOnApps, a.DependsOn...)
		if len(a.DependsOn) > 0 {
			b.warn("dependency", fmt.Sprintf("%s depends on %s: those must be running before its restore is verified (bulwark respond --app %s)",
				canonical, strings.Join(a.DependsOn, ", "), a.DependsOn[0]))
		}
		if c := e.Apps.CycleThrough(canonical); c != nil {
			shown := c
			if len(c) > 12 {
				shown = append(append(append([]string(nil), c[:5]...), fmt.Sprintf("… %d more …", len(c)-10)), c[len(c)-5:]...)
			}
			b.warn("cycle", fmt.Sprintf("apps.yaml: %s depends on itself through %d %s (%s): no order restores them one after the other; restore them together, and break the cycle in apps.yaml",
				canonical, len(c)-2, plural(len(c)-2, "application", "applications"), strings.Join(shown, " → ")))
		}
	}
	return nil
}

func isDatabase(o *arm.Object) bool {
	return (o.IsType("Microsoft.Sql/servers/databases") || o.IsType("Microsoft.Sql/managedInstances/databases")) && !strings.EqualFold(o.Name(), "master")
}

// incidentScope: the resources the incident deleted, plus the settings it changed on the recovery
// infrastructure; the contain phase comes from its principals and role grants.
func (b *builder) incidentScope() {
	inc := b.inc
	b.ref = inc.First
	b.pb.Scope = Scope{Kind: "incident", Incident: inc.ID, Severity: inc.Severity, Actor: inc.Actor}
	b.pb.Title = "Recovery playbook for incident " + inc.ID + ": " + inc.Title
	b.purged = map[string]bool{}
	for _, r := range inc.Resources {
		k := strings.ToLower(r.ID)
		b.touched[k] = r
		if r.Deleted {
			b.deleted[k] = true
		}
		if strings.EqualFold(r.Type, "Microsoft.KeyVault/locations/deletedVaults") && r.Status != "Failure" && hasOp(r, "/purge/action") {
			b.purged[strings.ToLower(r.Name)] = true
		}
	}
	for _, r := range inc.Resources {
		if r.Status == "Failure" {
			name := r.Name
			if strings.Count(r.Type, "/") >= 2 { // a child: vaultconfig, VaultProxy — name its parent too
				name = parentName(r.ID, 2) + "/" + r.Name
			}
			b.pb.Summary.Blocked = append(b.pb.Summary.Blocked, fmt.Sprintf("%s on %s failed at %s", lastOp(r), name, r.Last.UTC().Format("15:04:05 UTC")))
		}
		if !r.Deleted || skipAsTarget(r.Type) {
			continue
		}
		o, ok := b.env.Index.Get(r.ID)
		if !ok {
			o = stub(r)
			if o == nil {
				continue
			}
		}
		b.addTarget(o)
	}
	// A VM's disks and NICs with deleteOption Delete went with it without an event of their own.
	for _, o := range append([]*arm.Object(nil), b.targets...) {
		if !o.IsType("Microsoft.Compute/virtualMachines") {
			continue
		}
		var gone []string
		if o.Get("properties.storageProfile.osDisk.deleteOption").Is("Delete") {
			if id, ok := o.Get("properties.storageProfile.osDisk.managedDisk.id").String(); ok {
				gone = append(gone, id)
			}
		}
		for _, dd := range o.Get("properties.storageProfile.dataDisks").List() {
			if dd.Get("deleteOption").Is("Delete") {
				if id, ok := dd.Get("managedDisk.id").String(); ok {
					gone = append(gone, id)
				}
			}
		}
		for _, n := range o.Get("properties.networkProfile.networkInterfaces").List() {
			if n.Get("properties.deleteOption").Is("Delete") {
				if id, ok := n.Get("id").String(); ok {
					gone = append(gone, id)
				}
			}
		}
		for _, id := range gone {
			if d, ok := b.env.Index.Get(id); ok {
				b.deleted[strings.ToLower(d.ID.String())] = true
				b.addTarget(d)
			}
		}
	}
}

func hasOp(r *incident.Resource, suffix string) bool {
	for _, op := range r.Operations {
		if strings.HasSuffix(strings.ToLower(op), suffix) {
			return true
		}
	}
	return false
}

func lastOp(r *incident.Resource) string {
	if len(r.Operations) == 0 {
		return "an operation"
	}
	return r.Operations[len(r.Operations)-1]
}

// skipAsTarget: types the playbook handles in its own steps rather than as a restore.
func skipAsTarget(typ string) bool {
	switch strings.ToLower(typ) {
	case "microsoft.authorization/locks", "microsoft.authorization/roleassignments",
		"microsoft.resources/subscriptions/resourcegroups", "microsoft.resources/resourcegroups",
		"microsoft.keyvault/locations/deletedvaults",
		"microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems",
		"microsoft.recoveryservices/vaults/backupconfig", "microsoft.recoveryservices/vaults/backupresourceguardproxies",
		"microsoft.dataprotection/backupvaults/backupinstances":
		return true
	}
	return false
}

// stub stands in for a deleted resource the snapshot does not hold: its ID, type and name only.
func stub(r *incident.Resource) *arm.Object {
	id, err := arm.ParseID(r.ID)
	if err != nil {
		return nil
	}
	o, err := arm.NewObject([]byte(fmt.Sprintf(`{"id":%q,"type":%q,"name":%q}`, id.String(), r.Type, r.Name)), arm.Source{})
	if err != nil {
		return nil
	}
	return o
}

func (b *builder) addTarget(o *arm.Object) {
	if b.targetSet[o.ID.Key()] {
		return
	}
	b.targetSet[o.ID.Key()] = true
	b.targets = append(b.targets, o)
}

func (b *builder) warn(kind, msg string) {
	b.pb.Warnings = append(b.pb.Warnings, Warning{Kind: kind, Message: msg})
}

func ref(o *arm.Object) Ref {
	return Ref{ID: o.ID.String(), Name: o.Name(), Type: arm.CanonicalType(o.Type()), Component: component(o)}
}

func component(o *arm.Object) string {
	if c := arm.ComponentOf(o.Type()); c != arm.ComponentNone {
		return string(c)
	}
	return ""
}

// plan orders the targets, finds what they depend on, and gives each its step.
func (b *builder) plan() {
	order, cycles := b.env.Graph.Order(b.targets)
	// Stubs (deleted resources the snapshot lacks) are not in the graph: append them.
	seen := map[string]bool{}
	for _, o := range order {
		seen[o.ID.Key()] = true
	}
	for _, o := range b.targets {
		if !seen[o.ID.Key()] {
			order = append(order, o)
		}
	}
	b.rank = map[string]int{}
	for i, o := range order {
		b.rank[o.ID.Key()] = i
	}
	b.cycleOf = map[string]int{}
	for i, c := range cycles {
		for _, o := range c {
			b.cycleOf[o.ID.Key()] = i
		}
	}
	for _, c := range cycles {
		var refs []Ref
		var names []string
		for _, o := range c {
			refs = append(refs, ref(o))
			names = append(names, o.Name())
		}
		b.pb.Cycles = append(b.pb.Cycles, refs)
		at := c[0]
		how := "broken at " + at.Name()
		if arm.ComponentOf(at.Type()) == arm.ComponentConfig {
			how += " (configuration-based: it is redeployed first, its references completed once the others exist)"
		} else {
			how += " (no configuration-based member: restore it first and re-link the others by hand)"
		}
		b.warn("cycle", "dependency cycle "+strings.Join(names, " → ")+" → "+names[0]+": "+how)
	}
	b.intact()
	b.after = map[*Step][]*Step{}
	if b.inc != nil {
		b.contain()
		b.recoveryInfraChanges()
	}
	// Disks, NICs and SQL VM registrations are restored with their VM when the VM is a target too.
	attached := map[string]bool{}
	b.withVM = map[string][]*arm.Object{}
	attach := func(vm, a *arm.Object) {
		if !attached[a.ID.Key()] && b.targetSet[a.ID.Key()] && a != vm {
			attached[a.ID.Key()] = true
			b.withVM[vm.ID.Key()] = append(b.withVM[vm.ID.Key()], a)
		}
	}
	for _, o := range order {
		if o.IsType("Microsoft.Compute/virtualMachines") {
			for _, a := range b.attachments(o) {
				attach(o, a)
			}
		}
	}
	for _, o := range order {
		if o.IsType("Microsoft.SqlVirtualMachine/sqlVirtualMachines") {
			if id, ok := o.Get("properties.virtualMachineResourceId").String(); ok {
				if vm, ok := b.env.Index.Get(id); ok && b.targetSet[vm.ID.Key()] {
					attach(vm, o)
				}
			}
		}
		for _, p := range b.env.RecoveryPaths(o) {
			if p.Kind == recovery.KindWithVM {
				if vm, ok := b.env.Index.Get(p.Via); ok && b.targetSet[vm.ID.Key()] {
					attach(vm, o)
				}
			}
		}
	}
	for _, o := range order {
		if attached[o.ID.Key()] {
			continue
		}
		b.planResource(o)
	}
	b.resourceGroups()
	b.locks()
	b.verify()
}

// intact lists the resources the targets depend on that are not restored, following dependencies
// through targets only.
func (b *builder) intact() {
	seen := map[string]bool{}
	apps := map[string]bool{}
	stack := append([]*arm.Object(nil), b.targets...)
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range b.env.Graph.DependsOn(o) {
			d := e.To
			k := d.ID.Key()
			if seen[k] || strings.HasPrefix(strings.ToLower(d.Type()), "microsoft.resources/") {
				continue
			}
			seen[k] = true
			if b.targetSet[k] {
				continue
			}
			if b.deleted[k] {
				continue
			}
			if arm.ComponentOf(d.Type()) == arm.ComponentNone && !arm.TopLevel(d) {
				continue
			}
			b.pb.Intact = append(b.pb.Intact, ref(d))
			if a, _, ok := b.env.Members.Of(d.ID); ok && b.pb.Scope.App != "" && a != b.pb.Scope.App {
				apps[a] = true
			}
		}
	}
	sort.Slice(b.pb.Intact, func(i, j int) bool { return b.pb.Intact[i].ID < b.pb.Intact[j].ID })
	var used []string
	for a := range apps {
		used = append(used, a)
	}
	sort.Strings(used)
	for _, a := range used {
		if !contains(b.pb.DependsOnApps, a) {
			b.warn("dependency", fmt.Sprintf("resources of %s reference %s, which apps.yaml does not list in dependsOn", b.pb.Scope.App, a))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// add registers a step for the resources it restores (or records lost).
func (b *builder) add(s *Step, objs ...*arm.Object) *Step {
	s.Resources = []Ref{}
	s.rank = -1
	for _, o := range objs {
		s.Resources = append(s.Resources, ref(o))
		s.keys = append(s.keys, o.ID.Key())
		if _, ok := b.covered[o.ID.Key()]; !ok {
			b.covered[o.ID.Key()] = s
		}
		if r, ok := b.rank[o.ID.Key()]; ok && (s.rank < 0 || r < s.rank) {
			s.rank = r
		}
		if s.Component == "" {
			s.Component = component(o)
		}
		if a, _, ok := b.env.Members.Of(o.ID); ok && (s.Phase != Contain && s.Phase != Verify) {
			b.appRes[a]++
		}
	}
	if s.Commands == nil {
		s.Commands = []string{}
	}
	if s.REST == nil {
		s.REST = []arm.Request{}
	}
	b.steps = append(b.steps, s)
	return s
}

func (b *builder) requires(s *Step, before ...*Step) {
	for _, t := range before {
		if t != nil && t != s {
			b.after[s] = append(b.after[s], t)
		}
	}
}

// lose records a resource no step can bring back, with a step that says so.
func (b *builder) lose(o *arm.Object, phase Phase, what, reason string, extra ...*arm.Object) *Step {
	since := time.Time{}
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok {
		since = r.Last
	}
	s := b.add(&Step{Phase: phase, Action: "declare-lost", Lost: true, Manual: true, Activity: "identify-steps", Minutes: minDeclareLost,
		Title: "LOST: " + o.Name() + " cannot be recovered",
		Detail: fmt.Sprintf("%s is gone for good: %s. Lost: %s. Tell the owner%s; rebuild it empty only if the service needs it to run.",
			o.Name(), reason, what, b.ownerOf(o))}, append([]*arm.Object{o}, extra...)...)
	for _, x := range append([]*arm.Object{o}, extra...) {
		b.lostKeys[x.ID.Key()] = true
		b.pb.Lost = append(b.pb.Lost, Lost{Resource: ref(x), What: what, Since: since, Reason: reason})
	}
	return s
}

func (b *builder) ownerOf(o *arm.Object) string {
	if a, ok := b.env.Members.App(o.ID); ok && a.Owner != "" {
		return " (" + a.Owner + ")"
	}
	return ""
}

// finish orders the steps, numbers them, and computes the critical path, RTO and RPO warnings.
func (b *builder) finish() {
	b.lostReferences()
	steps := b.steps
	idx := map[*Step]int{}
	for i, s := range steps {
		idx[s] = i
	}
	// Requirements from the dependency graph: a step waits for the steps restoring what its
	// resources depend on, as long as those come earlier in restore order (which is how a cycle
	// is broken at its configuration-based member).
	for _, s := range steps {
		if s.Phase == Contain || s.Phase == Verify || s.Lost {
			continue
		}
		// Follow dependencies through resources no step touches (intact ones: a disk encryption
		// set between a VM and its Key Vault) to the nearest restored ones.
		visited := map[string]bool{}
		var stack []*arm.Object
		for _, k := range s.keys {
			if o, ok := b.env.Index.Get(k); ok {
				stack = append(stack, o)
				visited[k] = true
			}
		}
		for len(stack) > 0 {
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, e := range b.env.Graph.DependsOn(o) {
				k := e.To.ID.Key()
				if visited[k] || strings.HasPrefix(e.Why, "app dependsOn") {
					continue // application-level edges say "up first", not "restore first"
				}
				visited[k] = true
				t, ok := b.covered[k]
				if !ok || t == s {
					if !strings.HasPrefix(strings.ToLower(e.To.Type()), "microsoft.resources/") {
						stack = append(stack, e.To)
					}
					continue
				}
				if t.Lost || t.Phase == Contain || t.Phase == Verify {
					continue
				}
				if c, ok := b.cycleOf[k]; ok && c == b.cycleOfStep(s) && t.rank > s.rank {
					continue // a cycle is broken at its member restored first
				}
				b.after[s] = append(b.after[s], t)
			}
		}
	}
	// Kahn's algorithm, taking the ready step of the earliest phase, then restore order.
	indeg := map[*Step]int{}
	dependents := map[*Step][]*Step{}
	for _, s := range steps {
		seen := map[*Step]bool{}
		for _, t := range b.after[s] {
			if !seen[t] {
				seen[t] = true
				indeg[s]++
				dependents[t] = append(dependents[t], s)
			}
		}
	}
	less := func(x, y *Step) bool {
		if x.Phase.Rank() != y.Phase.Rank() {
			return x.Phase.Rank() < y.Phase.Rank()
		}
		if x.rank != y.rank {
			return x.rank < y.rank
		}
		return idx[x] < idx[y]
	}
	ready := &stepHeap{less: less}
	var out []*Step
	for _, s := range steps {
		if indeg[s] == 0 {
			heap.Push(ready, s)
		}
	}
	for len(out) < len(steps) {
		if ready.Len() == 0 {
			// A cycle through resources outside the restore set: start the blocked step that is
			// configuration-based (else earliest) without its remaining requirements.
			var pick *Step
			for _, s := range steps {
				if indeg[s] > 0 && (pick == nil || (s.Component == "D") != (pick.Component == "D") && s.Component == "D" ||
					(s.Component == "D") == (pick.Component == "D") && less(s, pick)) {
					pick = s
				}
			}
			indeg[pick] = 0
			heap.Push(ready, pick)
			b.warn("cycle", "steps for "+pick.Resources[0].Name+" and what it depends on wait for each other: "+pick.Resources[0].Name+" is restored first, its references completed afterwards")
		}
		s := heap.Pop(ready).(*Step)
		out = append(out, s)
		for _, d := range dependents[s] {
			if indeg[d] > 0 {
				if indeg[d]--; indeg[d] == 0 {
					heap.Push(ready, d)
				}
			}
		}
	}
	for i, s := range out {
		s.ID = fmt.Sprintf("S%02d", i+1)
	}
	for _, s := range out {
		set := map[string]bool{}
		s.Requires = []string{}
		for _, t := range b.after[s] {
			if !set[t.ID] {
				set[t.ID] = true
				s.Requires = append(s.Requires, t.ID)
			}
		}
		sort.Strings(s.Requires)
	}
	b.pb.Steps = out
	b.pb.Reference = b.ref
	for i := range b.pb.Lost {
		if s, ok := b.covered[strings.ToLower(b.pb.Lost[i].Resource.ID)]; ok {
			b.pb.Lost[i].Step = s.ID
		} else if o, ok := b.env.Index.Get(b.pb.Lost[i].Resource.ID); ok {
			if s, ok := b.covered[o.ID.Key()]; ok {
				b.pb.Lost[i].Step = s.ID
			}
		}
	}
	b.criticalPath()
	b.objectives()
	b.summary()
	b.pb.ID = "PB-" + shortHash(b.pb.Scope.Kind+"/"+b.pb.Scope.App+b.pb.Scope.Incident)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// criticalPath: Contain steps run in parallel before anything else; Verify steps run after
// everything else; in between a step starts when the steps it requires have finished.
func (b *builder) criticalPath() {
	finish := map[string]int{}
	pred := map[string]string{}
	byID := map[string]*Step{}
	containEnd, containLast := 0, ""
	middleEnd, middleLast := 0, ""
	for _, s := range b.pb.Steps {
		byID[s.ID] = s
		start, from := 0, ""
		switch s.Phase {
		case Contain:
		case Verify:
			start, from = middleEnd, middleLast
			if start < containEnd {
				start, from = containEnd, containLast
			}
		default:
			start, from = containEnd, containLast
		}
		for _, r := range s.Requires {
			if finish[r] > start {
				start, from = finish[r], r
			}
		}
		finish[s.ID] = start + s.Minutes
		pred[s.ID] = from
		switch s.Phase {
		case Contain:
			if finish[s.ID] > containEnd {
				containEnd, containLast = finish[s.ID], s.ID
			}
		case Verify:
		default:
			if finish[s.ID] > middleEnd {
				middleEnd, middleLast = finish[s.ID], s.ID
			}
		}
	}
	end, last := 0, ""
	for _, s := range b.pb.Steps {
		if finish[s.ID] > end {
			end, last = finish[s.ID], s.ID
		}
	}
	var path []string
	for id := last; id != ""; id = pred[id] {
		path = append([]string{id}, path...)
	}
	b.pb.CriticalPath = CriticalPath{Minutes: end, Steps: path}
	if path == nil {
		b.pb.CriticalPath.Steps = []string{}
	}
}

// objectives compares the critical path with each restored application's RTO and each restore's
// data loss with its RPO.
func (b *builder) objectives() {
	names := make([]string, 0, len(b.appRes))
	for n := range b.appRes {
		names = append(names, n)
	}
	sort.Strings(names)
	tightest := 0
	var exceeded []string
	for _, n := range names {
		r := AppRef{Name: n, Resources: b.appRes[n]}
		if a, ok := b.env.Apps.Find(n); ok {
			r.Name, r.Owner, r.Critical, r.IaC = a.Name, a.Owner, a.Critical, a.IaC
			if a.RTO.Duration > 0 {
				r.RTO = Duration(minutes(a.RTO.Duration))
				rto := minutes(a.RTO.Duration)
				if tightest == 0 || rto < tightest {
					tightest = rto
				}
				if b.pb.CriticalPath.Minutes > rto {
					exceeded = append(exceeded, fmt.Sprintf("%s (RTO %s)", a.Name, r.RTO))
				}
			}
			if a.RPO.Duration > 0 {
				r.RPO = Duration(minutes(a.RPO.Duration))
			}
		}
		b.pb.Apps = append(b.pb.Apps, r)
	}
	b.pb.Summary.RTOMinutes = tightest
	if len(exceeded) > 0 {
		b.warn("rto", fmt.Sprintf("the critical path takes %s (%s), longer than the recovery time objective of %s",
			Duration(b.pb.CriticalPath.Minutes), strings.Join(b.pb.CriticalPath.Steps, " → "), strings.Join(exceeded, ", ")))
	}
	for _, s := range b.pb.Steps {
		if s.DataLoss == "" || len(s.keys) == 0 {
			continue
		}
		o, ok := b.env.Index.Get(s.keys[0])
		if !ok {
			continue
		}
		a, ok := b.env.Members.App(o.ID)
		if !ok || a.RPO.Duration <= 0 {
			continue
		}
		loss := s.dataLoss
		if loss > a.RPO.Duration {
			b.warn("rpo", fmt.Sprintf("%s (%s): restoring %s loses %s of data, more than %s's recovery point objective of %s",
				s.ID, s.Path, o.Name(), Duration(minutes(loss)), a.Name, Duration(minutes(a.RPO.Duration))))
		}
	}
}

func (b *builder) summary() {
	sm := &b.pb.Summary
	sm.Steps = len(b.pb.Steps)
	restored := map[string]bool{}
	for _, s := range b.pb.Steps {
		if s.Manual {
			sm.Manual++
		}
		if s.Weak {
			sm.Weak++
		}
		if s.Path != "" && !s.Lost {
			for _, k := range s.keys {
				restored[k] = true
			}
		}
	}
	sm.Restored = len(restored)
	sm.Lost = len(b.pb.Lost)
	sm.Minutes = b.pb.CriticalPath.Minutes
	if names := b.pb.LostSummary(); len(names) > 0 {
		b.warn("lost", fmt.Sprintf("%d %s cannot be recovered: %s", len(names), plural(len(names), "loss", "losses"), strings.Join(names, "; ")))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// appOf returns the apps.yaml entry of a resource.
func (b *builder) appOf(o *arm.Object) (*apps.App, bool) { return b.env.Members.App(o.ID) }

// cycleOfStep is the dependency cycle of a step's first resource, or -1.
func (b *builder) cycleOfStep(s *Step) int {
	for _, k := range s.keys {
		if c, ok := b.cycleOf[k]; ok {
			return c
		}
	}
	return -1
}

// lostReferences: a definition rebuilt from the snapshot that points at a resource that is lost
// (a vault's customer-managed key in a purged Key Vault) would fail to deploy, or deploy broken.
func (b *builder) lostReferences() {
	type lostRef struct{ needle, name string }
	var refs []lostRef
	for _, l := range b.pb.Lost {
		if l.Resource.Type == "Microsoft.KeyVault/vaults" {
			refs = append(refs, lostRef{strings.ToLower(l.Resource.Name) + ".vault.azure.net", l.Resource.Name})
		}
		refs = append(refs, lostRef{strings.ToLower(l.Resource.ID) + "\"", l.Resource.Name})
	}
	for _, s := range b.steps {
		if s.Body == nil || s.Lost {
			continue
		}
		data, err := json.Marshal(s.Body)
		if err != nil {
			continue
		}
		body := strings.ToLower(string(data))
		var names []string
		for _, r := range refs {
			if strings.Contains(body, r.needle) && !contains(names, r.name) {
				names = append(names, r.name)
			}
		}
		if len(names) > 0 {
			s.Detail += " Its definition refers to " + strings.Join(names, ", ") + ", which cannot be recovered: point it at a replacement before deploying."
		}
	}
}

// LostSummary names each loss once, "name (what)": a VM's disks and NIC lost with it are not
// repeated.
func (p *Playbook) LostSummary() []string {
	var names []string
	for i, l := range p.Lost {
		if i > 0 && l.Step != "" && l.Step == p.Lost[i-1].Step && l.What == p.Lost[i-1].What {
			continue
		}
		names = append(names, l.Resource.Name+" ("+l.What+")")
	}
	return names
}

// stepHeap is the ready set of the step ordering: the earliest phase, then restore order.
type stepHeap struct {
	s    []*Step
	less func(a, b *Step) bool
}

func (h *stepHeap) Len() int           { return len(h.s) }
func (h *stepHeap) Less(i, j int) bool { return h.less(h.s[i], h.s[j]) }
func (h *stepHeap) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *stepHeap) Push(x any)         { h.s = append(h.s, x.(*Step)) }
func (h *stepHeap) Pop() any {
	x := h.s[len(h.s)-1]
	h.s = h.s[:len(h.s)-1]
	return x
}
