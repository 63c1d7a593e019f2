package sigma

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// JSONReader makes Events straight from the bytes of JSON objects — one log line, one record —
// for a rule set, without decoding the documents into maps: a document is validated in one pass
// that notes where its top-level members are, and a field is extracted the first time a rule asks
// for it, then kept for the other rules. Field returns what MapEvent over encoding/json's decoding
// of the same document returns (strings, float64 numbers, bools, nil, maps and slices for objects
// and arrays; keys exact first, then ignoring case; keys with dots found too), so rules match the
// same (TestJSONEventAgreesWithMapEvent). A JSONReader is not safe for concurrent use; it can be
// used for any rule set (the fields a rule set asks for are found whichever set it is).
type JSONReader struct {
	timeFields []string
	walker     jsonscan.Walker
}

// JSONOptions configure a JSONReader.
type JSONOptions struct {
	// TimeFields are the fields holding the event's time (RFC 3339), tried in order; the default
	// is "time", "TimeGenerated", "eventTimestamp", "timestamp", "@timestamp". An event with none
	// has the zero time.
	TimeFields []string
}

// NewJSONReader returns a reader of JSON events.
func NewJSONReader(opts JSONOptions) *JSONReader {
	if len(opts.TimeFields) == 0 {
		opts.TimeFields = []string{"time", "TimeGenerated", "eventTimestamp", "timestamp", "@timestamp"}
	}
	return &JSONReader{timeFields: opts.TimeFields}
}

// JSONEvent is an Event over one JSON object's bytes. The bytes must not change while it is used.
type JSONEvent struct {
	raw   []byte
	top   []jsonMember // the top-level members, in order
	cache []jsonField  // fields already extracted
	at    time.Time
}

type jsonMember struct{ key, val []byte }

type jsonField struct {
	path string
	v    any
	ok   bool
}

// Read validates doc as one JSON object and returns an event over it (doc is kept, not copied).
func (r *JSONReader) Read(doc []byte) (*JSONEvent, error) {
	ev := &JSONEvent{}
	return ev, r.ReadInto(ev, doc)
}

// ReadInto is Read into an event already allocated, reusing its memory: a loop matching the lines
// of a log reads every line into one event. A Correlator keeps the events it is given (an alert
// carries the events that made it), so events handed to one must each be their own: use Read.
func (r *JSONReader) ReadInto(ev *JSONEvent, doc []byte) error {
	ev.raw, ev.top, ev.cache, ev.at = doc, ev.top[:0], ev.cache[:0], time.Time{}
	first := true
	ok := r.walker.Walk(doc, func(p *jsonscan.Path, key, val []byte) {
		if first {
			p.Shallow() // only the top-level members; deeper ones are found when asked for
			first = false
		}
		if p.Depth() == 1 {
			ev.top = append(ev.top, jsonMember{key, val})
		}
	})
	if !ok {
		ev.raw, ev.top = nil, ev.top[:0]
		var v any
		if err := json.Unmarshal(doc, &v); err != nil {
			return fmt.Errorf("sigma: not a JSON object: %w", err)
		}
		return fmt.Errorf("sigma: not a JSON object but %s", kindOf(v))
	}
	for _, f := range r.timeFields {
		if v, ok := ev.Field(f); ok {
			if s, isStr := v.(string); isStr {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					ev.at = t
					break
				}
			}
		}
	}
	return nil
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// Time implements Event.
func (e *JSONEvent) Time() time.Time { return e.at }

// Field implements Event.
func (e *JSONEvent) Field(path string) (any, bool) {
	for i := range e.cache {
		if e.cache[i].path == path {
			return e.cache[i].v, e.cache[i].ok
		}
	}
	var v any
	raw, ok := e.lookup(path)
	if ok {
		v = jsonValue(raw)
	}
	e.cache = append(e.cache, jsonField{path, v, ok})
	return v, ok
}

// lookup finds path's value bytes as lookupPath finds it in a decoded map: the whole path as a key
// first; then segment by segment, each key exact first and then ignoring case, a key holding the
// rest of the path with its dots tried at each level.
func (e *JSONEvent) lookup(path string) ([]byte, bool) {
	if v, ok := e.topExact(path); ok {
		return v, true
	}
	i := strings.IndexByte(path, '.')
	key := path
	if i >= 0 {
		key = path[:i]
	}
	cur, ok := e.topMember(key)
	if !ok {
		return nil, false
	}
	if i < 0 {
		return cur, true
	}
	rest := path[i+1:]
	if v, ok := e.topExact(key + "." + rest); ok {
		return v, true
	}
	for {
		if jsonscan.First(cur) != '{' {
			return nil, false
		}
		if v, ok := exactMember(cur, rest); ok {
			return v, true
		}
		i := strings.IndexByte(rest, '.')
		key := rest
		if i >= 0 {
			key = rest[:i]
		}
		next, ok := jsonscan.Lookup(cur, key)
		if !ok {
			return nil, false
		}
		if i < 0 {
			return next, true
		}
		if v, ok := exactMember(cur, key+"."+rest[i+1:]); ok {
			return v, true
		}
		cur, rest = next, rest[i+1:]
	}
}

func (e *JSONEvent) topExact(key string) ([]byte, bool) {
	for _, m := range e.top {
		if keyIs(m.key, key) {
			return m.val, true
		}
	}
	return nil, false
}

// topMember is jsonscan.Lookup over the top-level members already found.
func (e *JSONEvent) topMember(key string) ([]byte, bool) {
	if v, ok := e.topExact(key); ok {
		return v, true
	}
	for _, m := range e.top {
		if strings.EqualFold(jsonscan.UnquoteKey(m.key), key) {
			return m.val, true
		}
	}
	return nil, false
}

func keyIs(raw []byte, key string) bool {
	if string(raw) == key { // the conversion does not allocate
		return true
	}
	return strings.IndexByte(string(raw), '\\') >= 0 && jsonscan.UnquoteKey(raw) == key
}

func exactMember(obj []byte, key string) ([]byte, bool) {
	var out []byte
	found := false
	jsonscan.ObjectBytes(obj, func(k, v []byte) bool {
		if keyIs(k, key) {
			out, found = v, true
			return false
		}
		return true
	})
	return out, found
}

// jsonValue decodes one valid JSON value as encoding/json decodes it into an interface.
func jsonValue(raw []byte) any {
	switch jsonscan.First(raw) {
	case '"':
		s, _ := jsonscan.Unquote(raw)
		return s
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	case '{', '[':
		var v any
		_ = json.Unmarshal(raw, &v)
		return v
	}
	f, _ := strconv.ParseFloat(string(raw), 64)
	return f
}

// Keywords implements Event: every string value of the document, at any depth.
func (e *JSONEvent) Keywords(fn func(string) bool) bool {
	return jsonscan.Strings(e.raw, func(q []byte) bool {
		s, _ := jsonscan.Unquote(q)
		return fn(s)
	})
}
