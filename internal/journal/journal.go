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
	// Torn is the last line Open found cut off and moved aside, if any.
	Torn *Torn
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
// interleaving its writes with the first's. A last line that was cut off (the crash the journal
// exists for) is moved to a file beside it and cut from the journal, so the next entry starts on a
// line of its own; Journal.Torn says so. The write that line described is settled as any
// unfinished one is, by re-reading the resource. Open sets a journal readable or writable by
// others to 0600 (Journal.Tightened says it did). Read the
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
		torn, err := setAside(f, path, st.Size(), now)
		if err != nil {
			return fail(err)
		}
		j.Torn = torn
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

// Torn is a last line cut off mid-write.
type Torn struct {
	Line     int    // its line number
	Fragment string // what was written of it
	SavedTo  string // the file Open moved it to ("" when only read)
}

func (t *Torn) String() string {
	s := fmt.Sprintf("line %d was cut off mid-write (%d bytes) and is ignored", t.Line, len(t.Fragment))
	if t.SavedTo != "" {
		s += "; it was moved to " + t.SavedTo
	}
	return s
}

// setAside moves a torn last line of f (size bytes) to a file beside path and truncates f to end
// at the last complete line. A last line that is a whole entry without its newline gets the newline.
func setAside(f *os.File, path string, size int64, now func() time.Time) (*Torn, error) {
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	if last[0] == '\n' {
		return nil, nil
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	start := bytes.LastIndexByte(data, '\n') + 1
	frag := data[start:]
	if _, err := entryOf(bytes.TrimSpace(frag)); err == nil { // complete, only the newline is missing
		if _, err := f.Write([]byte("\n")); err != nil {
			return nil, fmt.Errorf("write journal %s: %w", path, err)
		}
		return nil, f.Sync()
	}
	aside := fmt.Sprintf("%s.torn-%d", path, now().UTC().Unix())
	if err := os.WriteFile(aside, frag, 0o600); err != nil {
		return nil, fmt.Errorf("journal %s ends in a partial line and it could not be set aside in %s: %w", path, aside, err)
	}
	if err := f.Truncate(int64(start)); err != nil {
		return nil, fmt.Errorf("journal %s: cut the partial last line: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync journal %s: %w", path, err)
	}
	return &Torn{Line: bytes.Count(data[:start], []byte("\n")) + 1, Fragment: string(frag), SavedTo: aside}, nil
}

// Read returns every entry of a journal file; a missing file is an empty journal. A torn last
// line (see ReadTorn) is left out; any other line that is not an entry is an error naming the file
// and line: a journal is evidence, and a damaged one must be looked at, not skipped.
func Read(path string) ([]Entry, error) {
	entries, _, err := ReadTorn(path)
	return entries, err
}

// ReadTorn is Read, and reports a last line cut off mid-write: it is ignored, as the write it
// described is settled by re-reading the resource.
func ReadTorn(path string) ([]Entry, *Torn, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read journal: %w", err)
	}
	return parse(data, path)
}

// Parse reads entries from r; name labels errors. A torn last line is left out.
func Parse(r io.Reader, name string) ([]Entry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	entries, _, err := parse(data, name)
	return entries, err
}

func entryOf(b []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return e, err
	}
	return e, nil
}

func parse(data []byte, name string) ([]Entry, *Torn, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var out []Entry
	tornAt := -1 // the line that does not end in a newline, if any
	if len(data) > 0 && data[len(data)-1] != '\n' {
		tornAt = bytes.Count(data, []byte("\n")) + 1
	}
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		e, err := entryOf(b)
		if err != nil && line == tornAt {
			return out, &Torn{Line: line, Fragment: string(sc.Bytes())}, nil
		}
		if err != nil {
			return out, nil, fmt.Errorf("%s:%d: not a journal entry: %v", name, line, err)
		}
		if e.Schema != Schema || (e.Kind != Intent && e.Kind != Outcome) || e.Action == "" {
			return out, nil, fmt.Errorf("%s:%d: not a %s entry (schema %q, kind %q, action %q)", name, line, Schema, e.Schema, e.Kind, e.Action)
		}
		out = append(out, e)
	}
	return out, nil, sc.Err()
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
