package detect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
)

// template is one diagnostic-export line with its time and correlation ID marked for substitution.
type template struct {
	line   []byte
	offset time.Duration // from the first attack event, for attack templates
	rare   bool          // raises an alert (a snapshot deleted, a VM deallocated): rare in a real log
}

// loadTemplates reads the Contoso diagnostic export: the benign day's lines and the attack's.
func loadTemplates(tb testing.TB) (benign, attack []template) {
	tb.Helper()
	root := filepath.Join(contoso, "diagnostic-export")
	var lines [][]byte
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			lines = append(lines, l)
		}
		return nil
	})
	type parsed struct {
		line []byte
		at   time.Time
	}
	var ps []parsed
	for _, l := range lines {
		var v struct {
			Time          time.Time `json:"time"`
			CorrelationID string    `json:"correlationId"`
		}
		if err := json.Unmarshal(l, &v); err != nil {
			tb.Fatal(err)
		}
		l = bytes.Replace(l, []byte(`"time":"`+v.Time.Format("2006-01-02T15:04:05.0000000Z")+`"`), []byte(`"time":"@TIME@"`), 1)
		l = bytes.ReplaceAll(l, []byte(v.CorrelationID), []byte("@CORR@"))
		if !bytes.Contains(l, []byte("@TIME@")) {
			tb.Fatalf("time not marked in %s", l[:80])
		}
		ps = append(ps, parsed{l, v.Time})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].at.Before(ps[j].at) })
	var first time.Time
	for _, p := range ps {
		if p.at.Hour() < 21 {
			rare := bytes.Contains(p.line, []byte("SNAPSHOTS/DELETE")) || bytes.Contains(p.line, []byte("DEALLOCATE/ACTION"))
			benign = append(benign, template{line: p.line, rare: rare})
			if rare {
				continue
			}
			// A read of the same resource: most of a real log.
			if r := bytes.Replace(p.line, []byte(`/WRITE","category"`), []byte(`/READ","category"`), 1); !bytes.Equal(r, p.line) {
				benign = append(benign, template{line: r}, template{line: r})
			}
			continue
		}
		if first.IsZero() {
			first = p.at
		}
		attack = append(attack, template{line: p.line, offset: p.at.Sub(first)})
	}
	return benign, attack
}

// generateLog writes n events in the diagnostic-export format (JSON lines, about 2.2 KB each):
// benign writes and reads every 0.6 s (the benign day's alerting events only every 50,000), and the
// Contoso attack, under a new attacker name, every attackEvery events. It returns the number of
// attacks injected.
func generateLog(tb testing.TB, path string, n, attackEvery int) int {
	tb.Helper()
	benign, attack := loadTemplates(tb)
	var common, rare []template
	for _, t := range benign {
		if t.rare {
			rare = append(rare, t)
		} else {
			common = append(common, t)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	type pending struct {
		at   time.Time
		line []byte
	}
	var queue []pending
	write := func(line []byte, at time.Time, corr string) {
		line = bytes.Replace(line, []byte("@TIME@"), []byte(at.Format("2006-01-02T15:04:05.0000000Z")), 1)
		line = bytes.ReplaceAll(line, []byte("@CORR@"), []byte(corr))
		w.Write(line)
		w.WriteByte('\n')
	}
	attacks, written := 0, 0
	for i := 0; written < n; i++ {
		at := start.Add(time.Duration(i) * 600 * time.Millisecond)
		if i > 0 && i%attackEvery == 0 {
			attacks++
			who := []byte(fmt.Sprintf("alice%d@contoso.example", attacks))
			oid := []byte(fmt.Sprintf("a11ce000-0000-4000-8000-%012d", attacks+1000))
			for _, t := range attack {
				l := bytes.ReplaceAll(t.line, []byte("alice@contoso.example"), who)
				l = bytes.ReplaceAll(l, []byte("a11ce000-0000-4000-8000-000000000001"), oid)
				queue = append(queue, pending{at.Add(t.offset), l})
			}
		}
		for len(queue) > 0 && !queue[0].at.After(at) && written < n {
			write(queue[0].line, queue[0].at, fmt.Sprintf("a77ac000-0000-4000-8000-%012d", attacks))
			queue = queue[1:]
			written++
		}
		if written == n {
			break
		}
		t := common[i%len(common)]
		if i%50_000 < len(rare) {
			t = rare[i%50_000]
		}
		write(t.line, at, fmt.Sprintf("b0000000-0000-4000-8000-%012d", i/2)) // Start and Success pairs share one
		written++
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return attacks
}

// peakHeap samples live heap bytes until stop is closed.
func peakHeap(stop chan struct{}) *atomic.Uint64 {
	var peak atomic.Uint64
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return &peak
}

// BenchmarkDetect1M runs the whole built-in pack over 1,000,000 events read from JSON lines (the
// diagnostic-settings export), as bulwark detect does. The log is generated once into the temp
// folder (about 2.3 GB). Reports events/s, MB/s, MB/s per core and the peak live heap.
func BenchmarkDetect1M(b *testing.B) {
	const n = 1_000_000
	path := filepath.Join(os.TempDir(), "bulwark-bench-activity-1m-v2.jsonl")
	attacks := n / 200_000
	if _, err := os.Stat(path); err != nil {
		attacks = generateLog(b, path, n, 200_000)
	} else {
		attacks = (n - 1) / 200_000
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	opts := builtin(b)
	runtime.GC()
	b.SetBytes(info.Size())
	b.ResetTimer()
	var res Result
	var peak *atomic.Uint64
	for i := 0; i < b.N; i++ {
		stop := make(chan struct{})
		peak = peakHeap(stop)
		d, _, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		r := &activity.Reader{Files: hostfs.FS{}}
		d.Narrow(r)
		if err := r.Read(context.Background(), []string{path}, func(e *activity.Event) error { d.Process(e); return nil }); err != nil {
			b.Fatal(err)
		}
		res = d.Finish()
		close(stop)
		if res.Stats.Events+r.Duplicates != n || len(r.Problems) > 0 {
			b.Fatalf("%d events, %d problems", res.Stats.Events, len(r.Problems))
		}
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(n)/sec, "events/s")
	// The target is per core: the throughput divided by the cores Go runs on
	// (GOMAXPROCS, which follows taskset and the container's CPU limit).
	b.ReportMetric(float64(info.Size())/1e6/sec/float64(runtime.GOMAXPROCS(0)), "MB/s/core")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(len(res.Alerts)), "alerts")
	b.ReportMetric(float64(len(res.Incidents)), "incidents")
	full := 0
	for _, inc := range res.Incidents {
		if len(inc.Stages) == 4 && strings.HasPrefix(inc.Actor, "alice") {
			full++
		}
	}
	if full != attacks {
		b.Errorf("%d full-chain incidents, want %d (one per injected attack)", full, attacks)
	}
}
