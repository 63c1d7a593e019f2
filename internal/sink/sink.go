// Package sink delivers detection output — alerts and incidents, each a JSON document with its
// deterministic ID — to where a SOC reads it: JSON lines on a writer or file, an HTTP webhook
// (signed, retried with back-off, dead-lettered after the last attempt) and a Kafka topic. Delivery
// is at least once: a record may be delivered again after a restart or a retry whose first try
// did reach the receiver, so every record carries its ID (the webhook's X-Bulwark-Delivery header,
// the Kafka record key) for the receiver to deduplicate by; within one process a sink delivers each
// ID once (Dedup).
//
// The package is the delivery stage of bulwark watch (internal/watch).
package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Record is one alert or incident to deliver.
type Record struct {
	ID   string // deterministic: the same alert or incident has the same ID on every run
	Key  string // what the record is about, when records update one another (an incident's ID): the Kafka key; default ID
	Kind string // "alert" or "incident"
	JSON []byte // the bulwark.detect/v1 document, one line
}

// Sink delivers records. Deliver returns once the record is delivered or given up on (a
// dead-lettered record is not an error); an error means the sink cannot go on.
type Sink interface {
	Deliver(ctx context.Context, r Record) error
	Close() error
}

// JSONLines writes each record's JSON as one line.
type JSONLines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONLines writes to w (stdout, or a file the caller opened and closes).
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// Deliver implements Sink.
func (s *JSONLines) Deliver(_ context.Context, r Record) error {
	if len(r.JSON) == 0 || r.JSON[len(r.JSON)-1] == '\n' {
		return errors.New("sink: a record must be one JSON line without its newline")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := make([]byte, 0, len(r.JSON)+1)
	buf = append(append(buf, r.JSON...), '\n')
	_, err := s.w.Write(buf) // one write: lines of concurrent deliveries never interleave
	return err
}

// Close implements Sink: the writer is the caller's to close.
func (s *JSONLines) Close() error { return nil }

// Multi delivers every record to each sink in turn; the first error stops it.
type Multi []Sink

// Deliver implements Sink.
func (m Multi) Deliver(ctx context.Context, r Record) error {
	for _, s := range m {
		if err := s.Deliver(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Sink: every sink is closed, and the first error returned.
func (m Multi) Close() error {
	var first error
	for _, s := range m {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Dedup passes each ID to the sink once, remembering the last Size IDs delivered (the oldest are
// forgotten: a record repeated after that many others is delivered again, which at-least-once
// allows).
type Dedup struct {
	Sink Sink
	Size int

	mu    sync.Mutex
	seen  map[string]struct{}
	order []string
	next  int
}

// Deliver implements Sink.
func (d *Dedup) Deliver(ctx context.Context, r Record) error {
	if r.ID == "" {
		return fmt.Errorf("sink: a record without an ID cannot be deduplicated")
	}
	d.mu.Lock()
	if d.seen == nil {
		if d.Size <= 0 {
			d.Size = 100_000
		}
		d.seen, d.order = map[string]struct{}{}, make([]string, d.Size)
	}
	if _, dup := d.seen[r.ID]; dup {
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	if err := d.Sink.Deliver(ctx, r); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.seen[r.ID]; dup { // delivered concurrently meanwhile
		return nil
	}
	if old := d.order[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.order[d.next] = r.ID
	d.next = (d.next + 1) % d.Size
	d.seen[r.ID] = struct{}{}
	return nil
}

// Close implements Sink.
func (d *Dedup) Close() error { return d.Sink.Close() }
