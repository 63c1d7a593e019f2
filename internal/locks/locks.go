// Package locks implements the guidance's "tested procedure for the removal of locks in a
// controlled manner": list the locks of an estate; release the locks directly on a resource for a
// stated reason and a bounded time, recording each lock's exact definition in the journal first;
// restore the identical locks when the work is done or the time is up; and report every release
// still open, overdue ones first.
package locks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
	"github.com/bulwarkhq/bulwark/internal/azsdk"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

const (
	toolRelease = "lock-release"
	toolRestore = "lock-restore"
)

// Lock is one management lock.
type Lock struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Level  string   `json:"level"` // CanNotDelete or ReadOnly
	Notes  string   `json:"notes,omitempty"`
	Owners []string `json:"owners,omitempty"`
	Scope  string   `json:"scope"` // the subscription, resource group or resource it is on
}

// FromObject reads a lock from its ARM object.
func FromObject(o *arm.Object) Lock {
	l := Lock{ID: o.ID.String(), Name: o.Name(), Level: o.Prop("properties.level").Display(), Scope: arm.LockScope(o.ID.String())}
	l.Notes, _ = o.Prop("properties.notes").String()
	for _, ow := range o.Get("properties.owners").List() {
		if s, ok := ow.Get("applicationId").String(); ok {
			l.Owners = append(l.Owners, s)
		}
	}
	return l
}

// List returns the locks of a snapshot, by scope.
func List(x *arm.Index) []Lock {
	var out []Lock
	for _, o := range x.OfType("Microsoft.Authorization/locks") {
		out = append(out, FromObject(o))
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].ID) < strings.ToLower(out[j].ID) })
	return out
}

// Manager releases and restores locks through the Azure SDK's armlocks client, journaling each
// change.
type Manager struct {
	Client  *azsdk.Clients
	Journal *journal.Journal
	Who     string
	Now     func() time.Time
}

// Direct returns the locks directly on a scope, as the SDK reads them now (its model's JSON).
// Locks inherited from a resource group or subscription are not the resource's to release.
func (m *Manager) Direct(ctx context.Context, scope string) ([]json.RawMessage, []Lock, error) {
	scope = strings.TrimSuffix(scope, "/")
	all, err := m.Client.Locks(ctx, scope)
	if err != nil {
		return nil, nil, err
	}
	var raws []json.RawMessage
	var locks []Lock
	for _, raw := range all {
		o, err := arm.NewObject(raw, arm.Source{File: "arm"})
		if err != nil {
			continue
		}
		if strings.EqualFold(arm.LockScope(o.ID.String()), scope) {
			raws = append(raws, raw)
			locks = append(locks, FromObject(o))
		}
	}
	return raws, locks, nil
}

// Release removes the locks directly on scope (only the one named, when name is set), each after
// its exact definition is journaled with the reason and the deadline.
func (m *Manager) Release(ctx context.Context, scope, name, reason string, d time.Duration) ([]Lock, error) {
	raws, locks, err := m.Direct(ctx, scope)
	if err != nil {
		return nil, err
	}
	now := m.Now().UTC()
	var done []Lock
	for i, l := range locks {
		if name != "" && !strings.EqualFold(l.Name, name) {
			continue
		}
		action := fmt.Sprintf("%s:%s:%s", toolRelease, strings.ToLower(l.ID), now.Format(time.RFC3339))
		req := m.Client.LockDelete(l.ID)
		meta := map[string]string{"lock": l.ID, "scope": l.Scope, "until": now.Add(d).Format(time.RFC3339), "for": d.String()}
		if err := m.Journal.Append(journal.Entry{Kind: journal.Intent, Action: action, Tool: toolRelease, Who: m.Who, Why: reason,
			Method: req.Method, URL: req.URL(), Before: raws[i], Meta: meta}); err != nil {
			return done, err
		}
		err := m.Client.DeleteLock(ctx, l.ID)
		out := journal.Entry{Kind: journal.Outcome, Action: action, Tool: toolRelease, Who: m.Who, Why: reason, Result: journal.Done, Meta: meta}
		if err != nil {
			// The DELETE may have happened even so (the reply was lost): settle it by reading the
			// lock. Gone: released. Still there: not released. Unreadable: the outcome stays
			// failed without "settled", so the release stays open until a restore settles it.
			out.Result, out.Error = journal.Failed, err.Error()
			switch present, gerr := m.present(ctx, l.ID); {
			case gerr != nil:
			case present:
				out.Meta = withMeta(meta, "settled", "present")
			default:
				out.Result, out.Error, err = journal.Done, "the DELETE answered "+err.Error()+", but the lock is gone: released", nil
			}
		}
		if jerr := m.Journal.Append(out); jerr != nil {
			return done, jerr
		}
		if err != nil {
			return done, fmt.Errorf("release %s: %w", l.Name, err)
		}
		done = append(done, l)
	}
	if len(done) == 0 && name != "" {
		return nil, fmt.Errorf("no lock named %q directly on %s", name, scope)
	}
	return done, nil
}

// present reads whether a lock exists now.
func (m *Manager) present(ctx context.Context, id string) (bool, error) {
	_, err := m.Client.Get(ctx, id)
	if armclient.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func withMeta(meta map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range meta {
		out[mk] = mv
	}
	return out
}

// Open is one lock released and not yet restored.
type Open struct {
	Lock       Lock            `json:"lock"`
	Definition json.RawMessage `json:"definition"` // as it was before the release
	Reason     string          `json:"reason"`
	Who        string          `json:"who"`
	ReleasedAt time.Time       `json:"releasedAt"`
	Until      time.Time       `json:"until"`
	Overdue    bool            `json:"overdue"`
	// Unsettled: the DELETE was sent but its outcome is unknown (the run died before recording it,
	// or it was recorded failed and the lock could not be read). The lock may be gone; a restore
	// reads it and settles the release either way.
	Unsettled bool `json:"unsettled,omitempty"`
	action    string
}

// OpenReleases reads the journal: every lock released and not restored since, overdue first, then
// by deadline. A release counts unless it is known not to have happened: an intent with no outcome,
// or with a failed outcome that did not find the lock still in place, stays open (Unsettled).
func OpenReleases(entries []journal.Entry, now time.Time) []Open {
	restored := map[string]time.Time{} // lock ID (lower) → last restore
	for _, s := range journal.States(entries) {
		if s.Intent.Tool == toolRestore && s.Outcome != nil && s.Outcome.Result == journal.Done {
			k := strings.ToLower(s.Intent.Meta["lock"])
			if s.Outcome.Time.After(restored[k]) {
				restored[k] = s.Outcome.Time
			}
		}
	}
	var out []Open
	for _, s := range journal.States(entries) {
		if s.Intent.Tool != toolRelease {
			continue
		}
		unsettled, at := s.Outcome == nil, s.Intent.Time
		if s.Outcome != nil {
			at = s.Outcome.Time
			switch {
			case s.Outcome.Result == journal.Done:
			case s.Outcome.Result == journal.Failed && s.Outcome.Meta["settled"] != "present":
				unsettled = true
			default:
				continue // known not to have happened
			}
		}
		k := strings.ToLower(s.Intent.Meta["lock"])
		if t, ok := restored[k]; ok && !t.Before(at) {
			continue
		}
		o, err := arm.NewObject(s.Intent.Before, arm.Source{File: "journal"})
		if err != nil {
			continue
		}
		until, _ := time.Parse(time.RFC3339, s.Intent.Meta["until"])
		out = append(out, Open{Lock: FromObject(o), Definition: s.Intent.Before, Reason: s.Intent.Why, Who: s.Intent.Who,
			ReleasedAt: at, Until: until, Overdue: now.After(until), Unsettled: unsettled, action: s.Intent.Action})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Overdue != out[j].Overdue {
			return out[i].Overdue
		}
		return out[i].Until.Before(out[j].Until)
	})
	return out
}

// RestoreRequest is the request that puts a released lock back: a PUT of its recorded properties.
func (m *Manager) RestoreRequest(r Open) (azsdk.Request, error) {
	var def struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(r.Definition, &def); err != nil || len(def.Properties) == 0 {
		return azsdk.Request{}, fmt.Errorf("restore %s: the journal holds no definition for it", r.Lock.ID)
	}
	body, _ := json.Marshal(map[string]json.RawMessage{"properties": def.Properties})
	req, err := m.Client.Prepare(http.MethodPut, r.Lock.ID, body)
	if err != nil {
		return azsdk.Request{}, fmt.Errorf("restore %s: %w", r.Lock.ID, err)
	}
	return req, nil
}

// ErrNeverReleased is returned by Restore for an unsettled release whose lock is still in place:
// the release is settled as not having happened, and nothing is written to Azure.
var ErrNeverReleased = errors.New("the lock is still in place: the release never happened")

// Restore puts back the released lock exactly as it was (name, level, notes, owners), then reads
// it back and checks the definition is byte for byte the one released. An unsettled release is
// settled first by reading the lock: still there, it is journaled as not released and Restore
// returns ErrNeverReleased; gone, it is restored.
func (m *Manager) Restore(ctx context.Context, r Open) error {
	req, err := m.RestoreRequest(r)
	if err != nil {
		return err
	}
	if r.Unsettled {
		present, err := m.present(ctx, r.Lock.ID)
		if err != nil {
			return fmt.Errorf("restore %s: read the lock to settle its release: %w", r.Lock.Name, err)
		}
		if present {
			meta := map[string]string{"lock": r.Lock.ID, "scope": r.Lock.Scope, "settled": "present"}
			if err := m.Journal.Append(journal.Entry{Kind: journal.Outcome, Action: r.action, Tool: toolRelease, Who: m.Who, Result: journal.Failed,
				Error: ErrNeverReleased.Error(), Meta: meta}); err != nil {
				return err
			}
			return fmt.Errorf("restore %s: %w", r.Lock.Name, ErrNeverReleased)
		}
	}
	action := fmt.Sprintf("%s:%s:%s", toolRestore, strings.ToLower(r.Lock.ID), r.ReleasedAt.Format(time.RFC3339))
	meta := map[string]string{"lock": r.Lock.ID, "release": r.action}
	if err := m.Journal.Append(journal.Entry{Kind: journal.Intent, Action: action, Tool: toolRestore, Who: m.Who, Why: "restore after: " + r.Reason,
		Method: req.Method, URL: req.URL(), Body: req.BodyJSON(), Meta: meta}); err != nil {
		return err
	}
	fail := func(err error) error {
		m.Journal.Append(journal.Entry{Kind: journal.Outcome, Action: action, Tool: toolRestore, Who: m.Who, Result: journal.Failed, Error: err.Error(), Meta: meta})
		return fmt.Errorf("restore %s: %w", r.Lock.Name, err)
	}
	if err := m.Client.Send(ctx, req); err != nil {
		return fail(err)
	}
	got, err := m.Client.Get(ctx, r.Lock.ID)
	if err != nil {
		return fail(err)
	}
	if !SameDefinition(r.Definition, got) {
		return fail(fmt.Errorf("the lock read back differs from the one released: %s", got))
	}
	return m.Journal.Append(journal.Entry{Kind: journal.Outcome, Action: action, Tool: toolRestore, Who: m.Who, Result: journal.Done, Meta: meta})
}

// SameDefinition compares two lock definitions as the SDK model renders them: the same ID
// (ignoring case, as ARM does), the same name, and byte-identical properties (level, notes,
// owners).
func SameDefinition(a, b []byte) bool {
	var x, y struct {
		ID, Name   string
		Properties json.RawMessage
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return strings.EqualFold(x.ID, y.ID) && x.Name == y.Name && bytes.Equal(x.Properties, y.Properties)
}
