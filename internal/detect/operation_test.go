package detect

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bodyVariant rewrites the demo's role-assignment events the way real logs differ: the request body
// only on Start (Sentinel's role-assignment analytics read requestbody; a Success event may have
// no responseBody), the response body only on Success, or both bodies on both events.
type bodyVariant string

const (
	startOnly   bodyVariant = "requestbody only on Start"
	successOnly bodyVariant = "responseBody only on Success"
	bothOnBoth  bodyVariant = "both bodies on Start and Success"
)

// edit changes one event's properties for a role assignment write; status is Start or Success.
func (v bodyVariant) edit(props map[string]any, status string, req, resp *any) {
	if r, ok := props["requestbody"]; ok && *req == nil {
		*req = r
	}
	if r, ok := props["responseBody"]; ok && *resp == nil {
		*resp = r
	}
	switch v {
	case startOnly:
		delete(props, "responseBody")
		if status != "Start" {
			delete(props, "requestbody")
		}
	case successOnly:
		delete(props, "requestbody")
		if status != "Success" {
			delete(props, "responseBody")
		}
	}
}

func normStatus(s string) string {
	switch strings.ToLower(s) {
	case "started", "start":
		return "Start"
	case "succeeded", "success":
		return "Success"
	}
	return s
}

// rewrite copies the demo's log in one format to dir with the role-assignment bodies changed. The
// shapes stay the demo's own (REST EventData, diagnostic-export lines, Log Analytics rows).
func rewrite(t *testing.T, format, dir string, v bodyVariant) string {
	t.Helper()
	src := formats[format]
	// Both bodies on both events needs them from the other event of the operation: a first pass
	// collects them by correlation ID.
	bodies := map[string][2]any{}
	visit := func(op, status, corr string, props map[string]any, pass int) {
		if !strings.EqualFold(op, opRoleAssignmentWrite) || props == nil {
			return
		}
		b := bodies[corr]
		if pass == 0 {
			v.edit(map[string]any(clone(props)), normStatus(status), &b[0], &b[1])
			bodies[corr] = b
			return
		}
		v.edit(props, normStatus(status), new(any), new(any))
		if v == bothOnBoth {
			props["requestbody"], props["responseBody"] = b[0], b[1]
		}
	}
	out := filepath.Join(dir, format)
	for pass := 0; pass < 2; pass++ {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			switch format {
			case "rest":
				var evs []map[string]any
				must(t, json.Unmarshal(data, &evs))
				for _, e := range evs {
					props, _ := e["properties"].(map[string]any)
					visit(str(e["operationName"], "value"), str(e["status"], "value"), e["correlationId"].(string), props, pass)
				}
				must(t, json.NewEncoder(&buf).Encode(evs))
			case "diagnostic-export":
				for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
					var e map[string]any
					must(t, json.Unmarshal(line, &e))
					props, _ := e["properties"].(map[string]any)
					visit(e["operationName"].(string), e["resultType"].(string), e["correlationId"].(string), props, pass)
					must(t, json.NewEncoder(&buf).Encode(e))
				}
			case "log-analytics-json":
				var rows []map[string]any
				must(t, json.Unmarshal(data, &rows))
				for _, r := range rows {
					props, _ := r["Properties_d"].(map[string]any)
					visit(r["OperationNameValue"].(string), r["ActivityStatusValue"].(string), r["CorrelationId"].(string), props, pass)
					if props != nil { // the Properties column is the same object as a string
						s, _ := json.Marshal(props)
						r["Properties"] = string(s)
					}
				}
				must(t, json.NewEncoder(&buf).Encode(rows))
			case "log-analytics-csv":
				recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
				must(t, err)
				col := map[string]int{}
				for i, h := range recs[0] {
					col[h] = i
				}
				for _, r := range recs[1:] {
					var props map[string]any
					if json.Unmarshal([]byte(r[col["Properties_d"]]), &props) != nil {
						continue
					}
					visit(r[col["OperationNameValue"]], r[col["ActivityStatusValue"]], r[col["CorrelationId"]], props, pass)
					s, _ := json.Marshal(props)
					r[col["Properties_d"]], r[col["Properties"]] = string(s), string(s)
				}
				w := csv.NewWriter(&buf)
				must(t, w.WriteAll(recs))
			}
			if pass == 1 {
				rel, _ := filepath.Rel(src, p)
				dst := filepath.Join(out, rel)
				if rel == "." {
					dst = filepath.Join(out, filepath.Base(p))
				}
				must(t, os.MkdirAll(filepath.Dir(dst), 0o755))
				must(t, os.WriteFile(dst, buf.Bytes(), 0o644))
			}
			return nil
		})
		must(t, err)
	}
	return out
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func str(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRoleFromEitherEvent: the privileged-role rule, the link from the granted service principal
// to its grantor and the full chain hold whichever event of the role assignment carries the role.
func TestRoleFromEitherEvent(t *testing.T) {
	for _, v := range []bodyVariant{startOnly, successOnly, bothOnBoth} {
		dir := t.TempDir()
		for _, format := range []string{"rest", "diagnostic-export", "log-analytics-json", "log-analytics-csv"} {
			path := rewrite(t, format, dir, v)
			res := detect(t, builtin(t), readAll(t, path))
			n := 0
			for _, a := range res.Alerts {
				if a.Rule.Name == "priv_privileged_role_assigned" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s, %s: %d privileged-role alerts, want 1", v, format, n)
			}
			if len(res.Incidents) != 1 {
				t.Errorf("%s, %s: %d incidents, want 1", v, format, len(res.Incidents))
				continue
			}
			inc := res.Incidents[0]
			if strings.Join(inc.Stages, ",") != "privilege,impairment,recovery,destruction" || len(inc.Principals) != 2 {
				t.Errorf("%s, %s: stages %v, %d principals", v, format, inc.Stages, len(inc.Principals))
			}
			if v == startOnly && res.Stats.BodiesJoined == 0 {
				t.Errorf("%s, %s: no Success event was given its Start's request body", v, format)
			}
		}
	}
}
