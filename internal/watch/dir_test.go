package watch

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/examples"
)

// TestWatchDirFollows: the demo's storage-export folder (resourceId=/SUBSCRIPTIONS/…/y=/m=/d=/h=/m=00/PT1H.json)
// written as the export writes it — hourly blobs appearing, lines appended, the last line of a
// blob at first cut short — followed by RunDir, stopped half-way and started again from its
// checkpoint: the incident detect gives on the files, every alert and incident once in final form.
func TestWatchDirFollows(t *testing.T) {
	root := path.Join(examples.Root, "activity/diagnostic-export")
	type blob struct {
		rel   string
		lines [][]byte
	}
	var blobs []blob
	fs.WalkDir(examples.FS, root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := fs.ReadFile(examples.FS, p)
			blobs = append(blobs, blob{strings.TrimPrefix(p, root+"/"), bytes.SplitAfter(data, []byte("\n"))})
		}
		return err
	})
	slices.SortFunc(blobs, func(a, b blob) int { return strings.Compare(a.rel, b.rel) })
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
		f.Close()
	}
	opts := builtin(t)
	want := fileDetect(t, opts, demoRecords(t))
	out := &collect{}
	state := t.TempDir()
	run := func(stopAfter func() bool) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- RunDir(ctx, Options{Detect: opts, Sink: out, State: state}, Dir{Path: dir, Poll: 10 * time.Millisecond, Tick: 30 * time.Millisecond})
		}()
		deadline := time.Now().Add(30 * time.Second)
		for !stopAfter() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// First run: each blob's first half, then its third quarter with its last line cut short.
	i := 0
	run(func() bool {
		if i < len(blobs) {
			b := blobs[i]
			half := len(b.lines) / 2
			write(b.rel, bytes.Join(b.lines[:half], nil))
			rest := bytes.Join(b.lines[half:], nil)
			write(b.rel, rest[:len(rest)/2])
			i++
			return false
		}
		return true
	})
	// Second run, from the checkpoint: the rest of every blob, then a routine read an hour and
	// three days on, each in the blob of its hour.
	j := 0
	end := lastTime(t, demoRecords(t))
	prefix := blobs[0].rel[:strings.Index(blobs[0].rel, "y=")]
	run(func() bool {
		switch {
		case j < len(blobs):
			b := blobs[j]
			half := len(b.lines) / 2
			rest := bytes.Join(b.lines[half:], nil)
			write(b.rel, rest[len(rest)/2:])
		case j == len(blobs):
			for k, at := range []time.Time{end.Add(time.Hour), end.Add(72 * time.Hour)} {
				write(prefix+at.Format("y=2006/m=01/d=02/h=15/m=00/PT1H.json"), append(later(at, k), '\n'))
			}
		default:
			_, _, _, finals := out.delivered(t)
			return finals >= len(want.Alerts)+len(want.Incidents)
		}
		j++
		return false
	})
	incs, alerts, dups, finals := out.delivered(t)
	if got, w := gotCores(t, incs), wantCores(t, want); !slices.Equal(got, w) {
		t.Errorf("incidents differ from detect's:\n%s", diff(w, got))
	}
	if len(alerts) != len(want.Alerts) || finals != len(want.Alerts)+len(want.Incidents) || len(dups) > 0 {
		t.Errorf("%d alerts, %d final records (detect: %d alerts, %d incidents); delivered twice: %v", len(alerts), finals, len(want.Alerts), len(want.Incidents), dups)
	}
}
