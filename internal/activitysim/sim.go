// Package activitysim generates a realistic Activity Log for measuring detection precision: a
// benign estate at work (operators with their habits, automation schedules, CI pipelines, platform
// services) with attacks of known shape mixed in, and the ground truth to score a run against.
//
// Events are written in the diagnostic-settings export format (JSON lines, as the storage export
// and Event Hubs deliver them), in the shape of the Contoso demo's export: upper-case resourceId and
// operationName, identity.authorization and identity.claims, properties holding requestbody on
// Start and statusCode on the later events. The generator is deterministic for a seed.
package activitysim

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options shape a generated log.
type Options struct {
	Start   time.Time // the first day (its midnight UTC); default 2026-11-01
	Days    int       // default 30
	Scale   float64   // 1 ≈ 70,000 events a day (a 30-day month ≈ 2.1 million); default 1
	Seed    uint64
	Attacks []string // names from AttackNames to mix in (nil: none)
}

// Truth is what a generated log holds, to score a detection run against.
type Truth struct {
	Events  int
	Start   time.Time
	Days    int
	Attacks []Attack
	// Expected counts, per rule name, the benign operations that a built-in detection rule is
	// meant to alert on (deletes, deallocations, snapshot deletes …): a run's alerts of these rules
	// outside the attacks must match them.
	Expected map[string]int
}

// Attack is one attack in the log: who an incident should name, when, and the stages it reaches.
type Attack struct {
	Name        string
	Description string
	Actor       string // the accountable actor: the caller that started it
	From, To    time.Time
	Stages      []string
}

// AttackNames lists the attacks Generate can mix in.
var AttackNames = []string{"kill-chain", "cmk-ransomware", "slow", "insider", "managed-identity"}

const (
	tenant = "9f1c5d3e-8a7b-4c2d-9e1f-0a1b2c3d4e5f"
	msPIM  = "01fc33a7-78ba-4d2f-a4b7-768e336e890e"
	// Built-in role definition IDs.
	roleOwner       = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	roleContributor = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	roleReader      = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
)

var subs = []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"}

// identity is a caller.
type identity struct {
	upn, name, oid, appid string
	app                   bool // a service principal or managed identity
	ip                    string
	role                  string // the role its evidence names
}

func (id identity) caller() string {
	if id.app {
		return id.appid
	}
	return id.upn
}

// event is one Activity Log record before it is written.
type event struct {
	at        time.Time
	op        string // as documented: Microsoft.Compute/virtualMachines/delete
	status    string // Start, Accept, Success, Failure
	sig       string
	resource  string
	corr      string
	who       *identity
	category  string
	reqBody   string
	statusMsg string
	code      string
}

type gen struct {
	o     Options
	rnd   *rand.Rand
	day   []event
	truth *Truth
	n     int
	seq   uint64
	w     *bufio.Writer
	buf   []byte
	// creating: the operation being written creates its resource
	creating bool
	// the estate
	vms, devVMs, testVMs, storage, vaults, kvs, dbs, snaps []string
	operators                                              []*identity
	nightlyDev, nightlyTest, snapshotter, policy           *identity
	pipelines, functions                                   []*identity
}

// Generate writes the log to w and returns what it holds.
func Generate(w io.Writer, o Options) (*Truth, error) {
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	if o.Days <= 0 {
		o.Days = 30
	}
	if o.Scale <= 0 {
		o.Scale = 1
	}
	for _, a := range o.Attacks {
		if !known(a) {
			return nil, fmt.Errorf("attack %q: not one of %s", a, strings.Join(AttackNames, ", "))
		}
	}
	g := &gen{o: o, rnd: rand.New(rand.NewPCG(o.Seed, 0x5eed)), truth: &Truth{Start: o.Start, Days: o.Days, Expected: map[string]int{}},
		w: bufio.NewWriterSize(w, 1<<20)}
	g.estate()
	for d := 0; d < o.Days; d++ {
		day := o.Start.AddDate(0, 0, d)
		g.benignDay(day)
		g.attacksOn(d, day)
		if err := g.flushDay(); err != nil {
			return nil, err
		}
	}
	g.truth.Events = g.n
	return g.truth, g.w.Flush()
}

func known(a string) bool {
	for _, n := range AttackNames {
		if n == a {
			return true
		}
	}
	return false
}

func (g *gen) uuid() string {
	g.seq++
	a, b := g.rnd.Uint64(), g.rnd.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(a), uint16(a>>32), uint16(a>>48)&0xfff, uint16(b)&0xfff, (b>>16)&0xffffffffffff)
}

func rg(sub, name string) string { return "/subscriptions/" + sub + "/resourceGroups/" + name }

func (g *gen) estate() {
	p := subs[0]
	for i := 0; i < 60; i++ {
		g.vms = append(g.vms, fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm-app%02d", rg(p, fmt.Sprintf("rg-app%02d", i%20)), i))
	}
	for i := 0; i < 45; i++ {
		g.devVMs = append(g.devVMs, fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm-dev%02d", rg(subs[1], "rg-dev"), i))
	}
	for i := 0; i < 28; i++ {
		g.testVMs = append(g.testVMs, fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm-test%02d", rg(subs[1], "rg-test"), i))
	}
	for i := 0; i < 40; i++ {
		g.storage = append(g.storage, fmt.Sprintf("%s/providers/Microsoft.Storage/storageAccounts/stapp%02d", rg(p, fmt.Sprintf("rg-app%02d", i%20)), i))
	}
	for i := 0; i < 4; i++ {
		g.vaults = append(g.vaults, fmt.Sprintf("%s/providers/Microsoft.RecoveryServices/vaults/rsv-prod%d", rg(p, "rg-recovery"), i))
	}
	for i := 0; i < 15; i++ {
		g.kvs = append(g.kvs, fmt.Sprintf("%s/providers/Microsoft.KeyVault/vaults/kv-app%02d", rg(p, fmt.Sprintf("rg-app%02d", i)), i))
	}
	for i := 0; i < 20; i++ {
		g.dbs = append(g.dbs, fmt.Sprintf("%s/providers/Microsoft.Sql/servers/sql-app%02d/databases/db%02d", rg(p, fmt.Sprintf("rg-app%02d", i)), i, i))
	}
	ip := func(i int) string { return fmt.Sprintf("192.0.2.%d", 10+i) }
	for i, n := range []string{"ana", "bram", "chen", "dora", "emil", "farah"} {
		g.operators = append(g.operators, &identity{upn: n + "@contoso.example", name: strings.ToUpper(n[:1]) + n[1:], oid: fmt.Sprintf("0be7a000-0000-4000-8000-%012d", i+1),
			appid: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", ip: ip(i), role: "Owner"})
	}
	sp := func(name string, i int, role string) *identity {
		return &identity{name: name, oid: fmt.Sprintf("5e7a0000-0000-4000-8000-%012d", i), appid: fmt.Sprintf("a9900000-0000-4000-8000-%012d", i), app: true,
			ip: fmt.Sprintf("10.1.0.%d", i), role: role}
	}
	g.nightlyDev, g.nightlyTest = sp("sp-nightly-dev", 1, "Virtual Machine Contributor"), sp("sp-nightly-test", 2, "Virtual Machine Contributor")
	g.snapshotter = sp("sp-snapshot-rotation", 3, "Contributor")
	g.policy = sp("policy-insights", 4, "Reader")
	for i, n := range []string{"sp-ci-web", "sp-ci-api", "sp-ci-data"} {
		g.pipelines = append(g.pipelines, sp(n, 10+i, "Owner"))
	}
	for i := 0; i < 20; i++ {
		g.functions = append(g.functions, sp(fmt.Sprintf("func-app%02d", i), 100+i, "Storage Account Contributor"))
	}
}

// op emits one operation: Start, then Accept for long-running ones, then Success or Failure.
func (g *gen) op(at time.Time, who *identity, op, resource, body string, accept bool, dur time.Duration) string {
	corr := g.uuid()
	g.opCorr(at, who, op, resource, body, accept, dur, corr, "")
	return corr
}

// create is op for a PUT that creates the resource: ARM answers 201, which the log records as
// resultSignature Succeeded.Created (an update is Succeeded.OK).
func (g *gen) create(at time.Time, who *identity, op, resource, body string, accept bool, dur time.Duration) string {
	g.creating = true
	defer func() { g.creating = false }()
	return g.op(at, who, op, resource, body, accept, dur)
}

func (g *gen) opCorr(at time.Time, who *identity, op, resource, body string, accept bool, dur time.Duration, corr, fail string) {
	g.add(event{at: at, op: op, status: "Start", sig: "Started.", resource: resource, corr: corr, who: who, reqBody: body})
	if accept {
		g.add(event{at: at.Add(300 * time.Millisecond), op: op, status: "Accept", sig: "Accepted.Accepted", resource: resource, corr: corr, who: who, code: "Accepted"})
	}
	end := event{at: at.Add(dur), op: op, status: "Success", sig: "Succeeded.OK", resource: resource, corr: corr, who: who, code: "OK"}
	if g.creating {
		end.sig, end.code = "Succeeded.Created", "Created"
	}
	if fail != "" {
		end.status, end.sig, end.code = "Failure", "Failed.Conflict", "Conflict"
		end.statusMsg = fmt.Sprintf(`{"error":{"code":"%s","message":"The scope '%s' cannot perform delete operation because following scope(s) are locked."}}`, fail, resource)
	}
	g.add(end)
}

func (g *gen) add(e event) {
	if e.category == "" {
		e.category = "Administrative"
	}
	g.day = append(g.day, e)
}

func (g *gen) expect(rule string) { g.truth.Expected[rule]++ }

// within returns a time in [from, from+span).
func (g *gen) within(from time.Time, span time.Duration) time.Time {
	return from.Add(time.Duration(g.rnd.Int64N(int64(span))))
}

func (g *gen) pick(xs []string) string { return xs[g.rnd.IntN(len(xs))] }

func (g *gen) count(n float64) int {
	n *= g.o.Scale
	c := int(n)
	if g.rnd.Float64() < n-float64(c) {
		c++
	}
	return c
}

func roleBody(id, principal, ptype, role, scope string) string {
	return fmt.Sprintf(`{"Id":"%s","Properties":{"PrincipalId":"%s","PrincipalType":"%s","RoleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","Scope":"%s","Condition":null,"ConditionVersion":null}}`,
		id, principal, ptype, scope, role, scope)
}

func (g *gen) benignDay(day time.Time) {
	weekday := day.Weekday() != time.Saturday && day.Weekday() != time.Sunday
	work := day.Add(8 * time.Hour)
	// Operators: PIM in the morning, changes through the day, now and then a deallocation, one
	// delete, a delete a lock refuses, a Reader grant, or a lock removed before a decommission.
	for i, op := range g.operators {
		if !weekday && g.rnd.Float64() > 0.15 {
			continue
		}
		start := g.within(work, 2*time.Hour)
		g.pimActivation(start, op, roleContributor)
		for j := g.count(30); j > 0; j-- {
			t := g.within(start, 8*time.Hour)
			r := g.pick(append(g.storage[:10:10], g.vms[:20]...))
			g.op(t, op, typeOf(r)+"/write", r, `{"tags":{"owner":"`+op.upn+`"}}`, false, 2*time.Second)
		}
		if g.rnd.Float64() < 0.3 {
			for k := 1 + g.rnd.IntN(3); k > 0; k-- {
				g.op(g.within(start, 8*time.Hour), op, "Microsoft.Compute/virtualMachines/deallocate/action", g.pick(g.vms), "", true, 90*time.Second)
				g.expect("des_vm_deallocated")
			}
		}
		r := g.rnd.Float64()
		switch {
		case r < 0.12: // a VM with its disk and NIC
			t := g.within(start.Add(time.Hour), 6*time.Hour)
			vm := fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm-old-%s-%s", rg(subs[0], "rg-sandbox"), op.name, day.Format("0102"))
			g.op(t, op, "Microsoft.Compute/virtualMachines/delete", vm, "", true, 40*time.Second)
			g.op(t.Add(2*time.Minute), op, "Microsoft.Compute/disks/delete", vm+"-osdisk", "", true, 10*time.Second)
			g.op(t.Add(3*time.Minute), op, "Microsoft.Network/networkInterfaces/delete", vm+"-nic", "", false, 5*time.Second)
			g.expect("des_compute_deleted")
			g.expect("des_compute_deleted")
		case r < 0.18: // a storage account
			st := fmt.Sprintf("%s/providers/Microsoft.Storage/storageAccounts/stold%d%s", rg(subs[0], "rg-sandbox"), i, day.Format("0102"))
			g.op(g.within(start, 7*time.Hour), op, "Microsoft.Storage/storageAccounts/delete", st, "", false, 3*time.Second)
			g.expect("des_storage_deleted")
		case r < 0.24: // a delete the lock refuses
			vm := g.pick(g.vms)
			g.opCorr(g.within(start, 7*time.Hour), op, "Microsoft.Compute/virtualMachines/delete", vm, "", false, time.Second, g.uuid(), "ScopeLocked")
		case r < 0.28: // a decommission: the lock removed, then the resource group deleted
			name := fmt.Sprintf("rg-retire-%s-%s", op.name, day.Format("0102"))
			t := g.within(start.Add(time.Hour), 5*time.Hour)
			g.op(t, op, "Microsoft.Authorization/locks/delete", rg(subs[0], name)+"/providers/Microsoft.Authorization/locks/no-delete", "", false, time.Second)
			g.expect("imp_lock_deleted")
			g.rgDelete(t.Add(10*time.Minute), op, subs[0], name, 3)
			g.expect("des_resource_group_deleted")
		case r < 0.32: // a Reader grant to a colleague
			other := g.operators[(i+1)%len(g.operators)]
			id := g.uuid()
			scope := rg(subs[0], "rg-app01")
			g.create(g.within(start, 7*time.Hour), op, "Microsoft.Authorization/roleAssignments/write", scope+"/providers/Microsoft.Authorization/roleAssignments/"+id,
				roleBody(id, other.oid, "User", roleReader, scope), false, 2*time.Second)
		}
	}
	// Automation: nightly stop of dev and test VMs on weekdays (and start in the morning).
	if weekday {
		g.schedule(day.Add(19*time.Hour), g.nightlyDev, g.devVMs, "deallocate")
		g.schedule(day.Add(20*time.Hour), g.nightlyTest, g.testVMs, "deallocate")
		g.schedule(day.Add(7*time.Hour), g.nightlyDev, g.devVMs, "start")
		g.schedule(day.Add(7*time.Hour+10*time.Minute), g.nightlyTest, g.testVMs, "start")
	}
	// Snapshot rotation: new snapshots at 01:00, the oldest deleted at 02:00.
	for k := 0; k < 8; k++ {
		snap := fmt.Sprintf("%s/providers/Microsoft.Compute/snapshots/snap-%s-%d", rg(subs[0], "rg-recovery"), day.Format("20060102"), k)
		g.create(g.within(day.Add(time.Hour), 20*time.Minute), g.snapshotter, "Microsoft.Compute/snapshots/write", snap, "", true, 30*time.Second)
		old := fmt.Sprintf("%s/providers/Microsoft.Compute/snapshots/snap-%s-%d", rg(subs[0], "rg-recovery"), day.AddDate(0, 0, -7).Format("20060102"), k)
		g.op(g.within(day.Add(2*time.Hour), 20*time.Minute), g.snapshotter, "Microsoft.Compute/snapshots/delete", old, "", true, 20*time.Second)
		g.expect("inh_snapshot_or_restore_point_deleted")
	}
	// CI pipelines: ephemeral resource groups created, deployed, deleted; a third purge their
	// soft-deleted Key Vault so the name can be reused.
	for _, p := range g.pipelines {
		runs := 8
		if !weekday {
			runs = 2
		}
		for run := 0; run < runs; run++ {
			t := g.within(day.Add(6*time.Hour), 14*time.Hour)
			name := fmt.Sprintf("rg-ci-%s-%s-%d", p.name[6:], day.Format("0102"), run)
			g.ciRun(t, p, name, run%3 == 0)
			g.expect("des_resource_group_deleted")
		}
	}
	// Platform noise: policy evaluations and storage key listing by function apps.
	for k := g.count(36000); k > 0; k-- {
		r := g.pick(g.storage)
		if k%3 == 0 {
			r = g.pick(g.vms)
		}
		e := event{at: g.within(day, 24*time.Hour), op: "Microsoft.Authorization/policies/audit/action", status: "Success", sig: "Succeeded.", resource: r,
			corr: g.uuid(), who: g.policy, category: "Policy"}
		g.add(e)
	}
	for k := g.count(12000); k > 0; k-- {
		f := g.functions[g.rnd.IntN(len(g.functions))]
		g.op(g.within(day, 24*time.Hour), f, "Microsoft.Storage/storageAccounts/listKeys/action", g.pick(g.storage), "", false, 200*time.Millisecond)
	}
	for k := g.count(3000); k > 0; k-- { // autoscale and deployment writes by the platform team's pipelines
		p := g.pipelines[g.rnd.IntN(len(g.pipelines))]
		g.create(g.within(day, 24*time.Hour), p, "Microsoft.Resources/deployments/write",
			rg(subs[0], fmt.Sprintf("rg-app%02d", g.rnd.IntN(20)))+"/providers/Microsoft.Resources/deployments/release-"+strconv.Itoa(g.rnd.IntN(1000)), "", true, 40*time.Second)
	}
}

// pimActivation: the user requests the activation, and PIM's application writes the assignment.
func (g *gen) pimActivation(at time.Time, who *identity, role string) {
	scope := "/subscriptions/" + subs[0]
	req := g.uuid()
	g.create(at, who, "Microsoft.Authorization/roleAssignmentScheduleRequests/write", scope+"/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/"+req,
		fmt.Sprintf(`{"properties":{"principalId":"%s","roleDefinitionId":"%s/providers/Microsoft.Authorization/roleDefinitions/%s","requestType":"SelfActivate","justification":"daily operations"}}`, who.oid, scope, role), false, 2*time.Second)
	pim := &identity{name: "MS-PIM", oid: "2a71ba9d-de5b-4f9a-a9df-73e68bc5ddcf", appid: msPIM, app: true, ip: "", role: "User Access Administrator"}
	id := g.uuid()
	g.create(at.Add(5*time.Second), pim, "Microsoft.Authorization/roleAssignments/write", scope+"/providers/Microsoft.Authorization/roleAssignments/"+id,
		roleBody(id, who.oid, "User", role, scope), false, 2*time.Second)
}

func (g *gen) schedule(at time.Time, who *identity, vms []string, action string) {
	n := len(vms) - g.rnd.IntN(len(vms)/10+1) // a few are already in the state
	for _, vm := range vms[:n] {
		g.op(g.within(at, 8*time.Minute), who, "Microsoft.Compute/virtualMachines/"+action+"/action", vm, "", true, 2*time.Minute)
		if action == "deallocate" {
			g.expect("des_vm_deallocated")
		}
	}
	if action == "deallocate" && n >= 10 {
		g.expect("corr_mass_deallocation")
	}
}

// rgDelete deletes a resource group and, with its correlation ID, the n resources in it.
func (g *gen) rgDelete(at time.Time, who *identity, sub, name string, n int) string {
	id := rg(sub, name)
	corr := g.op(at, who, "Microsoft.Resources/subscriptions/resourceGroups/delete", id, "", true, 4*time.Minute)
	for k := 0; k < n; k++ {
		child := fmt.Sprintf("%s/providers/Microsoft.Storage/storageAccounts/st%s%d", id, strings.ReplaceAll(name, "-", "")[2:], k)
		if k%2 == 1 {
			child = fmt.Sprintf("%s/providers/Microsoft.Web/sites/app-%s-%d", id, name, k)
		}
		g.add(event{at: at.Add(time.Duration(30+k) * time.Second), op: typeOf(child) + "/delete", status: "Success", sig: "Succeeded.OK", resource: child, corr: corr, who: who, code: "OK"})
	}
	return corr
}

func (g *gen) ciRun(at time.Time, p *identity, name string, purge bool) {
	id := rg(subs[1], name)
	g.create(at, p, "Microsoft.Resources/subscriptions/resourceGroups/write", id, `{"location":"westeurope"}`, false, time.Second)
	kv := fmt.Sprintf("%s/providers/Microsoft.KeyVault/vaults/kv-%s", id, name[6:])
	res := []string{id + "/providers/Microsoft.Storage/storageAccounts/st" + strings.ReplaceAll(name[6:], "-", ""), kv,
		id + "/providers/Microsoft.Web/sites/app-" + name, id + "/providers/Microsoft.Sql/servers/sql-" + name}
	for i, r := range res {
		g.create(at.Add(time.Duration(1+i)*time.Minute), p, typeOf(r)+"/write", r, `{"location":"westeurope"}`, true, 30*time.Second)
	}
	end := at.Add(time.Duration(20+g.rnd.IntN(70)) * time.Minute)
	corr := g.op(end, p, "Microsoft.Resources/subscriptions/resourceGroups/delete", id, "", true, 5*time.Minute)
	for i, r := range res {
		g.add(event{at: end.Add(time.Duration(40+i) * time.Second), op: typeOf(r) + "/delete", status: "Success", sig: "Succeeded.OK", resource: r, corr: corr, who: p, code: "OK"})
	}
	if purge {
		g.op(end.Add(7*time.Minute), p, "Microsoft.KeyVault/locations/deletedVaults/purge/action",
			"/subscriptions/"+subs[1]+"/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-"+name[6:], "", true, time.Minute)
		g.expect("inh_key_vault_purged")
	}
}

// typeOf returns the provider and type path of a resource ID: Microsoft.Compute/virtualMachines,
// Microsoft.Sql/servers/databases.
func typeOf(id string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if strings.EqualFold(parts[i], "providers") {
			out := parts[i+1]
			for j := i + 2; j < len(parts); j += 2 {
				out += "/" + parts[j]
			}
			return out
		}
	}
	return "Microsoft.Resources/subscriptions/resourceGroups"
}

func (g *gen) flushDay() error {
	sort.SliceStable(g.day, func(i, j int) bool { return g.day[i].at.Before(g.day[j].at) })
	for i := range g.day {
		g.buf = g.line(g.buf[:0], &g.day[i])
		if _, err := g.w.Write(g.buf); err != nil {
			return err
		}
		g.n++
	}
	g.day = g.day[:0]
	return nil
}

// line writes one event as a diagnostic-export line.
func (g *gen) line(b []byte, e *event) []byte {
	q := strconv.AppendQuote
	b = append(b, `{"time":`...)
	b = q(b, e.at.UTC().Format("2006-01-02T15:04:05.0000000Z"))
	b = append(b, `,"resourceId":`...)
	b = q(b, strings.ToUpper(e.resource))
	b = append(b, `,"operationName":`...)
	b = q(b, strings.ToUpper(e.op))
	b = append(b, `,"category":`...)
	b = q(b, e.category)
	b = append(b, `,"resultType":`...)
	b = q(b, e.status)
	b = append(b, `,"resultSignature":`...)
	b = q(b, e.sig)
	b = append(b, `,"durationMs":0`...)
	if e.who.ip != "" {
		b = append(b, `,"callerIpAddress":`...)
		b = q(b, e.who.ip)
	}
	b = append(b, `,"correlationId":`...)
	b = q(b, e.corr)
	b = append(b, `,"identity":{"authorization":{"action":`...)
	b = q(b, e.op)
	b = append(b, `,"scope":`...)
	b = q(b, e.resource)
	b = append(b, `,"evidence":{"role":`...)
	b = q(b, e.who.role)
	b = append(b, `,"principalId":`...)
	b = q(b, strings.ReplaceAll(e.who.oid, "-", ""))
	ptype := "User"
	if e.who.app {
		ptype = "ServicePrincipal"
	}
	b = append(b, `,"principalType":`...)
	b = q(b, ptype)
	b = append(b, `}},"claims":{"aud":"https://management.core.windows.net/","http://schemas.microsoft.com/identity/claims/tenantid":"`+tenant+`","http://schemas.microsoft.com/identity/claims/objectidentifier":`...)
	b = q(b, e.who.oid)
	if !e.who.app {
		b = append(b, `,"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":`...)
		b = q(b, e.who.upn)
		b = append(b, `,"name":`...)
		b = q(b, e.who.name)
	} else {
		b = append(b, `,"idtyp":"app","appidacr":"2"`...)
	}
	b = append(b, `,"appid":`...)
	b = q(b, e.who.appid)
	b = append(b, `}},"level":`...)
	level := "Information"
	if e.status == "Failure" {
		level = "Error"
	}
	b = q(b, level)
	b = append(b, `,"location":"global","properties":{"eventCategory":`...)
	b = q(b, e.category)
	b = append(b, `,"entity":`...)
	b = q(b, e.resource)
	b = append(b, `,"message":`...)
	b = q(b, e.op)
	b = append(b, `,"hierarchy":"`+tenant+`/mg-contoso-landingzones/`...)
	b = append(b, subOf(e.resource)...)
	b = append(b, '"')
	if e.reqBody != "" {
		b = append(b, `,"requestbody":`...)
		b = q(b, e.reqBody)
	}
	if e.code != "" {
		b = append(b, `,"statusCode":`...)
		b = q(b, e.code)
		b = append(b, `,"serviceRequestId":`...)
		b = q(b, e.corr)
	}
	if e.statusMsg != "" {
		b = append(b, `,"statusMessage":`...)
		b = q(b, e.statusMsg)
	}
	return append(b, "}}\n"...)
}

func subOf(id string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	if len(parts) > 1 && strings.EqualFold(parts[0], "subscriptions") {
		return parts[1]
	}
	return ""
}
