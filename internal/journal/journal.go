// Package journal is Bulwark's append-only record of every change it makes to Azure: an intent
// line before a write, an outcome line after, each fsynced, as JSON lines. A run interrupted
// between the two leaves an intent without an outcome; the next run finds it (Pending) and checks
// the resource's actual state before deciding whether the write happened. Harden, lock release and
// the playbook runner share it.
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Schema tags every line.
const Schema = "bulwark.journal/v1"

// Kinds of entries.
const (
	Intent  = "intent"
	Outcome = "outcome"
)

// Results of an outcome.
const (
	Done    = "done"    // the write succeeded
	Skipped = "skipped" // nothing to do: the resource was already as wanted
	Failed  = "failed"
)

// Entry is one line.
type Entry struct {
	Schema string    `json:"schema"`
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`   // intent or outcome
	Action string    `json:"action"` // stable ID of the change, the same in its intent and outcome
	Tool   string    `json:"tool"`   // harden, lock-release, lock-restore, playbook
	Who    string    `json:"who"`    // the principal making the change (from the credential)
	Why    string    `json:"why"`    // the finding, the reason given
	// What is the request: method, URL and body, exactly as sent.
	Method string          `json:"method,omitempty"`
	URL    string          `json:"url,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	// Before is the resource's definition read before the change (a released lock's is what
	// restoring it puts back).
	Before json.RawMessage `json:"before,omitempty"`
	Result string          `json:"result,omitempty"` // outcome: done, skipped, failed
	Error  string          `json:"error,omitempty"`
	// Meta carries what the tool needs later (a lock release's deadline).
	Meta map[string]string `json:"meta,omitempty"`
}

// Journal appends to one file, which it holds an exclusive lock on while open: no two writing
// commands share a journal at once.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
	now  func() time.Time
	// Tightened is the mode the file had when Open found it readable or writable by others and
	// set it to 0600 (0 when it was private already); the caller tells the user.
	Tightened fs.FileMode
}

// ErrInUse is returned by Open when another process holds the journal.
var ErrInUse = errors.New("in use by another bulwark process")

// DefaultPath is $XDG_STATE_HOME/bulwark/journal.jsonl, else ~/.local/state/bulwark/journal.jsonl.
func DefaultPath(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "bulwark", "journal.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the journal: %w (give --journal PATH)", err)
	}
	return filepath.Join(home, ".local", "state", "bulwark", "journal.jsonl"), nil
}

// Open opens (creating) the journal for appending, for a command that writes to Azure. It takes
// an exclusive lock on the file, without waiting: a second writer gets ErrInUse instead of
// interleaving its writes with the first's. It refuses a journal whose last line was cut off (a
// write interrupted mid-line), since appending would glue the next entry onto the fragment; and it
// sets a journal readable or writable by others to 0600 (Journal.Tightened says it did). Read the
// entries after Open (Journal.Entries), under the lock. now is the clock (nil: time.Now).
func Open(path string, now func() time.Time) (*Journal, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	j := &Journal{f: f, path: path, now: now}
	fail := func(err error) (*Journal, error) {
		f.Close()
		return nil, err
	}
	if err := lockFile(f); err != nil {
		if errors.Is(err, ErrInUse) {
			return fail(fmt.Errorf("journal %s is %w: wait for it to finish (one writing command at a time per journal)", path, ErrInUse))
		}
		return fail(fmt.Errorf("lock journal %s: %w", path, err))
	}
	st, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("open journal %s: %w", path, err))
	}
	if !st.Mode().IsRegular() {
		return fail(fmt.Errorf("journal %s is not a regular file", path))
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fail(fmt.Errorf("journal %s has mode %04o (readable or writable by others) and could not be set to 0600: %w", path, perm, err))
		}
		j.Tightened = perm
	}
	if st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err != nil {
			return fail(fmt.Errorf("read journal %s: %w", path, err))
		}
		if last[0] != '\n' {
			return fail(fmt.Errorf("journal %s ends in a partial line (a write was cut off): no further change is made until it is repaired — look at its last line (bulwark journal show names it), and remove the fragment or complete it", path))
		}
	}
	return j, nil
}

// Entries reads the journal's entries, under the lock Open took.
func (j *Journal) Entries() ([]Entry, error) { return Read(j.path) }

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Append writes one entry and fsyncs it before returning: once Append returns, the line survives a
// crash.
func (j *Journal) Append(e Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Schema = Schema
	if e.Time.IsZero() {
		e.Time = j.now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal %s: %w", j.path, err)
	}
	return nil
}

// Close closes the file, which releases the lock.
func (j *Journal) Close() error { return j.f.Close() }

// Read returns every entry of a journal file; a missing file is an empty journal. A line that is
// not an entry is an error naming the file and line: a journal is evidence, and a damaged one must
// be looked at, not skipped.
func Read(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	return Parse(bytes.NewReader(data), path)
}

// Parse reads entries from r; name labels errors.
func Parse(r io.Reader, name string) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var out []Entry
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(b, &e); err != nil {
			return out, fmt.Errorf("%s:%d: not a journal entry: %v", name, line, err)
		}
		if e.Schema != Schema || (e.Kind != Intent && e.Kind != Outcome) || e.Action == "" {
			return out, fmt.Errorf("%s:%d: not a %s entry (schema %q, kind %q, action %q)", name, line, Schema, e.Schema, e.Kind, e.Action)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// State is where each action stands: its last intent and, if there is one after it, its outcome.
type State struct {
	Intent  Entry
	Outcome *Entry // nil: the intent was recorded and the run stopped before the outcome
}

// States folds entries by action, in the order actions first appear.
func States(entries []Entry) []State {
	idx := map[string]int{}
	var out []State
	for _, e := range entries {
		i, ok := idx[e.Action]
		switch e.Kind {
		case Intent:
			if !ok {
				idx[e.Action] = len(out)
				out = append(out, State{Intent: e})
				continue
			}
			out[i] = State{Intent: e}
		case Outcome:
			if ok {
				e := e
				out[i].Outcome = &e
			}
		}
	}
	return out
}

// Pending returns the actions whose intent has no outcome.
func Pending(entries []Entry) []State {
	var out []State
	for _, s := range States(entries) {
		if s.Outcome == nil {
			out = append(out, s)
		}
	}
	return out
}
