package sigma

import (
	"math"
	"time"
)

// window is a correlation group's matches within its timespan, oldest first (the correlator
// processes matches in event-time order, so the oldest leave from the front), with what the
// correlation types ask of them kept up to date as matches arrive and expire: how many, how many
// of each member rule (temporal), how many of each value (value_count, value_percentile). A match
// then costs the same however many the window holds — scanning them all for every match made a
// group flooded by one actor quadratic (30,000 purges by one caller: 8 s).
//
// The events an alert carries are capped (Options.MaxAlertEvents, oldest first): once the window
// holds that many events, a newer match keeps its count but not its events, so a flooded group's
// memory is its matches' times and values, not their events. When the oldest then expire, an
// alert may carry fewer sample events than the cap; its EventCount stays exact.
type window struct {
	recs   []*entryRec
	head   int // recs[head:] are in the window
	events int // events held by the window's matches

	byRule  map[int]int    // member rule index → matches in the window
	byValue map[string]int // value → matches in the window
	values  int            // distinct non-empty values in the window
}

func (w *window) len() int { return len(w.recs) - w.head }

// live returns the matches in the window, oldest first.
func (w *window) live() []*entryRec { return w.recs[w.head:] }

func (w *window) reset() { *w = window{} }

// push adds the newest match, dropping its events when the window holds maxEvents already.
func (w *window) push(r *entryRec, maxEvents int) {
	if w.events >= maxEvents {
		r.events = nil
	}
	w.restore(r)
}

// expire drops the matches older than span before now.
func (w *window) expire(now time.Time, span time.Duration) {
	for w.head < len(w.recs) && now.Sub(w.recs[w.head].t) > span {
		r := w.recs[w.head]
		w.recs[w.head] = nil
		w.head++
		w.events -= len(r.events)
		if w.byRule[r.idx]--; w.byRule[r.idx] == 0 {
			delete(w.byRule, r.idx)
		}
		if w.byValue[r.val]--; w.byValue[r.val] == 0 {
			delete(w.byValue, r.val)
			if r.val != "" {
				w.values--
			}
		}
	}
	if w.head > 64 && w.head > len(w.recs)/2 { // reclaim the front
		n := copy(w.recs, w.recs[w.head:])
		clear(w.recs[n:])
		w.recs, w.head = w.recs[:n], 0
	}
}

// distinctRules is how many member rules have a match in the window (temporal).
func (w *window) distinctRules() int { return len(w.byRule) }

// aggregate computes a correlation's value over the window. For value_percentile it is the share
// (in %) of the window's matches whose value is the newest's. Sums are added up in window order
// each time, as floating-point sums kept by adding and subtracting would drift.
func (w *window) aggregate(c *Correlation, newest *entryRec) float64 {
	switch c.Type {
	case "event_count":
		return float64(w.len())
	case "value_count":
		return float64(w.values)
	case "value_sum", "value_avg":
		sum, n := 0.0, 0
		for _, r := range w.live() {
			if r.isNum {
				sum += r.num
				n++
			}
		}
		if c.Type == "value_sum" {
			return sum
		}
		if n == 0 {
			return math.NaN()
		}
		return sum / float64(n)
	case "value_percentile":
		if newest == nil || w.len() == 0 {
			return math.NaN()
		}
		return 100 * float64(w.byValue[newest.val]) / float64(w.len())
	}
	return 0
}
