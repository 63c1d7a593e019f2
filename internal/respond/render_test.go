package respond_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/report"
	"github.com/bulwarkhq/bulwark/internal/respond"
)

// The renderers live in report; these tests run them on respond's golden playbooks (an external
// test package: report imports respond).

// The runbook of every golden playbook, byte for byte.
func TestGoldenRunbooks(t *testing.T) {
	for name, pb := range respond.Playbooks(t) {
		var md bytes.Buffer
		if err := report.PlaybookMarkdown(&md, pb); err != nil {
			t.Fatal(err)
		}
		respond.Golden(t, name+".md", md.Bytes())
	}
}

// Every CACAO rendering validates against the OASIS schemas, and a broken one does not (the
// validator is really looking).
func TestCACAOValidates(t *testing.T) {
	s := cacaoSchema(t)
	ids := regexp.MustCompile(`^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for name, pb := range respond.Playbooks(t) {
		doc := report.CACAO(pb)
		validateCACAO(t, s, name, doc)
		wf := doc["workflow"].(map[string]any)
		actions := 0
		for id, st := range wf {
			if !ids.MatchString(id) {
				t.Errorf("%s: step ID %s", name, id)
			}
			m := st.(map[string]any)
			for _, k := range []string{"on_completion", "on_true", "on_false"} {
				if next, ok := m[k].(string); ok && wf[next] == nil {
					t.Errorf("%s: %s %s points to a missing step %s", name, id, k, next)
				}
			}
			if ns, ok := m["next_steps"].([]string); ok {
				for _, n := range ns {
					if wf[n] == nil {
						t.Errorf("%s: %s next_steps has a missing step %s", name, id, n)
					}
				}
			}
			if m["type"] == "action" && !strings.Contains(m["name"].(string), " check: ") && !strings.HasSuffix(m["name"].(string), " otherwise") {
				actions++
			}
		}
		if actions != len(pb.Steps) {
			t.Errorf("%s: %d action steps for %d playbook steps", name, actions, len(pb.Steps))
		}
		if doc["spec_version"] != "cacao-2.0" || fmt.Sprint(doc["playbook_types"]) != "[remediation]" {
			t.Errorf("%s: spec_version %v, playbook_types %v", name, doc["spec_version"], doc["playbook_types"])
		}
	}
	broken := report.CACAO(respond.Playbooks(t)["incident"])
	for _, st := range broken["workflow"].(map[string]any) {
		if m := st.(map[string]any); m["type"] == "action" {
			delete(m, "agent")
			break
		}
	}
	data, _ := json.Marshal(broken)
	var m map[string]any
	json.Unmarshal(data, &m)
	if err := validateErr(s, m); err == nil {
		t.Error("an action step without an agent validated: the schema is not being applied")
	}
}

func TestDeterministic(t *testing.T) {
	a, b := respond.Playbooks(t), respond.Playbooks(t)
	for name := range a {
		x, _ := json.Marshal(report.CACAO(a[name]))
		y, _ := json.Marshal(report.CACAO(b[name]))
		if !bytes.Equal(x, y) {
			t.Errorf("%s: two runs render different CACAO", name)
		}
	}
}

// A step that rebuilds a resource from the snapshot carries its body in CACAO too: the first
// command writes the file the next one deploys, byte for byte the body of the JSON playbook.
// (The step said "save the body below" and CACAO had no body.)
func TestCACAORebuildCarriesItsBody(t *testing.T) {
	found := 0
	for name, pb := range respond.Playbooks(t) {
		byName := map[string]*respond.Step{}
		for _, s := range pb.Steps {
			byName[s.ID+" "+s.Title] = s
		}
		for _, st := range report.CACAO(pb)["workflow"].(map[string]any) {
			m := st.(map[string]any)
			s, ok := byName[fmt.Sprint(m["name"])]
			if !ok || s.Body == nil {
				continue
			}
			found++
			cmds := m["commands"].([]any)
			var texts []string
			for _, c := range cmds {
				texts = append(texts, c.(map[string]any)["command"].(string))
			}
			body, _ := json.MarshalIndent(s.Body, "", "  ")
			writes := "cat > " + respond.BodyFile(s) + " <<'BULWARK_BODY'\n" + string(body) + "\nBULWARK_BODY"
			i := slices.IndexFunc(texts, func(c string) bool {
				return c == writes || c == strings.Replace(writes, respond.BodyFile(s), "'"+respond.BodyFile(s)+"'", 1)
			})
			if i < 0 || !slices.ContainsFunc(texts[i+1:], func(c string) bool {
				return strings.Contains(c, "@"+respond.BodyFile(s)) || strings.Contains(c, "@'"+respond.BodyFile(s)+"'")
			}) {
				t.Errorf("%s: %s: commands %q do not write and then use %s", name, s.Title, texts, respond.BodyFile(s))
			}
		}
	}
	if found == 0 {
		t.Fatal("no rebuild step in the demo playbooks")
	}
}
