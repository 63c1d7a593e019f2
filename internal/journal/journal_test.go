package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendReadStates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "journal.jsonl")
	clock := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	j, err := Open(path, func() time.Time { clock = clock.Add(time.Second); return clock })
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{
		{Kind: Intent, Action: "a1", Tool: "harden", Who: "alice", Why: "KV-002", Method: "PATCH", URL: "https://management.azure.com/x"},
		{Kind: Outcome, Action: "a1", Tool: "harden", Result: Done},
		{Kind: Intent, Action: "a2", Tool: "harden", Method: "PUT", URL: "https://management.azure.com/y"},
	} {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600 (it names principals and resources)", info.Mode().Perm())
	}
	// Reopening appends; nothing is rewritten.
	j, _ = Open(path, nil)
	j.Append(Entry{Kind: Outcome, Action: "a2", Result: Failed, Error: "409 ScopeLocked"})
	j.Close()
	entries, err := Read(path)
	if err != nil || len(entries) != 4 || entries[0].Schema != Schema || !entries[0].Time.Equal(time.Date(2026, 11, 26, 9, 0, 1, 0, time.UTC)) {
		t.Fatalf("%v %+v", err, entries)
	}
	states := States(entries)
	if len(states) != 2 || states[0].Outcome == nil || states[0].Outcome.Result != Done || states[1].Outcome.Result != Failed {
		t.Errorf("states: %+v", states)
	}
	if p := Pending(entries[:3]); len(p) != 1 || p[0].Intent.Action != "a2" {
		t.Errorf("pending after a crash between a2's intent and outcome: %+v", p)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if e, err := Read(filepath.Join(dir, "none.jsonl")); err != nil || e != nil {
		t.Errorf("a missing journal is empty: %v %v", e, err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	// A torn last line (no newline) is reported and ignored; the same damage mid-file is an error.
	os.WriteFile(bad, []byte(`{"schema":"bulwark.journal/v1","kind":"intent","action":"a"}`+"\n{torn"), 0o600)
	if e, torn, err := ReadTorn(bad); err != nil || len(e) != 1 || torn == nil || torn.Line != 2 || torn.Fragment != "{torn" {
		t.Errorf("torn last line: %v %v %+v", e, err, torn)
	}
	os.WriteFile(bad, []byte(`{"schema":"bulwark.journal/v1","kind":"intent","action":"a"}`+"\n{torn\n"+`{"schema":"bulwark.journal/v1","kind":"intent","action":"b"}`+"\n"), 0o600)
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), "bad.jsonl:2: not a journal entry") {
		t.Errorf("torn line in the middle: %v", err)
	}
	os.WriteFile(bad, []byte(`{"schema":"other","kind":"intent","action":"a"}`+"\n"), 0o600)
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), "bad.jsonl:1:") {
		t.Errorf("foreign line: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	p, err := DefaultPath(func(k string) string {
		if k == "XDG_STATE_HOME" {
			return "/state"
		}
		return ""
	})
	if err != nil || p != filepath.Join("/state", "bulwark", "journal.jsonl") {
		t.Errorf("%s %v", p, err)
	}
}

// One writer at a time: a second Open of the same journal fails at once with ErrInUse, and works
// again once the first is closed.
func TestOpenIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	a, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := Open(path, nil); !errors.Is(err, ErrInUse) {
		if b != nil {
			b.Close()
		}
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
	a.Close()
	b, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	b.Close()
}

// A journal whose last line was cut off (a crash mid-write) is opened: the fragment is moved to a
// file beside it and cut, Journal.Torn says so, and the next entry starts on its own line. A last
// line that is whole but lost its newline gets the newline.
func TestOpenSetsTornLineAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.jsonl")
	whole := `{"schema":"bulwark.journal/v1","time":"2026-11-26T09:00:00Z","kind":"intent","action":"a1","tool":"lock-release"}`
	frag := `{"schema":"bulwark.journal/v1","ti`
	if err := os.WriteFile(path, []byte(whole+"\n"+frag), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := Open(path, func() time.Time { return time.Unix(1796000000, 0) })
	if err != nil {
		t.Fatalf("Open of a torn journal: %v", err)
	}
	if j.Torn == nil || j.Torn.Line != 2 || j.Torn.Fragment != frag || j.Torn.SavedTo != path+".torn-1796000000" {
		t.Fatalf("Torn: %+v", j.Torn)
	}
	if got, _ := os.ReadFile(j.Torn.SavedTo); string(got) != frag {
		t.Errorf("the fragment set aside: %q", got)
	}
	if err := j.Append(Entry{Kind: Outcome, Action: "a1", Result: "done"}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	entries, torn, err := ReadTorn(path)
	if err != nil || torn != nil || len(entries) != 2 || entries[1].Action != "a1" || entries[1].Kind != Outcome {
		t.Errorf("after the append: %+v %v %v", entries, torn, err)
	}
	// A whole last entry without its newline is kept, and completed.
	if err := os.WriteFile(path, []byte(whole), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err = Open(path, nil)
	if err != nil || j.Torn != nil {
		t.Fatalf("Open: %v %+v", err, j.Torn)
	}
	j.Close()
	if data, _ := os.ReadFile(path); string(data) != whole+"\n" {
		t.Errorf("the journal: %q", data)
	}
}

// A journal readable by others is set to 0600 on Open, and Tightened says what it was.
func TestOpenTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	j, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || j.Tightened != 0o644 {
		t.Errorf("mode %v, Tightened %v", st.Mode().Perm(), j.Tightened)
	}
}
