// Package detect runs Sigma rules over Activity Log events and turns their alerts into incidents.
//
// Events go through four steps, in event-time order: a reorder buffer (events are held until the
// watermark — the latest event time seen minus the lateness — passes them, so shuffled input
// within the lateness is processed exactly like sorted input); enrichment (the actor: a principal
// that was granted a role is attributed to whoever granted it, so "A grants B, B destroys" is one
// actor; and cascade: the child deletes of a resource-group delete carry that group's ID);
// tracking (what each actor changed, bounded by Options.MaxActors); and the sigma.Correlator.
// Finish groups the alerts by actor into incidents.
package detect

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/graph"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"github.com/bulwarkhq/bulwark/internal/recovery"
	"github.com/bulwarkhq/bulwark/rules"
	"github.com/bulwarkhq/bulwark/sigma"
)

// Options configure a Detector.
type Options struct {
	Rules     []*sigma.Rule                         // detection and correlation rules (see LoadRules)
	Overrides map[string]config.CorrelationOverride // bulwark.yaml detection.correlations
	Lateness  time.Duration                         // default 20 minutes
	// MaxGroups caps the groups each correlation rule keeps (default 100,000); MaxActors caps the
	// actors whose changes are tracked (default 50,000, least recently seen evicted first; actors
	// with an alert are kept: 50,000 is far more distinct callers than a tenant has in the hour
	// before an alert, which is what an incident takes their changes from, at about 1 KB each);
	// MaxLinks caps remembered role grants and resource-group deletes.
	MaxGroups, MaxActors, MaxLinks int
	// MaxHeld caps the events held to be put in event-time order (default 100,000). Events are
	// held for Lateness behind the newest; when a log packs more than MaxHeld into that span, the
	// oldest are passed on early (counted in Stats.ReleasedEarly) instead of being held without bound.
	MaxHeld int
	// MaxAlerts caps the alerts kept (default limits.Default.MaxAlerts): past it, an alert of
	// policy "alert" by an actor with no alert kept is counted in Stats.AlertsDropped instead.
	MaxAlerts int
	// MaxAlertsPerRule caps the detection alerts of one rule kept per actor (default
	// limits.Default.MaxAlertsPerRule): the rest are still tracked (a grant they make still counts)
	// and counted on the first alert kept (Alert.NotKept) and in Stats.AlertsNotKept.
	MaxAlertsPerRule int
	// MaxRuleValues caps the values all rules together compare with (default
	// limits.Default.MaxRuleValues); a larger rule set is refused, naming its heaviest rule.
	MaxRuleValues int
	Since, Until  time.Time // events outside [Since, Until) are skipped
	Estate        *Estate   // optional: components and blast radius
	// Context tunes when context alerts (mass deallocation) open an incident (bulwark.yaml
	// detection.context; zero values take config.Default's).
	Context config.Context
	// Suppress silences alerts (bulwark.yaml detection.suppress); a suppression whose expiry is
	// not after Now (default: the wall clock) is reported expired and suppresses nothing.
	Suppress []config.Suppression
	Now      time.Time
}

// Estate is the snapshot an incident's resources are looked up in.
type Estate struct {
	Index *arm.Index
	Graph *graph.Graph // resource references only, as blast radius is counted in detect
	// Recovery is the recovery paths of the snapshot's resources (the ones respond builds its
	// playbook from).
	Recovery *recovery.Model
}

// NewEstate prepares a snapshot for lookups.
func NewEstate(snap *arm.Snapshot) *Estate {
	x := snap.Index()
	members := apps.Resolve(nil, x, config.Default()) // applications by tag, as assess reads them without apps.yaml
	return &Estate{Index: x, Graph: graph.Build(x, nil), Recovery: recovery.New(x, members, nil)}
}

// recovery is the estate's recovery model, nil without an estate (recovery.Model's methods take
// a nil model as one that knows no resource).
func (x *Estate) recovery() *recovery.Model {
	if x == nil {
		return nil
	}
	return x.Recovery
}

// Stats count what a run saw.
type Stats struct {
	Events  int `json:"events"`
	Skipped int `json:"skippedOutsideTimeRange"`
	Late    int `json:"late"` // arrived after the watermark had passed them
	// ReleasedEarly counts events passed on before the watermark because MaxHeld events were held.
	ReleasedEarly int `json:"releasedEarly"`
	// AlertsDropped counts alerts not kept at MaxAlerts (see Options.MaxAlerts).
	AlertsDropped int `json:"alertsDropped"`
	// AlertsNotKept counts alerts counted on an earlier alert of their rule and actor instead of
	// kept, at MaxAlertsPerRule.
	AlertsNotKept int `json:"alertsNotKept"`
	Evicted       int `json:"evictedActors"` // actors dropped at MaxActors
	LinksLost     int `json:"linksDropped"`  // grants and group deletes dropped at MaxLinks
	Groups        int `json:"correlationGroups"`
	GroupsLost    int `json:"correlationGroupsEvicted"`
	Duplicates    int `json:"duplicateAlerts"` // Start/Accept/Success of one operation folded into one alert
	// BodiesJoined counts later events of an operation given the request body of its Start event.
	BodiesJoined int `json:"requestBodiesJoined"`
	// Churn counts events that removed what their actor had created within the day before: they
	// feed no correlation (see policy.go).
	Churn int `json:"churnEvents"`
}

// LoadRules returns the built-in pack (unless builtin is false) followed by the rules given (the
// user's, which load.Rules reads from files).
func LoadRules(builtin bool, user ...*sigma.Rule) ([]*sigma.Rule, sigma.Errors) {
	var out []*sigma.Rule
	var errs sigma.Errors
	if builtin {
		out, errs = sigma.LoadFS(rules.FS, "rules")
	}
	return append(out, user...), errs
}

// WithOverrides returns copies of rules with the windows and thresholds bulwark.yaml gives for
// correlation rules, identified by name or ID; the rules given are not changed. An override for a
// rule that does not exist, or a threshold for a rule without an "at least" condition, is an error
// naming the rule and the line.
func WithOverrides(rules []*sigma.Rule, ov map[string]config.CorrelationOverride) ([]*sigma.Rule, error) {
	rs := make([]*sigma.Rule, len(rules))
	for i, r := range rules {
		rs[i] = r
		if r.Correlation != nil {
			rs[i] = r.Clone()
		}
	}
	return rs, applyOverrides(rs, ov)
}

func applyOverrides(rs []*sigma.Rule, ov map[string]config.CorrelationOverride) error {
	names := make([]string, 0, len(ov))
	for k := range ov {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		o := ov[name]
		var r *sigma.Rule
		for _, c := range rs {
			if c.Correlation != nil && (c.Name == name || strings.EqualFold(c.ID, name)) {
				r = c
			}
		}
		if r == nil {
			return fmt.Errorf("line %d: detection.correlations.%s: no correlation rule has that name or ID", o.Line, name)
		}
		if o.Timespan.Duration > 0 {
			r.Correlation.Timespan = o.Timespan.Duration
		}
		if o.Threshold > 0 {
			key := sigma.Op("")
			for _, k := range []sigma.Op{sigma.Gte, sigma.Gt} {
				if _, ok := r.Correlation.Condition.Get(k); ok {
					key = k
				}
			}
			if key == "" {
				return fmt.Errorf("line %d: detection.correlations.%s: a %s rule has no threshold to set", o.Line, name, r.Correlation.Type)
			}
			r.Correlation.Condition = r.Correlation.Condition.With(key, o.Threshold)
		}
	}
	return nil
}

// Detector processes events and builds incidents. It is not safe for concurrent use.
type Detector struct {
	opts    Options
	rs      *sigma.RuleSet
	corr    *sigma.Correlator
	buf     eventQueue
	maxSeen time.Time
	seq     int

	grants   *lru[string, string] // principal key → actor of the grantor
	cascades *lru[string, string] // correlation ID → resource group ID
	bodies   *lru[uint64, string] // operation (Event.OperationHash) → its Start event's request body
	// privGrants: principal key → when it was granted a privileged role (not a PIM activation)
	privGrants *lru[string, time.Time]
	written    *lru[string, time.Time] // actor|resource (lower case) → its latest successful write, for churn
	firstAt    time.Time               // the earliest event time processed
	actors     *lru[string, *actorState]
	watched    map[string]*actorState // actors with at least one alert

	alerts []*Alert
	byKey  map[string]*Alert
	// perRule: actor|rule → the first detection alert kept and how many were kept (MaxAlertsPerRule)
	perRule map[string]*ruleAlerts
	stats   Stats
	// suppressed counts the alerts each suppression silenced; offBefore keeps, from alerts Flush
	// has let go, when each vault's soft delete was first disabled.
	suppressed []int
	offBefore  map[string]time.Time
	// changed: actors with an alert new or changed since Open last ran.
	changed map[string]bool
	// history: actor → day → rule → resources alerted on, of alerts Flush has let go (contextOpens).
	history map[string]map[string]map[string]map[uint64]bool
}

// New compiles the rules (after overrides) and returns a Detector.
func New(opts Options) (*Detector, sigma.Errors, error) {
	if opts.Lateness <= 0 {
		opts.Lateness = 20 * time.Minute
	}
	caps := limits.Limits{MaxGroups: opts.MaxGroups, MaxActors: opts.MaxActors, MaxHeld: opts.MaxHeld, MaxAlerts: opts.MaxAlerts,
		MaxAlertsPerRule: opts.MaxAlertsPerRule, MaxRuleValues: opts.MaxRuleValues}.Or()
	opts.MaxGroups, opts.MaxActors, opts.MaxHeld, opts.MaxAlerts, opts.MaxAlertsPerRule, opts.MaxRuleValues = caps.MaxGroups, caps.MaxActors,
		caps.MaxHeld, caps.MaxAlerts, caps.MaxAlertsPerRule, caps.MaxRuleValues
	if opts.MaxLinks <= 0 {
		opts.MaxLinks = 100_000
	}
	def := config.Default().Detection.Context
	if opts.Context.Window.Duration <= 0 {
		opts.Context.Window = def.Window
	}
	if opts.Context.HistoryFactor <= 0 {
		opts.Context.HistoryFactor = def.HistoryFactor
	}
	if opts.Context.FirstTime <= 0 {
		opts.Context.FirstTime = def.FirstTime
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var err error
	if opts.Rules, err = WithOverrides(opts.Rules, opts.Overrides); err != nil {
		return nil, nil, err
	}
	for _, r := range opts.Rules {
		if e := CheckRule(r); e != nil {
			return nil, nil, e
		}
	}
	rs, errs := sigma.NewRuleSet(opts.Rules, sigma.Options{Lateness: opts.Lateness, MaxGroups: opts.MaxGroups, MaxAlertEvents: maxAlertEvents})
	if len(rs.Rules) == 0 {
		return nil, errs, fmt.Errorf("no valid detection rules")
	}
	if c := rs.Cost(); c.Values > opts.MaxRuleValues {
		return nil, errs, &limits.Error{Msg: fmt.Sprintf("the rules compare with %d values, over the limit of %d (limits.maxRuleValues in bulwark.yaml); the heaviest, %s, has %d",
			c.Values, opts.MaxRuleValues, c.Heaviest.Rule, c.Heaviest.Values)}
	}
	d := &Detector{opts: opts, rs: rs, corr: rs.NewCorrelator(),
		grants: newLRU[string, string](opts.MaxLinks), cascades: newLRU[string, string](opts.MaxLinks),
		bodies: newLRU[uint64, string](maxOpenOperations), privGrants: newLRU[string, time.Time](opts.MaxLinks),
		written: newLRU[string, time.Time](maxWritten),
		actors:  newLRU[string, *actorState](opts.MaxActors), watched: map[string]*actorState{}, byKey: map[string]*Alert{},
		perRule: map[string]*ruleAlerts{}, changed: map[string]bool{}}
	return d, errs, nil
}

const maxAlertEvents = 50

// maxWritten bounds the writes remembered for churn: a day of a busy estate's writes.
const maxWritten = 200_000

// Process takes one event, in any order within the lateness.
func (d *Detector) Process(e *activity.Event) {
	if (!d.opts.Since.IsZero() && e.At.Before(d.opts.Since)) || (!d.opts.Until.IsZero() && !e.At.Before(d.opts.Until)) {
		d.stats.Skipped++
		return
	}
	d.stats.Events++
	if d.firstAt.IsZero() || e.At.Before(d.firstAt) {
		d.firstAt = e.At
	}
	if e.At.After(d.maxSeen) {
		d.maxSeen = e.At
	} else if e.At.Before(d.maxSeen.Add(-d.opts.Lateness)) {
		d.stats.Late++
	}
	d.seq++
	q := queued{at: e.At, key: e.KeyHash(), seq: d.seq}
	if !e.TimeOnly() && (mutating(e.OperationName) || d.rs.MayMatch(e)) {
		q.e = e // otherwise only its time counts: it changes nothing and no rule can match it
	}
	d.buf.push(q)
	wm := d.maxSeen.Add(-d.opts.Lateness)
	for d.buf.len() > 0 && !d.buf.peek().at.After(wm) {
		d.release(d.buf.pop())
	}
	for d.buf.len() > d.opts.MaxHeld {
		d.release(d.buf.pop())
		d.stats.ReleasedEarly++
	}
}

// TimeOnly returns a test of an operation alone for activity.Reader.TimeOnly: true when an event
// with that operation changes nothing (a read, which is not tracked) and can match no rule, so only
// its time matters. It is nil when some rule selects events by a field other than the operation.
// The test is safe for concurrent use. Process treats such events alike whether the Reader passed
// them on whole or not: they are not enriched, so a granted principal's reads do not keep its
// grant among the MaxLinks most recently used.
func (d *Detector) TimeOnly() func(op string) bool {
	if !d.selectsByOperationOnly() {
		return nil
	}
	rs := d.rs
	return func(op string) bool { return !mutating(op) && !rs.MayMatch(operationOnly(op)) }
}

// selectsByOperationOnly reports whether every rule is indexed, and only on the operation: then
// RuleSet.MayMatch of the operation alone rules out every match.
func (d *Detector) selectsByOperationOnly() bool {
	fields, all := d.rs.IndexedFields()
	if !all {
		return false
	}
	for _, f := range fields {
		if !activity.IsOperationField(f) {
			return false
		}
	}
	return true
}

// Flat returns a test of an operation alone for activity.Reader.Flat: true when no rule can match an
// event with that operation and the detector reads none of its nested parts. Such an event (a
// benign write, delete or action) is still tracked and enriched, from its flat fields: the actor,
// the resource, the correlation ID; the rules are not tried on it. Like TimeOnly, it is nil when
// some rule selects events by a field other than the operation, and safe for concurrent use. Process takes every flat event to be one this test accepted: a Reader
// that makes events flat must have its Flat from this detector (see Narrow).
func (d *Detector) Flat() func(op string) bool {
	if !d.selectsByOperationOnly() {
		return nil
	}
	rs := d.rs
	return func(op string) bool {
		return mutating(op) && !rs.MayMatch(operationOnly(op)) && !strings.EqualFold(op, opRoleAssignmentWrite) // enrich reads the grantee from its body
	}
}

// Narrow sets r's TimeOnly and Flat, so that r decodes and keeps only what the detector needs.
func (d *Detector) Narrow(r *activity.Reader) {
	r.TimeOnly, r.Flat = d.TimeOnly(), d.Flat()
}

// operationOnly is an event of which only the operation is known, for RuleSet.MayMatch when every
// indexed field is the operation.
type operationOnly string

func (o operationOnly) Field(string) (any, bool)        { return string(o), o != "" }
func (o operationOnly) Keywords(func(string) bool) bool { return false }
func (o operationOnly) Time() time.Time                 { return time.Time{} }

// Finish processes everything still held, closes the correlation windows and returns the alerts
// and incidents.
func (d *Detector) Finish() Result {
	for d.buf.len() > 0 {
		d.release(d.buf.pop())
	}
	d.corr.Flush(d.onAlert)
	d.stats.Groups = d.corr.Groups()
	d.stats.GroupsLost = d.corr.Evicted()
	d.stats.Evicted = d.actors.evicted
	d.stats.LinksLost = d.grants.evicted + d.cascades.evicted
	supp := d.suppress()
	incidents := d.incidents()
	sort.SliceStable(d.alerts, func(i, j int) bool { return d.alerts[i].Time.Before(d.alerts[j].Time) })
	return Result{Alerts: d.alerts, Incidents: incidents, Stats: d.stats, Suppressions: supp}
}

// FlushHorizon is how long after an actor's latest alert its incidents can still change: an
// opening alert up to ChainWindow later opens a span reaching back ChainWindow, which merges with
// the spans its earlier alerts opened.
const FlushHorizon = 2 * ChainWindow

// Flush gives back the alerts and incidents of the actors whose latest alert ended FlushHorizon or
// more before watermark (the event time up to which events have been processed: nothing earlier
// can still arrive), and forgets those alerts, so a long-running detector holds only the alerts
// that can still change. The alerts Flush and then Finish give together are Finish alone's, and
// so are the incidents — which open, why, their severity, stages, alerts and timeline
// (TestFlushGivesWhatFinishGives) — except what an incident reads from its actor's tracked state
// (resources, principals, source IPs): as it was when the incident was built. The correlator, the
// actors' state, the links between principals and what context alerts judge by (the resources
// each rule alerted on per actor and day, 8 bytes each, kept 31 days) are kept; a flushed actor's
// state rejoins the actors bounded by MaxActors.
func (d *Detector) Flush(watermark time.Time) (alerts []*Alert, incidents []*Incident) {
	latest := map[string]time.Time{}
	for _, a := range d.alerts {
		if a.Last.After(latest[a.Actor]) {
			latest[a.Actor] = a.Last
		}
	}
	done := func(a *Alert) bool { return !latest[a.Actor].Add(FlushHorizon).After(watermark) }
	keep := d.alerts[:0]
	for _, a := range d.alerts {
		if done(a) {
			alerts = append(alerts, a)
		} else {
			keep = append(keep, a)
		}
	}
	if len(alerts) == 0 {
		return nil, nil
	}
	clear(d.alerts[len(keep):])
	d.alerts = keep
	// What later incidents read of these alerts: when they disabled soft delete.
	if d.offBefore == nil {
		d.offBefore = map[string]time.Time{}
	}
	for v, t := range softDeleteOff(alerts, func(a *Alert, _ EventRef) bool { return a.failed() }) {
		if u, ok := d.offBefore[v]; !ok || t.Before(u) {
			d.offBefore[v] = t
		}
	}
	d.suppressAlerts(alerts)
	incidents = d.incidentsOf(alerts)
	d.remember(alerts)
	d.forget(watermark)
	gone := map[string]bool{}
	for _, a := range alerts {
		if d.byKey[a.key] == a {
			delete(d.byKey, a.key)
		}
		gone[a.Actor] = true
	}
	// The actors flushed have no alert held: their state goes back among the MaxActors most
	// recently used, and their per-rule counts go (a flood after 48 quiet hours is counted
	// afresh), so that a long run holds only what the caps allow.
	for actor := range gone {
		if st, ok := d.watched[actor]; ok {
			delete(d.watched, actor)
			d.actors.put(actor, st)
		}
		delete(d.changed, actor)
	}
	for k, p := range d.perRule {
		if gone[p.first.Actor] {
			delete(d.perRule, k)
		}
	}
	sort.SliceStable(alerts, func(i, j int) bool { return alerts[i].Time.Before(alerts[j].Time) })
	return alerts, incidents
}

// Open returns the alerts not yet flushed of the actors whose alerts are new or changed since the
// last call, and those actors' incidents as they stand now, for a long-running caller to report an
// alert or incident as soon as it is raised and again as it grows; Flush gives its final form.
// The alerts are the detector's own and keep changing: render them before processing more. An
// incident keeps its ID as it grows (it is named after its first alert) unless a later alert makes
// an earlier one open it: then the final incident has another ID than the open one.
func (d *Detector) Open() ([]*Alert, []*Incident) {
	if len(d.changed) == 0 {
		return nil, nil
	}
	var mine []*Alert
	for _, a := range d.alerts {
		if d.changed[a.Actor] {
			mine = append(mine, a)
		}
	}
	clear(d.changed)
	return mine, d.incidentsOf(mine)
}

// SetNow sets the wall-clock time suppressions are judged by (their expiry): a long-running
// caller moves it on, so that a suppression stops silencing alerts when it expires.
func (d *Detector) SetNow(t time.Time) { d.opts.Now = t }

// Stats returns the counters so far.
func (d *Detector) Stats() Stats { return d.stats }

// Held is how many alerts the detector holds (not yet flushed).
func (d *Detector) Held() int { return len(d.alerts) }

// Watermark is the event time up to which the detector has processed events: the latest event
// time seen less the lateness (what Flush takes).
func (d *Detector) Watermark() time.Time { return d.maxSeen.Add(-d.opts.Lateness) }

// Result is what a run found.
type Result struct {
	Alerts       []*Alert
	Incidents    []*Incident
	Stats        Stats
	Suppressions []SuppressionCount // one per bulwark.yaml suppression, in its order
}

func (d *Detector) release(q queued) {
	e := q.e
	if e == nil {
		d.corr.Advance(q.at, d.onAlert)
		return
	}
	d.inherit(e)
	d.enrich(e)
	d.track(e)
	if e.Flat() { // no rule can match it (see Flat): only its time counts for the correlator
		d.corr.Advance(q.at, d.onAlert)
		return
	}
	if d.eventChurn(e) { // its alerts stand alone: clean-up counts towards no mass deletion or chain
		d.stats.Churn++
		d.corr.ProcessAlone(e, d.onAlert)
		return
	}
	d.corr.Process(e, d.onAlert)
}

// principalKey normalises an object ID: the claims write it with dashes, authorization evidence
// without.
func principalKey(id string) string {
	var buf [64]byte
	return string(principalKeyInto(&buf, id))
}

// principalKeyInto is principalKey into buf, for lookups that need no string.
func principalKeyInto(buf *[64]byte, id string) []byte {
	if id != "" && (id[0] <= ' ' || id[len(id)-1] <= ' ' || id[0] >= 0x80 || id[len(id)-1] >= 0x80) {
		id = strings.TrimSpace(id) // only where an end may be space (Unicode's included)
	}
	if len(id) > len(buf) {
		return []byte(strings.ToLower(strings.ReplaceAll(id, "-", "")))
	}
	n := 0
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c == '-' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return buf[:n]
}

// lowerInto is strings.ToLower into buf for a lookup, when s is ASCII and fits.
func lowerInto(buf *[64]byte, s string) []byte {
	if len(s) > len(buf) {
		return []byte(strings.ToLower(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return []byte(strings.ToLower(s))
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(s)]
}

const (
	opRoleAssignmentWrite = "microsoft.authorization/roleassignments/write"
	opResourceGroupDelete = "microsoft.resources/subscriptions/resourcegroups/delete"
)

func (d *Detector) enrich(e *activity.Event) {
	e.Actor = e.Caller
	var buf [64]byte
	if e.PrincipalID != "" {
		if a, ok := getBytes(d.grants, principalKeyInto(&buf, e.PrincipalID)); ok {
			e.Actor = a
		}
	}
	op := e.OperationLower()
	switch {
	case op == opRoleAssignmentWrite && e.ResultType != "Failure" && !strings.EqualFold(e.AppID, msPIM):
		// A PIM activation (written by PIM's own application) is the grantee's own eligible role,
		// not a grant by whoever else: it links no actors.
		if grantee := granteeOf(e); grantee != "" && principalKey(grantee) != principalKey(e.PrincipalID) {
			d.grants.put(principalKey(grantee), e.Actor)
			if st := d.actor(e.Actor); st != nil {
				st.grant(grantee, e)
			}
		}
	case op == opResourceGroupDelete && e.CorrelationID != "":
		d.cascades.put(strings.ToLower(e.CorrelationID), e.ResourceID)
	case e.CorrelationID != "":
		if rg, ok := getBytes(d.cascades, lowerInto(&buf, e.CorrelationID)); ok && len(e.ResourceID) > len(rg) &&
			e.ResourceID[len(rg)] == '/' && strings.EqualFold(e.ResourceID[:len(rg)], rg) {
			e.CascadeOf = rg
		}
	}
}

// granteeOf returns the principal a role assignment write grants to, from the request body (Start)
// or the response body (Success).
func granteeOf(e *activity.Event) string {
	for _, body := range []string{"requestbody", "responseBody"} {
		if p := e.BodyString(body, "properties", "principalId"); p != "" {
			return p
		}
	}
	return ""
}

// hash returns a short deterministic identifier.
func hash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// opKey identifies one operation the same way in every log format: the Start, Accept and Success
// events of one call share it. It uses the correlation ID, not the operation ID, because the
// diagnostic-settings export does not carry operation IDs.
func opKey(e *activity.Event) string {
	id := e.CorrelationID
	if id == "" {
		id = e.At.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	return e.OperationLower() + "|" + e.ResourceLower() + "|" + strings.ToLower(id)
}

// queued is an event held for ordering; e is nil for an event only the time of which counts.
type queued struct {
	e   *activity.Event
	at  time.Time
	key uint64
	seq int
}

// eventHeap orders events by time, then by key (so equal times do not depend on arrival order),
// then by arrival.
type eventHeap []queued

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(queued)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = queued{}
	*h = old[:len(old)-1]
	return x
}

// eventQueue orders held events like eventHeap, cheaply for the usual case: events that arrive in
// order go to a FIFO (already sorted), only the others to the heap.
type eventQueue struct {
	fifo []queued
	head int
	h    eventHeap
}

func less(a, b queued) bool { return eventHeap{a, b}.Less(0, 1) }

func (q *eventQueue) len() int { return len(q.fifo) - q.head + len(q.h) }

func (q *eventQueue) push(x queued) {
	if n := len(q.fifo); n == q.head || less(q.fifo[n-1], x) {
		if q.head > 4096 && q.head*2 > n { // drop the consumed front now and then
			q.fifo = append(q.fifo[:0], q.fifo[q.head:]...)
			q.head = 0
		}
		q.fifo = append(q.fifo, x)
		return
	}
	heap.Push(&q.h, x)
}

// peek returns the least held event; the queue must not be empty.
func (q *eventQueue) peek() queued {
	if q.head == len(q.fifo) || len(q.h) > 0 && less(q.h[0], q.fifo[q.head]) {
		return q.h[0]
	}
	return q.fifo[q.head]
}

func (q *eventQueue) pop() queued {
	if q.head == len(q.fifo) || len(q.h) > 0 && less(q.h[0], q.fifo[q.head]) {
		return heap.Pop(&q.h).(queued)
	}
	x := q.fifo[q.head]
	q.fifo[q.head] = queued{}
	q.head++
	if q.head == len(q.fifo) {
		q.fifo, q.head = q.fifo[:0], 0
	}
	return x
}
