package locks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
	"github.com/bulwarkhq/bulwark/internal/azsdk"
	"github.com/bulwarkhq/bulwark/internal/collect/collecttest"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

const kv = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-pay-cmk"

// Release, status, restore: the lock comes back with the identical definition, and the journal
// tells the whole story.
func TestReleaseRestoreRoundTrip(t *testing.T) {
	env, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := collecttest.New(res.Snapshot.Resources)
	o := f.Options()
	client, err := azsdk.New(azsdk.Options{Options: armclient.Options{Credential: o.Credential, Transport: f, RetryDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	j, err := journal.Open(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	m := &Manager{Client: client, Journal: j, Who: "alice@contoso.example", Now: func() time.Time { return now }}

	var original []byte
	for _, l := range env.Index.OfType("Microsoft.Authorization/locks") {
		if strings.EqualFold(arm.LockScope(l.ID.String()), kv) {
			original = l.Raw
		}
	}
	if original == nil {
		t.Fatal("the demo has no lock on kv-pay-cmk")
	}
	released, err := m.Release(context.Background(), kv, "", "rotate the CMK (CHG-1234)", 30*time.Minute)
	if err != nil || len(released) != 1 || released[0].Name != "kv-no-delete" {
		t.Fatalf("%v %+v", err, released)
	}
	if _, ok := f.Object(released[0].ID); ok {
		t.Fatal("the lock is still there")
	}
	// Inherited locks (rg-payments has one) are not the vault's to release.
	if _, locks, _ := m.Direct(context.Background(), kv); len(locks) != 0 {
		t.Errorf("locks left directly on the vault: %+v", locks)
	}
	entries, _ := journal.Read(path)
	open := OpenReleases(entries, now.Add(10*time.Minute))
	if len(open) != 1 || open[0].Overdue || open[0].Reason != "rotate the CMK (CHG-1234)" || open[0].Who != "alice@contoso.example" {
		t.Fatalf("open: %+v", open)
	}
	if open := OpenReleases(entries, now.Add(31*time.Minute)); !open[0].Overdue {
		t.Error("not overdue after 31 minutes")
	}
	if err := m.Restore(context.Background(), open[0]); err != nil {
		t.Fatal(err)
	}
	entries, _ = journal.Read(path)
	// The lock read back through the SDK is byte for byte the definition the release recorded,
	// which is the snapshot's lock (name, level, notes, owners).
	back, err := client.Get(context.Background(), released[0].ID)
	if err != nil || !SameDefinition(entries[0].Before, back) {
		t.Errorf("restored %s, released %s (%v)", back, entries[0].Before, err)
	}
	if !bytes.Contains(back, []byte(`"properties":{"level":"CanNotDelete","notes":"CMK for disks, storage and backup","owners":[{"applicationId":"grp-platform-admins"}]}`)) {
		t.Errorf("restored %s", back)
	}
	rec, _ := arm.NewObject(entries[0].Before, arm.Source{File: "journal"})
	snap, _ := arm.NewObject(original, arm.Source{File: "snapshot"})
	if d := cmp.Diff(FromObject(snap), FromObject(rec)); d != "" {
		t.Errorf("recorded definition vs snapshot (-snapshot +recorded):\n%s", d)
	}
	// What the restore sent is byte for byte the properties the release recorded.
	var was, sent struct{ Properties json.RawMessage }
	json.Unmarshal(entries[0].Before, &was)
	json.Unmarshal(entries[2].Body, &sent)
	if len(was.Properties) == 0 || !bytes.Equal(was.Properties, sent.Properties) {
		t.Errorf("restore sent %s, the release recorded %s", sent.Properties, was.Properties)
	}
	if sdk := f.SDKRequests(); len(sdk) != 2 || sdk[1] != entries[2].Method+" "+entries[2].URL+" "+string(entries[2].Body) {
		t.Errorf("sent %q; journaled %s %s %s", sdk, entries[2].Method, entries[2].URL, entries[2].Body)
	}
	// A definition that differs in one byte of its properties is not the same lock.
	if SameDefinition(entries[0].Before, bytes.Replace(back, []byte("CanNotDelete"), []byte("ReadOnly"), 1)) {
		t.Error("a changed level compares equal")
	}
	if open := OpenReleases(entries, now.Add(time.Hour)); len(open) != 0 {
		t.Errorf("still open after restore: %+v", open)
	}
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Tool+"/"+e.Kind+"/"+e.Method+e.Result)
	}
	if got := strings.Join(kinds, " "); got != "lock-release/intent/DELETE lock-release/outcome/done lock-restore/intent/PUT lock-restore/outcome/done" {
		t.Errorf("journal: %s", got)
	}
	if w := f.Writes(); len(w) != 2 || !strings.HasPrefix(w[0], "DELETE ") || !strings.HasPrefix(w[1], "PUT ") {
		t.Errorf("writes: %v", w)
	}
	if _, err := m.Release(context.Background(), kv, "nope", "x", time.Minute); err == nil || !strings.Contains(err.Error(), `no lock named "nope"`) {
		t.Errorf("unknown lock name: %v", err)
	}
}

func newManager(t *testing.T, f *collecttest.Fake, path string) (*Manager, *journal.Journal) {
	t.Helper()
	o := f.Options()
	client, err := azsdk.New(azsdk.Options{Options: armclient.Options{Credential: o.Credential, Transport: f, RetryDelay: time.Millisecond, MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return &Manager{Client: client, Journal: j, Who: "alice@contoso.example", Now: time.Now}, j
}

func demoFake(t *testing.T) *collecttest.Fake {
	t.Helper()
	_, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return collecttest.New(res.Snapshot.Resources)
}

// A release whose outcome is not "done" stays open until it is settled by reading the lock: the
// process died after the DELETE (intent only), or the DELETE answered an error. Only a lock read
// back in place closes it without a restore. (OpenReleases used to count only "done" outcomes, so
// such a lock vanished from lock status and lock restore.)
func TestUnsettledReleasesStayOpen(t *testing.T) {
	const lockID = kv + "/providers/Microsoft.Authorization/locks/kv-no-delete"
	dir := t.TempDir()

	// The run died between the DELETE and its outcome: keep only the intent line.
	f := demoFake(t)
	m, j := newManager(t, f, filepath.Join(dir, "full.jsonl"))
	if _, err := m.Release(context.Background(), kv, "", "rotate the CMK", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	j.Close()
	full, _ := journal.Read(filepath.Join(dir, "full.jsonl"))
	intentOnly := func(name string) string {
		p := filepath.Join(dir, name)
		line, _ := json.Marshal(full[0])
		if err := os.WriteFile(p, append(line, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	died := intentOnly("died.jsonl")
	entries, _ := journal.Read(died)
	open := OpenReleases(entries, time.Now())
	if len(open) != 1 || !open[0].Unsettled {
		t.Fatalf("died after the DELETE: open = %+v", open)
	}
	m, _ = newManager(t, f, died)
	if err := m.Restore(context.Background(), open[0]); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Object(lockID); !ok {
		t.Error("the lock was not put back")
	}
	if entries, _ = journal.Read(died); len(OpenReleases(entries, time.Now())) != 0 {
		t.Errorf("still open after the restore: %+v", OpenReleases(entries, time.Now()))
	}

	// The run died before the DELETE reached Azure: the restore finds the lock in place, settles
	// the release as never having happened, and writes nothing.
	g := demoFake(t)
	notSent := intentOnly("not-sent.jsonl")
	entries, _ = journal.Read(notSent)
	m, _ = newManager(t, g, notSent)
	if err := m.Restore(context.Background(), OpenReleases(entries, time.Now())[0]); !errors.Is(err, ErrNeverReleased) {
		t.Errorf("restore of a lock still in place: %v", err)
	}
	if w := g.Writes(); len(w) != 0 {
		t.Errorf("writes: %v", w)
	}
	if entries, _ = journal.Read(notSent); len(OpenReleases(entries, time.Now())) != 0 {
		t.Errorf("not settled: %+v", OpenReleases(entries, time.Now()))
	}

	// The DELETE answered 500; reading the lock decides.
	for _, c := range []struct {
		name      string
		get       collecttest.Fault // the answer to reading the lock afterwards
		open      int
		unsettled bool
		err       bool
	}{
		{"reply lost, lock gone", collecttest.Fault{Status: http.StatusNotFound, Body: `{"error":{"code":"LockNotFound"}}`}, 1, false, false},
		{"failed, lock in place", collecttest.Fault{}, 0, false, true},
		{"failed, lock unreadable", collecttest.Fault{Status: http.StatusInternalServerError, Body: `{"error":{"code":"InternalServerError"}}`}, 1, true, true},
	} {
		h := demoFake(t)
		h.Fault("DELETE "+lockID, collecttest.Fault{Status: http.StatusInternalServerError, Body: `{"error":{"code":"InternalServerError"}}`})
		if c.get.Status != 0 {
			h.Fault(lockID, c.get)
		}
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".jsonl")
		m, j := newManager(t, h, path)
		released, err := m.Release(context.Background(), kv, "", "rotate the CMK", 30*time.Minute)
		j.Close()
		entries, _ := journal.Read(path)
		open := OpenReleases(entries, time.Now())
		if (err != nil) != c.err || len(open) != c.open || (c.open > 0 && open[0].Unsettled != c.unsettled) || (c.open == 1 && !c.unsettled && len(released) != 1) {
			t.Errorf("%s: err %v, released %d, open %+v", c.name, err, len(released), open)
		}
	}
}
