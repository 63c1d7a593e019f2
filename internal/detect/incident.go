package detect

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Lookback is how long before an incident's first alert the actor's changes still belong to it.
const Lookback = time.Hour

// Stages of the destructive kill chain, in order.
var Stages = []string{"privilege", "impairment", "recovery", "destruction"}

// Levels of Sigma rules, lowest first.
var Levels = []string{"informational", "low", "medium", "high", "critical"}

// LevelRank returns the position of a level in Levels, or -1.
func LevelRank(l string) int {
	for i, n := range Levels {
		if strings.EqualFold(l, n) {
			return i
		}
	}
	return -1
}

// incidents applies the incident policy (policy.go) to each actor's alerts: suppressed alerts
// take no part; each opening alert opens an incident with the actor's alerts within ChainWindow of
// it.
func (d *Detector) incidents() []*Incident { return d.incidentsOf(d.alerts) }

// incidentsOf builds the incidents of the given alerts (all the alerts of each of their actors).
func (d *Detector) incidentsOf(all []*Alert) []*Incident {
	byActor := map[string][]*Alert{}
	var actors []string
	for _, a := range all {
		a.Opens, a.Incident = "", "" // decided anew (Open may have decided them before)
		if a.Suppressed != nil {
			continue
		}
		if _, ok := byActor[a.Actor]; !ok {
			actors = append(actors, a.Actor)
		}
		byActor[a.Actor] = append(byActor[a.Actor], a)
	}
	unprotected := d.unprotectedVaults()
	var out []*Incident
	for _, actor := range actors {
		alerts := byActor[actor]
		sortAlerts(alerts)
		opens := map[*Alert]string{}
		for _, a := range alerts {
			if why := d.opening(a, alerts, unprotected); why != "" {
				opens[a] = why
			}
		}
		for _, ep := range episodes(alerts, opens) {
			inc := d.incident(actor, ep)
			inc.OpenedBy = openedBy(ep, opens)
			out = append(out, inc)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].First.Before(out[j].First) })
	return out
}

// openedBy lists why an incident opened, one line per rule: correlations first, then by level,
// each with the first reason of the rule and how many of its alerts opened the incident.
func openedBy(ep []*Alert, opens map[*Alert]string) []string {
	type entry struct {
		a   *Alert
		why string
		n   int
	}
	byRule := map[string]*entry{}
	var order []*entry
	for _, a := range ep {
		why := opens[a]
		if why == "" {
			continue
		}
		a.Opens = why
		if e, ok := byRule[a.Rule.ID]; ok {
			e.n++
			continue
		}
		e := &entry{a, why, 1}
		byRule[a.Rule.ID] = e
		order = append(order, e)
	}
	sort.SliceStable(order, func(i, j int) bool {
		ci, cj := order[i].a.Type == "correlation", order[j].a.Type == "correlation"
		if ci != cj {
			return ci
		}
		return LevelRank(order[i].a.Rule.Level) > LevelRank(order[j].a.Rule.Level)
	})
	out := make([]string, len(order))
	for i, e := range order {
		out[i] = e.why
		switch {
		case e.n == 2:
			out[i] += " (and 1 more alert of this rule)"
		case e.n > 2:
			out[i] += fmt.Sprintf(" (and %d more alerts of this rule)", e.n-1)
		}
	}
	return out
}

func sortAlerts(alerts []*Alert) {
	sort.SliceStable(alerts, func(i, j int) bool {
		if !alerts[i].Time.Equal(alerts[j].Time) {
			return alerts[i].Time.Before(alerts[j].Time)
		}
		return alerts[i].ID < alerts[j].ID
	})
}

func (d *Detector) incident(actor string, alerts []*Alert) *Incident {
	inc := &Incident{ID: "INC-" + hash(alerts[0].ID), Actor: actor, First: alerts[0].Time, Recovery: map[string]int{}}
	stages := map[string]bool{}
	rank := 0
	for _, a := range alerts {
		a.Incident = inc.ID
		inc.Alerts = append(inc.Alerts, a.ID)
		if a.Rule.Stage != "" {
			stages[a.Rule.Stage] = true
		}
		rank = max(rank, LevelRank(a.Rule.Level))
		if a.Last.After(inc.Last) {
			inc.Last = a.Last
		}
		te := TimelineEntry{Time: a.Time, Alert: a.ID, Type: a.Type, Stage: a.Rule.Stage, Level: a.Rule.Level, Title: a.Rule.Title}
		if a.Type == "detection" && len(a.Events) > 0 {
			te.Caller, te.Operation, te.ResourceID = a.Events[0].Caller, a.Events[0].OperationName, a.Events[0].ResourceID
		}
		inc.Timeline = append(inc.Timeline, te)
	}
	for _, s := range Stages {
		if stages[s] {
			inc.Stages = append(inc.Stages, s)
		}
	}
	// Severity rises with the stages reached (one stage is at least medium, two high, three
	// critical) and with what became unrecoverable (below).
	byStages := []int{0, 2, 3, 4, 4}[len(inc.Stages)]
	rank = max(rank, byStages)

	// What the actor did in the hour before the first alert belongs to the incident; earlier
	// changes (yesterday's routine work by the same account) do not.
	st := d.actor(actor)
	from := inc.First.Add(-Lookback)
	for _, kp := range st.principals {
		if p := kp.p; !p.LastSeen.Before(from) || !p.GrantedAt.Before(from) {
			inc.Principals = append(inc.Principals, p)
		}
	}
	for _, s := range st.ips {
		if !s.last.Before(from) {
			inc.SourceIPs = append(inc.SourceIPs, s.ip)
		}
	}
	sort.Strings(inc.SourceIPs)
	inc.ResourcesNotListed = st.overflow
	inc.Resources = d.resources(st, alerts, from)
	for _, r := range inc.Resources {
		inc.Recovery[r.Recovery.Status]++
	}
	if inc.Recovery[Lost] > 0 {
		rank = min(rank+1, len(Levels)-1) // something is gone for good
	}
	inc.Severity = Levels[rank]
	inc.Title = title(inc)
	return inc
}

func title(inc *Incident) string {
	deleted := 0
	for _, r := range inc.Resources {
		if r.Deleted {
			deleted++
		}
	}
	what := "Destructive activity"
	switch {
	case len(inc.Stages) == len(Stages):
		what = "Destructive kill chain"
	case len(inc.Stages) > 0:
		what = strings.ToUpper(inc.Stages[0][:1]) + inc.Stages[0][1:]
		for i, s := range inc.Stages[1:] {
			if i == len(inc.Stages)-2 {
				what += " and " + s
			} else {
				what += ", " + s
			}
		}
	}
	actor := inc.Actor
	if actor == "" {
		actor = "an unidentified caller"
	}
	t := fmt.Sprintf("%s by %s", what, actor)
	if n := len(inc.Principals); n > 1 {
		t += fmt.Sprintf(" (%d principals)", n)
	}
	if deleted > 0 {
		noun := "resources"
		if deleted == 1 {
			noun = "resource"
		}
		t += fmt.Sprintf(": %d %s deleted", deleted, noun)
	}
	return t
}

// resources lists what the actor changed, adds the snapshot's resources under deleted resource
// groups, and classifies each one's recovery.
func (d *Detector) resources(st *actorState, alerts []*Alert, from time.Time) []*Resource {
	f := &incidentFacts{purgedVaults: map[string]bool{}, deletedVaults: map[string]bool{},
		deletedResources: map[string]bool{}, estate: d.opts.Estate}
	var out []*Resource
	for _, t := range st.resources {
		if r := t.r; !r.Last.Before(from) {
			out = append(out, r)
		}
	}
	for _, r := range out {
		if id, err := arm.ParseID(r.ID); err == nil {
			r.Type, r.Name = canonicalType(id.Type()), id.Name()
		}
		typ := strings.ToLower(r.Type)
		if r.Deleted {
			f.deletedResources[strings.ToLower(r.ID)] = true
			if typ == "microsoft.recoveryservices/vaults" || typ == "microsoft.dataprotection/backupvaults" {
				f.deletedVaults[strings.ToLower(r.ID)] = true
			}
		}
		if strings.HasSuffix(typ, "/deletedvaults") && r.Status != "Failure" {
			f.purgedVaults[strings.ToLower(r.Name)] = true
		}
	}
	f.softDeleteOff = softDeleteOff(alerts, func(_ *Alert, e EventRef) bool {
		t, ok := st.resource(strings.ToLower(e.ResourceID))
		return ok && t.r.Status == "Failure" // the change was refused (a Resource Guard, say)
	})
	// Resources under a deleted resource group that the log does not show deleted one by one.
	if x := d.opts.Estate; x != nil {
		listed := map[string]bool{}
		for _, r := range out {
			listed[strings.ToLower(r.ID)] = true
		}
		for _, r := range append([]*Resource(nil), out...) {
			if !r.Deleted || !strings.EqualFold(r.Type, "Microsoft.Resources/resourceGroups") {
				continue
			}
			id, err := arm.ParseID(r.ID)
			if err != nil {
				continue
			}
			for _, o := range x.Index.Descendants(id, "") {
				if listed[strings.ToLower(o.ID.String())] || o.ID.IsExtension() {
					continue
				}
				listed[strings.ToLower(o.ID.String())] = true
				c := &Resource{ID: o.ID.String(), Type: canonicalType(o.Type()), Name: o.Name(), Operations: []string{}, Status: r.Status,
					Deleted: true, CascadeOf: r.ID, Inferred: true, First: r.First, Last: r.Last}
				f.deletedResources[strings.ToLower(c.ID)] = true
				out = append(out, c)
			}
		}
	}
	for _, r := range out {
		if x := d.opts.Estate; x != nil {
			if o, ok := x.Index.Get(r.ID); ok {
				r.InSnapshot = true
				r.ID, r.Type, r.Name = o.ID.String(), canonicalType(o.Type()), o.Name() // the snapshot's spelling
				if x.Graph != nil {
					n := x.Graph.BlastRadius(o.ID)
					r.BlastRadius = &n
				}
			}
		}
		if c := arm.ComponentOf(r.Type); c != "" {
			r.Component = string(c)
		}
		r.Recovery = recoveryOf(r, f)
	}
	return out
}

// canonicalType spells a type as documented; resource groups are listed by Resource Graph as
// microsoft.resources/subscriptions/resourcegroups.
func canonicalType(t string) string {
	if strings.EqualFold(t, "Microsoft.Resources/subscriptions/resourceGroups") {
		return "Microsoft.Resources/resourceGroups"
	}
	return arm.CanonicalType(t)
}
