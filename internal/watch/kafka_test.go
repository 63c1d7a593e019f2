package watch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bulwarkhq/bulwark/internal/sink"
)

// cluster is franz-go's in-process Kafka with the source topic of 4 partitions, the demo dealt to
// them at random and packed into {"records":[…]} messages, as an Activity Log diagnostic setting
// sends them to an Event Hub, followed on every partition by routine reads an hour and three days
// later (event time goes on, so alerts and incidents take their final form).
func cluster(t *testing.T, topics ...string) (*kfake.Cluster, []string, int) {
	c, brokers, publish := clusterSlowly(t, topics...)
	return c, brokers, publish(1) + publish(2)
}

// clusterSlowly is cluster with the messages published as the test says: publish(f) publishes
// the first fraction f of every partition's demo messages not published yet, publish(2) the
// routine reads an hour and three days later, and each returns how many it published.
func clusterSlowly(t *testing.T, topics ...string) (*kfake.Cluster, []string, func(f float64) int) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	recs := demoRecords(t)
	parts := spread(recs, 4, 5, rand.New(rand.NewPCG(11, 3)))
	end := lastTime(t, recs)
	demo := make([]int, len(parts))
	for p := range parts {
		demo[p] = len(parts[p])
		parts[p] = append(parts[p], envelope(later(end.Add(time.Hour), 2*p)), envelope(later(end.Add(72*time.Hour), 2*p+1)))
	}
	sent := make([]int, len(parts))
	publish := func(f float64) int {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		n := 0
		for p, msgs := range parts {
			upto := len(msgs)
			if f <= 1 {
				upto = min(demo[p], int(f*float64(demo[p])+0.999))
			}
			for ; sent[p] < upto; sent[p]++ {
				if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: topics[0], Partition: int32(p), Value: msgs[sent[p]]}).FirstErr(); err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
		return n
	}
	return c, c.ListenAddrs(), publish
}

// until runs watch until the sink has want final records (or the deadline), then stops it as
// SIGTERM does, and returns what Run returned.
func until(t *testing.T, o Options, k Kafka, out *collect, want int) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, k) }()
	for {
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Millisecond):
		}
		if _, _, _, finals := out.delivered(t); finals >= want {
			cancel()
			return <-done
		}
	}
}

// TestWatchGivesWhatDetectGives: the demo published across 4 partitions and consumed by one
// watch instance (consumer group, checkpoints) gives exactly the incident bulwark detect gives on
// the file, and every alert once in its final form.
func TestWatchGivesWhatDetectGives(t *testing.T) {
	_, brokers, _ := cluster(t, "insights-activity-logs")
	opts := builtin(t)
	want := fileDetect(t, opts, demoRecords(t))
	out := &collect{}
	o := Options{Detect: opts, Sink: out, State: t.TempDir()}
	k := Kafka{Brokers: brokers, Topic: "insights-activity-logs", Group: "bulwark", Start: kgo.NewOffset().AtStart(), Tick: 50 * time.Millisecond}
	if err := until(t, o, k, out, len(want.Alerts)+len(want.Incidents)); err != nil {
		t.Fatal(err)
	}
	incs, alerts, dups, finals := out.delivered(t)
	if got, w := gotCores(t, incs), wantCores(t, want); !slices.Equal(got, w) {
		t.Errorf("incidents differ from detect's:\n%s", diff(w, got))
	}
	if len(alerts) != len(want.Alerts) || len(dups) > 0 || finals != len(want.Alerts)+len(want.Incidents) {
		t.Errorf("%d alerts, %d final records (detect: %d alerts, %d incidents); delivered twice: %v", len(alerts), finals, len(want.Alerts), len(want.Incidents), dups)
	}
}

// TestWatchSurvivesCrashes: watch killed 20 times at random points — mid-batch, after processing,
// after a checkpoint and before delivering, after a delivery and before its log line, after the
// log line, before committing — and restarted each time from its state folder gives the same
// incident as detect on the file, every alert and incident once in final form, and no record
// delivered twice except the one in flight at each crash between a delivery and its log line.
func TestWatchSurvivesCrashes(t *testing.T) {
	_, brokers, publish := clusterSlowly(t, "insights-activity-logs")
	opts := builtin(t)
	want := fileDetect(t, opts, demoRecords(t))
	out := &collect{}
	state := t.TempDir()
	k := Kafka{Brokers: brokers, Topic: "insights-activity-logs", Group: "bulwark", Start: kgo.NewOffset().AtStart(), Tick: time.Millisecond, MaxPoll: 3}
	rng := rand.New(rand.NewPCG(5, 8))
	points := []string{"mid-batch", "drained", "checkpointed", "delivered-unlogged", "delivered", "before-commit"}
	crashes := map[string]int{}
	var mu sync.Mutex
	const runs = 20
	for i := 0; i < runs; i++ {
		publish(float64(i+1) / runs) // the log keeps coming while watch crashes and restarts
		if i == runs-1 {
			publish(2)
		}
		point := points[i%len(points)]
		after, calls := rng.IntN(8), 0
		o := Options{Detect: opts, Sink: out, State: state, crash: func(p string) bool {
			mu.Lock()
			defer mu.Unlock()
			// At the chosen point after a few of its occurrences; when it does not come (nothing
			// left to deliver, say), at the next end of a batch.
			if calls++; p == point && after > 0 {
				after--
				return false
			}
			if p != point && !(calls > 400 && p == "drained") {
				return false
			}
			crashes[p]++
			return true
		}}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		err := Run(ctx, o, k)
		cancel()
		if !errors.Is(err, errCrash) {
			t.Fatalf("run %d (crash at %s): %v", i, point, err)
		}
	}
	total := len(want.Alerts) + len(want.Incidents)
	if err := until(t, Options{Detect: opts, Sink: out, State: state}, k, out, total); err != nil {
		t.Fatal(err)
	}
	incs, alerts, dups, finals := out.delivered(t)
	if got, w := gotCores(t, incs), wantCores(t, want); !slices.Equal(got, w) {
		t.Errorf("incidents differ from detect's:\n%s", diff(w, got))
	}
	if len(alerts) != len(want.Alerts) || finals != total {
		t.Errorf("%d alerts, %d final records; detect: %d alerts, %d incidents", len(alerts), finals, len(want.Alerts), len(want.Incidents))
	}
	if len(dups) != crashes["delivered-unlogged"] {
		t.Errorf("delivered twice: %v; %d crashes fell between a delivery and its log line", dups, crashes["delivered-unlogged"])
	}
	t.Logf("crashes: %v; %d records delivered, %d of them twice", crashes, len(out.recs), len(dups))
}

// tagged is a sink that says which instance delivered.
type tagged struct {
	sink *collect
	n    atomic.Int64
}

func (s *tagged) Deliver(ctx context.Context, r sink.Record) error {
	s.n.Add(1)
	return s.sink.Deliver(ctx, r)
}
func (s *tagged) Close() error { return nil }

// TestWatchRekeyFailover: two instances with --rekey-topic (each consuming the source topic,
// re-publishing by subscription, and correlating the rekey topic's partitions it owns), sharing
// a state folder; the one correlating the attack's partition is stopped mid-attack, the other
// takes the partition over from its checkpoint: still the one incident detect gives on the file,
// every alert and incident once in final form, nothing delivered twice.
func TestWatchRekeyFailover(t *testing.T) {
	_, brokers, publish := clusterSlowly(t, "insights-activity-logs", "bulwark-rekeyed")
	opts := builtin(t)
	want := fileDetect(t, opts, demoRecords(t))
	out := &collect{}
	state := t.TempDir()
	k := Kafka{Brokers: brokers, Topic: "insights-activity-logs", Group: "bulwark", Start: kgo.NewOffset().AtStart(), Tick: 20 * time.Millisecond, MaxPoll: 5,
		Rekey: "bulwark-rekeyed"}
	sinks := [2]*tagged{{sink: out}, {sink: out}}
	var cancels [2]context.CancelFunc
	var dones [2]chan error
	for i := range sinks {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		cancels[i], dones[i] = cancel, make(chan error, 1)
		o := Options{Detect: opts, Sink: sinks[i], State: state}
		go func() { dones[i] <- Run(ctx, o, k) }()
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	// The log arrives as it does live, a slice at a time (a backlog read through the rekey stage
	// can be out of order across source partitions: see docs/watch.md).
	const nSlices = 20
	slice := 0
	deadline := time.Now().Add(30 * time.Second)
	owner := -1
	for owner < 0 && time.Now().Before(deadline) {
		if slice < nSlices/2 {
			slice++
			publish(float64(slice) / nSlices)
		}
		time.Sleep(150 * time.Millisecond)
		for i, s := range sinks {
			if s.n.Load() > 0 {
				owner = i
			}
		}
	}
	if owner < 0 {
		t.Fatal("no instance delivered anything in 30 s")
	}
	cancels[owner]() // stopped mid-attack: it checkpoints, commits and leaves
	if err := <-dones[owner]; err != nil {
		t.Fatalf("instance %d: %v", owner, err)
	}
	before, stoppedAt := sinks[1-owner].n.Load(), slice
	time.Sleep(2 * time.Second) // the other instance takes the partitions over (live, the log goes on meanwhile: seconds of it)
	for slice < nSlices {
		slice++
		publish(float64(slice) / nSlices)
		time.Sleep(150 * time.Millisecond)
	}
	time.Sleep(time.Second)
	publish(2) // an hour and three days later
	total := len(want.Alerts) + len(want.Incidents)
	for time.Now().Before(deadline.Add(30 * time.Second)) {
		if _, _, _, finals := out.delivered(t); finals >= total {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancels[1-owner]()
	if err := <-dones[1-owner]; err != nil {
		t.Fatalf("instance %d: %v", 1-owner, err)
	}
	if sinks[1-owner].n.Load() == before {
		t.Fatal("the other instance delivered nothing after the owner stopped: it did not take over")
	}
	incs, alerts, dups, finals := out.delivered(t)
	if got, w := gotCores(t, incs), wantCores(t, want); !slices.Equal(got, w) {
		t.Errorf("incidents differ from detect's:\n%s", diff(w, got))
	}
	if len(alerts) != len(want.Alerts) || finals != total || len(dups) > 0 {
		t.Errorf("%d alerts, %d final records (detect: %d alerts, %d incidents); delivered twice: %v", len(alerts), finals, len(want.Alerts), len(want.Incidents), dups)
	}
	t.Logf("stopped after slice %d of %d: instance %d stopped after delivering %d records; instance %d delivered %d in all", stoppedAt, nSlices, owner, sinks[owner].n.Load(), 1-owner, sinks[1-owner].n.Load())
}

// TestWatchPoisonAndMetrics: records that are not JSON, or JSON of no event, among the demo's
// are counted and logged by partition and offset and change nothing else; /metrics, scraped and
// parsed as Prometheus text, counts the events, the decode errors, the final alerts and incidents,
// and the checkpoint; /healthz and /readyz answer.
func TestWatchPoisonAndMetrics(t *testing.T) {
	c, brokers, publish := clusterSlowly(t, "insights-activity-logs")
	publish(0.5)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range []string{`{"records":[{"time":`, "\x00\x01 not json", `{"records":[{"no":"event"}]}`} {
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "insights-activity-logs", Partition: int32(i % 4), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	publish(1)
	publish(2)
	opts := builtin(t)
	want := fileDetect(t, opts, demoRecords(t))
	out := &collect{}
	var logs syncBuffer
	m := NewMetrics()
	o := Options{Detect: opts, Sink: out, State: t.TempDir(), Metrics: m, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	k := Kafka{Brokers: brokers, Topic: "insights-activity-logs", Group: "bulwark", Start: kgo.NewOffset().AtStart(), Tick: 20 * time.Millisecond}
	if err := until(t, o, k, out, len(want.Alerts)+len(want.Incidents)); err != nil {
		t.Fatal(err)
	}
	incs, _, dups, _ := out.delivered(t)
	if got, w := gotCores(t, incs), wantCores(t, want); !slices.Equal(got, w) || len(dups) > 0 {
		t.Errorf("poisoned records changed the incidents (or doubled %v):\n%s", dups, diff(w, got))
	}
	if n := strings.Count(logs.String(), `"msg":"malformed record"`); n != 3 {
		t.Errorf("%d malformed records logged, want 3:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"stream":"insights-activity-logs/1"`) || !strings.Contains(logs.String(), `"position":`) {
		t.Errorf("the log does not name partition and offset:\n%s", logs.String())
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	sum := func(name string) float64 {
		f, ok := families[name]
		if !ok {
			t.Errorf("no %s", name)
			return 0
		}
		v := 0.0
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			}
		}
		return v
	}
	if n := sum("bulwark_watch_events_total"); n < float64(len(demoRecords(t))) {
		t.Errorf("events_total %v, want at least %d", n, len(demoRecords(t)))
	}
	if n := sum("bulwark_watch_decode_errors_total"); n != 3 {
		t.Errorf("decode_errors_total %v, want 3", n)
	}
	if n := sum("bulwark_watch_alerts_total"); n != float64(len(want.Alerts)) {
		t.Errorf("alerts_total %v, want %d", n, len(want.Alerts))
	}
	if n := sum("bulwark_watch_incidents_total"); n != float64(len(want.Incidents)) {
		t.Errorf("incidents_total %v, want %d", n, len(want.Incidents))
	}
	if ts := sum("bulwark_watch_last_checkpoint_timestamp_seconds"); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("last checkpoint at %v", ts)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		r, err := http.Get(srv.URL + p)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, r.Status, err)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
