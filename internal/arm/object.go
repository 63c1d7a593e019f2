package arm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Source says where an object was read: the file (or "-" for stdin, "embedded:…" for the demo) and
// the JSON path inside it, e.g. "$.responses.200.body.value[3]".
type Source struct {
	File string `json:"file"`
	Path string `json:"path,omitempty"`
}

func (s Source) String() string {
	if s.Path == "" || s.Path == "$" {
		return s.File
	}
	return s.File + " " + s.Path
}

// Object is one ARM object exactly as ARM returned it. Raw keeps the bytes for writing the object
// back out unchanged; property access goes through Get and Prop.
type Object struct {
	ID     ID
	Raw    json.RawMessage
	Source Source
	// TypeDerived is true when the object carried no "type" and its type was derived from its ID
	// (Azure's SQL replication-link list responses omit it, for one).
	TypeDerived bool

	typ    string
	fields map[string]any
}

// NewObject decodes one ARM object. It fails when the JSON is not an object, has no string "id", or
// the ID does not parse; a missing "type" is derived from the ID.
func NewObject(raw []byte, src Source) (*Object, error) {
	fields, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	idv, _ := lookupKey(fields, "id")
	ids, ok := idv.(string)
	if !ok || strings.TrimSpace(ids) == "" {
		return nil, errNoID
	}
	id, err := ParseID(ids)
	if err != nil {
		return nil, err
	}
	o := &Object{ID: id, Raw: compact(raw), Source: src, fields: fields}
	if t, ok := lookupKey(fields, "type"); ok {
		if ts, ok := t.(string); ok && ts != "" {
			o.typ = ts
		}
	}
	if o.typ == "" {
		o.typ = id.Type()
		o.TypeDerived = true
	}
	return o, nil
}

// MustObject builds an object from JSON written in code and tests; it panics when NewObject fails.
func MustObject(raw string) *Object {
	o, err := NewObject([]byte(raw), Source{File: "literal"})
	if err != nil {
		panic(err)
	}
	return o
}

// errNoID marks JSON objects that are not ARM objects because they have no "id".
var errNoID = fmt.Errorf(`no string "id"`)

// IsNoID reports whether err says an object had no "id".
func IsNoID(err error) bool { return err == errNoID }

func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object but %s", jsonKind(v))
	}
	return m, nil
}

func compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Type returns the resource type as the object spelled it (or as derived from its ID).
func (o *Object) Type() string { return o.typ }

// IsType reports whether the object is of the given type, ignoring case.
func (o *Object) IsType(t string) bool { return strings.EqualFold(o.typ, t) }

// Name returns the object's "name", or the last segment of its ID when absent.
func (o *Object) Name() string {
	if s, ok := o.Get("name").String(); ok && s != "" {
		return s
	}
	return o.ID.Name()
}

// Location returns the object's region as written ("West Europe" and "westeurope" both occur).
func (o *Object) Location() string {
	s, _ := o.Get("location").String()
	return s
}

// Tag returns the value of a tag, matching the tag name case-insensitively as ARM does.
func (o *Object) Tag(name string) (string, bool) {
	return o.Get("tags." + name).String()
}

// Get returns the value at a dotted path ("properties.securitySettings.softDeleteSettings.softDeleteState"),
// matching keys case-insensitively; numeric segments index arrays. It does not apply service defaults:
// use Prop for that.
func (o *Object) Get(path string) Value {
	var cur any = o.fields
	for _, seg := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := lookupKey(c, seg)
			if !ok {
				return Value{path: path}
			}
			cur = v
		case []any:
			i, ok := index(seg)
			if !ok || i >= len(c) {
				return Value{path: path}
			}
			cur = c[i]
		default:
			return Value{path: path}
		}
	}
	return Value{v: cur, ok: true, path: path}
}

// Prop is Get with service defaults: when the property is absent and the service defines a default
// for it (see defaults.go), the default is returned and marked as such.
func (o *Object) Prop(path string) Value {
	v := o.Get(path)
	if v.ok && v.v != nil {
		return v
	}
	if d, ok := serviceDefault(o.typ, path); ok {
		return Value{v: d.value, ok: true, path: path, def: &d}
	}
	return v
}

func lookupKey(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func index(seg string) (int, bool) {
	if seg == "" {
		return 0, false
	}
	n := 0
	for _, r := range seg {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
		if n > 1<<24 {
			return 0, false
		}
	}
	return n, true
}

// MarshalJSON writes the object exactly as it was read.
func (o *Object) MarshalJSON() ([]byte, error) { return o.Raw, nil }
