package arm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
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
// back out unchanged; property access goes through Get and Prop, which decode the properties on
// first use (loading 100,000 objects only reads their id and type).
type Object struct {
	ID     ID
	Raw    json.RawMessage
	Source Source
	// TypeDerived is true when the object carried no "type" and its type was derived from its ID
	// (Azure's SQL replication-link list responses omit it, for one).
	TypeDerived bool

	typ      string
	once     sync.Once
	fields   map[string]any
	fieldErr error
}

// headValue decodes one valid JSON value; a string without escapes (every ID and type ARM writes)
// is taken as it is, without encoding/json.
func headValue(v []byte) any {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	var out any
	_ = json.Unmarshal(v, &out)
	return out
}

// head is what loading needs from an object; the rest is decoded lazily.
type head struct {
	ID   any
	Type any
}

// NewObject reads one ARM object. It fails when raw is not a JSON object, has no string "id", or
// the ID does not parse; a missing "type" is derived from the ID. raw is kept, not copied.
func NewObject(raw []byte, src Source) (*Object, error) {
	if !json.Valid(raw) {
		var v any
		return nil, json.Unmarshal(raw, &v)
	}
	return NewObjectFromValid(raw, src)
}

// NewObjectFromValid is NewObject for input already known to be valid JSON (the loader validates
// each file once), which it does not validate again.
func NewObjectFromValid(raw []byte, src Source) (*Object, error) {
	if jsonscan.First(raw) != '{' {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("not a JSON object but %s", jsonKind(v))
	}
	var h head
	if v, ok := jsonscan.Lookup(raw, "id"); ok {
		h.ID = headValue(v)
	}
	if v, ok := jsonscan.Lookup(raw, "type"); ok {
		h.Type = headValue(v)
	}
	ids, ok := h.ID.(string)
	if !ok || strings.TrimSpace(ids) == "" {
		return nil, errNoID
	}
	id, err := ParseID(ids)
	if err != nil {
		return nil, err
	}
	o := &Object{ID: id, Raw: raw, Source: src}
	if ts, ok := h.Type.(string); ok && ts != "" {
		o.typ = ts
	} else {
		o.typ = id.Type()
		o.TypeDerived = true
	}
	return o, nil
}

// decoded returns the object's fields, decoding them on first use.
func (o *Object) decoded() map[string]any {
	o.once.Do(func() {
		if o.fields == nil {
			o.fields, o.fieldErr = decodeObject(o.Raw)
		}
	})
	return o.fields
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
	// jsonscan.Decode gives what the Decoder below gives, several times faster; on anything that
	// is not one valid JSON document (Raw set by hand), the Decoder decides.
	if v, err := jsonscan.Decode(raw); err == nil {
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	}
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

// SameContent reports whether two objects hold the same JSON, ignoring insignificant whitespace.
func SameContent(a, b *Object) bool {
	if bytes.Equal(a.Raw, b.Raw) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a.Raw) != nil || json.Compact(&cb, b.Raw) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
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

// TopLevel reports whether o is a resource in its own right: not an extension (a lock, a role
// assignment), not a child (a subnet, a database's policy), not a resource group or subscription.
func TopLevel(o *Object) bool {
	if o.ID.IsExtension() || strings.Count(o.Type(), "/") != 1 {
		return false
	}
	return !strings.HasPrefix(strings.ToLower(o.Type()), "microsoft.resources/")
}

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

// Tag returns the value of a tag, matching the tag name case-insensitively as ARM does. It reads
// the raw JSON, so looking at tags does not decode the whole object.
func (o *Object) Tag(name string) (string, bool) {
	tags, ok := jsonscan.Lookup(o.Raw, "tags")
	if !ok || jsonscan.First(tags) != '{' {
		return "", false
	}
	v, ok := jsonscan.Lookup(tags, name)
	if !ok || jsonscan.First(v) != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// Get returns the value at a dotted path ("properties.securitySettings.softDeleteSettings.softDeleteState"),
// matching keys case-insensitively; numeric segments index arrays. It does not apply service defaults:
// use Prop for that.
func (o *Object) Get(path string) Value {
	var cur any = o.decoded()
	for _, seg := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := jsonscan.LookupMap(c, seg)
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
