package detect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activitysim"
)

// TestFlushGivesWhatFinishGives: a generated month with every attack, once through Finish alone
// and once with Flush called every hour of event time: the alerts flushed, with those Finish gives
// at the end, are exactly Finish alone's, and so are the incidents — which open, why, their
// severity, stages, times, alerts and timeline. What an incident says of its actor's resources,
// principals and source IPs is read from the actor's tracked state when it is built, which keeps
// changing (and forgetting, within its caps) after the incident ends: an incident flushed early
// reports them as they were then (flushPrint leaves them out). Flushing does let alerts go. Open,
// called before every Flush, changes none of it.
func TestFlushGivesWhatFinishGives(t *testing.T) {
	var log bytes.Buffer
	if _, err := activitysim.Generate(&log, activitysim.Options{Days: 20, Scale: 0.05, Seed: 3, Attacks: activitysim.AttackNames}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "month.json")
	if err := os.WriteFile(path, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	evs := readAll(t, path)
	opts := builtin(t)
	want := detect(t, opts, evs)

	d, _, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var got Result
	var next time.Time
	flushed, held, opened := 0, 0, 0
	for _, e := range readAll(t, path) { // events of their own: detect changes those it processes
		d.Process(e)
		if at := e.Time(); at.After(next) {
			next = at.Add(time.Hour)
			_, incs := d.Open()
			opened += len(incs) // what watch reports as incidents open: it must change nothing
			as, incs := d.Flush(at.Add(-d.opts.Lateness - time.Minute))
			got.Alerts, got.Incidents = append(got.Alerts, as...), append(got.Incidents, incs...)
			flushed += len(as)
			held = max(held, len(d.alerts))
		}
	}
	holding := map[string]bool{}
	for _, a := range d.alerts {
		holding[a.Actor] = true
	}
	for actor := range d.watched { // a long run keeps the state of actors with alerts held, no more
		if !holding[actor] {
			t.Errorf("actor %s is kept for good with no alert held", actor)
		}
	}
	for k, p := range d.perRule {
		if !holding[p.first.Actor] {
			t.Errorf("per-rule count %s kept with no alert of its actor held", k)
		}
	}
	rest := d.Finish()
	got.Alerts, got.Incidents = append(got.Alerts, rest.Alerts...), append(got.Incidents, rest.Incidents...)
	sort.SliceStable(got.Alerts, func(i, j int) bool { return got.Alerts[i].Time.Before(got.Alerts[j].Time) })
	sort.SliceStable(got.Incidents, func(i, j int) bool { return got.Incidents[i].First.Before(got.Incidents[j].First) })
	if len(want.Incidents) == 0 || flushed == 0 || opened == 0 {
		t.Fatalf("%d incidents, %d alerts flushed: the comparison proves nothing", len(want.Incidents), flushed)
	}
	if a, b := flushPrint(t, want), flushPrint(t, got); a != b {
		t.Errorf("Flush then Finish differs from Finish alone:\n%s", firstDiff(a, b))
	}
	t.Logf("%d events, %d alerts (%d flushed on the way, at most %d held), %d incidents", len(evs), len(want.Alerts), flushed, held, len(want.Incidents))
}

// flushPrint is fingerprint without what an incident reads from its actor's evolving state.
func flushPrint(t *testing.T, r Result) string {
	t.Helper()
	var b strings.Builder
	for _, inc := range r.Incidents {
		core := *inc
		core.Title, core.Principals, core.SourceIPs, core.Resources, core.ResourcesNotListed, core.Recovery = "", nil, nil, nil, 0, nil
		data, err := json.Marshal(core)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteString("\n")
	}
	return fingerprint(t, Result{Alerts: r.Alerts}) + strings.ToLower(b.String())
}

func firstDiff(a, b string) string {
	la, lb := bytes.Split([]byte(a), []byte("\n")), bytes.Split([]byte(b), []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			x, y := string(la[i]), string(lb[i])
			j := 0
			for j < len(x) && j < len(y) && x[j] == y[j] {
				j++
			}
			from := max(0, j-150)
			return "Finish alone: …" + x[from:min(len(x), j+150)] + "\nwith Flush:   …" + y[from:min(len(y), j+150)]
		}
	}
	return "one is a prefix of the other"
}
