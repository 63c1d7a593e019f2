package detect

import (
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/sigma"
)

// Alert is a rule that matched. A detection rule's alert is one operation (its Start, Accept and
// Success events fold into it); a correlation rule's alert is one group of events, and repeated
// firings of the same rule for the same group within its window fold into it.
type Alert struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"` // detection or correlation
	Rule       RuleRef           `json:"rule"`
	Time       time.Time         `json:"time"` // event time of the event that completed the first match
	Last       time.Time         `json:"last"` // event time of the latest event folded in
	Actor      string            `json:"actor"`
	Group      map[string]string `json:"group,omitempty"`
	EventCount int               `json:"eventCount"`
	Events     []EventRef        `json:"events"` // capped at 50
	Incident   string            `json:"incident,omitempty"`
	// Opens says why this alert opened its incident (the incident policy); empty when it only
	// joined one, or opened none.
	Opens      string      `json:"opens,omitempty"`
	Suppressed *Suppressed `json:"suppressed,omitempty"`
	// Churn: the actor removed what it had written itself within the day before (a pipeline's
	// ephemeral resources); such an alert opens no incident.
	Churn bool `json:"churn,omitempty"`
	// NotKept counts the later alerts of this rule by this actor that were counted instead of kept
	// (limits.maxAlertsPerRule): on the first alert kept.
	NotKept int `json:"alertsNotKept,omitempty"`

	key       string
	seen      map[string]struct{}
	policy    string
	rule      *sigma.Rule
	grantedAt time.Time // the principal that raised it was granted a privileged role then
}

// RuleRef names the rule of an alert.
type RuleRef struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Title       string   `json:"title"`
	Level       string   `json:"level"`
	Stage       string   `json:"stage,omitempty"`
	Attack      []string `json:"attack,omitempty"` // ATT&CK tags without the "attack." prefix
	Description string   `json:"description,omitempty"`
	File        string   `json:"file,omitempty"`
	// IncidentPolicy is when the rule's alerts open an incident (bulwark.incident, or the default
	// for its kind and level): open, unprotected, granted, context or alert.
	IncidentPolicy string `json:"incidentPolicy"`
}

// EventRef is the part of an event an analyst needs to find it again.
type EventRef struct {
	Time            time.Time `json:"time"`
	OperationName   string    `json:"operationName"`
	ResultType      string    `json:"resultType"`
	Caller          string    `json:"caller"`
	CallerIPAddress string    `json:"callerIpAddress,omitempty"`
	ResourceID      string    `json:"resourceId"`
	CorrelationID   string    `json:"correlationId,omitempty"`
	OperationID     string    `json:"operationId,omitempty"`
	PrincipalID     string    `json:"principalId,omitempty"`
	AppID           string    `json:"appId,omitempty"`
	CascadeOf       string    `json:"cascadeOf,omitempty"`
	Source          string    `json:"source,omitempty"` // file:line
}

func refOf(e *activity.Event) EventRef {
	return EventRef{Time: e.At.UTC(), OperationName: e.OperationName, ResultType: e.ResultType, Caller: e.Caller,
		CallerIPAddress: e.CallerIPAddress, ResourceID: e.ResourceID, CorrelationID: e.CorrelationID,
		OperationID: e.OperationID, PrincipalID: e.PrincipalID, AppID: e.AppID, CascadeOf: e.CascadeOf, Source: e.Source()}
}

// RuleRefOf describes a rule.
func RuleRefOf(r *sigma.Rule) RuleRef {
	ref := RuleRef{ID: r.ID, Name: r.Name, Title: r.Title, Level: strings.ToLower(string(r.Level)), Description: r.Description, File: r.File}
	if ref.ID == "" {
		ref.ID = r.Name
	}
	if s, ok := r.Custom["bulwark.stage"].(string); ok {
		ref.Stage = s
	}
	ref.IncidentPolicy, _ = policyOf(r)
	for _, t := range r.Tags {
		if strings.HasPrefix(strings.ToLower(t), "attack.") {
			ref.Attack = append(ref.Attack, t[len("attack."):])
		}
	}
	return ref
}

// buildingBlock reports whether a correlation rule only feeds others (level informational, like
// the per-stage rules of the built-in pack): its alerts are not reported.
func buildingBlock(r *sigma.Rule) bool {
	return r.Correlation != nil && r.Level.Rank() == 0
}

func (d *Detector) onAlert(a sigma.Alert) {
	if buildingBlock(a.Rule) || len(a.Events) == 0 {
		return
	}
	first, ok := a.Events[0].(*activity.Event)
	if !ok {
		return
	}
	ref := RuleRefOf(a.Rule)
	var key, actor string
	if a.Rule.Correlation == nil {
		key = ref.ID + "|" + opKey(first)
		actor = first.Actor
	} else {
		actor = a.Group["bulwark.actor"]
		if actor == "" {
			actor = first.Actor
		}
		key = ref.ID + "|" + groupKey(a.Group)
	}
	if prev, ok := d.byKey[key]; ok && (a.Rule.Correlation == nil || !a.Time.After(prev.Last.Add(a.Rule.Correlation.Timespan))) {
		d.stats.Duplicates++
		d.changed[prev.Actor] = true
		prev.add(a.Events)
		if a.Rule.Correlation != nil {
			prev.EventCount = max(prev.EventCount, len(prev.seen))
		}
		if a.Time.After(prev.Last) {
			prev.Last = a.Time
		}
		return
	}
	if len(d.alerts) >= d.opts.MaxAlerts && ref.IncidentPolicy == PolicyAlert && d.watched[actor] == nil {
		// Past the cap, an alert that can open no incident, by an actor with no alert kept, is
		// counted instead of kept: memory stays a function of the caps when every caller alerts.
		d.stats.AlertsDropped++
		return
	}
	var per *ruleAlerts
	if a.Rule.Correlation == nil {
		k := actor + "|" + ref.ID
		if per = d.perRule[k]; per == nil {
			per = &ruleAlerts{}
			d.perRule[k] = per
		} else if per.kept >= d.opts.MaxAlertsPerRule {
			// Past the cap the alert is counted on the first one, but what it tells the tracker
			// still counts: a privileged grant, what now depends on what.
			d.notePrivilegedGrant(a.Rule, first)
			d.dependsOn(first)
			per.first.NotKept++
			d.changed[per.first.Actor] = true
			d.stats.AlertsNotKept++
			return
		}
	}
	al := &Alert{Type: "detection", Rule: ref, Time: a.Time.UTC(), Last: a.Time.UTC(), Actor: actor, Group: a.Group, key: key, seen: map[string]struct{}{},
		policy: ref.IncidentPolicy, rule: a.Rule}
	if a.Rule.Correlation == nil {
		d.notePrivilegedGrant(a.Rule, first)
		d.dependsOn(first)
		if at, ok := d.grantedBefore(first); ok {
			al.grantedAt = at
		}
	}
	if a.Rule.Correlation != nil {
		al.Type = "correlation"
		al.ID = hash(key, opKey(first), first.ResultType)
	} else {
		al.ID = hash(key)
	}
	al.add(a.Events)
	if a.Rule.Correlation != nil && a.EventCount > al.EventCount {
		al.EventCount = a.EventCount
	}
	d.alerts = append(d.alerts, al)
	d.byKey[key] = al
	if per != nil {
		if per.first == nil {
			per.first = al
		}
		per.kept++
	}
	d.changed[actor] = true
	d.watch(actor)
}

// ruleAlerts is what the detector keeps of one rule's alerts by one actor.
type ruleAlerts struct {
	first *Alert
	kept  int
}

func (al *Alert) add(evs []sigma.Event) {
	for _, se := range evs {
		e, ok := se.(*activity.Event)
		if !ok {
			continue
		}
		k := opKey(e) + "|" + e.ResultType
		if _, dup := al.seen[k]; dup {
			continue
		}
		al.seen[k] = struct{}{}
		al.EventCount++
		if len(al.Events) < maxAlertEvents {
			al.Events = append(al.Events, refOf(e))
		}
	}
	sort.SliceStable(al.Events, func(i, j int) bool { return al.Events[i].Time.Before(al.Events[j].Time) })
}

func groupKey(g map[string]string) string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strings.ToLower(g[k]) + ";")
	}
	return b.String()
}
