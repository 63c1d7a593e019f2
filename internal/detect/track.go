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

// actorState is what one actor (a caller and every principal it granted a role) changed. It is
// kept small — slices searched in order, a map only once an actor has changed many resources —
// because the detector holds up to MaxActors of them: most actors of a busy day change one or two
// resources as one principal from one address.
type actorState struct {
	actor      string
	principals []keyedPrincipal // first seen first
	ips        []ipSeen
	resources  []*tracked          // first changed first
	index      map[string]*tracked // by lower-cased ID, once there are more than indexFrom
	overflow   int                 // resources beyond maxResourcesPerActor
}

type keyedPrincipal struct {
	key string
	p   *Principal
}

type ipSeen struct {
	ip   string
	last time.Time
}

// tracked is one resource an actor changed, with the latest status of each operation on it.
type tracked struct {
	key string // lower-cased ID
	r   *Resource
	ops []opStatus
}

type opStatus struct{ op, status string } // operation (lower case), latest result

// indexFrom is how many resources an actor changes before they are looked up through a map.
const indexFrom = 8

func (st *actorState) resource(key string) (*tracked, bool) {
	if st.index != nil {
		t, ok := st.index[key]
		return t, ok
	}
	for _, t := range st.resources {
		if t.key == key {
			return t, true
		}
	}
	return nil, false
}

func (st *actorState) addResource(t *tracked) {
	st.resources = append(st.resources, t)
	if st.index == nil && len(st.resources) > indexFrom {
		st.index = make(map[string]*tracked, 2*len(st.resources))
		for _, x := range st.resources {
			st.index[x.key] = x
		}
	} else if st.index != nil {
		st.index[t.key] = t
	}
}

func (st *actorState) principalOf(key string) (*Principal, bool) {
	for _, kp := range st.principals {
		if kp.key == key {
			return kp.p, true
		}
	}
	return nil, false
}

func (d *Detector) actor(name string) *actorState {
	if st, ok := d.watched[name]; ok {
		return st
	}
	if st, ok := d.actors.get(name); ok {
		return st
	}
	st := &actorState{actor: name}
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
	if ip := e.CallerIPAddress; ip != "" {
		found := false
		for i := range st.ips {
			if st.ips[i].ip == ip {
				st.ips[i].last, found = e.At, true
				break
			}
		}
		if !found && len(st.ips) < maxIPsPerActor {
			st.ips = append(st.ips, ipSeen{ip, e.At})
		}
	}
	key := e.ResourceLower()
	t, ok := st.resource(key)
	if !ok {
		if len(st.resources) >= maxResourcesPerActor {
			st.overflow++
			return
		}
		if e.ResultType == "Failure" {
			return // a failed attempt on a resource the actor has not otherwise touched
		}
		t = &tracked{key: key, r: &Resource{ID: e.ResourceID, First: e.At}}
		st.addResource(t)
	}
	r := t.r
	opl := e.OperationLower()
	seen := false
	for i := range t.ops {
		if t.ops[i].op == opl {
			t.ops[i].status, seen = e.ResultType, true
			break
		}
	}
	if !seen {
		r.Operations = append(r.Operations, e.OperationName)
		t.ops = append(t.ops, opStatus{opl, e.ResultType})
	}
	r.Status = e.ResultType
	r.Last = e.At
	if e.CascadeOf != "" {
		r.CascadeOf = e.CascadeOf
	}
	r.Deleted = false
	for _, o := range t.ops {
		if isDelete(o.op) && o.status != "Failure" {
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
	p, ok := st.principalOf(key)
	if !ok {
		if len(st.principals) >= maxPrincipalsPerActor {
			return
		}
		p = &Principal{}
		st.principals = append(st.principals, keyedPrincipal{key, p})
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
	p, ok := st.principalOf(key)
	if !ok {
		if len(st.principals) >= maxPrincipalsPerActor {
			return
		}
		p = &Principal{PrincipalID: grantee}
		st.principals = append(st.principals, keyedPrincipal{key, p})
	}
	p.GrantedBy, p.GrantedAt = e.Caller, e.At
}
