package detect

import (
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
	"github.com/bulwarkhq/bulwark/sigma"
)

const contoso = "../../examples/contoso/activity/"

var formats = map[string]string{
	"rest":               contoso + "rest",
	"diagnostic-export":  contoso + "diagnostic-export",
	"log-analytics-json": contoso + "log-analytics/AzureActivity-2026-11-25.json",
	"log-analytics-csv":  contoso + "log-analytics/AzureActivity-2026-11-25.csv",
}

func builtin(t testing.TB) Options {
	t.Helper()
	rs, errs := LoadRules(true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return Options{Rules: rs}
}

func readAll(t testing.TB, paths ...string) []*activity.Event {
	t.Helper()
	r := &activity.Reader{Files: hostfs.FS{}}
	var evs []*activity.Event
	if err := r.Read(context.Background(), paths, func(e *activity.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	return evs
}

func detect(t testing.TB, opts Options, evs []*activity.Event) Result {
	t.Helper()
	d, errs, err := New(opts)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	for _, e := range evs {
		d.Process(e)
	}
	return d.Finish()
}

// fingerprint is what must not depend on the input format or order: every alert (ID, rule, time,
// actor, events) and every incident without its per-event source locations.
func fingerprint(t *testing.T, r Result) string {
	t.Helper()
	var b strings.Builder
	for _, a := range r.Alerts {
		b.WriteString(a.ID + " " + a.Rule.Name + " " + a.Rule.Title + " " + a.Time.Format(time.RFC3339) + " " + a.Actor + " " + a.Incident)
		for _, e := range a.Events {
			b.WriteString(" " + e.ResultType + ":" + strings.ToLower(e.ResourceID))
		}
		b.WriteString("\n")
	}
	for _, inc := range r.Incidents {
		data, err := json.Marshal(inc)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteString("\n")
	}
	// Logs spell IDs and operation names in different cases (the diagnostic export upper-cases them).
	return strings.ToLower(b.String())
}

func TestContosoAttack(t *testing.T) {
	var want string
	for _, name := range []string{"rest", "diagnostic-export", "log-analytics-json", "log-analytics-csv"} {
		res := detect(t, builtin(t), readAll(t, formats[name]))
		if len(res.Incidents) != 1 {
			t.Fatalf("%s: %d incidents", name, len(res.Incidents))
		}
		inc := res.Incidents[0]
		if inc.Actor != "alice@contoso.example" || strings.Join(inc.Stages, ",") != "privilege,impairment,recovery,destruction" || inc.Severity != "critical" {
			t.Errorf("%s: incident %s by %s, stages %v, severity %s", name, inc.ID, inc.Actor, inc.Stages, inc.Severity)
		}
		ids := map[string]bool{}
		for _, p := range inc.Principals {
			ids[principalKey(p.PrincipalID)] = true
			if principalKey(p.PrincipalID) == principalKey("7f3a0000-0000-4000-8000-0000000000ff") && p.GrantedBy != "alice@contoso.example" {
				t.Errorf("%s: service principal granted by %q", name, p.GrantedBy)
			}
		}
		if len(inc.Principals) != 2 || !ids[principalKey("a11ce000-0000-4000-8000-000000000001")] || !ids[principalKey("7f3a0000-0000-4000-8000-0000000000ff")] {
			t.Errorf("%s: principals %+v", name, inc.Principals)
		}
		rules := map[string]int{}
		for _, a := range res.Alerts {
			rules[a.Rule.Name]++
			if a.Actor == "dave@contoso.example" && a.Incident != "" {
				t.Errorf("%s: benign alert %s joined incident %s", name, a.Rule.Title, a.Incident)
			}
		}
		for _, r := range []string{"corr_full_chain", "corr_mass_deletion", "corr_sabotage_then_destruction"} {
			if rules[r] != 1 {
				t.Errorf("%s: %s fired %d times, want once", name, r, rules[r])
			}
		}
		if rules["imp_lock_deleted"] != 5 || rules["priv_privileged_role_assigned"] != 1 {
			t.Errorf("%s: alerts per rule %v", name, rules)
		}
		byName := map[string]*Resource{}
		for _, r := range inc.Resources {
			if !strings.HasSuffix(strings.ToLower(r.Type), "/deletedvaults") {
				byName[strings.ToLower(r.Name)] = r
			}
		}
		for res, status := range map[string]string{"kv-shop-app": Lost, "kv-pay-cmk": Reversible, "stshopassets01": Reversible,
			"rsv-shop-weu": Lost, "shopdb": Reversible, "vm-shop-web01": Unknown, "payments-no-delete": Reversible} {
			if r := byName[res]; r == nil || !r.Deleted || r.Recovery.Status != status {
				t.Errorf("%s: resource %s: %+v, want deleted and %s", name, res, r, status)
			}
		}
		if r := byName["vm-legacy01"]; r == nil || !strings.HasSuffix(strings.ToLower(r.CascadeOf), "/resourcegroups/rg-legacy") {
			t.Errorf("%s: vm-legacy01 not attributed to the rg-legacy delete: %+v", name, r)
		}
		got := fingerprint(t, res)
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s: alerts or incidents differ from rest:\n%s\nwant\n%s", name, got, want)
		}
	}
}

// TestBenignDayOnly: the day before the attack raises alerts (a snapshot deleted, a VM
// deallocated) but no incident.
func TestBenignDayOnly(t *testing.T) {
	opts := builtin(t)
	opts.Until = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	res := detect(t, opts, readAll(t, formats["rest"]))
	if len(res.Incidents) != 0 || len(res.Alerts) != 2 {
		t.Errorf("%d incidents, %d alerts", len(res.Incidents), len(res.Alerts))
	}
	if res.Stats.Skipped == 0 {
		t.Error("--until skipped nothing")
	}
}

// TestShuffledWithinLateness: any arrival order in which no event comes more than the lateness
// after a later one gives the same alerts and incidents as sorted input.
func TestShuffledWithinLateness(t *testing.T) {
	evs := readAll(t, formats["rest"])
	want := fingerprint(t, detect(t, builtin(t), evs))
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		// Jitter each event's arrival by up to 15 minutes, then sort by arrival.
		type arrival struct {
			e  *activity.Event
			at time.Time
		}
		arr := make([]arrival, len(evs))
		for i, e := range evs {
			arr[i] = arrival{e, e.At.Add(time.Duration(rng.Int63n(int64(15 * time.Minute))))}
		}
		sort.Slice(arr, func(i, j int) bool { return arr[i].at.Before(arr[j].at) })
		shuffled := make([]*activity.Event, len(arr))
		for i, a := range arr {
			shuffled[i] = a.e
		}
		if got := fingerprint(t, detect(t, builtin(t), shuffled)); got != want {
			t.Fatalf("seed %d: shuffled input differs:\n%s\nwant\n%s", seed, got, want)
		}
	}
	// Reversed input (az monitor activity-log list order) fed straight to the detector is beyond
	// the lateness; the Reader puts each file in order, so reading it gives the same result.
	rev := append([]*activity.Event(nil), evs...)
	sort.SliceStable(rev, func(i, j int) bool { return rev[i].At.After(rev[j].At) })
	if got := fingerprint(t, detect(t, builtin(t), rev)); got == want {
		t.Error("reversed input beyond the lateness should not be correlated like sorted input")
	}
}

// TestAdele runs a real Log Analytics export of a destructive burst.
func TestAdele(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "reference", "activity", "azureActivity_adele.csv")
	if _, err := os.Stat(path); err != nil {
		t.Skip("reference data absent")
	}
	res := detect(t, builtin(t), readAll(t, path))
	if len(res.Incidents) != 1 {
		t.Fatalf("%d incidents", len(res.Incidents))
	}
	inc := res.Incidents[0]
	if inc.Actor != "AdeleV@M365x816222.OnMicrosoft.com" || strings.Join(inc.Stages, ",") != "destruction" {
		t.Errorf("incident by %s, stages %v", inc.Actor, inc.Stages)
	}
	// Counted from the file: 6 resources deleted by direct calls (2 of them resource groups) and 4
	// deleted as children of the resource-group deletes (same correlation ID).
	want := map[string]string{
		"okta-new": "", "linux01": "", "messagetracerg77": "", "oneloginlogs1234": "", "btpoc": "", "ey_demo": "",
		"resilent": "btpoc", "azuresentinel-create-reslientincident": "btpoc",
		"azureloganalyticsdatacollector": "ey_demo", "sentinel-ingest-aad-signinlog": "ey_demo",
	}
	got := map[string]string{}
	for _, r := range inc.Resources {
		if r.Deleted {
			got[r.Name] = r.CascadeOf[strings.LastIndex(r.CascadeOf, "/")+1:]
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d deleted resources, want %d: %v", len(got), len(want), got)
	}
	for name, rg := range want {
		if g, ok := got[name]; !ok || !strings.EqualFold(g, rg) {
			t.Errorf("%s: deleted %v, cascade of %q, want %q", name, ok, g, rg)
		}
	}
}

func TestOverrides(t *testing.T) {
	parse := func(y string) map[string]config.CorrelationOverride {
		c, err := config.Parse(strings.NewReader(y))
		if err != nil {
			t.Fatal(err)
		}
		return c.Detection.Correlations
	}
	massDeletion := func(yaml string) *Alert {
		opts := builtin(t)
		opts.Overrides = parse(yaml)
		for _, a := range detect(t, opts, readAll(t, formats["rest"])).Alerts {
			if a.Rule.Name == "corr_mass_deletion" {
				return a
			}
		}
		return nil
	}
	def := massDeletion("")
	if def == nil {
		t.Fatal("no mass deletion with the default threshold")
	}
	if a := massDeletion("detection:\n  correlations:\n    corr_mass_deletion: {threshold: 50, timespan: 1h}\n"); a != nil {
		t.Error("mass deletion fired below the overridden threshold")
	}
	if a := massDeletion("detection:\n  correlations:\n    corr_mass_deletion: {threshold: 3}\n"); a == nil || !a.Time.Before(def.Time) {
		t.Errorf("threshold 3 should fire before %s: %+v", def.Time, a)
	}

	for y, msg := range map[string]string{
		"detection:\n  correlations:\n    corr_nope: {threshold: 3}\n":       "line 3: detection.correlations.corr_nope: no correlation rule has that name or ID",
		"detection:\n  correlations:\n    corr_full_chain: {threshold: 3}\n": "line 3: detection.correlations.corr_full_chain: a temporal_ordered rule has no threshold to set",
	} {
		opts := builtin(t)
		opts.Overrides = parse(y)
		if _, _, err := New(opts); err == nil || err.Error() != msg {
			t.Errorf("%q: %v, want %s", y, err, msg)
		}
	}
	for _, y := range []string{"detection:\n  correlations:\n    corr_mass_deletion: {treshold: 3}\n",
		"detection:\n  correlations:\n    corr_mass_deletion: {threshold: -1}\n", "detection:\n  correlations:\n    corr_mass_deletion: 5\n"} {
		if _, err := config.Parse(strings.NewReader(y)); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%q: %v", y, err)
		}
	}
}

// TestHostileCallers: a million distinct callers (each a write, and every 50th a VM deallocation,
// which feeds a correlation group per caller) interleaved with the Contoso attack stay within the
// configured caps, and the attack's incident is found complete.
func TestHostileCallers(t *testing.T) {
	if testing.Short() {
		t.Skip("a million events")
	}
	const n = 1_000_000
	attack := readAll(t, formats["rest"])
	opts := builtin(t)
	opts.MaxActors, opts.MaxGroups = 10_000, 500
	d, errs, err := New(opts)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	step := 24 * time.Hour / n
	next := 0
	maxActors, maxGroups := 0, 0
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * step)
		for next < len(attack) && !attack[next].At.After(at) {
			d.Process(attack[next])
			next++
		}
		e := &activity.Event{At: at, ResultType: "Success", Category: "Administrative",
			Caller: fmt.Sprintf("user%07d@hostile.example", i), PrincipalID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			CorrelationID: fmt.Sprintf("c0000000-0000-4000-8000-%012d", i), EventDataID: fmt.Sprintf("e%d", i),
			OperationName: "Microsoft.Resources/tags/write",
			ResourceID:    fmt.Sprintf("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-%d/providers/Microsoft.Resources/tags/default", i%1000)}
		if i%50 == 0 {
			e.OperationName = "Microsoft.Compute/virtualMachines/deallocate/action"
			e.ResourceID = fmt.Sprintf("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-%d/providers/Microsoft.Compute/virtualMachines/vm-%d", i%1000, i)
		}
		d.Process(e)
		if i%10_000 == 0 {
			maxActors = max(maxActors, d.actors.len())
			maxGroups = max(maxGroups, d.corr.Groups())
		}
	}
	for ; next < len(attack); next++ {
		d.Process(attack[next])
	}
	res := d.Finish()
	correlations := 0
	for _, r := range opts.Rules {
		if r.Correlation != nil {
			correlations++
		}
	}
	if maxActors > opts.MaxActors || maxGroups > correlations*opts.MaxGroups {
		t.Errorf("state beyond the caps: %d actors (cap %d), %d groups (cap %d × %d rules)", maxActors, opts.MaxActors, maxGroups, opts.MaxGroups, correlations)
	}
	if res.Stats.Evicted == 0 || res.Stats.GroupsLost == 0 {
		t.Errorf("the caps were never reached, so the test proves nothing: %+v", res.Stats)
	}
	var inc *Incident
	for _, i := range res.Incidents {
		if i.Actor == "alice@contoso.example" {
			inc = i
		} else {
			t.Errorf("hostile caller opened incident %s", i.Title)
		}
	}
	if inc == nil || len(inc.Stages) != 4 || len(inc.Principals) != 2 {
		t.Fatalf("attack incident lost or incomplete: %+v", inc)
	}
	seen := map[string]bool{}
	for _, a := range res.Alerts {
		if a.Actor == "alice@contoso.example" {
			seen[a.Rule.Name] = true
		}
	}
	for _, r := range []string{"corr_full_chain", "corr_mass_deletion", "corr_sabotage_then_destruction", "priv_privileged_role_assigned", "inh_key_vault_purged", "des_resource_group_deleted"} {
		if !seen[r] {
			t.Errorf("attack alert %s lost among hostile callers", r)
		}
	}
}

// TestEventQueueMatchesHeap: the FIFO-plus-heap queue releases events in exactly the heap's order.
func TestEventQueueMatchesHeap(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	var q eventQueue
	var h eventHeap
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20000; i++ {
		at := base.Add(time.Duration(i) * time.Second)
		if rng.Intn(4) == 0 {
			at = at.Add(-time.Duration(rng.Intn(600)) * time.Second) // late
		}
		x := queued{at: at, key: uint64(rng.Intn(3)), seq: i}
		q.push(x)
		heap.Push(&h, x)
		for rng.Intn(3) == 0 && len(h) > 0 {
			a, b := q.pop(), heap.Pop(&h).(queued)
			if a.seq != b.seq {
				t.Fatalf("step %d: queue released %d, heap %d", i, a.seq, b.seq)
			}
		}
	}
	for len(h) > 0 {
		if q.peek().seq != h[0].seq {
			t.Fatal("peek differs")
		}
		if a, b := q.pop(), heap.Pop(&h).(queued); a.seq != b.seq {
			t.Fatalf("drain: queue %d, heap %d", a.seq, b.seq)
		}
	}
	if q.len() != 0 {
		t.Fatalf("%d left", q.len())
	}
}

// TestRandomStreamsKeepInvariants: scrambled callers, times and statuses never break the detector:
// every alert's incident exists and lists it, incident IDs are unique, with tiny caps.
func TestRandomStreamsKeepInvariants(t *testing.T) {
	base := readAll(t, formats["rest"])
	callers := []string{"alice@contoso.example", "bob@contoso.example", "", "7f3a1111-aaaa-4bbb-8ccc-000000000fff"}
	statuses := []string{"Start", "Accept", "Success", "Failure", ""}
	for seed := int64(1); seed <= 30; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var b strings.Builder
		for i := 0; i < 400; i++ {
			src := base[rng.Intn(len(base))]
			line := map[string]any{
				"time":          src.At.Add(time.Duration(rng.Intn(7200)-3600) * time.Second).Format(time.RFC3339Nano),
				"operationName": src.OperationName, "resultType": statuses[rng.Intn(len(statuses))],
				"correlationId": src.CorrelationID, "resourceId": src.ResourceID, "category": "Administrative",
				"identity":   map[string]any{"claims": map[string]any{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": callers[rng.Intn(len(callers))]}},
				"properties": src.Properties(),
			}
			data, err := json.Marshal(line)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
			b.WriteByte('\n')
		}
		r := &activity.Reader{Files: hostfs.FS{}, Stdin: strings.NewReader(b.String())}
		var evs []*activity.Event
		if err := r.Read(context.Background(), []string{"-"}, func(e *activity.Event) error { evs = append(evs, e); return nil }); err != nil {
			t.Fatal(err)
		}
		opts := builtin(t)
		opts.MaxActors, opts.MaxGroups = 3, 2
		res := detect(t, opts, evs)
		incs := map[string]*Incident{}
		for _, inc := range res.Incidents {
			if incs[inc.ID] != nil {
				t.Fatalf("seed %d: incident %s twice", seed, inc.ID)
			}
			incs[inc.ID] = inc
		}
		for _, a := range res.Alerts {
			if a.Incident == "" {
				continue
			}
			inc := incs[a.Incident]
			if inc == nil || !strings.Contains(strings.Join(inc.Alerts, ","), a.ID) {
				t.Fatalf("seed %d: alert %s names incident %s that does not list it", seed, a.ID, a.Incident)
			}
		}
		if len(res.Alerts) == 0 {
			t.Fatalf("seed %d: no alerts at all from %d events", seed, len(evs))
		}
	}
}

// TestTimeOnlyChangesNothing: reading the reads no rule can match as time-only events
// (Reader.TimeOnly), and the writes, deletes and actions no rule can match with their flat fields
// only (Reader.Flat), as bulwark detect does (Detector.Narrow), gives the same alerts, incidents,
// counts and problems as decoding every event whole.
func TestTimeOnlyChangesNothing(t *testing.T) {
	gen := filepath.Join(t.TempDir(), "generated.jsonl")
	generateLog(t, gen, 40_000, 15_000) // reads, benign writes and two attacks
	inputs := [][]string{{gen}, {contoso}}
	for _, p := range formats {
		inputs = append(inputs, []string{p})
	}
	if adele := filepath.Join("..", "..", "..", "shared", "reference", "activity", "azureActivity_adele.csv"); exists(adele) {
		inputs = append(inputs, []string{adele})
	}
	type narrowing int
	const (
		whole narrowing = iota
		timeOnly
		both // Detector.Narrow
	)
	for _, in := range inputs {
		run := func(how narrowing) (out string, timeOnlyN, flatN int) {
			d, _, err := New(builtin(t))
			if err != nil {
				t.Fatal(err)
			}
			r := &activity.Reader{Files: hostfs.FS{}}
			switch how {
			case timeOnly:
				if r.TimeOnly = d.TimeOnly(); r.TimeOnly == nil {
					t.Fatal("the built-in pack selects events by operation only, yet TimeOnly is nil")
				}
			case both:
				if d.Narrow(r); r.TimeOnly == nil || r.Flat == nil {
					t.Fatal("the built-in pack selects events by operation only, yet Narrow set nothing")
				}
			}
			if err := r.Read(context.Background(), in, func(e *activity.Event) error {
				if e.TimeOnly() {
					timeOnlyN++
				}
				if e.Flat() {
					flatN++
				}
				d.Process(e)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			res, err := json.Marshal(struct {
				Result
				Duplicates int
				Problems   []activity.Problem
			}{d.Finish(), r.Duplicates, r.Problems})
			if err != nil {
				t.Fatal(err)
			}
			return string(res), timeOnlyN, flatN
		}
		want, none, noFlat := run(whole)
		if none != 0 || noFlat != 0 {
			t.Fatalf("%s: %d time-only and %d flat events without Reader.TimeOnly and Reader.Flat", in, none, noFlat)
		}
		for _, how := range []narrowing{timeOnly, both} {
			got, n, flat := run(how)
			if in[0] == gen && (n < 15_000 || how == both && flat < 5_000) {
				t.Errorf("%s: only %d time-only and %d flat events of 40,000 (half are reads, most of the rest benign writes)", in, n, flat)
			}
			if got != want {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("%s: results differ with %d time-only and %d flat events, at byte %d:\nwhole:    …%.200s\nnarrowed: …%.200s", in, n, flat, i, want[max(0, i-100):], got[max(0, i-100):])
			}
			t.Logf("%s: %d time-only and %d flat events, %d bytes of results", in, n, flat, len(want))
		}
	}
}

// TestTimeOnlyFollowsTheRules: a rule on a read makes that read whole again, and a rule that does
// not select by operation turns time-only events off.
func TestTimeOnlyFollowsTheRules(t *testing.T) {
	parse := func(y string) Options {
		rs, errs := sigma.ParseRules("test.yml", []byte(y))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		opts := builtin(t)
		opts.Rules = append(opts.Rules, rs...)
		return opts
	}
	const read = "MICROSOFT.KEYVAULT/VAULTS/READ"
	d, _, err := New(builtin(t))
	if err != nil {
		t.Fatal(err)
	}
	if to := d.TimeOnly(); to == nil || !to(read) || to("Microsoft.KeyVault/vaults/write") || to("MICROSOFT.AUTHORIZATION/LOCKS/DELETE") {
		t.Fatal("built-in pack: reads should be time-only, writes and deletes not")
	}
	const start = "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION"
	if flat := d.Flat(); flat == nil || !flat(start) || flat(read) || flat("MICROSOFT.AUTHORIZATION/LOCKS/DELETE") ||
		flat("Microsoft.Authorization/roleAssignments/write") {
		t.Fatal("built-in pack: a VM start should be flat; a read, a lock delete (a rule matches it) and a role assignment (enrich reads its body) not")
	}
	d, _, err = New(parse(`title: vault read
id: 3b1d7c1e-0000-4000-8000-000000000001
logsource: {product: azure, service: activitylogs}
detection:
  sel: {operationName: Microsoft.KeyVault/vaults/read}
  condition: sel
level: low
`))
	if err != nil {
		t.Fatal(err)
	}
	to := d.TimeOnly()
	if to == nil || to(read) || !to("MICROSOFT.NETWORK/LOADBALANCERS/READ") {
		t.Fatal("a rule on a read: that read must be decoded whole, other reads need not")
	}
	if flat := d.Flat(); flat == nil || flat(read) || !flat(start) {
		t.Fatal("a rule on a read: that read must not be flat, a VM start still is")
	}
	line := `{"time":"2026-11-01T00:00:00Z","operationName":"` + read + `","resultType":"Success","category":"Administrative","resourceId":"/subscriptions/1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"eve@contoso.example"}}}`
	r := &activity.Reader{Files: hostfs.FS{}, TimeOnly: to, Stdin: strings.NewReader(line + "\n")}
	if err := r.Read(context.Background(), []string{"-"}, func(e *activity.Event) error { d.Process(e); return nil }); err != nil {
		t.Fatal(err)
	}
	if res := d.Finish(); len(res.Alerts) != 1 || res.Alerts[0].Actor != "eve@contoso.example" {
		t.Fatalf("the read rule's alert: %+v", res.Alerts)
	}
	d, _, err = New(parse(`title: anything by eve
id: 3b1d7c1e-0000-4000-8000-000000000002
logsource: {product: azure, service: activitylogs}
detection:
  sel: {caller: eve@contoso.example}
  condition: sel
level: low
`))
	if err != nil {
		t.Fatal(err)
	}
	if d.TimeOnly() != nil || d.Flat() != nil {
		t.Fatal("a rule selecting by caller: no event may be time-only or flat")
	}
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// TestPrincipalKey: object IDs compare without dashes, case or surrounding space (Unicode's too).
func TestPrincipalKey(t *testing.T) {
	for in, want := range map[string]string{
		"7F3A0000-0000-4000-8000-0000000000FF":         "7f3a00000000400080000000000000ff",
		" 7f3a0000-0000-4000-8000-0000000000ff\t":      "7f3a00000000400080000000000000ff",
		"\u00a07f3a00000000400080000000000000ff\u3000": "7f3a00000000400080000000000000ff",
		"":    "",
		"   ": "",
	} {
		if got := principalKey(in); got != want {
			t.Errorf("principalKey(%q) = %q, want %q", in, got, want)
		}
	}
}
