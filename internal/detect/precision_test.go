package detect

import (
	"context"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/activitysim"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
)

// precision scores a run against the generator's truth.
type precision struct {
	events         int
	days           int
	falseIncidents []*Incident
	found          map[string]int      // attack → incidents naming its actor in its window
	missing        map[string][]string // attack → stages its incident lacks
	alerts         map[string]int      // rule → alerts outside the attacks
	incidentAlerts int
}

// simulate generates a log and runs the built-in rules over it through the Reader, as `bulwark
// detect -` would read it from stdin.
func simulate(tb testing.TB, o activitysim.Options) (*activitysim.Truth, Result) {
	tb.Helper()
	pr, pw := io.Pipe()
	var truth *activitysim.Truth
	done := make(chan error, 1)
	go func() {
		t, err := activitysim.Generate(pw, o)
		truth = t
		pw.CloseWithError(err)
		done <- err
	}()
	d, errs, err := New(Options{Rules: builtin(tb).Rules, Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(errs) > 0 {
		tb.Fatal(err, errs)
	}
	r := &activity.Reader{Files: hostfs.FS{}, Stdin: pr}
	d.Narrow(r)
	if err := r.Read(context.Background(), []string{"-"}, func(e *activity.Event) error { d.Process(e); return nil }); err != nil {
		tb.Fatal(err)
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	if r.Malformed > 0 {
		tb.Fatalf("%d malformed generated lines: %v", r.Malformed, r.Problems)
	}
	return truth, d.Finish()
}

func score(truth *activitysim.Truth, res Result) precision {
	p := precision{events: truth.Events, days: truth.Days, found: map[string]int{}, missing: map[string][]string{}, alerts: map[string]int{}}
	inAttack := func(actor string, from, to time.Time) *activitysim.Attack {
		for i, a := range truth.Attacks {
			if strings.EqualFold(actor, a.Actor) && !to.Before(a.From.Add(-time.Hour)) && !from.After(a.To.Add(time.Hour)) {
				return &truth.Attacks[i]
			}
		}
		return nil
	}
	for _, a := range truth.Attacks {
		p.found[a.Name] = 0
	}
	for _, inc := range res.Incidents {
		p.incidentAlerts += len(inc.Alerts)
		a := inAttack(inc.Actor, inc.First, inc.Last)
		if a == nil {
			p.falseIncidents = append(p.falseIncidents, inc)
			continue
		}
		p.found[a.Name]++
		have := map[string]bool{}
		for _, s := range inc.Stages {
			have[s] = true
		}
		for _, s := range a.Stages {
			if !have[s] {
				p.missing[a.Name] = append(p.missing[a.Name], s)
			}
		}
	}
	for _, al := range res.Alerts {
		if inAttack(al.Actor, al.Time, al.Last) == nil {
			p.alerts[al.Rule.Name]++
		}
	}
	return p
}

// exact counts the attacks raised as exactly one incident with every stage.
func (p precision) exact() int {
	n := 0
	for name, k := range p.found {
		if k == 1 && len(p.missing[name]) == 0 {
			n++
		}
	}
	return n
}

func (p precision) report(tb testing.TB) {
	tb.Helper()
	tb.Logf("%d events over %d days: %d false incidents (%.2f per benign day); attacks raised as exactly one incident with all stages: %d/%d",
		p.events, p.days, len(p.falseIncidents), float64(len(p.falseIncidents))/float64(p.days), p.exact(), len(p.found))
	names := make([]string, 0, len(p.found))
	for n := range p.found {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tb.Logf("  attack %-17s incidents %d, stages missing %v", n, p.found[n], p.missing[n])
	}
	rules := make([]string, 0, len(p.alerts))
	total := 0
	for r, n := range p.alerts {
		rules = append(rules, r)
		total += n
	}
	sort.Strings(rules)
	tb.Logf("  benign alerts: %d (%.0f a day)", total, float64(total)/float64(p.days))
	for _, r := range rules {
		tb.Logf("    %-40s %d", r, p.alerts[r])
	}
	for _, inc := range p.falseIncidents {
		tb.Logf("  FALSE %s %s %s: %v", inc.ID, inc.Title, inc.First.Format(time.RFC3339), inc.OpenedBy)
	}
}

// TestRoutineOperatorDay: a weekday of routine work — operators deallocating VMs and deleting
// one thing each, a decommission after a lock removal, nightly stop schedules, CI pipelines
// creating, deleting and purging ephemeral resources, snapshot rotation — opens no incident, and
// raises exactly the alerts its routine deletes and deallocations should.
func TestRoutineOperatorDay(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		truth, res := simulate(t, activitysim.Options{Start: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), Days: 1, Scale: 0.05, Seed: seed})
		p := score(truth, res)
		if len(p.falseIncidents) != 0 {
			p.report(t)
			t.Errorf("seed %d: %d incidents on a benign day", seed, len(p.falseIncidents))
		}
		for rule, want := range truth.Expected {
			if p.alerts[rule] != want {
				t.Errorf("seed %d: %d %s alerts, want %d (one per routine operation)", seed, p.alerts[rule], rule, want)
			}
		}
		if truth.Expected["des_vm_deallocated"] < 50 || truth.Expected["des_resource_group_deleted"] < 20 {
			t.Errorf("seed %d: the day is not busy: %v", seed, truth.Expected)
		}
	}
}

// TestPrecisionWeek: a week with all five attacks and the benign estate at a twentieth of its
// volume: no false incident, and each attack raised as exactly one incident with all its stages.
func TestPrecisionWeek(t *testing.T) {
	truth, res := simulate(t, activitysim.Options{Days: 7, Scale: 0.05, Seed: 7, Attacks: activitysim.AttackNames})
	p := score(truth, res)
	if len(p.falseIncidents) != 0 || p.exact() != len(activitysim.AttackNames) {
		p.report(t)
		t.Errorf("%d false incidents, %d/%d attacks exactly", len(p.falseIncidents), p.exact(), len(activitysim.AttackNames))
	}
}

// BenchmarkPrecision is the precision benchmark: a benign month (about 2.1 million events) with
// the five attacks. It reports false incidents per benign day (goal 0), attacks raised as exactly
// one incident with all stages (goal 5), and the alert counts (-v prints them by rule).
func BenchmarkPrecision(b *testing.B) {
	for i := 0; i < b.N; i++ {
		truth, res := simulate(b, activitysim.Options{Days: 30, Scale: 1, Seed: 2026, Attacks: activitysim.AttackNames})
		p := score(truth, res)
		if i == 0 {
			p.report(b)
		}
		total := 0
		for _, n := range p.alerts {
			total += n
		}
		b.ReportMetric(float64(truth.Events), "events")
		b.ReportMetric(float64(len(p.falseIncidents))/float64(p.days), "false-incidents/day")
		b.ReportMetric(float64(p.exact()), "attacks-exact")
		b.ReportMetric(float64(total)/float64(p.days), "benign-alerts/day")
	}
}

// TestPolicyDocumented: docs/detection.md's table is the built-in pack's incident policy.
func TestPolicyDocumented(t *testing.T) {
	path := "../../docs/detection.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- policy table: generated by detect.PolicyTable, kept in step by TestPolicyDocumented -->\n", "<!-- end of policy table -->"
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated policy table", path)
	}
	want := PolicyTable(builtin(t).Rules)
	if got := s[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_POLICY_TABLE") != "" {
			os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644)
			return
		}
		t.Errorf("%s: the policy table is not the rules' (UPDATE_POLICY_TABLE=1 go test ./internal/detect -run TestPolicyDocumented rewrites it)", path)
	}
}
