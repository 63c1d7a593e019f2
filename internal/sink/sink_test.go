package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func rec(id string) Record {
	return Record{ID: id, Kind: "incident", JSON: []byte(`{"kind":"incident","id":"` + id + `","title":"Full destructive kill chain"}`)}
}

func noSleep(delays *[]time.Duration) func(context.Context, time.Duration) error {
	var mu sync.Mutex
	return func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*delays = append(*delays, d)
		mu.Unlock()
		return ctx.Err()
	}
}

// TestWebhookRetriesAndSigns: against a receiver that fails intermittently (500, 429 with
// Retry-After, a dropped connection), every record arrives, once per success, signed, with its ID;
// the back-off grows and honours Retry-After; the signature verifies.
func TestWebhookRetriesAndSigns(t *testing.T) {
	secret := []byte("s3cret")
	var calls atomic.Int64
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Bulwark-Signature") != Signature(secret, body) || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad signature or type: %v", r.Header)
		}
		switch n % 4 {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
			return
		case 2:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case 3:
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // the connection drops: a network error
			return
		}
		mu.Lock()
		got[r.Header.Get("X-Bulwark-Delivery")]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	var delays []time.Duration
	var dead bytes.Buffer
	wh := &Webhook{URL: srv.URL + "/hook?token=abc", Secret: secret, DeadLetter: &dead, Sleep: noSleep(&delays), BaseDelay: 100 * time.Millisecond}
	for _, id := range []string{"a", "b", "c"} {
		if err := wh.Deliver(context.Background(), rec(id)); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 3 || got["a"] != 1 || got["b"] != 1 || got["c"] != 1 || dead.Len() > 0 {
		t.Errorf("received %v; dead letters %q", got, dead.String())
	}
	if wh.Stats.Delivered != 3 || wh.Stats.Retries != 9 {
		t.Errorf("stats %+v", wh.Stats)
	}
	// Per record: 500 → base back-off (50–100 ms), 429 with Retry-After 2 s → 2 s, drop → 200–400 ms ...
	if len(delays) != 9 || delays[1] != 2*time.Second || delays[0] > 100*time.Millisecond || delays[2] < 200*time.Millisecond || delays[2] > 400*time.Millisecond {
		t.Errorf("delays %v", delays)
	}
}

// TestWebhookDeadLetters: a receiver that refuses (400) dead-letters at once; one that keeps
// failing dead-letters after MaxAttempts; the dead letter holds the record and no token of the URL.
func TestWebhookDeadLetters(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-Bulwark-Delivery") == "refused" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var delays []time.Duration
	var dead bytes.Buffer
	wh := &Webhook{URL: srv.URL + "/services/T000/B000/XXXXSECRET", DeadLetter: &dead, Sleep: noSleep(&delays), MaxAttempts: 4}
	if err := wh.Deliver(context.Background(), rec("refused")); err != nil || calls.Load() != 1 {
		t.Fatalf("refused: %v after %d calls", err, calls.Load())
	}
	if err := wh.Deliver(context.Background(), rec("down")); err != nil || calls.Load() != 5 {
		t.Fatalf("down: %v after %d calls", err, calls.Load())
	}
	sc := bufio.NewScanner(&dead)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["id"] != "refused" || lines[0]["attempts"] != 1.0 || lines[1]["attempts"] != 4.0 ||
		lines[1]["record"].(map[string]any)["id"] != "down" || !strings.Contains(lines[0]["error"].(string), "400") {
		t.Errorf("dead letters %v", lines)
	}
	if strings.Contains(dead.String(), "XXXXSECRET") {
		t.Error("a dead letter holds the URL's token")
	}
	// Without a dead-letter file, giving up is an error — naming the host only.
	wh.DeadLetter = nil
	err := wh.Deliver(context.Background(), rec("down2"))
	if err == nil || strings.Contains(err.Error(), "XXXXSECRET") {
		t.Errorf("no dead-letter file: %v", err)
	}
	// A cancelled context stops the retries with its error, dead-lettering nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wh.DeadLetter = &dead
	before := dead.Len()
	if err := wh.Deliver(ctx, rec("cancelled")); err == nil || dead.Len() != before {
		t.Errorf("cancelled: %v", err)
	}
}

// TestDedupAndJSONLines: a record delivered twice is written once; lines stay whole under
// concurrent delivery; the oldest IDs are forgotten past Size.
func TestDedupAndJSONLines(t *testing.T) {
	var out bytes.Buffer
	d := &Dedup{Sink: NewJSONLines(&out), Size: 2}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); d.Deliver(context.Background(), rec("x")) }()
	}
	wg.Wait()
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines for one ID delivered 20 times", n)
	}
	d.Deliver(context.Background(), rec("y"))
	d.Deliver(context.Background(), rec("z")) // x is forgotten now
	d.Deliver(context.Background(), rec("x"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Errorf("lines %q", lines)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("not one JSON line: %q", l)
		}
	}
	if err := NewJSONLines(&out).Deliver(context.Background(), Record{ID: "n", JSON: []byte("{}\n")}); err == nil {
		t.Error("a record ending in a newline was accepted")
	}
}

// TestKafkaSink: records reach the topic through franz-go's in-process fake cluster, keyed by ID
// (no Key given) with their kind and delivery ID as headers.
func TestKafkaSink(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "bulwark-incidents"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	k := &Kafka{Client: cl, Topic: "bulwark-incidents"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, id := range []string{"i1", "i2"} {
		if err := k.Deliver(ctx, rec(id)); err != nil {
			t.Fatal(err)
		}
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("bulwark-incidents"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var keys []string
	for len(keys) < 2 && ctx.Err() == nil {
		consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if len(r.Headers) != 2 || string(r.Headers[0].Value) != "incident" || string(r.Headers[1].Value) != string(r.Key) || !json.Valid(r.Value) {
				t.Errorf("record %+v", r)
			}
			keys = append(keys, string(r.Key))
		})
	}
	if strings.Join(keys, ",") != "i1,i2" {
		t.Errorf("keys %v", keys)
	}
}
