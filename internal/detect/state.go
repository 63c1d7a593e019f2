package detect

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/sigma"
)

// StateVersion is the version of the format Checkpoint writes; Restore refuses any other.
const StateVersion = 1

// Checkpoint writes everything the detector holds — the events held for ordering, the correlator,
// the actors and the links between principals, the alerts not yet flushed and what later
// decisions read of flushed ones, the counters — as gzipped JSON (format StateVersion). Restore
// over the same rules and options gives a detector that goes on exactly as this one would
// (TestCheckpointRestoreGoesOn): bulwark watch checkpoints with it, and resumes after a restart.
func (d *Detector) Checkpoint(w io.Writer) error {
	s := d.state()
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err := json.NewEncoder(zw).Encode(s); err != nil {
		return fmt.Errorf("detector state: %w", err)
	}
	return zw.Close()
}

// Restore reads what Checkpoint wrote and returns the detector it describes, built with opts
// (which must give the same rules: the state names them, and a difference is an error).
func Restore(opts Options, r io.Reader) (*Detector, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("detector state: %w", err)
	}
	var s detectorState
	if err := json.NewDecoder(zr).Decode(&s); err != nil {
		return nil, fmt.Errorf("detector state: %w", err)
	}
	if s.Version != StateVersion {
		return nil, fmt.Errorf("detector state: format version %d, this build reads %d", s.Version, StateVersion)
	}
	d, errs, err := New(opts)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := d.restore(&s); err != nil {
		return nil, fmt.Errorf("detector state: %w", err)
	}
	return d, nil
}

type detectorState struct {
	Version    int                   `json:"version"`
	Events     []activity.EventState `json:"events"` // every event the state refers to, by index
	Correlator sigma.CorrelatorState `json:"correlator"`
	// Held: the ordering queue, its FIFO part then its heap's array, each [time (ns), key, seq,
	// event index or -1].
	Fifo    [][4]int64 `json:"fifo"`
	Heap    [][4]int64 `json:"heap"`
	MaxSeen time.Time  `json:"maxSeen"`
	FirstAt time.Time  `json:"firstAt"`
	Seq     int        `json:"seq"`

	// The links, least recently used first.
	Grants     []kv[string, string]    `json:"grants"`
	Cascades   []kv[string, string]    `json:"cascades"`
	Bodies     []kv[uint64, string]    `json:"bodies"`
	PrivGrants []kv[string, time.Time] `json:"privGrants"`
	Written    []kv[string, time.Time] `json:"written"`
	Actors     []actorSaved            `json:"actors"`  // least recently used first
	Watched    []actorSaved            `json:"watched"` // actors with an alert
	Evicted    [6]int                  `json:"evicted"` // per LRU: grants, cascades, bodies, privGrants, written, actors

	Alerts    []alertSaved                              `json:"alerts"`
	ByKey     map[string]int                            `json:"byKey"`    // alert key → its latest alert, in Alerts
	Detached  []alertSaved                              `json:"detached"` // flushed alerts later alerts are still counted on
	PerRule   map[string][2]int                         `json:"perRule"`  // actor|rule → [alert (≥0 in Alerts, <0: -1-i in Detached), kept]
	Stats     Stats                                     `json:"stats"`
	Supp      []int                                     `json:"suppressed"`
	OffBefore map[string]time.Time                      `json:"offBefore"`
	Changed   []string                                  `json:"changed"` // actors whose alerts changed since Open
	History   map[string]map[string]map[string][]uint64 `json:"history"`
}

type kv[K comparable, V any] struct {
	K K `json:"k"`
	V V `json:"v"`
}

type actorSaved struct {
	Actor      string                  `json:"actor"`
	Principals []principalSaved        `json:"principals,omitempty"`
	IPs        []kv[string, time.Time] `json:"ips,omitempty"`
	Resources  []trackedSaved          `json:"resources,omitempty"`
	Overflow   int                     `json:"overflow,omitempty"`
}

type principalSaved struct {
	Key string     `json:"key"`
	P   *Principal `json:"p"`
}

type trackedSaved struct {
	Key string      `json:"key"`
	R   *Resource   `json:"r"`
	Ops [][2]string `json:"ops"`
}

// alertSaved is an Alert with what it keeps unexported.
type alertSaved struct {
	*Alert
	Key       string    `json:"_key"`
	Seen      []string  `json:"_seen"`
	Policy    string    `json:"_policy"`
	RuleIndex int       `json:"_rule"`
	GrantedAt time.Time `json:"_grantedAt"`
}

func lruSaved[K comparable, V any](c *lru[K, V]) []kv[K, V] {
	out := make([]kv[K, V], 0, c.len())
	for el := c.ll.Back(); el != nil; el = el.Prev() {
		e := el.Value.(*lruEntry[K, V])
		out = append(out, kv[K, V]{e.k, e.v})
	}
	return out
}

func lruRestore[K comparable, V any](c *lru[K, V], from []kv[K, V], evicted int) {
	for _, e := range from {
		c.put(e.K, e.V)
	}
	c.evicted = evicted
}

func (st *actorState) saved() actorSaved {
	s := actorSaved{Actor: st.actor, Overflow: st.overflow}
	for _, kp := range st.principals {
		s.Principals = append(s.Principals, principalSaved{kp.key, kp.p})
	}
	for _, ip := range st.ips {
		s.IPs = append(s.IPs, kv[string, time.Time]{ip.ip, ip.last})
	}
	for _, t := range st.resources {
		ts := trackedSaved{Key: t.key, R: t.r, Ops: make([][2]string, len(t.ops))}
		for i, o := range t.ops {
			ts.Ops[i] = [2]string{o.op, o.status}
		}
		s.Resources = append(s.Resources, ts)
	}
	return s
}

func (s actorSaved) restore() *actorState {
	st := &actorState{actor: s.Actor, overflow: s.Overflow}
	for _, p := range s.Principals {
		st.principals = append(st.principals, keyedPrincipal{p.Key, p.P})
	}
	for _, ip := range s.IPs {
		st.ips = append(st.ips, ipSeen{ip.K, ip.V})
	}
	for _, ts := range s.Resources {
		t := &tracked{key: ts.Key, r: ts.R}
		for _, o := range ts.Ops {
			t.ops = append(t.ops, opStatus{o[0], o[1]})
		}
		st.addResource(t)
	}
	return st
}

func (d *Detector) allRules() []*sigma.Rule {
	return append(append([]*sigma.Rule(nil), d.rs.Rules...), d.rs.Correlations...)
}

func (d *Detector) state() *detectorState {
	s := &detectorState{Version: StateVersion, MaxSeen: d.maxSeen, FirstAt: d.firstAt, Seq: d.seq, Stats: d.stats,
		Supp: d.suppressed, OffBefore: d.offBefore, PerRule: map[string][2]int{}}
	index := map[*activity.Event]int{}
	ref := func(e *activity.Event) int {
		if e == nil {
			return -1
		}
		if i, ok := index[e]; ok {
			return i
		}
		index[e] = len(s.Events)
		s.Events = append(s.Events, e.State())
		return index[e]
	}
	s.Correlator = d.corr.State(func(e sigma.Event) int {
		ae, _ := e.(*activity.Event) // the detector gives the correlator nothing else
		return ref(ae)
	})
	q := func(x queued) [4]int64 { return [4]int64{x.at.UnixNano(), int64(x.key), int64(x.seq), int64(ref(x.e))} }
	for _, x := range d.buf.fifo[d.buf.head:] {
		s.Fifo = append(s.Fifo, q(x))
	}
	for _, x := range d.buf.h {
		s.Heap = append(s.Heap, q(x))
	}
	s.Grants, s.Cascades, s.Bodies = lruSaved(d.grants), lruSaved(d.cascades), lruSaved(d.bodies)
	s.PrivGrants, s.Written = lruSaved(d.privGrants), lruSaved(d.written)
	for _, a := range lruSaved(d.actors) {
		s.Actors = append(s.Actors, a.V.saved())
	}
	for _, st := range d.watched {
		s.Watched = append(s.Watched, st.saved())
	}
	s.Evicted = [6]int{d.grants.evicted, d.cascades.evicted, d.bodies.evicted, d.privGrants.evicted, d.written.evicted, d.actors.evicted}

	rules := map[*sigma.Rule]int{}
	for i, r := range d.allRules() {
		rules[r] = i
	}
	saved := func(a *Alert) alertSaved {
		as := alertSaved{Alert: a, Key: a.key, Policy: a.policy, RuleIndex: rules[a.rule], GrantedAt: a.grantedAt}
		for k := range a.seen {
			as.Seen = append(as.Seen, k)
		}
		return as
	}
	at := map[*Alert]int{}
	for i, a := range d.alerts {
		at[a] = i
		s.Alerts = append(s.Alerts, saved(a))
	}
	s.ByKey = make(map[string]int, len(d.byKey))
	for k, a := range d.byKey {
		if i, ok := at[a]; ok {
			s.ByKey[k] = i
		}
	}
	for k, p := range d.perRule {
		i, ok := at[p.first]
		if !ok {
			i = -1 - len(s.Detached)
			s.Detached = append(s.Detached, saved(p.first))
			at[p.first] = i
		}
		s.PerRule[k] = [2]int{i, p.kept}
	}
	for a := range d.changed {
		s.Changed = append(s.Changed, a)
	}
	if d.history != nil {
		s.History = map[string]map[string]map[string][]uint64{}
		for actor, days := range d.history {
			sd := map[string]map[string][]uint64{}
			for day, rules := range days {
				sr := map[string][]uint64{}
				for r, hs := range rules {
					for h := range hs {
						sr[r] = append(sr[r], h)
					}
				}
				sd[day] = sr
			}
			s.History[actor] = sd
		}
	}
	return s
}

func (d *Detector) restore(s *detectorState) error {
	events := make([]*activity.Event, len(s.Events))
	for i, es := range s.Events {
		events[i] = activity.FromState(es)
	}
	deref := func(i int) (*activity.Event, error) {
		if i == -1 {
			return nil, nil
		}
		if i < 0 || i >= len(events) {
			return nil, fmt.Errorf("an event index %d of %d", i, len(events))
		}
		return events[i], nil
	}
	corr, err := d.rs.RestoreCorrelator(s.Correlator, func(i int) (sigma.Event, error) {
		e, err := deref(i)
		if err == nil && e == nil {
			err = fmt.Errorf("a correlation match without its event")
		}
		return e, err
	})
	if err != nil {
		return err
	}
	d.corr = corr
	unq := func(x [4]int64) (queued, error) {
		e, err := deref(int(x[3]))
		return queued{e: e, at: time.Unix(0, x[0]).UTC(), key: uint64(x[1]), seq: int(x[2])}, err
	}
	for _, x := range s.Fifo {
		q, err := unq(x)
		if err != nil {
			return err
		}
		d.buf.fifo = append(d.buf.fifo, q)
	}
	for _, x := range s.Heap {
		q, err := unq(x)
		if err != nil {
			return err
		}
		d.buf.h = append(d.buf.h, q)
	}
	d.maxSeen, d.firstAt, d.seq, d.stats, d.suppressed, d.offBefore = s.MaxSeen, s.FirstAt, s.Seq, s.Stats, s.Supp, s.OffBefore
	lruRestore(d.grants, s.Grants, s.Evicted[0])
	lruRestore(d.cascades, s.Cascades, s.Evicted[1])
	lruRestore(d.bodies, s.Bodies, s.Evicted[2])
	lruRestore(d.privGrants, s.PrivGrants, s.Evicted[3])
	lruRestore(d.written, s.Written, s.Evicted[4])
	for _, a := range s.Actors {
		d.actors.put(a.Actor, a.restore())
	}
	d.actors.evicted = s.Evicted[5]
	for _, a := range s.Watched {
		d.watched[a.Actor] = a.restore()
	}
	rules := d.allRules()
	alert := func(as alertSaved) (*Alert, error) {
		if as.Alert == nil || as.RuleIndex < 0 || as.RuleIndex >= len(rules) {
			return nil, fmt.Errorf("an alert without its rule")
		}
		a := as.Alert
		a.key, a.policy, a.rule, a.grantedAt, a.seen = as.Key, as.Policy, rules[as.RuleIndex], as.GrantedAt, make(map[string]struct{}, len(as.Seen))
		for _, k := range as.Seen {
			a.seen[k] = struct{}{}
		}
		return a, nil
	}
	for _, as := range s.Alerts {
		a, err := alert(as)
		if err != nil {
			return err
		}
		d.alerts = append(d.alerts, a)
	}
	for k, i := range s.ByKey {
		if i < 0 || i >= len(d.alerts) {
			return fmt.Errorf("alert key %s: no alert %d", k, i)
		}
		d.byKey[k] = d.alerts[i]
	}
	detached := make([]*Alert, len(s.Detached))
	for i, as := range s.Detached {
		if detached[i], err = alert(as); err != nil {
			return err
		}
	}
	for k, p := range s.PerRule {
		var first *Alert
		switch i := p[0]; {
		case i >= 0 && i < len(d.alerts):
			first = d.alerts[i]
		case i < 0 && -1-i < len(detached):
			first = detached[-1-i]
		default:
			return fmt.Errorf("alerts of %s: no first alert %d", k, i)
		}
		d.perRule[k] = &ruleAlerts{first: first, kept: p[1]}
	}
	for _, a := range s.Changed {
		d.changed[a] = true
	}
	if s.History != nil {
		d.history = map[string]map[string]map[string]map[uint64]bool{}
		for actor, days := range s.History {
			dd := map[string]map[string]map[uint64]bool{}
			for day, rules := range days {
				dr := map[string]map[uint64]bool{}
				for r, hs := range rules {
					m := make(map[uint64]bool, len(hs))
					for _, h := range hs {
						m[h] = true
					}
					dr[r] = m
				}
				dd[day] = dr
			}
			d.history[actor] = dd
		}
	}
	return nil
}
