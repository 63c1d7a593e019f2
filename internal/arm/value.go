package arm

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Value is a property read from an ARM object, with the path it was read at, so that evidence can
// say exactly what was seen ("properties.enablePurgeProtection = true", or "absent").
type Value struct {
	v    any
	ok   bool
	path string
	def  *Default
}

// Exists reports whether the property was present (or supplied by a service default) and not null.
func (v Value) Exists() bool { return v.ok && v.v != nil }

// Path returns the dotted path the value was read at.
func (v Value) Path() string { return v.path }

// Default returns the service default that supplied the value, if the property was absent.
func (v Value) Default() (Default, bool) {
	if v.def == nil {
		return Default{}, false
	}
	return *v.def, true
}

// Interface returns the decoded JSON value (map, slice, string, json.Number, bool or nil).
func (v Value) Interface() any { return v.v }

// String returns a string property. Numbers and booleans are not strings.
func (v Value) String() (string, bool) {
	s, ok := v.v.(string)
	return s, ok && v.ok
}

// Bool returns a boolean property. ARM sometimes returns booleans as strings ("true", "False"), so
// those are accepted too.
func (v Value) Bool() (bool, bool) {
	switch b := v.v.(type) {
	case bool:
		return b, true
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// Int returns an integer property; numeric strings are accepted.
func (v Value) Int() (int64, bool) {
	switch n := v.v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	case int:
		return int64(n), true
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

// Is reports whether a string property equals one of the given enum values, ignoring case
// (ARM returns "AlwaysON" where the spec says "AlwaysOn").
func (v Value) Is(values ...string) bool {
	s, ok := v.String()
	if !ok {
		return false
	}
	for _, want := range values {
		if strings.EqualFold(strings.TrimSpace(s), want) {
			return true
		}
	}
	return false
}

// List returns the elements of an array property.
func (v Value) List() []Value {
	arr, _ := v.v.([]any)
	out := make([]Value, len(arr))
	for i, e := range arr {
		out[i] = Value{v: e, ok: true, path: v.path + "." + strconv.Itoa(i)}
	}
	return out
}

// Get reads a dotted path below this value, case-insensitively.
func (v Value) Get(path string) Value {
	o := &Object{fields: map[string]any{"v": v.v}}
	r := o.Get("v." + path)
	r.path = v.path + "." + path
	return r
}

// Display renders the value for evidence: strings unquoted, "absent" when missing, JSON otherwise,
// with "(service default)" when a default supplied it.
func (v Value) Display() string {
	var s string
	switch x := v.v.(type) {
	case nil:
		if !v.ok {
			return "absent"
		}
		s = "null"
	case string:
		s = x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			s = "?"
		} else {
			s = string(b)
		}
	}
	if v.def != nil {
		s += " (absent; service default)"
	}
	return s
}

// Time reads an RFC 3339 time.
func (v Value) Time() (time.Time, bool) {
	s, ok := v.String()
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
