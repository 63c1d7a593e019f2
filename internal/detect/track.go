package detect

import (
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
)

// Caps on what one actor's state holds, so a hostile log cannot grow it without bound.
const (
	maxResourcesPerActor  = 5000
	maxPrincipalsPerActor = 100
	maxIPsPerActor        = 100
)

// actorState is what one actor (a caller and every principal it granted a role) changed.
type actorState struct {
	actor      string
	principals map[string]*Principal
	porder     []string
	ips        map[string]time.Time // source IP → last seen
	resources  map[string]*Resource
	ops        map[string]map[string]string // per resource: operation (lower case) → latest status
	rorder     []string
	overflow   int // resources beyond maxResourcesPerActor
}

func (d *Detector) actor(name string) *actorState {
	if st, ok := d.watched[name]; ok {
		return st
	}
	if st, ok := d.actors.get(name); ok {
		return st
	}
	st := &actorState{actor: name, principals: map[string]*Principal{}, ips: map[string]time.Time{}, resources: map[string]*Resource{}, ops: map[string]map[string]string{}}
	d.actors.put(name, st)
	return st
}

// watch keeps an actor's state for good: it has an alert and may become an incident.
func (d *Detector) watch(name string) {
	if _, ok := d.watched[name]; ok {
		return
	}
	st := d.actor(name)
	d.actors.del(name)
	d.watched[name] = st
}

// mutating reports whether an operation changes something (reads are not tracked).
func mutating(op string) bool {
	return hasSuffixFold(op, "/write") || hasSuffixFold(op, "/delete") || hasSuffixFold(op, "/action")
}

func isDelete(op string) bool { return hasSuffixFold(op, "/delete") }

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

func (d *Detector) track(e *activity.Event) {
	if !mutating(e.OperationName) || e.ResourceID == "" {
		return
	}
	d.noteWrite(e)
	st := d.actor(e.Actor)
	st.principal(e)
	if _, ok := st.ips[e.CallerIPAddress]; e.CallerIPAddress != "" && (ok || len(st.ips) < maxIPsPerActor) {
		st.ips[e.CallerIPAddress] = e.At
	}
	key := e.ResourceLower()
	r, ok := st.resources[key]
	if !ok {
		if len(st.resources) >= maxResourcesPerActor {
			st.overflow++
			return
		}
		if e.ResultType == "Failure" {
			return // a failed attempt on a resource the actor has not otherwise touched
		}
		r = &Resource{ID: e.ResourceID, First: e.At}
		st.resources[key] = r
		st.ops[key] = map[string]string{}
		st.rorder = append(st.rorder, key)
	}
	ops := st.ops[key]
	opl := e.OperationLower()
	if _, seen := ops[opl]; !seen {
		r.Operations = append(r.Operations, e.OperationName)
	}
	ops[opl] = e.ResultType
	r.Status = e.ResultType
	r.Last = e.At
	if e.CascadeOf != "" {
		r.CascadeOf = e.CascadeOf
	}
	r.Deleted = false
	for op, status := range ops {
		if isDelete(op) && status != "Failure" {
			r.Deleted = true
		}
	}
}

func (st *actorState) principal(e *activity.Event) {
	key := principalKey(e.PrincipalID)
	if key == "" {
		key = strings.ToLower(e.Caller)
	}
	if key == "" { // an event with no identity at all
		return
	}
	p, ok := st.principals[key]
	if !ok {
		if len(st.principals) >= maxPrincipalsPerActor {
			return
		}
		p = &Principal{}
		st.principals[key] = p
		st.porder = append(st.porder, key)
	}
	if p.Caller == "" {
		p.Caller = e.Caller
	}
	if p.PrincipalID == "" {
		p.PrincipalID = e.PrincipalID
	}
	if p.AppID == "" && e.AppID != "" && !strings.Contains(e.Caller, "@") { // users sign in through an app too
		p.AppID = e.AppID
	}
	if p.FirstSeen.IsZero() {
		p.FirstSeen = e.At
	}
	p.LastSeen = e.At
}

// grant records that the actor's caller granted grantee a role.
func (st *actorState) grant(grantee string, e *activity.Event) {
	key := principalKey(grantee)
	p, ok := st.principals[key]
	if !ok {
		if len(st.principals) >= maxPrincipalsPerActor {
			return
		}
		p = &Principal{PrincipalID: grantee}
		st.principals[key] = p
		st.porder = append(st.porder, key)
	}
	p.GrantedBy, p.GrantedAt = e.Caller, e.At
}
