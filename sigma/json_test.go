package sigma

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/rules"
)

// jsonDocs returns the JSON events of the built-in rules' samples and, when present, of the
// reference Activity Log samples (records of a diagnostic export one by one), as bytes.
func jsonDocs(t *testing.T) [][]byte {
	var docs [][]byte
	add := func(b []byte) {
		var probe struct {
			Records []json.RawMessage `json:"records"`
			Value   []json.RawMessage `json:"value"`
		}
		if json.Unmarshal(b, &probe) == nil && len(probe.Records)+len(probe.Value) > 0 {
			for _, r := range append(probe.Records, probe.Value...) {
				docs = append(docs, r)
			}
			return
		}
		var arr []json.RawMessage
		if json.Unmarshal(b, &arr) == nil {
			for _, r := range arr {
				docs = append(docs, r)
			}
			return
		}
		docs = append(docs, b)
	}
	filepath.WalkDir("../rules", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			if b, err := os.ReadFile(p); err == nil {
				add(b)
			}
		}
		return nil
	})
	for _, name := range []string{"msdocs_activitylog_diagnostic_export_sample.json", "msdocs_activitylog_rest_administrative_sample.json"} {
		if b, err := os.ReadFile(filepath.Join("../../shared/reference/activity", name)); err == nil {
			add(b)
		}
	}
	// Keys the path rules must get right: escapes, dots, case, a top-level key holding a dotted path.
	for _, s := range []string{
		`{"Operation\u004eame": "X/DELETE", "properties": {"a.b": "dotted", "A": {"B": "upper"}, "list": ["l1", {"in": "obj"}]}, "n": 12.5, "t": true, "z": null}`,
		`{"properties.a.b": "whole key", "properties": {"a": {"b": "nested"}}, "OPERATIONNAME": "Y/WRITE", "caller": "é\"q"}`,
		`{"properties": {"a": {"b": "first"}, "A": {"b": "second"}}, "time": "2026-11-25T22:12:10.1234567Z", "keywords": ["Microsoft.Authorization/roleAssignments/write"]}`,
	} {
		docs = append(docs, []byte(s))
	}
	if len(docs) < 50 {
		t.Fatalf("only %d sample events", len(docs))
	}
	return docs
}

// TestJSONEventAgreesWithMapEvent: for every sample event and every rule of the built-in pack and
// of SigmaHQ's Azure Activity Log rules (when present), a JSONEvent matches the same rules as a
// MapEvent over encoding/json's decoding, and returns the same value for every field the rules read.
func TestJSONEventAgreesWithMapEvent(t *testing.T) {
	all, errs := LoadFS(rules.FS, "rules")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ref := filepath.Join(refDir, "activity_logs"); dirExists(ref) {
		more, _ := LoadFS(os.DirFS(ref), ref)
		all = append(all, more...)
	}
	extra, errs := ParseRules("paths.yml", []byte(`title: paths
logsource: {product: azure}
detection:
  a:
    properties.a.b: [dotted, nested, whole key, first]
  b:
    properties.A.B: upper
  c:
    OperationName|endswith: /DELETE
  d:
    n: 12.5
  condition: a or b or c or d
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rs, errs := NewRuleSet(append(all, extra...), Options{Lenient: true})
	for _, e := range errs {
		t.Logf("not loaded: %v", e)
	}
	var fields []string
	for _, cr := range rs.compiled {
		for _, s := range cr.searches {
			for _, m := range s.maps {
				for _, fm := range m {
					fields = append(fields, fm.paths...)
				}
			}
		}
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	reader := NewJSONReader(JSONOptions{})
	var je JSONEvent
	matched := 0
	for _, doc := range jsonDocs(t) {
		var data map[string]any
		if err := json.Unmarshal(doc, &data); err != nil {
			continue
		}
		if err := reader.ReadInto(&je, doc); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var at time.Time // the first of the default time fields that parses
		for _, f := range []string{"time", "TimeGenerated", "eventTimestamp", "timestamp", "@timestamp"} {
			if v, ok := (MapEvent{Data: data}).Field(f); ok {
				if s, ok := v.(string); ok {
					if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
						at = t
						break
					}
				}
			}
		}
		if !je.Time().Equal(at) {
			t.Errorf("%.80s: time %v, want %v", doc, je.Time(), at)
		}
		me := MapEvent{Data: data, At: at}
		for _, f := range append(fields, "properties", "properties.list", "nosuch", "properties.a") {
			wv, wok := me.Field(f)
			gv, gok := je.Field(f)
			if wok != gok || !reflect.DeepEqual(wv, gv) {
				t.Errorf("%.100s: field %s = %#v %v, MapEvent %#v %v", doc, f, gv, gok, wv, wok)
			}
		}
		var got, want []string
		rs.Match(me, func(r *Rule) { want = append(want, r.Title) })
		rs.Match(&je, func(r *Rule) { got = append(got, r.Title) })
		if !slices.Equal(got, want) {
			t.Errorf("%.100s: JSONEvent matches %v, MapEvent %v", doc, got, want)
		}
		matched += len(want)
	}
	if matched == 0 {
		t.Error("no sample matched any rule: the comparison proves nothing")
	}
	t.Logf("%d rules, %d fields, %d matches compared", len(rs.Rules), len(fields), matched)
	if _, err := reader.Read([]byte(`[1]`)); err == nil || !strings.Contains(err.Error(), "array") {
		t.Errorf("an array read as an event: %v", err)
	}
	if _, err := reader.Read([]byte(`{"a":`)); err == nil {
		t.Error("truncated JSON read as an event")
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// FuzzJSONEvent: for any JSON object, a JSONEvent's fields are a MapEvent's over encoding/json's
// decoding, and invalid input is refused.
func FuzzJSONEvent(f *testing.F) {
	for _, s := range []string{`{"a":{"b":"c"},"A":{"B":1}}`, `{"a.b":"x","a":{"b":"y"}}`, `{"x\u0041":true,"list":["s",{"k":"v"}]}`, `{"a":`, `[1]`} {
		f.Add([]byte(s), "a.b")
	}
	reader := NewJSONReader(JSONOptions{})
	f.Fuzz(func(t *testing.T, b []byte, path string) {
		var data map[string]any
		merr := json.Unmarshal(b, &data)
		ev, err := reader.Read(b)
		if (err == nil) != (merr == nil && data != nil) {
			t.Fatalf("%q: Read error %v, encoding/json %v", b, err, merr)
		}
		if err != nil {
			return
		}
		if !foldUnique(data) {
			return // keys that differ only in case: a map's order is random, a document's is not
		}
		for _, p := range []string{path, "a", "a.b", "A.B", "list"} {
			wv, wok := MapEvent{Data: data}.Field(p)
			gv, gok := ev.Field(p)
			if wok != gok || !reflect.DeepEqual(wv, gv) {
				t.Fatalf("%q field %q: JSONEvent %#v %v, MapEvent %#v %v", b, p, gv, gok, wv, wok)
			}
		}
	})
}

// foldUnique reports whether no object in v has two keys equal ignoring case.
func foldUnique(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		seen := map[string]bool{}
		for k, e := range x {
			if seen[strings.ToLower(k)] || !foldUnique(e) {
				return false
			}
			seen[strings.ToLower(k)] = true
		}
	case []any:
		for _, e := range x {
			if !foldUnique(e) {
				return false
			}
		}
	}
	return true
}
