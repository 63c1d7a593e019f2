package sink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Webhook POSTs each record's JSON to a URL.
//
//   - Headers: Content-Type application/json; X-Bulwark-Delivery, the record's ID (deduplicate
//     by it); X-Bulwark-Kind, alert or incident; and, with a secret, X-Bulwark-Signature:
//     sha256=<hex HMAC-SHA256 of the body under the secret>, as GitHub signs its webhooks.
//   - A 2xx answer delivers. A network error, 408, 429 or 5xx is retried after an exponential
//     back-off with jitter (Retry-After, when the receiver sends one, is honoured up to MaxDelay);
//     any other answer is the receiver refusing the record, which retrying cannot change.
//   - A record not delivered after MaxAttempts, or refused, is written to DeadLetter as one JSON
//     line (id, kind, attempts, the last error, the time, the record) and Deliver returns nil.
//
// Errors and dead letters name the URL's scheme and host only: a webhook's path or query often
// holds a token.
type Webhook struct {
	URL         string
	Secret      []byte // HMAC key; nil: unsigned
	MaxAttempts int    // default 6
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	Client      *http.Client
	DeadLetter  io.Writer // nil: a record given up on is an error instead

	// Sleep waits between attempts (tests replace it); it returns early with ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex // guards DeadLetter
	Stats   WebhookStats
	statsMu sync.Mutex
}

// WebhookStats count what the webhook did.
type WebhookStats struct {
	Delivered, Retries, DeadLettered int
}

func (w *Webhook) defaults() {
	if w.MaxAttempts <= 0 {
		w.MaxAttempts = 6
	}
	if w.BaseDelay <= 0 {
		w.BaseDelay = 500 * time.Millisecond
	}
	if w.MaxDelay <= 0 {
		w.MaxDelay = 30 * time.Second
	}
	if w.Client == nil {
		w.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if w.Sleep == nil {
		w.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
}

// Signature is the X-Bulwark-Signature value of a body under a secret.
func Signature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver implements Sink.
func (w *Webhook) Deliver(ctx context.Context, r Record) error {
	w.defaults()
	where := redact(w.URL)
	var last string
	for attempt := 1; ; attempt++ {
		retryAfter, err := w.post(ctx, r)
		if err == nil {
			w.count(func(s *WebhookStats) { s.Delivered++ })
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("webhook %s: %s not delivered: %w", where, r.ID, ctx.Err())
		}
		last = err.Error()
		if !err.(*postError).retry || attempt == w.MaxAttempts {
			return w.deadLetter(r, attempt, last)
		}
		w.count(func(s *WebhookStats) { s.Retries++ })
		delay := w.BaseDelay << (attempt - 1)
		delay = delay/2 + time.Duration(rand.Int64N(int64(delay)/2+1)) // jitter: half to the full delay
		if retryAfter > delay {
			delay = retryAfter
		}
		if err := w.Sleep(ctx, min(delay, w.MaxDelay)); err != nil {
			return fmt.Errorf("webhook %s: %s not delivered: %w", where, r.ID, err)
		}
	}
}

func (w *Webhook) count(f func(*WebhookStats)) {
	w.statsMu.Lock()
	f(&w.Stats)
	w.statsMu.Unlock()
}

type postError struct {
	msg   string
	retry bool
}

func (e *postError) Error() string { return e.msg }

func (w *Webhook) post(ctx context.Context, r Record) (retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(r.JSON))
	if err != nil {
		return 0, &postError{msg: "bad URL", retry: false}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bulwark-watch")
	req.Header.Set("X-Bulwark-Delivery", r.ID)
	req.Header.Set("X-Bulwark-Kind", r.Kind)
	if w.Secret != nil {
		req.Header.Set("X-Bulwark-Signature", Signature(w.Secret, r.JSON))
	}
	resp, err := w.Client.Do(req)
	if err != nil {
		// The error text of a failed request includes the whole URL: say only what failed.
		msg := "request failed"
		if e, ok := err.(*url.Error); ok {
			msg = "request failed: " + e.Err.Error()
		}
		return 0, &postError{msg: msg, retry: true}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return 0, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			retryAfter = time.Duration(s) * time.Second
		}
		return retryAfter, &postError{msg: "HTTP " + resp.Status, retry: true}
	default:
		return 0, &postError{msg: "HTTP " + resp.Status + " (refused: not retried)", retry: false}
	}
}

func (w *Webhook) deadLetter(r Record, attempts int, last string) error {
	if w.DeadLetter == nil {
		return fmt.Errorf("webhook %s: %s not delivered after %d attempts: %s", redact(w.URL), r.ID, attempts, last)
	}
	line, err := json.Marshal(struct {
		ID       string          `json:"id"`
		Kind     string          `json:"kind"`
		Sink     string          `json:"sink"`
		Attempts int             `json:"attempts"`
		Error    string          `json:"error"`
		At       time.Time       `json:"at"`
		Record   json.RawMessage `json:"record"`
	}{r.ID, r.Kind, "webhook " + redact(w.URL), attempts, last, time.Now().UTC(), r.JSON})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.DeadLetter.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("webhook dead-letter file: %w", err)
	}
	w.count(func(s *WebhookStats) { s.DeadLettered++ })
	return nil
}

// Close implements Sink.
func (w *Webhook) Close() error { return nil }

// redact is a URL's scheme and host.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}
