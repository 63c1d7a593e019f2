// Package snapshot reads estates from the files users already have — Bulwark snapshots, ARM list
// responses, Resource Graph results, `az … list` arrays, single ARM objects and Azure REST API
// example files — and merges them into one arm.Snapshot, deduplicated by ID.
package snapshot

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/jsonscan"
	"github.com/bulwarkhq/bulwark/internal/limits"
)

// Shape names the kind of document a file held.
type Shape string

// The document shapes the loader recognises.
const (
	ShapeSnapshot    Shape = "bulwark snapshot"
	ShapeList        Shape = "ARM list response"
	ShapeGraph       Shape = "Resource Graph result"
	ShapeGraphTable  Shape = "Resource Graph table"
	ShapeArray       Shape = "JSON array"
	ShapeObject      Shape = "ARM object"
	ShapeRESTExample Shape = "REST API example"
	ShapeJSONLines   Shape = "JSON lines"
	ShapeNotAnEstate Shape = "not an estate"
	ShapeEmpty       Shape = "empty"
)

// File is one input: its display name, its bytes, and the time used to decide which version of a
// duplicated object is newest (a snapshot's collectedAt overrides it).
type File struct {
	Name    string
	Data    []byte
	ModTime time.Time
	limits  limits.Limits // what Load was given: a gzip file's decompression is held to them
}

// Decoded is what one file contributed.
type Decoded struct {
	File        string
	Shape       Shape
	Objects     []*arm.Object
	Errors      []arm.CollectError // a snapshot's own collection errors
	Skipped     []Skip
	CollectedAt time.Time // from a bulwark snapshot, else zero
	TenantID    string
}

// Skip is one element of a file that was not loaded, and why.
type Skip struct {
	File   string
	Path   string // JSON path, e.g. "$.value[2]"
	Reason string
	// Info marks notes that lose nothing (a type derived from the ID); they are shown with -v.
	Info bool
}

// SyntaxError is invalid JSON (or gzip) in an input file, with its position.
type SyntaxError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Decode reads one file. Invalid JSON is a *SyntaxError naming the line and column; elements that
// are not ARM objects are skipped and listed in Decoded.Skipped with their JSON path.
func Decode(f File) (*Decoded, error) {
	data := f.Data
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		counted := &limits.Counting{R: bytes.NewReader(data)}
		zr, err := gzip.NewReader(counted)
		if err != nil {
			return nil, &SyntaxError{File: f.Name, Msg: "gzip: " + err.Error()}
		}
		l := f.limits.Or()
		l.MaxDecompressedBytes = min(l.MaxDecompressedBytes, l.MaxSnapshotBytes) // it is one estate file
		// Two passes: the first measures (and meters) the decompressed size, so that the second
		// reads into a buffer of exactly that size, and a file over the limit is refused without
		// holding it.
		n, err := io.Copy(io.Discard, &limits.Metered{Name: f.Name, R: zr, Compressed: counted, Limits: l})
		var le *limits.Error
		if errors.As(err, &le) {
			return nil, le
		}
		if err != nil {
			return nil, &SyntaxError{File: f.Name, Msg: "gzip: " + err.Error()}
		}
		zr, err = gzip.NewReader(bytes.NewReader(f.Data))
		if err != nil {
			return nil, &SyntaxError{File: f.Name, Msg: "gzip: " + err.Error()}
		}
		out := make([]byte, n)
		if _, err := io.ReadFull(zr, out); err != nil {
			return nil, &SyntaxError{File: f.Name, Msg: "gzip: " + err.Error()}
		}
		data = out
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := &Decoded{File: f.Name}
	values, err := splitValues(f.Name, data)
	if err != nil {
		return nil, err
	}
	switch len(values) {
	case 0:
		d.Shape = ShapeEmpty
		d.Skipped = append(d.Skipped, Skip{File: f.Name, Path: "$", Reason: "empty file"})
		return d, nil
	case 1:
		if err := d.top(values[0], "$"); err != nil {
			return nil, err
		}
		return d, nil
	}
	d.Shape = ShapeJSONLines
	for i, v := range values {
		// Each line is treated like a document of its own (a list page, a Graph row, an object).
		sub := &Decoded{File: f.Name}
		if err := sub.top(v, "$["+strconv.Itoa(i)+"]"); err != nil {
			return nil, err
		}
		d.Objects = append(d.Objects, sub.Objects...)
		d.Errors = append(d.Errors, sub.Errors...)
		d.Skipped = append(d.Skipped, sub.Skipped...)
		if sub.Shape == ShapeNotAnEstate {
			d.Shape = ShapeNotAnEstate
		}
	}
	return d, nil
}

// splitValues returns the top-level JSON values of data: one for a normal document, several for
// JSON lines or concatenated documents.
func splitValues(name string, data []byte) ([]json.RawMessage, error) {
	if json.Valid(data) { // the common case, one document: no copy, no decoder buffering
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, nil
		}
		return []json.RawMessage{data}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []json.RawMessage
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, positionError(name, data, err)
		}
		out = append(out, raw)
	}
}

func positionError(name string, data []byte, err error) error {
	var se *json.SyntaxError
	off := int64(len(data))
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "unexpected end of JSON input"
		off = int64(len(data)) + 1 // point just past the last character
	}
	line, col := position(data, off)
	return &SyntaxError{File: name, Line: line, Column: col, Msg: "invalid JSON: " + msg}
}

// position converts the offset after which a JSON error occurred into a 1-based line and column
// (in characters) of the offending byte.
func position(data []byte, off int64) (line, col int) {
	at := int(off) - 1
	if at > len(data) {
		at = len(data)
	}
	if at < 0 {
		at = 0
	}
	line, col = 1, 1
	for i := 0; i < at; {
		r, size := utf8.DecodeRune(data[i:])
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		i += size
	}
	return line, col
}

// top classifies one top-level JSON value.
func (d *Decoded) top(raw json.RawMessage, path string) error {
	switch firstByte(raw) {
	case '[':
		d.Shape = ShapeArray
		return d.elements(raw, path)
	case '{':
	default:
		d.Shape = ShapeNotAnEstate
		d.skip(path, "top-level value is not a JSON object or array")
		return nil
	}
	m := members(raw)
	key := func(k string) (json.RawMessage, bool) { return lookup(m, k) }

	if s, ok := key("schema"); ok && strings.HasPrefix(unquote(s), "bulwark.snapshot/") {
		return d.snapshot(m, unquote(s), path)
	}
	if r, ok := key("responses"); ok && firstByte(r) == '{' {
		if _, hasParams := key("parameters"); hasParams || len(m) <= 3 {
			d.Shape = ShapeRESTExample
			return d.restExample(r, path+".responses")
		}
	}
	if s, ok := key("$schema"); ok && strings.Contains(strings.ToLower(unquote(s)), "deploymenttemplate") {
		d.Shape = ShapeNotAnEstate
		d.skip(path, "ARM deployment template, not a snapshot (templates are read by --iac)")
		return nil
	}
	if _, ok := key("terraform_version"); ok {
		d.Shape = ShapeNotAnEstate
		d.skip(path, "Terraform state or plan, not a snapshot (read by --iac)")
		return nil
	}
	if r, ok := key("records"); ok && firstByte(r) == '[' {
		d.Shape = ShapeNotAnEstate
		d.skip(path, "Activity Log diagnostic export ({\"records\":[…]}), not a snapshot (events are read by bulwark detect)")
		return nil
	}
	if _, ok := key("id"); ok {
		if _, typed := key("type"); typed {
			d.Shape = ShapeObject
			d.element(raw, path)
			return nil
		}
	}
	if data, ok := key("data"); ok {
		if tok, ok := key("$skipToken"); ok && unquote(tok) != "" {
			d.skip(path, "Resource Graph result has a $skipToken: later pages are not in this file")
		}
		switch firstByte(data) {
		case '[':
			d.Shape = ShapeGraph
			return d.elements(data, path+".data")
		case '{':
			d.Shape = ShapeGraphTable
			return d.graphTable(data, path+".data")
		}
	}
	if v, ok := key("value"); ok && firstByte(v) == '[' {
		d.Shape = ShapeList
		if nl, ok := key("nextLink"); ok && unquote(nl) != "" {
			d.skip(path, "list response has a nextLink: later pages are not in this file")
		}
		return d.elements(v, path+".value")
	}
	d.Shape = ShapeObject
	d.element(raw, path)
	return nil
}

func (d *Decoded) snapshot(m map[string]json.RawMessage, schema, path string) error {
	d.Shape = ShapeSnapshot
	if schema != arm.SchemaV1 {
		return &SyntaxError{File: d.File, Msg: fmt.Sprintf("unsupported snapshot schema %q (this version reads %q)", schema, arm.SchemaV1)}
	}
	var head struct {
		CollectedAt string
		TenantID    string
		Errors      []arm.CollectError
	}
	for k, dst := range map[string]any{"collectedAt": &head.CollectedAt, "tenantId": &head.TenantID, "errors": &head.Errors} {
		if v, ok := lookup(m, k); ok && firstByte(v) != 'n' {
			if err := json.Unmarshal(v, dst); err != nil {
				return &SyntaxError{File: d.File, Msg: fmt.Sprintf("snapshot %q: %v", k, err)}
			}
		}
	}
	if head.CollectedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, head.CollectedAt)
		if err != nil {
			return &SyntaxError{File: d.File, Msg: fmt.Sprintf("snapshot collectedAt %q is not an RFC 3339 time", head.CollectedAt)}
		}
		d.CollectedAt = t
	}
	d.TenantID = head.TenantID
	d.Errors = head.Errors
	res, ok := lookup(m, "resources")
	if !ok || firstByte(res) != '[' {
		return &SyntaxError{File: d.File, Msg: `snapshot has no "resources" array`}
	}
	return d.elements(res, path+".resources")
}

// restExample takes every 2xx response body of an Azure REST API example file.
func (d *Decoded) restExample(raw json.RawMessage, path string) error {
	responses := members(raw)
	codes := make([]string, 0, len(responses))
	for c := range responses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, code := range codes {
		if !strings.HasPrefix(code, "2") {
			continue
		}
		body, ok := lookup(members(responses[code]), "body")
		p := path + "." + code + ".body"
		if !ok || firstByte(body) == 'n' {
			continue // 202/204 responses carry no body
		}
		if v, ok := lookup(members(body), "value"); ok && firstByte(v) == '[' {
			if err := d.elements(v, p+".value"); err != nil {
				return err
			}
			continue
		}
		d.element(body, p)
	}
	return nil
}

// graphTable converts a Resource Graph table ({"columns":[{"name":…}],"rows":[[…]]}) to objects.
func (d *Decoded) graphTable(raw json.RawMessage, path string) error {
	var t struct {
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
		Rows [][]json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		d.skip(path, "Resource Graph table is not {columns, rows}: "+err.Error())
		return nil
	}
	for i, row := range t.Rows {
		p := path + ".rows[" + strconv.Itoa(i) + "]"
		if len(row) != len(t.Columns) {
			d.skip(p, fmt.Sprintf("row has %d cells for %d columns", len(row), len(t.Columns)))
			continue
		}
		obj := make(map[string]json.RawMessage, len(row))
		for j, c := range t.Columns {
			obj[c.Name] = row[j]
		}
		d.element(mustMarshal(obj), p)
	}
	return nil
}

func (d *Decoded) elements(raw json.RawMessage, path string) error {
	jsonscan.Array(raw, func(i int, e []byte) bool {
		d.element(e, path+"["+strconv.Itoa(i)+"]")
		return true
	})
	return nil
}

// members splits a (validated) JSON object into its members; nil for anything else.
func members(raw []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	jsonscan.Object(raw, func(k string, v []byte) bool {
		if m == nil {
			m = map[string]json.RawMessage{}
		}
		if _, dup := m[k]; !dup {
			m[k] = v
		}
		return true
	})
	return m
}

// element loads one candidate ARM object or records why it was skipped.
func (d *Decoded) element(raw json.RawMessage, path string) {
	if firstByte(raw) != '{' {
		d.skip(path, "not a JSON object")
		return
	}
	o, err := arm.NewObjectFromValid(raw, arm.Source{File: d.File, Path: path})
	switch {
	case err == nil:
		if isActivityObject(o) {
			d.skip(path, "Activity Log event, not an ARM resource (events are read by bulwark detect)")
			return
		}
		if o.TypeDerived {
			d.Skipped = append(d.Skipped, Skip{File: d.File, Path: path, Reason: `no "type": derived from the id`, Info: true})
		}
		d.Objects = append(d.Objects, o)
	case arm.IsNoID(err):
		if isActivityEvent(members(raw)) {
			d.skip(path, "Activity Log event, not an ARM resource (events are read by bulwark detect)")
			return
		}
		d.skip(path, `no "id": not an ARM object`)
	default:
		if isActivityEvent(members(raw)) {
			d.skip(path, "Activity Log event, not an ARM resource (events are read by bulwark detect)")
			return
		}
		d.skip(path, "malformed id: "+err.Error())
	}
}

// isActivityEvent recognises Activity Log events in any of their shapes; their "id" is an event ID.
func isActivityEvent(m map[string]json.RawMessage) bool {
	for _, k := range []string{"eventDataId", "eventTimestamp", "OperationNameValue"} {
		if _, ok := lookup(m, k); ok {
			return true
		}
	}
	_, op := lookup(m, "operationName")
	_, t := lookup(m, "time")
	return op && t
}

// isActivityObject recognises Activity Log events that do have a parseable "id" (REST EventData).
// The byte search keeps ordinary objects from being decoded in full at load time.
func isActivityObject(o *arm.Object) bool {
	if !bytes.Contains(o.Raw, []byte(`"eventDataId"`)) && !bytes.Contains(o.Raw, []byte(`"eventTimestamp"`)) {
		return false
	}
	return o.Get("eventDataId").Exists() || o.Get("eventTimestamp").Exists()
}

func (d *Decoded) skip(path, reason string) {
	d.Skipped = append(d.Skipped, Skip{File: d.File, Path: path, Reason: reason})
}

func lookup(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	return jsonscan.LookupMap(m, key)
}

func firstByte(raw json.RawMessage) byte { return jsonscan.First(raw) }

func unquote(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called on values that came from valid JSON
	}
	return b
}
