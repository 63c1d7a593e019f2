package sigma

import (
	"container/heap"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Alert is a rule that matched: a detection rule on one event, or a correlation rule on a group of events.
type Alert struct {
	Rule       *Rule
	Time       time.Time         // event time of the event that completed the match
	Events     []Event           // the events that made it, oldest first (capped by Options.MaxAlertEvents)
	EventCount int               // how many events made it, including any beyond the cap
	Group      map[string]string // group-by values of a correlation
	Value      float64           // the aggregate that met the condition: count, distinct values, sum, average or share (%)
}

// Correlator runs detection and correlation rules over a stream of events, on event time.
type Correlator struct {
	rs            *RuleSet
	states        []*corrState
	byInput       map[*Rule][]*corrInput // detection rule → correlations that consume it
	byCorr        map[*Rule][]*corrInput // correlation rule → correlations that consume it
	emitOwn       map[*Rule]bool         // rules that alert on their own
	pending       entryHeap
	seq           uint64
	maxSeen       time.Time
	doneUpTo      time.Time
	matched       []*Rule
	swept         int
	late, evicted int
}

// Late counts events whose matches arrived after the allowed lateness and were left out of
// correlation.
func (c *Correlator) Late() int { return c.late }

// Evicted counts correlation groups dropped because a rule reached Options.MaxGroups.
func (c *Correlator) Evicted() int { return c.evicted }

type corrInput struct {
	state *corrState
	index int // position of the input rule in the correlation's rules list
}

type corrState struct {
	rule    *Rule
	c       *Correlation
	refs    []*Rule // resolved rules, in correlation order
	groups  map[string]*group
	due     dueHeap // tumbling windows by end time
	sliding bool
	need    int // temporal: distinct rules needed
}

type entry struct {
	t      time.Time
	seq    uint64
	rule   *Rule
	ev     Event
	events []Event           // for correlation alerts feeding a parent
	count  int               // events behind a correlation alert
	group  map[string]string // group values of a correlation alert
}

type group struct {
	key    string
	values map[string]string
	// win holds the group's matches in the window, oldest first, with the aggregates over them
	// kept as they come and go (window.go), so a match costs the same however many are held.
	win     window
	start   time.Time // tumbling window start
	last    time.Time
	seen    map[int]time.Time // temporal: last time each rule matched
	chain   []time.Time       // temporal_ordered: latest start of a chain of length k+1
	chainOK []bool
}

type entryRec struct {
	t      time.Time
	idx    int
	val    string
	num    float64
	isNum  bool
	events []Event
	count  int
}

// NewCorrelator prepares correlation state for the rule set's correlation rules.
func (rs *RuleSet) NewCorrelator() *Correlator {
	c := &Correlator{rs: rs, byInput: map[*Rule][]*corrInput{}, byCorr: map[*Rule][]*corrInput{}, emitOwn: map[*Rule]bool{}}
	byRef := map[string]*Rule{}
	for _, r := range append(append([]*Rule(nil), rs.Rules...), rs.Correlations...) {
		if r.ID != "" {
			byRef[r.ID] = r
		}
		if r.Name != "" {
			byRef[r.Name] = r
		}
	}
	referenced := map[*Rule]bool{}
	generated := map[*Rule]bool{}
	for _, r := range rs.Correlations {
		st := &corrState{rule: r, c: r.Correlation, groups: map[string]*group{}}
		st.sliding = isSliding(r.Correlation)
		for i, ref := range r.Correlation.Rules {
			in := byRef[ref]
			st.refs = append(st.refs, in)
			referenced[in] = true
			if r.Correlation.Generate {
				generated[in] = true
			}
			ci := &corrInput{state: st, index: i}
			if in.Correlation != nil {
				c.byCorr[in] = append(c.byCorr[in], ci)
			} else {
				c.byInput[in] = append(c.byInput[in], ci)
			}
		}
		st.need = len(st.refs)
		if v, ok := r.Correlation.Condition.Get(Gte); ok && (st.c.Type == "temporal" || st.c.Type == "temporal_ordered") {
			st.need = int(v)
		}
		c.states = append(c.states, st)
	}
	for _, r := range append(append([]*Rule(nil), rs.Rules...), rs.Correlations...) {
		c.emitOwn[r] = !referenced[r] || generated[r]
	}
	return c
}

// isSliding reports whether a correlation can be decided on each event (its condition only asks
// for "at least"): then a window slides and fires as soon as the condition holds. Other conditions
// (at most, exactly, averages) are decided when a window closes.
func isSliding(c *Correlation) bool {
	switch c.Type {
	case "temporal", "temporal_ordered", "value_percentile":
		return true
	case "value_avg":
		return false
	}
	return c.Condition.AtLeast()
}

// Process evaluates one event: detection alerts are emitted at once; matches that feed
// correlations are held until the watermark (the latest event time seen minus the allowed
// lateness) passes them, then processed in event-time order.
func (c *Correlator) Process(ev Event, emit func(Alert)) {
	c.matched = c.matched[:0]
	c.rs.Match(ev, func(r *Rule) { c.matched = append(c.matched, r) })
	t := ev.Time()
	for _, r := range c.matched {
		if c.emitOwn[r] {
			emit(Alert{Rule: r, Time: t, Events: []Event{ev}, EventCount: 1})
		}
		if len(c.byInput[r]) == 0 {
			continue
		}
		if !c.maxSeen.IsZero() && t.Before(c.maxSeen.Add(-c.rs.opts.Lateness)) || !c.doneUpTo.IsZero() && t.Before(c.doneUpTo) {
			c.late++ // older than the watermark: sorted input would already have moved past it
			continue
		}
		c.seq++
		heap.Push(&c.pending, &entry{t: t, seq: c.seq, rule: r, ev: ev})
	}
	c.Advance(t, emit)
}

// ProcessAlone evaluates one event like Process but feeds no correlation with it: its detection
// alerts are emitted, and event time moves on. It is for events the caller knows must not count
// towards any correlation (a pipeline removing what it created itself, say).
func (c *Correlator) ProcessAlone(ev Event, emit func(Alert)) {
	c.matched = c.matched[:0]
	c.rs.Match(ev, func(r *Rule) { c.matched = append(c.matched, r) })
	for _, r := range c.matched {
		if c.emitOwn[r] {
			emit(Alert{Rule: r, Time: ev.Time(), Events: []Event{ev}, EventCount: 1})
		}
	}
	c.Advance(ev.Time(), emit)
}

// Advance tells the correlator that an event of time t was seen that matches no rule (see
// RuleSet.MayMatch): event time moves on exactly as if it had been passed to Process.
func (c *Correlator) Advance(t time.Time, emit func(Alert)) {
	if t.After(c.maxSeen) {
		c.maxSeen = t
	}
	c.advance(c.maxSeen.Add(-c.rs.opts.Lateness), emit)
}

// Flush processes everything still held and closes every open window: call it at the end of a
// replay.
func (c *Correlator) Flush(emit func(Alert)) {
	c.advance(time.Unix(1<<62, 0), emit)
	for _, st := range c.states {
		for _, g := range st.groups {
			if !st.sliding && g.win.len() > 0 {
				c.closeWindow(st, g, emit)
			}
		}
	}
}

func (c *Correlator) advance(watermark time.Time, emit func(Alert)) {
	for c.pending.Len() > 0 && !c.pending[0].t.After(watermark) {
		e := heap.Pop(&c.pending).(*entry)
		c.doneUpTo = e.t
		c.closeDue(e.t, emit)
		c.feed(e, c.byInput[e.rule], emit)
		if c.swept++; c.swept >= 4096 {
			c.swept = 0
			c.sweep(e.t)
		}
	}
}

// sweep drops groups with nothing left inside their window: their state can no longer matter.
func (c *Correlator) sweep(now time.Time) {
	for _, st := range c.states {
		for k, g := range st.groups {
			if now.Sub(g.last) > st.c.Timespan && (st.sliding || g.win.len() == 0) {
				delete(st.groups, k)
			}
		}
	}
}

// Groups returns how many correlation groups hold state (for tests and metrics).
func (c *Correlator) Groups() int {
	n := 0
	for _, st := range c.states {
		n += len(st.groups)
	}
	return n
}

func (c *Correlator) feed(e *entry, inputs []*corrInput, emit func(Alert)) {
	for _, in := range inputs {
		c.add(in.state, in.index, e, emit)
	}
}

func (c *Correlator) closeDue(t time.Time, emit func(Alert)) {
	for _, st := range c.states {
		for st.due.Len() > 0 && st.due[0].end.Before(t) {
			d := heap.Pop(&st.due).(*due)
			if g, ok := st.groups[d.key]; ok && g.start.Equal(d.start) {
				c.closeWindow(st, g, emit)
			}
		}
	}
}

func fieldString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	}
	if f, ok := toFloat(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return ""
}

// value reads a field of an entry: a correlation alert's group value, or the event's field through
// the correlation's aliases.
func (st *corrState) value(e *entry, field string) (string, any, bool) {
	if e.group != nil {
		v, ok := e.group[field]
		return v, v, ok
	}
	name := field
	if al, ok := st.c.Aliases[field]; ok {
		if f, ok := al[e.rule.Name]; ok {
			name = f
		}
	}
	v, ok := e.ev.Field(name)
	return fieldString(v), v, ok
}

func (c *Correlator) add(st *corrState, idx int, e *entry, emit func(Alert)) {
	var key strings.Builder
	values := make(map[string]string, len(st.c.GroupBy))
	for i, f := range st.c.GroupBy {
		s, _, _ := st.value(e, f)
		values[f] = s
		if i > 0 {
			key.WriteByte(0)
		}
		key.WriteString(s)
	}
	g, ok := st.groups[key.String()]
	if !ok {
		if len(st.groups) >= c.rs.opts.MaxGroups {
			c.evict(st)
		}
		g = &group{key: key.String(), values: values}
		st.groups[g.key] = g
	}
	g.last = e.t
	rec := &entryRec{t: e.t, idx: idx, events: e.events, count: e.count}
	if e.ev != nil {
		rec.events, rec.count = []Event{e.ev}, 1
	}
	if st.c.Field != "" {
		s, raw, _ := st.value(e, st.c.Field)
		rec.val = s
		rec.num, rec.isNum = toFloat(raw)
	}
	switch st.c.Type {
	case "temporal", "temporal_ordered":
		c.temporal(st, g, rec, emit)
		return
	}
	if st.sliding {
		g.win.expire(e.t, st.c.Timespan)
		g.win.push(rec, c.rs.opts.MaxAlertEvents)
		agg := g.win.aggregate(st.c, rec)
		if st.c.Condition.Holds(agg) {
			c.fire(st, g, g.win.live(), agg, e.t, emit)
			g.win.reset()
		}
		return
	}
	if g.win.len() > 0 && e.t.Sub(g.start) > st.c.Timespan {
		c.closeWindow(st, g, emit)
	}
	if g.win.len() == 0 {
		g.start = e.t
		heap.Push(&st.due, &due{end: e.t.Add(st.c.Timespan), key: g.key, start: e.t})
	}
	g.win.push(rec, c.rs.opts.MaxAlertEvents)
}

func (c *Correlator) closeWindow(st *corrState, g *group, emit func(Alert)) {
	if g.win.len() == 0 {
		return
	}
	agg := g.win.aggregate(st.c, nil)
	if st.c.Condition.Holds(agg) {
		live := g.win.live()
		c.fire(st, g, live, agg, live[len(live)-1].t, emit)
	}
	g.win.reset()
}

func (c *Correlator) temporal(st *corrState, g *group, rec *entryRec, emit func(Alert)) {
	span := st.c.Timespan
	g.win.expire(rec.t, span)
	g.win.push(rec, c.rs.opts.MaxAlertEvents)
	if st.c.Type == "temporal" {
		if distinct := g.win.distinctRules(); distinct >= st.need {
			c.fire(st, g, g.win.live(), float64(distinct), rec.t, emit)
			g.win.reset()
		}
		return
	}
	// temporal_ordered: the rules in order, each at or after the previous, all within the span.
	n := len(st.refs)
	if len(g.chain) != n {
		g.chain, g.chainOK = make([]time.Time, n), make([]bool, n)
	}
	for k := n - 1; k >= 0; k-- { // longest prefixes first, so one event advances one step
		if st.refs[k] != st.refs[rec.idx] {
			continue
		}
		if k == 0 {
			g.chain[0], g.chainOK[0] = rec.t, true
			continue
		}
		if g.chainOK[k-1] && rec.t.Sub(g.chain[k-1]) <= span {
			if !g.chainOK[k] || g.chain[k-1].After(g.chain[k]) {
				g.chain[k], g.chainOK[k] = g.chain[k-1], true
			}
		}
	}
	if g.chainOK[n-1] && rec.t.Sub(g.chain[n-1]) <= span {
		start := g.chain[n-1]
		var used []*entryRec
		for _, r := range g.win.live() {
			if !r.t.Before(start) {
				used = append(used, r)
			}
		}
		c.fire(st, g, used, float64(n), rec.t, emit)
		g.win.reset()
		g.chain, g.chainOK = nil, nil
	}
}

func (c *Correlator) fire(st *corrState, g *group, recs []*entryRec, value float64, t time.Time, emit func(Alert)) {
	a := Alert{Rule: st.rule, Time: t, Value: value, Group: g.values}
	for _, r := range recs {
		a.EventCount += r.count
		for _, ev := range r.events {
			if len(a.Events) < c.rs.opts.MaxAlertEvents {
				a.Events = append(a.Events, ev)
			}
		}
	}
	if c.emitOwn[st.rule] {
		emit(a)
	}
	if parents := c.byCorr[st.rule]; len(parents) > 0 {
		c.seq++
		c.feed(&entry{t: t, seq: c.seq, rule: st.rule, events: a.Events, count: a.EventCount, group: g.values}, parents, emit)
	}
}

// evict drops the least recently seen sixteenth of a correlation's groups.
func (c *Correlator) evict(st *corrState) {
	gs := make([]*group, 0, len(st.groups))
	for _, g := range st.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].last.Before(gs[j].last) })
	n := max(1, len(gs)/16)
	for _, g := range gs[:n] {
		delete(st.groups, g.key)
	}
	c.evicted += n
}

// ---- heaps

type entryHeap []*entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if !h[i].t.Equal(h[j].t) {
		return h[i].t.Before(h[j].t)
	}
	return h[i].seq < h[j].seq
}
func (h entryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)   { *h = append(*h, x.(*entry)) }
func (h *entryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type due struct {
	end, start time.Time
	key        string
}

type dueHeap []*due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].end.Before(h[j].end) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(*due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
