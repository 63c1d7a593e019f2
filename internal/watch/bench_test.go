package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bulwarkhq/bulwark/internal/sink"
)

// record is one Activity Log record in the diagnostic-export shape: a write by caller n (or a
// Key Vault purge, which opens an incident on its own).
func record(at time.Time, n int, purge bool) json.RawMessage {
	op, res := "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", fmt.Sprintf("/SUBSCRIPTIONS/11111111-1111-4111-8111-111111111111/RESOURCEGROUPS/RG-%d/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-%d", n%97, n)
	if purge {
		op, res = "MICROSOFT.KEYVAULT/LOCATIONS/DELETEDVAULTS/PURGE/ACTION", fmt.Sprintf("/SUBSCRIPTIONS/11111111-1111-4111-8111-111111111111/PROVIDERS/MICROSOFT.KEYVAULT/LOCATIONS/WESTEUROPE/DELETEDVAULTS/KV-%d", n)
	}
	return json.RawMessage(fmt.Sprintf(`{"time":%q,"resourceId":%q,"operationName":%q,"category":"Administrative","resultType":"Success","callerIpAddress":"192.0.2.%d","correlationId":"00000000-0000-4000-8000-%012d","identity":{"claims":{"http://schemas.microsoft.com/identity/claims/objectidentifier":"c0000000-0000-4000-8000-%012d"}}}`,
		at.UTC().Format(time.RFC3339Nano), res, op, n%250, n, n))
}

// BenchmarkEngine: events/s through one engine on one goroutine (decode, merge, detect, a tick
// every 2,000 messages: 100,000 events, ten seconds at 10,000 events/s), messages of 50 records from 4 partitions, each record by another caller,
// every 1,000th a Key Vault purge (an incident). It reports the checkpoint's size at the end:
// with more distinct callers than limits.maxActors, the state stays at the cap.
func BenchmarkEngine(b *testing.B) {
	opts := builtin(b)
	const perMsg = 50
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	n := max(b.N, 100_000)
	msgs := make([][]byte, 0, n/perMsg+1)
	for i := 0; i < n; i += perMsg {
		var recs []json.RawMessage
		for j := i; j < min(i+perMsg, n); j++ {
			recs = append(recs, record(base.Add(time.Duration(j)*10*time.Millisecond), j, j%1000 == 999))
		}
		msgs = append(msgs, envelope(recs...))
	}
	dir := b.TempDir()
	out := &countSink{}
	ctx := context.Background()
	b.ResetTimer()
	e, err := Open(ctx, Options{Detect: opts, Sink: out, State: dir}, "main")
	if err != nil {
		b.Fatal(err)
	}
	for i, m := range msgs {
		if err := e.Add(ctx, fmt.Sprintf("t/%d", i%4), int64(i/4), int64(i/4+1), m); err != nil {
			b.Fatal(err)
		}
		e.Drain()
		if i%2000 == 1999 {
			if err := e.Tick(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := e.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st, _ := os.Stat(filepath.Join(dir, "main.checkpoint"))
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(st.Size())/1e6, "checkpoint-MB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "heap-MB")
	b.Logf("%d events (%d distinct callers), %d records delivered, checkpoint %d bytes, %d alerts held", n, n, out.n, st.Size(), e.d.Held())
}

type countSink struct {
	mu sync.Mutex
	n  int
	on func(sink.Record)
}

func (s *countSink) Deliver(_ context.Context, r sink.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.on != nil {
		s.on(r)
	}
	return nil
}
func (s *countSink) Close() error { return nil }

// BenchmarkWatchLatency: watch on kfake with 4 partitions, fed at 10,000 events/s of routine writes
// (event time = now) with a Key Vault purge by another caller every 100 ms: the time from
// publishing each purge to its incident's first delivery, p50 and p99, at --lateness 2s and a
// 250 ms checkpoint interval (the latency is the lateness plus up to one interval plus the work).
func BenchmarkWatchLatency(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "activity"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	opts := builtin(b)
	opts.Lateness = 2 * time.Second
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	lastActor := ""
	out := &countSink{on: func(r sink.Record) {
		if r.Kind != "incident" {
			return
		}
		var inc struct {
			Actor    string
			Revision int
		}
		json.Unmarshal(r.JSON, &inc)
		mu.Lock()
		if t, ok := sent[strings.ToLower(inc.Actor)]; ok && inc.Revision == 1 {
			lat = append(lat, time.Since(t))
		} else if !ok && len(lat) == 0 {
			lastActor = inc.Actor
		}
		mu.Unlock()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Detect: opts, Sink: out, State: b.TempDir()}, Kafka{Brokers: c.ListenAddrs(), Topic: "activity", Group: "bench",
			Start: kgo.NewOffset().AtStart(), Tick: 250 * time.Millisecond})
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	const rate, perMsg = 10_000, 50
	seconds := max(5, b.N)
	b.ResetTimer()
	start := time.Now()
	n := 0
	// Routine traffic goes on for the lateness and a second after the last purge: event time
	// moves only with events.
	for time.Since(start) < time.Duration(seconds)*time.Second+opts.Lateness+time.Second {
		purging := time.Since(start) < time.Duration(seconds)*time.Second
		var recs []json.RawMessage
		for j := 0; j < perMsg; j++ {
			n++
			purge := purging && n%(rate/10) == 0
			if purge {
				mu.Lock()
				sent[fmt.Sprintf("c0000000-0000-4000-8000-%012d", n)] = time.Now()
				mu.Unlock()
			}
			recs = append(recs, record(time.Now(), n, purge))
		}
		cl.Produce(ctx, &kgo.Record{Topic: "activity", Value: envelope(recs...)}, nil)
		if ahead := time.Duration(n)*time.Second/rate - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
	}
	time.Sleep(time.Second)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		b.Fatalf("no incident of a purge delivered (%d records; an incident's actor: %q)", out.n, lastActor)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.Logf("%d events in %s, %d of %d purges' incidents delivered; latency p50 %s, p99 %s, max %s", n, time.Since(start).Round(time.Millisecond),
		len(lat), len(sent), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
}
