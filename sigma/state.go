package sigma

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// CorrelatorState is everything a Correlator holds — the matches waiting for the watermark, every
// correlation group's window, the tumbling windows due to close, event time and the counters — as
// plain values, for a long-running caller to checkpoint (bulwark watch): a Correlator restored from
// it (RuleSet.RestoreCorrelator) over the same rules goes on exactly as the one it was taken from.
// Events are not part of it: State hands each to the caller's ref, which gives it a number
// (the caller keeps the events), and RestoreCorrelator asks deref for the event of each number.
// Heaps are kept as their arrays, so ties break the same way after a restore.
type CorrelatorState struct {
	Rules    []string       `json:"rules"` // every rule of the set (ID, else name, else title), detection rules first
	Seq      uint64         `json:"seq"`
	MaxSeen  time.Time      `json:"maxSeen"`
	DoneUpTo time.Time      `json:"doneUpTo"`
	Swept    int            `json:"swept"`
	Late     int            `json:"late"`
	Evicted  int            `json:"evicted"`
	Pending  []EntryState   `json:"pending"`
	States   [][]GroupState `json:"states"` // per correlation rule, in the set's order
	Due      [][]DueState   `json:"due"`    // per correlation rule: its tumbling windows' heap
}

// EntryState is one match waiting for the watermark.
type EntryState struct {
	T      time.Time         `json:"t"`
	Seq    uint64            `json:"seq"`
	Rule   int               `json:"rule"` // index into CorrelatorState.Rules
	Event  int               `json:"ev"`   // -1 when a correlation's alert
	Events []int             `json:"events,omitempty"`
	Count  int               `json:"count,omitempty"`
	Group  map[string]string `json:"group,omitempty"`
}

// GroupState is one correlation group.
type GroupState struct {
	Key     string            `json:"key"`
	Values  map[string]string `json:"values"`
	Recs    []RecState        `json:"recs"` // the window's matches, oldest first
	Start   time.Time         `json:"start"`
	Last    time.Time         `json:"last"`
	Seen    map[int]time.Time `json:"seen,omitempty"`
	Chain   []time.Time       `json:"chain,omitempty"`
	ChainOK []bool            `json:"chainOK,omitempty"`
}

// RecState is one match in a group's window.
type RecState struct {
	T      time.Time `json:"t"`
	Idx    int       `json:"idx"`
	Val    string    `json:"val,omitempty"`
	Num    Float     `json:"num,omitempty"`
	IsNum  bool      `json:"isNum,omitempty"`
	Events []int     `json:"events,omitempty"`
	Count  int       `json:"count"`
}

// DueState is one tumbling window due to close.
type DueState struct {
	End   time.Time `json:"end"`
	Start time.Time `json:"start"`
	Key   string    `json:"key"`
}

// ruleKeys names every rule of the set, detection rules first, for a state to refer to them.
func (rs *RuleSet) ruleKeys() ([]string, []*Rule) {
	all := append(append([]*Rule(nil), rs.Rules...), rs.Correlations...)
	keys := make([]string, len(all))
	for i, r := range all {
		switch {
		case r.ID != "":
			keys[i] = r.ID
		case r.Name != "":
			keys[i] = r.Name
		default:
			keys[i] = r.Title
		}
	}
	return keys, all
}

// State returns the correlator's state; ref numbers each event it holds (called once or more per
// event: the caller gives the same event the same number).
func (c *Correlator) State(ref func(Event) int) CorrelatorState {
	keys, all := c.rs.ruleKeys()
	index := make(map[*Rule]int, len(all))
	for i, r := range all {
		index[r] = i
	}
	refs := func(evs []Event) []int {
		if len(evs) == 0 {
			return nil
		}
		out := make([]int, len(evs))
		for i, e := range evs {
			out[i] = ref(e)
		}
		return out
	}
	s := CorrelatorState{Rules: keys, Seq: c.seq, MaxSeen: c.maxSeen, DoneUpTo: c.doneUpTo, Swept: c.swept, Late: c.late, Evicted: c.evicted}
	for _, e := range c.pending {
		es := EntryState{T: e.t, Seq: e.seq, Rule: index[e.rule], Event: -1, Events: refs(e.events), Count: e.count, Group: e.group}
		if e.ev != nil {
			es.Event = ref(e.ev)
		}
		s.Pending = append(s.Pending, es)
	}
	for _, st := range c.states {
		groups := make([]GroupState, 0, len(st.groups))
		for _, g := range st.groups {
			gs := GroupState{Key: g.key, Values: g.values, Start: g.start, Last: g.last, Seen: g.seen, Chain: g.chain, ChainOK: g.chainOK}
			for _, r := range g.win.live() {
				gs.Recs = append(gs.Recs, RecState{T: r.t, Idx: r.idx, Val: r.val, Num: Float(r.num), IsNum: r.isNum, Events: refs(r.events), Count: r.count})
			}
			groups = append(groups, gs)
		}
		s.States = append(s.States, groups)
		due := make([]DueState, len(st.due))
		for i, d := range st.due {
			due[i] = DueState{End: d.end, Start: d.start, Key: d.key}
		}
		s.Due = append(s.Due, due)
	}
	return s
}

// RestoreCorrelator returns a Correlator in the state s, which State took of a correlator over the
// same rules (an error says what differs); deref gives the event of each number.
func (rs *RuleSet) RestoreCorrelator(s CorrelatorState, deref func(int) (Event, error)) (*Correlator, error) {
	keys, all := rs.ruleKeys()
	if len(keys) != len(s.Rules) {
		return nil, fmt.Errorf("the state is of %d rules, the rule set has %d", len(s.Rules), len(keys))
	}
	for i, k := range keys {
		if s.Rules[i] != k {
			return nil, fmt.Errorf("rule %d of the state is %q, of the rule set %q", i+1, s.Rules[i], k)
		}
	}
	c := rs.NewCorrelator()
	if len(s.States) != len(c.states) || len(s.Due) != len(c.states) {
		return nil, fmt.Errorf("the state holds %d correlations, the rule set has %d", len(s.States), len(c.states))
	}
	events := func(ns []int) ([]Event, error) {
		if len(ns) == 0 {
			return nil, nil
		}
		out := make([]Event, len(ns))
		for i, n := range ns {
			e, err := deref(n)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	c.seq, c.maxSeen, c.doneUpTo, c.swept, c.late, c.evicted = s.Seq, s.MaxSeen, s.DoneUpTo, s.Swept, s.Late, s.Evicted
	for _, es := range s.Pending {
		if es.Rule < 0 || es.Rule >= len(all) {
			return nil, fmt.Errorf("a pending match names rule %d of %d", es.Rule, len(all))
		}
		e := &entry{t: es.T, seq: es.Seq, rule: all[es.Rule], count: es.Count, group: es.Group}
		var err error
		if es.Event >= 0 {
			if e.ev, err = deref(es.Event); err != nil {
				return nil, err
			}
		}
		if e.events, err = events(es.Events); err != nil {
			return nil, err
		}
		c.pending = append(c.pending, e) // the heap's array as it was
	}
	if !validHeap(c.pending) {
		return nil, fmt.Errorf("the pending matches are not in heap order")
	}
	for i, st := range c.states {
		for _, gs := range s.States[i] {
			g := &group{key: gs.Key, values: gs.Values, start: gs.Start, last: gs.Last, seen: gs.Seen, chain: gs.Chain, chainOK: gs.ChainOK}
			if len(g.chain) != len(g.chainOK) {
				return nil, fmt.Errorf("correlation %s: group %q has a chain of %d and %d flags", keys[len(rs.Rules)+i], gs.Key, len(g.chain), len(g.chainOK))
			}
			for _, r := range gs.Recs {
				if r.Idx < 0 || r.Idx >= len(st.refs) {
					return nil, fmt.Errorf("correlation %s: a match names member %d of %d", keys[len(rs.Rules)+i], r.Idx, len(st.refs))
				}
				evs, err := events(r.Events)
				if err != nil {
					return nil, err
				}
				g.win.restore(&entryRec{t: r.T, idx: r.Idx, val: r.Val, num: float64(r.Num), isNum: r.IsNum, events: evs, count: r.Count})
			}
			st.groups[g.key] = g
		}
		for _, d := range s.Due[i] {
			st.due = append(st.due, &due{end: d.End, start: d.Start, key: d.Key})
		}
		if !validHeap(st.due) {
			return nil, fmt.Errorf("correlation %s: its due windows are not in heap order", keys[len(rs.Rules)+i])
		}
	}
	return c, nil
}

// validHeap reports whether h's array satisfies the heap invariant.
func validHeap(h interface {
	Len() int
	Less(i, j int) bool
}) bool {
	for i := 1; i < h.Len(); i++ {
		if h.Less(i, (i-1)/2) {
			return false
		}
	}
	return true
}

// restore appends a match as push kept it: its events stay as they were.
func (w *window) restore(r *entryRec) {
	w.events += len(r.events)
	if w.byRule == nil {
		w.byRule, w.byValue = map[int]int{}, map[string]int{}
	}
	w.byRule[r.idx]++
	if w.byValue[r.val]++; w.byValue[r.val] == 1 && r.val != "" {
		w.values++
	}
	w.recs = append(w.recs, r)
}

// Float is a float64 that JSON can hold whatever its value: NaN and the infinities (a field can
// read "NaN") are written as strings.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(`"` + strconv.FormatFloat(v, 'g', -1, 64) + `"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseFloat(s, 64)
	*f = Float(v)
	return err
}
