package activity

import "time"

// EventState is an Event as plain values, for a checkpoint (bulwark watch): FromState gives back
// an event that reads, matches and hashes as the one State was taken of.
type EventState struct {
	At              time.Time `json:"at"`
	OperationName   string    `json:"op,omitempty"`
	ResultType      string    `json:"result,omitempty"`
	ResultSignature string    `json:"sig,omitempty"`
	Category        string    `json:"cat,omitempty"`
	Caller          string    `json:"caller,omitempty"`
	CallerIPAddress string    `json:"ip,omitempty"`
	CorrelationID   string    `json:"corr,omitempty"`
	OperationID     string    `json:"opId,omitempty"`
	EventDataID     string    `json:"eventDataId,omitempty"`
	ResourceID      string    `json:"res,omitempty"`
	Level           string    `json:"level,omitempty"`
	PrincipalID     string    `json:"pid,omitempty"`
	AppID           string    `json:"app,omitempty"`
	Format          Format    `json:"format,omitempty"`
	Source          string    `json:"src,omitempty"`
	Line            int       `json:"line,omitempty"`
	Actor           string    `json:"actor,omitempty"`
	CascadeOf       string    `json:"cascadeOf,omitempty"`
	Properties      string    `json:"props,omitempty"`
	Identity        string    `json:"identity,omitempty"`
	Authorization   string    `json:"auth,omitempty"`
	Claims          string    `json:"claims,omitempty"`
	HTTPRequest     string    `json:"http,omitempty"`
	Key             uint64    `json:"key"`
	TimeOnly        bool      `json:"timeOnly,omitempty"`
	Flat            bool      `json:"flat,omitempty"`
}

// State returns the event as plain values.
func (e *Event) State() EventState {
	return EventState{At: e.At, OperationName: e.OperationName, ResultType: e.ResultType, ResultSignature: e.ResultSignature,
		Category: e.Category, Caller: e.Caller, CallerIPAddress: e.CallerIPAddress, CorrelationID: e.CorrelationID,
		OperationID: e.OperationID, EventDataID: e.EventDataID, ResourceID: e.ResourceID, Level: e.Level,
		PrincipalID: e.PrincipalID, AppID: e.AppID, Format: e.Format, Source: e.src.name, Line: e.src.line,
		Actor: e.Actor, CascadeOf: e.CascadeOf, Properties: e.propertiesRaw, Identity: e.identityRaw,
		Authorization: e.authRaw, Claims: e.claimsRaw, HTTPRequest: e.httpRaw, Key: e.KeyHash(), TimeOnly: e.timeOnly, Flat: e.flat}
}

// FromState returns the event s holds.
func FromState(s EventState) *Event {
	return &Event{At: s.At, OperationName: s.OperationName, ResultType: s.ResultType, ResultSignature: s.ResultSignature,
		Category: s.Category, Caller: s.Caller, CallerIPAddress: s.CallerIPAddress, CorrelationID: s.CorrelationID,
		OperationID: s.OperationID, EventDataID: s.EventDataID, ResourceID: s.ResourceID, Level: s.Level,
		PrincipalID: s.PrincipalID, AppID: s.AppID, Format: s.Format, src: source{s.Source, s.Line},
		Actor: s.Actor, CascadeOf: s.CascadeOf, propertiesRaw: s.Properties, identityRaw: s.Identity,
		authRaw: s.Authorization, claimsRaw: s.Claims, httpRaw: s.HTTPRequest, keyHash: s.Key, timeOnly: s.TimeOnly, flat: s.Flat}
}

// DedupState is what a Reader remembers to drop duplicates (the keys of the latest events), and
// its counts, for a checkpoint.
type DedupState struct {
	Seen       []uint64  `json:"seen"`
	Prev       []uint64  `json:"prev"`
	Duplicates int       `json:"duplicates"`
	Malformed  int       `json:"malformed"`
	Problems   []Problem `json:"problems"`
}

// Dedup returns the Reader's duplicate keys and counts.
func (r *Reader) Dedup() DedupState {
	s := DedupState{Duplicates: r.Duplicates, Malformed: r.Malformed, Problems: r.Problems}
	if r.seen != nil {
		s.Seen, s.Prev = r.seen.keys(), r.seenPrev.keys()
	}
	return s
}

// RestoreDedup sets what Dedup returned.
func (r *Reader) RestoreDedup(s DedupState) {
	r.Duplicates, r.Malformed, r.Problems = s.Duplicates, s.Malformed, s.Problems
	r.seen, r.seenPrev = newKeySet(dedupWindow), newKeySet(dedupWindow)
	for _, k := range s.Seen {
		if k != 0 && !r.seen.has(k) && r.seen.n < dedupWindow {
			r.seen.add(k)
		}
	}
	for _, k := range s.Prev {
		if k != 0 && !r.seenPrev.has(k) && r.seenPrev.n < dedupWindow {
			r.seenPrev.add(k)
		}
	}
}

func (s *keySet) keys() []uint64 {
	out := make([]uint64, 0, s.n)
	for _, k := range s.slots {
		if k != 0 {
			out = append(out, k)
		}
	}
	return out
}
