// Package watch is bulwark watch: detection running on the Activity Log as it streams — Event Hubs
// through its Kafka endpoint, any Kafka, or the storage export's folders as they grow — with the
// state checkpointed so that a restart resumes where the last checkpoint left off.
//
// An Engine is one detector over one or more streams (Kafka partitions, files), merged on event
// time: it takes records as they are fetched, processes their events in event-time order across
// the streams (a stream that is behind holds the others back, so a backlog read partition by
// partition is not late), and on each Tick reports what is new — alerts and incidents as they open
// and grow, then in their final form — through a sink, after writing a checkpoint that covers it.
//
// The order of a Tick is what makes a crash harmless: (1) the new records go to an outbox; (2)
// the checkpoint — detector state, each stream's position, the outbox — is written to a temporary
// file, synced and renamed over the last; (3) the outbox is delivered, each delivered record's ID
// appended to a log the next checkpoint clears; (4) the caller commits the positions (Kafka
// offsets) the checkpoint holds. A crash before (2) resumes from the previous checkpoint and
// reprocesses the same events into the same records (their IDs are deterministic); after it, the
// outbox is delivered on restart less what the log says was delivered. So nothing is lost, and a
// record is delivered twice only when the process dies between a delivery and its log line
// (at-least-once: receivers deduplicate by ID).
package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"github.com/bulwarkhq/bulwark/internal/sink"
)

// Options are what an Engine is built from.
type Options struct {
	Detect detect.Options
	Limits limits.Limits // per record: line and document sizes
	// State is the folder of checkpoints (one file per engine); "" keeps nothing across restarts.
	State string
	Sink  sink.Sink
	Log   *slog.Logger
	// MaxBuffered is how many fetched events may wait for a stream that is behind before the
	// others go on without it (default 200,000).
	MaxBuffered int
	Metrics     *Metrics // nil: none
	// Now is the wall clock suppressions expire by (nil: time.Now), read at each Tick.
	Now func() time.Time

	// crash, in tests, is asked at each point where a process could die; true makes the run stop
	// there at once with errCrash, as a killed process would (no checkpoint, no commit, no leave).
	crash func(point string) bool
}

// errCrash is what a run stopped by Options.crash returns.
var errCrash = errors.New("crashed (test)")

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = 200_000
	}
}

func (o *Options) crashes(point string) bool { return o.crash != nil && o.crash(point) }

// Engine is one detector over several streams, checkpointed. It is not safe for concurrent use.
type Engine struct {
	opts    Options
	name    string
	d       *detect.Detector
	rd      *activity.Reader
	streams map[string]*stream
	// emitted: alert or incident ID → hash of the last revision delivered, for items not final.
	emitted map[string]uint64
	revs    map[string]int
	outbox  []sink.Record
	done    map[string]bool // outbox records delivered since the checkpoint (the delivered log)
	log     *deliveredLog
	counts  Counts
	last    time.Time // when the last checkpoint was written
	upTo    int64     // sub-streams of one partition: the position after the last record added
}

// Counts are an engine's running totals (also in its checkpoint).
type Counts struct {
	Records   int `json:"records"`   // records fetched
	Events    int `json:"events"`    // events processed
	Malformed int `json:"malformed"` // records (or lines in them) that could not be read
	Alerts    int `json:"alerts"`    // final alerts delivered
	Incidents int `json:"incidents"` // final incidents delivered
	Revisions int `json:"revisions"` // open revisions delivered
}

type stream struct {
	pos   int64 // position of the first record with events not yet processed
	skip  int   // of which this many were processed (a checkpoint can fall inside a record)
	queue []*fetched
	// behind: the stream has records not yet fetched (its source said so); an empty queue then
	// holds the other streams back.
	behind bool
}

type fetched struct {
	pos, next int64
	events    []*activity.Event
	done      int // events processed
}

// engineState is the checkpoint's own part; the detector's follows it in the file.
type engineState struct {
	Version int                 `json:"version"`
	Name    string              `json:"name"`
	Streams map[string][2]int64 `json:"streams"` // name → [position, events of that record already processed]
	Resume  int64               `json:"resume"`  // sub-streams of one partition: where to read it from (Resume)
	Emitted map[string]uint64   `json:"emitted"`
	Revs    map[string]int      `json:"revisions"`
	Outbox  []sink.Record       `json:"outbox"`
	Reader  activity.DedupState `json:"reader"`
	Counts  Counts              `json:"counts"`
	Written time.Time           `json:"written"`
}

// Open returns the engine called name (its checkpoint file, in opts.State), restored from its
// checkpoint when there is one, and delivers what that checkpoint left undelivered.
func Open(ctx context.Context, opts Options, name string) (*Engine, error) {
	opts.defaults()
	e := &Engine{opts: opts, name: name, streams: map[string]*stream{}, emitted: map[string]uint64{}, revs: map[string]int{}, done: map[string]bool{}}
	e.rd = &activity.Reader{Limits: opts.Limits, Workers: 1}
	var es *engineState
	var err error
	if opts.State != "" {
		es, e.d, err = readCheckpoint(opts.State, name, opts.Detect)
		if err != nil {
			return nil, err
		}
		if e.log, err = openDeliveredLog(opts.State, name); err != nil {
			return nil, err
		}
	}
	if e.d == nil {
		d, errs, err := detect.New(opts.Detect)
		if err != nil {
			return nil, err
		}
		if len(errs) > 0 {
			return nil, errs
		}
		e.d = d
	}
	e.d.Narrow(e.rd)
	if es != nil {
		for n, p := range es.Streams {
			e.streams[n] = &stream{pos: p[0], skip: int(p[1])}
		}
		e.emitted, e.revs, e.outbox, e.counts, e.last, e.upTo = es.Emitted, es.Revs, es.Outbox, es.Counts, es.Written, es.Resume
		if e.emitted == nil {
			e.emitted = map[string]uint64{}
		}
		if e.revs == nil {
			e.revs = map[string]int{}
		}
		e.rd.RestoreDedup(es.Reader)
		for _, id := range e.log.loaded() {
			e.done[id] = true
		}
		opts.Log.Info("resumed from checkpoint", "engine", name, "written", es.Written, "streams", len(es.Streams), "undelivered", len(e.outbox)-len(e.done))
		if err := e.deliver(ctx); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Close closes the delivered log.
func (e *Engine) Close() error { return e.log.close() }

// Position returns where stream should be read from: the position of its first record with events
// not yet processed, and whether the engine has one (from its checkpoint or its records).
func (e *Engine) Position(name string) (int64, bool) {
	s, ok := e.streams[name]
	if !ok {
		return 0, false
	}
	return s.pos, true
}

// Positions returns every stream's position (what a checkpoint covers: Kafka offsets to commit).
func (e *Engine) Positions() map[string]int64 {
	out := make(map[string]int64, len(e.streams))
	for n, s := range e.streams {
		out[n] = s.pos
	}
	return out
}

// Resume is, for an engine whose streams are sub-streams of one partition (the rekey topic's
// records from each source partition: positions are the partition's offsets), where the partition
// must be read from again for nothing to be missed: the first record not fully processed of any
// sub-stream, or after the last record added when all are. Records before a sub-stream's own
// position are skipped when read again. -1: nothing added yet.
func (e *Engine) Resume() int64 {
	r := e.upTo
	if r == 0 {
		r = -1
	}
	for _, s := range e.streams {
		if len(s.queue) > 0 && (r < 0 || s.queue[0].pos < r) {
			r = s.queue[0].pos
		}
	}
	return r
}

// BehindAll says of every stream whether it is behind (see Behind): the sub-streams of one
// partition are behind while the partition is.
func (e *Engine) BehindAll(behind bool) {
	for _, s := range e.streams {
		s.behind = behind
	}
}

// Drop forgets a stream (a partition revoked): its fetched records are let go, its position too.
func (e *Engine) Drop(name string) { delete(e.streams, name) }

// Behind says whether a stream has records not yet fetched: while it has and none are waiting,
// the other streams wait for it (up to MaxBuffered events).
func (e *Engine) Behind(name string, behind bool) {
	e.stream(name).behind = behind
}

func (e *Engine) stream(name string) *stream {
	s, ok := e.streams[name]
	if !ok {
		s = &stream{pos: -1}
		e.streams[name] = s
	}
	return s
}

// Add takes one record of a stream: pos is its position (a Kafka offset, a byte offset in a file)
// and next the position after it. A record the engine has already processed (before pos) is
// skipped, a malformed one counted and logged by stream and position. Call Drain to process.
func (e *Engine) Add(ctx context.Context, name string, pos, next int64, value []byte) error {
	s := e.stream(name)
	if s.pos >= 0 && pos < s.pos {
		return nil // processed before the checkpoint this run resumed from
	}
	if s.pos < 0 {
		s.pos = pos
	}
	e.upTo = max(e.upTo, next)
	e.counts.Records++
	f := &fetched{pos: pos, next: next}
	malformed, dups := e.rd.Malformed, e.rd.Duplicates
	label := fmt.Sprintf("%s@%d", name, pos)
	err := e.rd.ReadFrom(ctx, label, bytes.NewReader(value), func(ev *activity.Event) error {
		f.events = append(f.events, ev.Keep())
		return nil
	})
	if n := e.rd.Malformed - malformed; n > 0 || err != nil || len(f.events) == 0 && e.rd.Duplicates == dups {
		msg := "no Activity Log event in it"
		if err != nil {
			msg = err.Error()
		}
		e.malformed("malformed record", name, pos, max(n, 1), n > 0 && err == nil, msg)
	}
	e.enqueue(s, f)
	return nil
}

// malformed counts and logs n malformed records or lines at a stream's position; the Reader's
// latest problem describes them when fromReader, else msg does.
func (e *Engine) malformed(what, name string, pos int64, n int, fromReader bool, msg string) {
	if fromReader && len(e.rd.Problems) > 0 {
		msg = e.rd.Problems[len(e.rd.Problems)-1].String()
	}
	e.counts.Malformed += n
	e.opts.Log.Warn(what, "stream", name, "position", pos, "problems", n, "first", msg)
	e.opts.Metrics.malformed(name, n)
}

func (e *Engine) enqueue(s *stream, f *fetched) {
	if f.pos == s.pos && s.skip > 0 { // the checkpoint fell inside this record
		f.done = min(s.skip, len(f.events))
	}
	s.queue = append(s.queue, f)
}

// AddLines takes complete JSON lines of a stream at once — data starts at position base|off and
// ends with a newline — each line a record of its own (its position the line's start), decoded in
// one pass: what Add per line does, at a fraction of the cost.
func (e *Engine) AddLines(ctx context.Context, name string, base, off int64, data []byte) error {
	s := e.stream(name)
	starts := []int64{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, int64(i+1))
		}
	}
	byLine := map[int][]*activity.Event{}
	malformed := e.rd.Malformed
	label := fmt.Sprintf("%s@%d", name, base|off)
	err := e.rd.ReadFrom(ctx, label, bytes.NewReader(data), func(ev *activity.Event) error {
		byLine[ev.Line()] = append(byLine[ev.Line()], ev.Keep())
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if n := e.rd.Malformed - malformed; n > 0 {
		e.malformed("malformed lines", name, base|off, n, true, "")
	}
	lines := make([]int, 0, len(byLine))
	for k := range byLine {
		lines = append(lines, k)
	}
	sort.Ints(lines)
	for _, k := range lines {
		if k < 1 || k >= len(starts) {
			return fmt.Errorf("%s: an event of line %d of %d", label, k, len(starts)-1)
		}
		pos, next := base|(off+starts[k-1]), base|(off+starts[k])
		if s.pos >= 0 && pos < s.pos {
			continue
		}
		if s.pos < 0 {
			s.pos = pos
		}
		e.counts.Records++
		e.enqueue(s, &fetched{pos: pos, next: next, events: byLine[k]})
	}
	e.upTo = max(e.upTo, base|(off+int64(len(data))))
	return nil
}

// Drain processes the fetched events in event-time order across the streams, as far as it can
// without a stream that is behind.
func (e *Engine) Drain() {
	buffered := 0
	for _, s := range e.streams {
		for _, f := range s.queue {
			buffered += len(f.events) - f.done
		}
	}
	streams := e.sorted()
	for _, s := range streams {
		e.settle(s)
	}
	for {
		var best *stream
		var at time.Time
		for _, s := range streams {
			if len(s.queue) == 0 {
				if s.behind && buffered < e.opts.MaxBuffered {
					return // wait for it
				}
				continue
			}
			f := s.queue[0]
			if t := f.events[f.done].At; best == nil || t.Before(at) {
				best, at = s, t
			}
		}
		if best == nil {
			return
		}
		f := best.queue[0]
		e.d.Process(f.events[f.done])
		f.events[f.done] = nil
		f.done++
		buffered--
		e.counts.Events++
		best.skip = f.done
		e.settle(best)
	}
}

// settle moves a stream past its fully processed records.
func (e *Engine) settle(s *stream) {
	for len(s.queue) > 0 && s.queue[0].done >= len(s.queue[0].events) {
		s.pos, s.skip = s.queue[0].next, 0
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
	if len(s.queue) > 0 {
		s.pos, s.skip = s.queue[0].pos, s.queue[0].done
	}
}

// sorted returns the streams in name order, so that equal times are taken alike on every run.
func (e *Engine) sorted() []*stream {
	names := make([]string, 0, len(e.streams))
	for n := range e.streams {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*stream, len(names))
	for i, n := range names {
		out[i] = e.streams[n]
	}
	return out
}

// Tick reports what is new since the last — alerts and incidents opened or grown, and the final
// form of those Flush lets go — after checkpointing (see the package documentation), and returns
// once the records are delivered. The positions the checkpoint covers are then Positions().
func (e *Engine) Tick(ctx context.Context) error {
	if e.opts.Now != nil {
		e.d.SetNow(e.opts.Now())
	} else {
		e.d.SetNow(time.Now())
	}
	alerts, incs := e.d.Open()
	if err := e.put(alerts, incs, false); err != nil {
		return err
	}
	alerts, incs = e.d.Flush(e.d.Watermark())
	if err := e.put(alerts, incs, true); err != nil {
		return err
	}
	if err := e.checkpoint(); err != nil {
		return err
	}
	if e.opts.crashes("checkpointed") {
		return errCrash
	}
	return e.deliver(ctx)
}

// Finish processes every fetched event whatever the streams that are behind, then ticks.
func (e *Engine) Finish(ctx context.Context) error {
	for _, s := range e.streams {
		s.behind = false
	}
	e.Drain()
	return e.Tick(ctx)
}

// line is a record's JSON: the bulwark.detect/v1 line (body, the alert or incident) with its
// revision and whether it is final.
func line(kind string, rev int, final bool, body []byte) []byte {
	head := fmt.Sprintf(`{"schema":%q,"kind":%q,"revision":%d,"final":%t,`, incident.Schema, kind, rev, final)
	return append([]byte(head), body[1:]...)
}

// put puts alerts and incidents in the outbox: open ones when they differ from their last
// revision, final ones always (and then forgets them).
func (e *Engine) put(alerts []*detect.Alert, incs []*detect.Incident, final bool) error {
	for _, a := range alerts {
		if err := e.record("alert", a.ID, a, final); err != nil {
			return err
		}
	}
	for _, inc := range incs {
		if err := e.record("incident", inc.ID, inc, final); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) record(kind, id string, v any, final bool) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := fnv.New64a()
	h.Write(body)
	sum := h.Sum64()
	if prev, ok := e.emitted[id]; ok && prev == sum && !final {
		return nil
	}
	e.revs[id]++
	r := sink.Record{ID: fmt.Sprintf("%s@%016x", id, sum), Key: id, Kind: kind, JSON: line(kind, e.revs[id], final, body)}
	if final {
		r.ID = id + "@final"
		delete(e.emitted, id)
		delete(e.revs, id)
	} else {
		e.emitted[id] = sum
	}
	e.outbox = append(e.outbox, r)
	return nil
}

// deliver delivers the outbox less what was delivered since the checkpoint, logging each.
func (e *Engine) deliver(ctx context.Context) error {
	for _, r := range e.outbox {
		if e.done[r.ID] {
			continue
		}
		if err := e.opts.Sink.Deliver(ctx, r); err != nil {
			e.opts.Metrics.sinkFailure()
			return fmt.Errorf("delivering %s: %w (it stays in the checkpoint's outbox and is delivered on restart)", r.ID, err)
		}
		if e.opts.crashes("delivered-unlogged") {
			return errCrash // the one record a restart delivers again
		}
		e.done[r.ID] = true
		if err := e.log.add(r.ID); err != nil {
			return err
		}
		if e.opts.crashes("delivered") {
			return errCrash
		}
		final := strings.HasSuffix(r.ID, "@final")
		switch {
		case !final:
			e.counts.Revisions++
		case r.Kind == "incident":
			e.counts.Incidents++
		default:
			e.counts.Alerts++
		}
		e.opts.Metrics.delivered(r, final)
	}
	return e.log.sync()
}

// Counts returns the running totals.
func (e *Engine) Counts() Counts { return e.counts }

// Detector is the engine's detector (for metrics: its state size).
func (e *Engine) Detector() *detect.Detector { return e.d }

// LastCheckpoint is when the last checkpoint was written.
func (e *Engine) LastCheckpoint() time.Time { return e.last }
