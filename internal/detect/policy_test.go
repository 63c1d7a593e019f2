package detect

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/activitysim"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
)

// diag writes one diagnostic-export line in the demo's shape (upper-case IDs, claims of a service
// principal); status is Start, Accept, Success or Failure.
func diag(b *bytes.Buffer, at time.Time, op, resource, status, corr, app string) {
	sig := map[string]string{"Start": "Started.", "Accept": "Accepted.Accepted", "Success": "Succeeded.OK", "Failure": "Failed.Conflict"}[status]
	fmt.Fprintf(b, `{"time":%q,"resourceId":%q,"operationName":%q,"category":"Administrative","resultType":%q,"resultSignature":%q,"correlationId":%q,`+
		`"identity":{"claims":{"http://schemas.microsoft.com/identity/claims/objectidentifier":"%s","appid":%q,"idtyp":"app"}},"level":"Information",`+
		`"properties":{"eventCategory":"Administrative","entity":%q}}`+"\n",
		at.UTC().Format("2006-01-02T15:04:05.0000000Z"), strings.ToUpper(resource), strings.ToUpper(op), status, sig, corr, "0b1d0000-0000-4000-8000-"+app[len(app)-12:], app, resource)
}

func run(t *testing.T, opts Options, log []byte) Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "PT1H.json")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		t.Fatal(err)
	}
	return detect(t, opts, readAll(t, path))
}

const automation = "a9900000-0000-4000-8000-00000000ab01"

// deallocations writes n VM deallocations by the automation principal from at on.
func deallocations(b *bytes.Buffer, at time.Time, n int, day string) {
	for i := 0; i < n; i++ {
		vm := fmt.Sprintf("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm%03d", i)
		corr := fmt.Sprintf("d0000000-0000-4000-8000-%s%06d", day, i)
		t := at.Add(time.Duration(i) * 5 * time.Second)
		diag(b, t, "Microsoft.Compute/virtualMachines/deallocate/action", vm, "Start", corr, automation)
		diag(b, t.Add(time.Second), "Microsoft.Compute/virtualMachines/deallocate/action", vm, "Accept", corr, automation)
		diag(b, t.Add(time.Minute), "Microsoft.Compute/virtualMachines/deallocate/action", vm, "Success", corr, automation)
	}
}

func incidentsBy(res Result, actor string) []*Incident {
	var out []*Incident
	for _, inc := range res.Incidents {
		if strings.EqualFold(inc.Actor, actor) {
			out = append(out, inc)
		}
	}
	return out
}

// TestMassDeallocationIsContext: nightly stops of the same size are alerts; the same stop followed
// by a delete within the window opens an incident; a night three times the busiest before opens
// one; so does a first-ever stop of 25 VMs when the log holds earlier days.
func TestMassDeallocationIsContext(t *testing.T) {
	day := time.Date(2026, 11, 2, 19, 0, 0, 0, time.UTC)
	night := func(b *bytes.Buffer, d, n int) {
		deallocations(b, day.AddDate(0, 0, d), n, fmt.Sprintf("%06d", d))
	}
	var quiet bytes.Buffer // four nights of 40
	for d := 0; d < 4; d++ {
		night(&quiet, d, 40)
	}
	res := run(t, builtin(t), quiet.Bytes())
	if n := len(res.Incidents); n != 0 {
		t.Errorf("routine nights: %d incidents: %v", n, res.Incidents[0].OpenedBy)
	}
	mass := 0
	for _, a := range res.Alerts {
		if a.Rule.Name == "corr_mass_deallocation" {
			mass++
		}
	}
	if mass != 4 {
		t.Errorf("%d mass-deallocation alerts, want one a night", mass)
	}

	with := bytes.NewBuffer(append([]byte(nil), quiet.Bytes()...)) // the last night, then a delete
	del := day.AddDate(0, 0, 3).Add(2 * time.Hour)
	vm := "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm001"
	diag(with, del, "Microsoft.Compute/virtualMachines/delete", vm, "Start", "e0000000-0000-4000-8000-000000000001", automation)
	diag(with, del.Add(time.Minute), "Microsoft.Compute/virtualMachines/delete", vm, "Success", "e0000000-0000-4000-8000-000000000001", automation)
	res = run(t, builtin(t), with.Bytes())
	if incs := incidentsBy(res, automation); len(incs) != 1 || !strings.Contains(strings.Join(incs[0].OpenedBy, ";"), "with des_compute_deleted") {
		t.Errorf("deallocate then delete: %d incidents %+v", len(incs), incs)
	}

	var surge bytes.Buffer
	for d := 0; d < 3; d++ {
		night(&surge, d, 40)
	}
	night(&surge, 3, 130)
	res = run(t, builtin(t), surge.Bytes())
	if incs := incidentsBy(res, automation); len(incs) != 1 || !strings.Contains(strings.Join(incs[0].OpenedBy, ";"), "busiest earlier day (40)") {
		t.Errorf("a night of 130 after nights of 40: %+v", incs)
	}

	// First time: a log that holds an earlier day (another principal's event) and then a stop of 30.
	var first bytes.Buffer
	diag(&first, day.AddDate(0, 0, -2), "Microsoft.Resources/tags/write", "/subscriptions/11111111-1111-4111-8111-111111111111", "Success", "f0000000-0000-4000-8000-000000000001", "a9900000-0000-4000-8000-00000000ab02")
	night(&first, 0, 30)
	res = run(t, builtin(t), first.Bytes())
	if incs := incidentsBy(res, automation); len(incs) != 1 || !strings.Contains(strings.Join(incs[0].OpenedBy, ";"), "no earlier day") {
		t.Errorf("a first stop of 30: %+v", incs)
	}
	// The same stop in a log that starts that day has no history: an alert, not an incident.
	var fresh bytes.Buffer
	night(&fresh, 0, 30)
	if res := run(t, builtin(t), fresh.Bytes()); len(res.Incidents) != 0 {
		t.Errorf("no history: %d incidents", len(res.Incidents))
	}
	// bulwark.yaml raises firstTime above it.
	opts := builtin(t)
	opts.Context.FirstTime = 50
	if res := run(t, opts, first.Bytes()); len(res.Incidents) != 0 {
		t.Errorf("firstTime 50: %d incidents", len(res.Incidents))
	}
}

// TestSuppressions: a suppression in force marks the alerts it matches, which then open and join
// no incident and are counted; an expired one suppresses nothing and says so.
func TestSuppressions(t *testing.T) {
	parse := func(y string) []config.Suppression {
		t.Helper()
		c, err := config.Parse(strings.NewReader(y))
		if err != nil {
			t.Fatal(err)
		}
		return c.Detection.Suppress
	}
	sp := "7f3a1111-aaaa-4bbb-8ccc-000000000fff" // the demo's granted service principal
	opts := builtin(t)
	opts.Now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	opts.Suppress = parse(`detection:
  suppress:
    - rule: imp_lock_deleted
      appId: ` + sp + `
      reason: lock rotation by the maintenance principal (CHG-1)
      expires: 2027-01-31
    - rule: des_vm_deallocated
      reason: nightly schedule
      expires: 2026-11-30
    - scope: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-nothing
      reason: matches nothing
      expires: 2027-01-31
`)
	res := detect(t, opts, readAll(t, formats["rest"]))
	if len(res.Suppressions) != 3 {
		t.Fatalf("suppressions %+v", res.Suppressions)
	}
	locks := res.Suppressions[0]
	if locks.Alerts != 5 || locks.Expired || locks.Line != 3 {
		t.Errorf("lock suppression: %+v", locks)
	}
	if s := res.Suppressions[1]; !s.Expired || s.Alerts != 0 {
		t.Errorf("expired suppression: %+v", s)
	}
	if s := res.Suppressions[2]; s.Alerts != 0 || s.Expired {
		t.Errorf("scope suppression: %+v", s)
	}
	if len(res.Incidents) != 1 {
		t.Fatalf("%d incidents", len(res.Incidents))
	}
	inc := res.Incidents[0]
	in := map[string]bool{}
	for _, id := range inc.Alerts {
		in[id] = true
	}
	n := 0
	for _, a := range res.Alerts {
		if a.Rule.Name == "imp_lock_deleted" {
			n++
			if a.Suppressed == nil || a.Suppressed.Line != 3 || in[a.ID] || a.Incident != "" {
				t.Errorf("lock alert %s: suppressed %+v, in incident %v", a.ID, a.Suppressed, in[a.ID])
			}
		}
		if a.Rule.Name == "des_vm_deallocated" && a.Suppressed != nil {
			t.Errorf("an expired suppression suppressed %s", a.ID)
		}
	}
	if n != 5 {
		t.Errorf("%d lock alerts listed, want all 5 (suppressed, not dropped)", n)
	}
	for _, s := range inc.Stages {
		if s == "impairment" {
			t.Errorf("the incident still has the suppressed impairment stage: %v", inc.Stages)
		}
	}
}

// TestSuppressionErrors: bulwark.yaml mistakes name their line.
func TestSuppressionErrors(t *testing.T) {
	for y, want := range map[string]string{
		"detection:\n  suppress:\n    - rule: x\n      reason: r\n      expires: 2027-01-01\n      callr: bob\n": `line 6: unknown setting "callr" in a suppression`,
		"detection:\n  suppress:\n    - rule: x\n      expires: 2027-01-01\n":                                    "line 3: reason is required",
		"detection:\n  suppress:\n    - reason: r\n      expires: 2027-01-01\n":                                  "line 3: give rule, caller, appId, principalId or scope",
		"detection:\n  suppress:\n    - rule: x\n      reason: r\n":                                              "line 3: expires is required",
		"detection:\n  suppress:\n    - rule: x\n      reason: r\n      expires: soon\n":                         `expires "soon" is not a date`,
		"detection:\n  context:\n    windw: 2h\n":                                                                "windw",
	} {
		_, err := config.Parse(strings.NewReader(y))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", y, err, want)
		}
	}
}

// TestChurnIsNoIncident: a pipeline that creates a resource group and a Key Vault, deletes the group
// and purges the vault raises alerts marked churn and no incident; the same purge of a vault it
// did not create opens one.
func TestChurnIsNoIncident(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	sub := "/subscriptions/22222222-2222-4222-8222-222222222222"
	rgID := sub + "/resourceGroups/rg-ci-1"
	kv := rgID + "/providers/Microsoft.KeyVault/vaults/kv-ci-1"
	created := func(t time.Time, op, id, corr string) {
		diag(&b, t, op, id, "Start", corr, automation)
		diag(&b, t.Add(time.Second), op, id, "Success", corr, automation)
		b.Truncate(b.Len() - 1)
		line := b.Bytes()
		i := bytes.LastIndexByte(line, '\n')
		fixed := bytes.Replace(line[i+1:], []byte(`"Succeeded.OK"`), []byte(`"Succeeded.Created"`), 1) // a 201: the PUT created it
		b.Truncate(i + 1)
		b.Write(fixed)
		b.WriteByte('\n')
	}
	created(at, "Microsoft.Resources/subscriptions/resourceGroups/write", rgID, "c0000000-0000-4000-8000-000000000001")
	created(at.Add(time.Minute), "Microsoft.KeyVault/vaults/write", kv, "c0000000-0000-4000-8000-000000000002")
	diag(&b, at.Add(30*time.Minute), "Microsoft.Resources/subscriptions/resourceGroups/delete", rgID, "Start", "c0000000-0000-4000-8000-000000000003", automation)
	diag(&b, at.Add(31*time.Minute), "Microsoft.Resources/subscriptions/resourceGroups/delete", rgID, "Success", "c0000000-0000-4000-8000-000000000003", automation)
	purge := func(name, corr string, t time.Time) {
		id := sub + "/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/" + name
		diag(&b, t, "Microsoft.KeyVault/locations/deletedVaults/purge/action", id, "Start", corr, automation)
		diag(&b, t.Add(time.Minute), "Microsoft.KeyVault/locations/deletedVaults/purge/action", id, "Success", corr, automation)
	}
	purge("kv-ci-1", "c0000000-0000-4000-8000-000000000004", at.Add(40*time.Minute))
	res := run(t, builtin(t), b.Bytes())
	if len(res.Incidents) != 0 {
		t.Fatalf("pipeline clean-up: %d incidents: %v", len(res.Incidents), res.Incidents[0].OpenedBy)
	}
	churned := 0
	for _, a := range res.Alerts {
		if a.Churn {
			churned++
		}
	}
	if churned != 2 || res.Stats.Churn == 0 { // the group delete and the purge
		t.Errorf("%d churn alerts, %d churn events: %+v", churned, res.Stats.Churn, res.Alerts)
	}
	purge("kv-prod-payments", "c0000000-0000-4000-8000-000000000005", at.Add(50*time.Minute))
	res = run(t, builtin(t), b.Bytes())
	if len(res.Incidents) != 1 || !strings.Contains(strings.Join(res.Incidents[0].OpenedBy, ";"), "inh_key_vault_purged") {
		t.Errorf("purge of a vault it did not create: %+v", res.Incidents)
	}
}

// TestGeneratorIsDeterministic: the same options give the same log.
func TestGeneratorIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	o := activitysim.Options{Days: 2, Scale: 0.01, Seed: 3, Attacks: []string{"insider"}}
	if _, err := activitysim.Generate(&a, o); err != nil {
		t.Fatal(err)
	}
	if _, err := activitysim.Generate(&b, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || a.Len() == 0 {
		t.Error("two runs differ")
	}
	r := &activity.Reader{Files: hostfs.FS{}, Stdin: bytes.NewReader(a.Bytes())}
	n := 0
	if err := r.Read(context.Background(), []string{"-"}, func(*activity.Event) error { n++; return nil }); err != nil || r.Malformed > 0 || n == 0 {
		t.Errorf("read %d events, %d malformed, %v", n, r.Malformed, err)
	}
	if _, err := activitysim.Generate(&a, activitysim.Options{Attacks: []string{"nope"}}); err == nil {
		t.Error("an unknown attack was accepted")
	}
}

// TestAlertsPerRuleCap: past limits.maxAlertsPerRule, an actor's further alerts of one rule are
// counted on its first alert instead of kept; the incident they open is still opened, with the
// alerts kept, and the count says how many more there were.
func TestAlertsPerRuleCap(t *testing.T) {
	var log bytes.Buffer
	at := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	for i := 0; i < 30; i++ {
		vault := fmt.Sprintf("/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-%02d", i)
		corr := fmt.Sprintf("e0000000-0000-4000-8000-%012d", i)
		diag(&log, at.Add(time.Duration(i)*time.Minute), "Microsoft.KeyVault/locations/deletedVaults/purge/action", vault, "Success", corr, automation)
	}
	opts := builtin(t)
	opts.MaxAlertsPerRule = 10
	res := run(t, opts, log.Bytes())
	var kept []*Alert
	for _, a := range res.Alerts {
		if a.Rule.Name == "inh_key_vault_purged" {
			kept = append(kept, a)
		}
	}
	if len(kept) != 10 || kept[0].NotKept != 20 || res.Stats.AlertsNotKept != 20 {
		t.Fatalf("%d purge alerts kept, the first counting %d more, stats %d; want 10, 20, 20", len(kept), kept[0].NotKept, res.Stats.AlertsNotKept)
	}
	for _, a := range kept[1:] {
		if a.NotKept != 0 {
			t.Errorf("alert %s counts %d not kept: only the first should", a.ID, a.NotKept)
		}
	}
	if len(res.Incidents) != 1 || len(res.Incidents[0].Alerts) < 10 {
		t.Fatalf("%d incidents; want one holding the kept purges", len(res.Incidents))
	}
	opts.MaxAlertsPerRule = 0 // the default keeps all thirty
	if res := run(t, opts, log.Bytes()); res.Stats.AlertsNotKept != 0 {
		t.Errorf("default cap: %d not kept", res.Stats.AlertsNotKept)
	}
}
