// Package apply applies a harden plan to Azure: it previews the exact requests, re-reads each
// resource and skips what is already in place, journals an intent before each write and its outcome
// after, and resumes an interrupted run from the resources' actual state.
package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
	"github.com/bulwarkhq/bulwark/internal/azsdk"
	"github.com/bulwarkhq/bulwark/internal/harden"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// Applier applies a plan through the Azure SDK's typed clients.
type Applier struct {
	Client  *azsdk.Clients
	Journal *journal.Journal
	Who     string
	// Entries is the journal as it was before this run: an intent without an outcome there is a
	// write that may or may not have happened, and the resource's state decides.
	Entries []journal.Entry

	// crashAfterWrite, in tests, stops the run right after a write is sent and before its outcome
	// is journaled, as a crash would.
	crashAfterWrite func(key string) bool
}

// ErrCrashed is what a simulated crash returns.
var ErrCrashed = errors.New("harden: stopped after a write, before journaling its outcome (simulated crash)")

// Result is what happened to one action.
type Result struct {
	Action  string `json:"action"` // A01…
	Title   string `json:"title"`
	Status  string `json:"status"` // done, in place, resumed, failed, skipped
	Message string `json:"message,omitempty"`
}

// Preview reads each action's resource and returns the requests that would be sent: the actions
// already in place are left out. Nothing is written: where several actions change one resource,
// each later one is previewed against the definition the earlier ones will have left, so the
// preview is the requests Apply sends.
func (ap *Applier) Preview(ctx context.Context, p *harden.Plan) ([]string, error) {
	var out []string
	after := map[string]json.RawMessage{} // path (lower case) → the definition once the earlier actions are applied
	for _, a := range p.Actions {
		key := strings.ToLower(path(a.Request.Path))
		done, current, err := ap.stateOf(ctx, a, after[key])
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", a.ID, a.Title, err)
		}
		if done {
			continue
		}
		req, err := ap.request(a, current)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", a.ID, a.Title, err)
		}
		out = append(out, a.ID+" "+req.String())
		after[key] = applied(current, req)
	}
	return out, nil
}

// applied is a definition after a write: a PUT replaces its properties, a PATCH merges into them.
func applied(current json.RawMessage, req azsdk.Request) json.RawMessage {
	var cur, body map[string]any
	json.Unmarshal(current, &cur)
	json.Unmarshal(req.BodyJSON(), &body)
	if cur == nil {
		cur = map[string]any{}
	}
	if req.Method == http.MethodPut {
		delete(cur, "properties")
	}
	harden.Merge(cur, body)
	out, _ := json.Marshal(cur)
	return out
}

// request is the write the typed client will send: the action's body (merged into the current
// definition for a PUT of settings) as the SDK's model.
func (ap *Applier) request(a *harden.Action, current json.RawMessage) (azsdk.Request, error) {
	raw, err := json.Marshal(ap.body(a, current))
	if err != nil {
		return azsdk.Request{}, err
	}
	return ap.Client.Prepare(a.Request.Method, path(a.Request.Path), raw)
}

// path drops the query of a plan's path: the SDK client adds its own API version.
func path(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// Apply runs the plan in order. Each action re-reads its resource first and is skipped when the
// change is already in place (so a second run writes nothing); otherwise its intent is journaled,
// the request sent, and its outcome journaled. An action whose prerequisite failed is skipped.
func (ap *Applier) Apply(ctx context.Context, p *harden.Plan) ([]Result, error) {
	pending := map[string]bool{}
	for _, s := range journal.Pending(ap.Entries) {
		if s.Intent.Tool == "harden" {
			pending[s.Intent.Action] = true
		}
	}
	failed := map[string]bool{}
	var out []Result
	for _, a := range p.Actions {
		res := Result{Action: a.ID, Title: a.Title}
		if blocked := blockedBy(a, failed); blocked != "" {
			res.Status, res.Message = "skipped", "its prerequisite "+blocked+" failed"
			failed[a.ID] = true
			out = append(out, res)
			continue
		}
		done, current, err := ap.state(ctx, a)
		if err != nil {
			res.Status, res.Message = "failed", err.Error()
			failed[a.ID] = true
			out = append(out, res)
			continue
		}
		if done {
			res.Status = "in place"
			if pending[a.Key] {
				// The interrupted run's write took effect: record it, do not repeat it.
				res.Status, res.Message = "resumed", "the write of an interrupted run had taken effect"
				if err := ap.Journal.Append(journal.Entry{Kind: journal.Outcome, Action: a.Key, Tool: "harden", Who: ap.Who, Result: journal.Done,
					Meta: map[string]string{"resumed": "found in place"}}); err != nil {
					return out, err
				}
			}
			out = append(out, res)
			continue
		}
		req, err := ap.request(a, current)
		if err != nil {
			res.Status, res.Message = "failed", err.Error()
			failed[a.ID] = true
			out = append(out, res)
			continue
		}
		if err := ap.Journal.Append(journal.Entry{Kind: journal.Intent, Action: a.Key, Tool: "harden", Who: ap.Who,
			Why: a.Finding.Check + " on " + a.Resource.Name + ": " + a.Finding.Message, Method: req.Method, URL: req.URL(),
			Body: req.BodyJSON(), Before: current}); err != nil {
			return out, err
		}
		werr := ap.Client.Send(ctx, req)
		if ap.crashAfterWrite != nil && ap.crashAfterWrite(a.Key) {
			return out, ErrCrashed
		}
		outcome := journal.Entry{Kind: journal.Outcome, Action: a.Key, Tool: "harden", Who: ap.Who, Result: journal.Done}
		res.Status = "done"
		if werr != nil {
			outcome.Result, outcome.Error = journal.Failed, werr.Error()
			res.Status, res.Message = "failed", explain(werr, a)
			failed[a.ID] = true
		}
		if err := ap.Journal.Append(outcome); err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func blockedBy(a *harden.Action, failed map[string]bool) string {
	for _, r := range a.Requires {
		if failed[r] {
			return r
		}
	}
	return ""
}

// explain turns a write error into what to do about it.
func explain(err error, a *harden.Action) string {
	if armclient.IsScopeLocked(err) {
		return fmt.Sprintf("refused: a lock on %s or above it blocks the change (409 ScopeLocked). Release it for the change with "+
			"bulwark lock release --resource <the locked scope> --reason \"%s %s\" --for 30m, re-run, then bulwark lock restore (bulwark lock list shows the locks)",
			a.Resource.Name, a.ID, a.Finding.Check)
	}
	return err.Error()
}

// state reads the action's resource: whether the change is in place, and the raw definition (nil
// when it does not exist yet).
func (ap *Applier) state(ctx context.Context, a *harden.Action) (bool, json.RawMessage, error) {
	return ap.stateOf(ctx, a, nil)
}

// stateOf is state, judged on known instead of a read when it is given.
func (ap *Applier) stateOf(ctx context.Context, a *harden.Action, known json.RawMessage) (bool, json.RawMessage, error) {
	body := known
	if body == nil {
		var err error
		body, err = ap.Client.Get(ctx, path(a.Verify.Path))
		if armclient.IsNotFound(err) && a.Request.Method == http.MethodPut {
			return false, nil, nil // a lock or a settings resource not created yet
		}
		if err != nil {
			return false, nil, err
		}
	}
	o, err := arm.NewObject(body, arm.Source{File: "arm"})
	if err != nil {
		return false, body, fmt.Errorf("read %s: %w", a.Verify.Path, err)
	}
	v := o.Get(a.Verify.Property)
	if a.Verify.AtLeast > 0 {
		n, ok := v.Int()
		return ok && n >= int64(a.Verify.AtLeast), body, nil
	}
	got := v.Display()
	if b, ok := v.Bool(); ok {
		got = strconv.FormatBool(b)
	}
	for _, want := range a.Verify.Accept {
		if strings.EqualFold(got, want) {
			return true, body, nil
		}
	}
	return false, body, nil
}

// body is what to send: a PATCH sends the change; a PUT of a settings resource sends its current
// properties with the change merged in (a PUT replaces, and must not turn off what is on).
func (ap *Applier) body(a *harden.Action, current json.RawMessage) map[string]any {
	if a.Request.Method != http.MethodPut || a.Kind == "lock" || current == nil {
		return a.Body()
	}
	var cur struct {
		Properties map[string]any `json:"properties"`
	}
	if json.Unmarshal(current, &cur) != nil || cur.Properties == nil {
		return a.Body()
	}
	out := map[string]any{"properties": cur.Properties}
	harden.Merge(out, a.Body())
	return out
}
