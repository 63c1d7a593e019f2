package apply

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/armclient"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/azsdk"
	"github.com/bulwarkhq/bulwark/internal/collect/collecttest"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/harden"
	"github.com/bulwarkhq/bulwark/internal/journal"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

func contoso(t *testing.T) (*assess.Env, *snapshot.Result) {
	t.Helper()
	env, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return env, res
}

func plan(t *testing.T, o harden.Options) *harden.Plan {
	env, _ := contoso(t)
	return harden.Build(env, assess.Run(env, assess.Checks()), o)
}

type harness struct {
	f      *collecttest.Fake
	client *azsdk.Clients
	path   string
	j      *journal.Journal // the current run's
}

func newHarness(t *testing.T) *harness {
	_, res := contoso(t)
	f := collecttest.New(res.Snapshot.Resources)
	o := f.Options()
	c, err := azsdk.New(azsdk.Options{Options: armclient.Options{Credential: o.Credential, Transport: f, RetryDelay: time.Millisecond, MaxRetries: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{f: f, client: c, path: filepath.Join(t.TempDir(), "journal.jsonl")}
}

// applier is one run: the previous run's journal is closed first (a journal has one writer at a
// time), then the journal is opened and read under its lock.
func (h *harness) applier(t *testing.T) *Applier {
	if h.j != nil {
		h.j.Close()
	}
	j, err := journal.Open(h.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.j = j
	t.Cleanup(func() { j.Close() })
	entries, err := j.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return &Applier{Client: h.client, Journal: j, Who: "alice@contoso.example", Entries: entries}
}

func statuses(rs []Result) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

// Every action type applies against the fake; a second run writes nothing.
func TestApplyEveryKindThenIdempotent(t *testing.T) {
	p := plan(t, harden.Options{AllowIrreversible: true})
	kinds := map[string]bool{}
	for _, a := range p.Actions {
		kinds[a.Kind] = true
	}
	for _, k := range []string{"lock", "kv-purge-protection", "rsv-soft-delete", "rsv-soft-delete-always-on", "rsv-immutability", "rsv-immutability-locked",
		"bv-soft-delete", "bv-soft-delete-always-on", "bv-immutability", "bv-immutability-locked", "blob-soft-delete", "container-soft-delete", "blob-versioning", "blob-change-feed",
		"blob-point-in-time-restore", "file-soft-delete", "sql-short-term-retention", "sql-long-term-retention", "defender-plan"} {
		if !kinds[k] {
			t.Errorf("the Contoso plan has no %s action: the test would not cover it", k)
		}
	}
	h := newHarness(t)
	res, err := h.applier(t).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	st := statuses(res)
	if st["failed"] != 0 || st["skipped"] != 0 || st["done"] == 0 {
		t.Fatalf("first run: %v %+v", st, res)
	}
	writes := len(h.f.Writes())
	if writes != st["done"] {
		t.Errorf("%d writes for %d actions done", writes, st["done"])
	}
	res, err = h.applier(t).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if st := statuses(res); st["in place"] != len(p.Actions) || len(h.f.Writes()) != writes {
		t.Errorf("second run: %v, %d new writes", st, len(h.f.Writes())-writes)
	}
	// The journal holds an intent and an outcome per write, with who and why.
	entries, _ := journal.Read(h.path)
	if len(entries) != 2*writes || entries[0].Who != "alice@contoso.example" || entries[0].Why == "" || entries[0].Method == "" {
		t.Errorf("%d journal entries for %d writes: %+v", len(entries), writes, entries[0])
	}
	// Each PUT of blob service settings merged what was there: where point-in-time restore was
	// turned on, soft delete, versioning and the change feed are on too, and the type is kept.
	n := 0
	for _, a := range p.Actions {
		if a.Kind != "blob-point-in-time-restore" {
			continue
		}
		n++
		raw, _ := h.f.Object(strings.SplitN(a.Request.Path, "?", 2)[0])
		var bs struct {
			Type       string
			Properties struct {
				DeleteRetentionPolicy struct{ Enabled bool }
				IsVersioningEnabled   bool
				ChangeFeed            struct{ Enabled bool }
				RestorePolicy         struct{ Enabled bool }
			}
		}
		json.Unmarshal(raw, &bs)
		if bs.Type != "Microsoft.Storage/storageAccounts/blobServices" || !bs.Properties.DeleteRetentionPolicy.Enabled || !bs.Properties.IsVersioningEnabled ||
			!bs.Properties.ChangeFeed.Enabled || !bs.Properties.RestorePolicy.Enabled {
			t.Errorf("blob service after apply: %s", raw)
		}
	}
	if n == 0 {
		t.Error("no point-in-time restore action was checked")
	}
}

// A crash between a write and its outcome: the next run sees the intent, finds the change in
// place and does not write again. A crash before the write: the next run writes once.
func TestCrashAndResume(t *testing.T) {
	p := plan(t, harden.Options{})
	h := newHarness(t)
	victim := p.Actions[2]
	ap := h.applier(t)
	ap.crashAfterWrite = func(key string) bool { return key == victim.Key }
	if _, err := ap.Apply(context.Background(), p); !errors.Is(err, ErrCrashed) {
		t.Fatalf("err = %v", err)
	}
	entries, _ := journal.Read(h.path)
	if pend := journal.Pending(entries); len(pend) != 1 || pend[0].Intent.Action != victim.Key {
		t.Fatalf("pending: %+v", pend)
	}
	before := len(h.f.Writes())
	res, err := h.applier(t).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Action == victim.ID && r.Status != "resumed" {
			t.Errorf("%s: %s, want resumed", r.Action, r.Status)
		}
	}
	for _, w := range h.f.Writes()[before:] {
		if strings.Contains(strings.ToLower(victim.Request.Path), strings.TrimPrefix(w, strings.SplitN(w, " ", 2)[0]+" ")) {
			t.Errorf("the crashed write was repeated: %s", w)
		}
	}
	entries, _ = journal.Read(h.path)
	if pend := journal.Pending(entries); len(pend) != 0 {
		t.Errorf("still pending after the resumed run: %+v", pend)
	}

	// An intent whose write never left: the resumed run makes it, once.
	h2 := newHarness(t)
	a := p.Actions[0]
	j, _ := journal.Open(h2.path, nil)
	j.Append(journal.Entry{Kind: journal.Intent, Action: a.Key, Tool: "harden", Method: a.Request.Method, URL: a.Request.Path})
	j.Close()
	res, err = h2.applier(t).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range h2.f.Writes() {
		if strings.HasSuffix(strings.ToLower(strings.SplitN(a.Request.Path, "?", 2)[0]), strings.SplitN(w, " ", 2)[1]) {
			n++
		}
	}
	if res[0].Status != "done" || n != 1 {
		t.Errorf("interrupted before the write: %s, %d writes of it", res[0].Status, n)
	}
}

// A 409 ScopeLocked says which lock procedure to use; what depends on the refused change is skipped.
func TestScopeLocked(t *testing.T) {
	p := plan(t, harden.Options{AllowIrreversible: true})
	h := newHarness(t)
	// The first action that will write (not already in place) and that others require.
	reqs, err := h.applier(t).Preview(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]bool{}
	for _, r := range reqs {
		writes[strings.Fields(r)[0]] = true
	}
	required := map[string]bool{}
	for _, b := range p.Actions {
		for _, req := range b.Requires {
			required[req] = true
		}
	}
	var first *harden.Action
	patched := map[string]bool{} // the first write to a path meets the fault
	for _, a := range p.Actions {
		if !writes[a.ID] {
			continue
		}
		if a.Request.Method == "PATCH" && required[a.ID] && !patched[a.Request.Path] && first == nil {
			first = a
		}
		patched[a.Request.Path] = true
	}
	if first == nil {
		t.Fatal("no action that writes and is required by another")
	}
	h.f.Fault("PATCH "+strings.SplitN(first.Request.Path, "?", 2)[0], collecttest.Fault{Status: 409,
		Body: `{"error":{"code":"ScopeLocked","message":"The scope cannot perform write operation because it is locked."}}`}, collecttest.Fault{})
	res, err := h.applier(t).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Result{}
	for _, r := range res {
		byID[r.Action] = r
	}
	r := byID[first.ID]
	if r.Status != "failed" || !strings.Contains(r.Message, "409 ScopeLocked") || !strings.Contains(r.Message, "bulwark lock release --resource") {
		t.Errorf("%s: %+v", first.ID, r)
	}
	for _, a := range p.Actions {
		for _, req := range a.Requires {
			if req == first.ID && byID[a.ID].Status != "skipped" {
				t.Errorf("%s depends on the refused %s but was %s", a.ID, first.ID, byID[a.ID].Status)
			}
		}
	}
	entries, _ := journal.Read(h.path)
	failed := 0
	for _, s := range journal.States(entries) {
		if s.Outcome != nil && s.Outcome.Result == journal.Failed {
			failed++
			if !strings.Contains(s.Outcome.Error, "ScopeLocked") {
				t.Errorf("journaled error: %s", s.Outcome.Error)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed outcomes journaled", failed)
	}
}

func TestPreviewListsOnlyWhatChanges(t *testing.T) {
	p := plan(t, harden.Options{})
	h := newHarness(t)
	reqs, err := h.applier(t).Preview(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.f.Writes()) != 0 || len(reqs) == 0 || !strings.Contains(reqs[0], " https://management.azure.com/") {
		t.Fatalf("%d requests, %d writes", len(reqs), len(h.f.Writes()))
	}
	res, err := h.applier(t).Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var done []string
	for _, r := range res {
		if r.Status == "done" {
			done = append(done, r.Action)
		}
	}
	var previewed, shown []string
	for _, r := range reqs {
		id, req, _ := strings.Cut(r, " ")
		previewed = append(previewed, id)
		shown = append(shown, req)
	}
	if d := cmp.Diff(previewed, done); d != "" {
		t.Errorf("previewed vs applied (-preview +apply):\n%s", d)
	}
	// What was shown for confirmation is, byte for byte, what the SDK clients sent.
	if d := cmp.Diff(shown, h.f.SDKRequests()); d != "" {
		t.Errorf("shown vs sent (-shown +sent):\n%s", d)
	}
}

// The plan's REST call is the one the SDK client sends: same method, same URL and API version,
// and for a PATCH the same body (a PUT of settings merges the current definition first).
func TestPlanRequestsAreTheSDKs(t *testing.T) {
	p := plan(t, harden.Options{AllowIrreversible: true})
	h := newHarness(t)
	for _, a := range p.Actions {
		raw, _ := json.Marshal(a.Request.Body)
		req, err := h.client.Prepare(a.Request.Method, path(a.Request.Path), raw)
		if err != nil {
			t.Errorf("%s %s: %v", a.ID, a.Kind, err)
			continue
		}
		if want := "https://management.azure.com" + a.Request.Path; req.URL() != want || req.Method != a.Request.Method {
			t.Errorf("%s %s: the SDK sends %s %s, the plan says %s %s", a.ID, a.Kind, req.Method, req.URL(), a.Request.Method, want)
		}
		if string(req.BodyJSON()) != string(raw) {
			t.Errorf("%s %s: the SDK model sends %s, the plan says %s", a.ID, a.Kind, req.Body, raw)
		}
	}
}
