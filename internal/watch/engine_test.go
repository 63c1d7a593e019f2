package watch

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/config"
)

// TestEngineMergesStreams: the demo's records dealt at random to 4 streams and handed to one
// engine a whole stream at a time (the worst a backlog read can do: one partition's records all
// before the next's) give the incident bulwark detect gives on the file, because a stream that is
// behind holds the others back.
func TestEngineMergesStreams(t *testing.T) {
	recs := demoRecords(t)
	opts := builtin(t)
	want := fileDetect(t, opts, recs)
	if len(want.Incidents) != 1 {
		t.Fatalf("detect gives %d incidents on the demo, want 1", len(want.Incidents))
	}
	ctx := context.Background()
	parts := spread(recs, 4, 5, rand.New(rand.NewPCG(7, 7)))
	end := lastTime(t, recs)
	for p := range parts { // the stream goes on: an hour later, then three days later
		parts[p] = append(parts[p], envelope(later(end.Add(time.Hour), 2*p)), envelope(later(end.Add(72*time.Hour), 2*p+1)))
	}
	out := &collect{}
	e, err := Open(ctx, Options{Detect: opts, Sink: out}, "main")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"t/0", "t/1", "t/2", "t/3"}
	for _, n := range names {
		e.Behind(n, true)
	}
	for p, msgs := range parts {
		for i, m := range msgs {
			if err := e.Add(ctx, names[p], int64(i), int64(i+1), m); err != nil {
				t.Fatal(err)
			}
		}
		e.Behind(names[p], false)
		e.Drain()
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	incs, alerts, dups, finals := out.delivered(t)
	if finals != len(want.Alerts)+len(want.Incidents) {
		t.Errorf("%d final records, want one per alert and incident (%d)", finals, len(want.Alerts)+len(want.Incidents))
	}
	if got, w := gotCores(t, incs), wantCores(t, want); !slices.Equal(got, w) {
		t.Errorf("incidents differ from detect's:\n%s", diff(w, got))
	}
	if len(alerts) != len(want.Alerts) || len(dups) > 0 {
		t.Errorf("%d alerts delivered, detect gives %d; delivered twice: %v", len(alerts), len(want.Alerts), dups)
	}
	if st := e.Detector().Stats(); st.Late > 0 {
		t.Errorf("%d events late: the streams were not merged on event time", st.Late)
	}
	for p, msgs := range parts {
		if pos, _ := e.Position(names[p]); pos != int64(len(msgs)) {
			t.Errorf("%s at %d, want %d", names[p], pos, len(msgs))
		}
	}
}

// TestEngineSuppressionExpires: a bulwark.yaml suppression of the lock-delete rule silences its
// alerts while it is in force and stops when it expires, though the engine runs on: the clock is
// read at every Tick, not once at start.
func TestEngineSuppressionExpires(t *testing.T) {
	recs := demoRecords(t)
	end := lastTime(t, recs)
	recs = append(recs, later(end.Add(time.Hour), 0), later(end.Add(72*time.Hour), 1))
	expires := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	suppressed := func(now time.Time) int {
		opts := builtin(t)
		opts.Suppress = []config.Suppression{{Rule: "imp_lock_deleted", Reason: "change CHG-7", Until: expires, Line: 3}}
		out := &collect{}
		clock := expires.Add(-time.Hour) // in force when the engine starts
		e, err := Open(context.Background(), Options{Detect: opts, Sink: out, Now: func() time.Time { return clock }}, "main")
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			if i == len(recs)-1 {
				clock = now // before the final forms are given
			}
			if err := e.Add(context.Background(), "t/0", int64(i), int64(i+1), envelope(r)); err != nil {
				t.Fatal(err)
			}
			e.Drain()
			if err := e.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		_, alerts, _, _ := out.delivered(t)
		for _, a := range alerts {
			if strings.Contains(string(a), `"suppressed":{`) {
				n++
			}
		}
		return n
	}
	if n := suppressed(expires.Add(-time.Minute)); n != 5 {
		t.Errorf("in force: %d lock-delete alerts suppressed, want 5", n)
	}
	if n := suppressed(expires.Add(time.Minute)); n != 0 {
		t.Errorf("expired while running: %d alerts still suppressed", n)
	}
}
