package detect

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/activitysim"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
)

// TestCheckpointRestoreGoesOn: a generated month with every attack, read as bulwark watch reads it
// (narrowed: time-only and flat events), through one detector that flushes every hour of event
// time, and again through a chain of detectors each restored from the previous one's checkpoint
// at random points (about every 2,000 events, 40-odd restores, some right after a flush): the
// alerts and incidents given — every field, the actors' resources, principals and addresses
// included — and the final counters are the same.
func TestCheckpointRestoreGoesOn(t *testing.T) {
	var log bytes.Buffer
	if _, err := activitysim.Generate(&log, activitysim.Options{Days: 12, Scale: 0.05, Seed: 5, Attacks: activitysim.AttackNames}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "month.json")
	if err := os.WriteFile(path, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := builtin(t)
	run := func(restoreEvery int) (string, int, int) {
		d, _, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var out bytes.Buffer
		emit := func(as []*Alert, incs []*Incident) {
			for _, a := range as {
				writeJSON(t, &out, a)
			}
			for _, inc := range incs {
				writeJSON(t, &out, inc)
			}
		}
		r := &activity.Reader{Files: hostfs.FS{}}
		d.Narrow(r)
		var next time.Time
		n, restores, size := 0, 0, 0
		if err := r.Read(t.Context(), []string{path}, func(e *activity.Event) error {
			d.Process(e)
			n++
			if at := e.Time(); at.After(next) {
				next = at.Add(time.Hour)
				emit(d.Open())
				emit(d.Flush(at.Add(-d.opts.Lateness - time.Minute)))
			}
			if restoreEvery > 0 && rng.IntN(restoreEvery) == 0 {
				var buf bytes.Buffer
				if err := d.Checkpoint(&buf); err != nil {
					t.Fatal(err)
				}
				size = max(size, buf.Len())
				if d, err = Restore(opts, &buf); err != nil {
					t.Fatal(err)
				}
				restores++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		res := d.Finish()
		emit(res.Alerts, res.Incidents)
		writeJSON(t, &out, res.Stats)
		if restoreEvery > 0 {
			t.Logf("%d events, %d restores, largest checkpoint %d bytes", n, restores, size)
		}
		return out.String(), restores, strings.Count(out.String(), `"id":"INC-`)
	}
	want, _, incidents := run(0)
	got, restores, _ := run(2000)
	if incidents == 0 || restores < 10 {
		t.Fatalf("%d incidents, %d restores: the comparison proves nothing", incidents, restores)
	}
	if want != got {
		t.Errorf("restored from checkpoints, the detector gives other results:\n%s", firstDiff(want, got))
	}
}

func writeJSON(t *testing.T, b *bytes.Buffer, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(data)
	b.WriteByte('\n')
}

// TestRestoreRefuses: a state of another version, of other rules, or not a state at all is an
// error that says so, never a detector that silently starts over.
func TestRestoreRefuses(t *testing.T) {
	opts := builtin(t)
	d, _, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.Checkpoint(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(opts, bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("a fresh state: %v", err)
	}
	fewer := Options{Rules: opts.Rules[1:]}
	if _, err := Restore(fewer, bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "rule") {
		t.Errorf("other rules: %v", err)
	}
	if _, err := Restore(opts, strings.NewReader("not gzip")); err == nil {
		t.Error("garbage restored")
	}
	var other bytes.Buffer
	zw := gzip.NewWriter(&other)
	zw.Write([]byte(`{"version":99}`))
	zw.Close()
	if _, err := Restore(opts, &other); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("version 99: %v", err)
	}
}
