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

// Journal appends to one file.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
	now  func() time.Time
}

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

// Open opens (creating) the journal for appending. now is the clock (nil: time.Now).
func Open(path string, now func() time.Time) (*Journal, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	return &Journal{f: f, path: path, now: now}, nil
}

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

// Close closes the file.
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
