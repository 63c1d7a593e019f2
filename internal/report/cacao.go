package report

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/respond"
)

// CACAO renders the playbook as an OASIS CACAO 2.0 playbook: one action step per checklist step
// (bash commands for the az lines, a manual command for what a person does), a check and an
// if-condition before every step that has a condition, parallel steps for the steps the
// dependency graph lets run together, Contain first and Verify last. IDs are name-based UUIDs
// derived from the playbook ID, so the same playbook renders identically.
func CACAO(p *respond.Playbook) map[string]any {
	c := &cacao{p: p, workflow: map[string]any{}, vars: map[string]any{}}
	return c.render()
}

type cacao struct {
	p        *respond.Playbook
	workflow map[string]any
	vars     map[string]any
}

// uuid is a version-5-shaped UUID from the playbook ID and a name.
func (c *cacao) uuid(kind, name string) string {
	h := sha256.Sum256([]byte(c.p.ID + "/" + kind + "/" + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%s--%x-%x-%x-%x-%x", kind, h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (c *cacao) render() map[string]any {
	p := c.p
	ts := p.Reference.UTC().Format("2006-01-02T15:04:05.000Z")
	operator := c.uuid("linux", "operator")
	person := c.uuid("individual", "on-call")
	arm := c.uuid("http-api", "azure-resource-manager")
	start := c.uuid("start", "start")
	end := c.uuid("end", "end")

	// Levels: a step's level is one more than the highest level it requires; Contain steps are
	// level 0 and every other step comes after them; Verify steps come after everything else.
	level := map[string]int{}
	containTop, middleTop := -1, -1
	for _, s := range p.Steps {
		l := 0
		switch s.Phase {
		case respond.Contain:
		case respond.Verify:
			l = max(containTop, middleTop) + 1
		default:
			l = containTop + 1
		}
		for _, r := range s.Requires {
			l = max(l, level[r]+1)
		}
		level[s.ID] = l
		switch s.Phase {
		case respond.Contain:
			containTop = max(containTop, l)
		case respond.Verify:
		default:
			middleTop = max(middleTop, l)
		}
	}
	byLevel := map[int][]*respond.Step{}
	var levels []int
	for _, s := range p.Steps {
		if _, ok := byLevel[level[s.ID]]; !ok {
			levels = append(levels, level[s.ID])
		}
		byLevel[level[s.ID]] = append(byLevel[level[s.ID]], s)
	}
	sort.Ints(levels)

	activities := map[string]bool{}
	// Build from the last level back so each level knows where to go next.
	next := end
	for i := len(levels) - 1; i >= 0; i-- {
		steps := byLevel[levels[i]]
		if len(steps) == 1 {
			next = c.unit(steps[0], next, operator, person, arm, activities)
			continue
		}
		var heads []string
		for _, s := range steps {
			heads = append(heads, c.unit(s, "", operator, person, arm, activities))
		}
		id := c.uuid("parallel", fmt.Sprintf("level-%d", levels[i]))
		var names []string
		for _, s := range steps {
			names = append(names, s.ID)
		}
		c.workflow[id] = map[string]any{"type": "parallel", "name": "Steps " + strings.Join(names, ", ") + " in parallel",
			"description": "These steps do not depend on each other: run them at the same time.",
			"next_steps":  heads, "on_completion": next}
		next = id
	}
	c.workflow[start] = map[string]any{"type": "start", "name": "Start", "on_completion": next}
	c.workflow[end] = map[string]any{"type": "end", "name": "End"}

	acts := []string{}
	for a := range activities {
		acts = append(acts, a)
	}
	sort.Strings(acts)
	labels := []string{"bulwark", "azure", "recovery", p.Scope.Kind}
	out := map[string]any{
		"type":                "playbook",
		"spec_version":        "cacao-2.0",
		"id":                  c.uuid("playbook", "playbook"),
		"name":                p.Title,
		"description":         cacaoDescription(p),
		"playbook_types":      []string{"remediation"},
		"playbook_activities": acts,
		"created_by":          c.uuid("identity", "bulwark"),
		"created":             ts,
		"modified":            ts,
		"labels":              labels,
		"workflow_start":      start,
		"workflow":            c.workflow,
		"agent_definitions": map[string]any{
			operator: map[string]any{"type": "linux", "name": "Operator workstation with the Azure CLI",
				"description": "A shell where az is logged in as the incident responder (az login), with Bulwark on the PATH.",
				"address":     map[string]any{"dname": []string{"localhost"}}},
			person: map[string]any{"type": "individual", "name": "On-call engineer",
				"description": "Does what no command can: portal actions, support requests, approvals, judgement."},
		},
		"target_definitions": map[string]any{
			arm: map[string]any{"type": "http-api", "name": "Azure Resource Manager",
				"address": map[string]any{"url": []string{p.Endpoint}}},
		},
	}
	if len(c.vars) > 0 {
		out["playbook_variables"] = c.vars
	}
	if p.Scope.Incident != "" {
		out["severity"] = map[string]int{"critical": 90, "high": 70, "medium": 50, "low": 30}[p.Scope.Severity]
	}
	return out
}

func cacaoDescription(p *respond.Playbook) string {
	d := fmt.Sprintf("%d steps, critical path %s.", p.Summary.Steps, respond.Duration(p.CriticalPath.Minutes))
	if len(p.Lost) > 0 {
		var names []string
		for _, l := range p.Lost {
			names = append(names, l.Resource.Name)
		}
		d += " Cannot be recovered: " + strings.Join(names, ", ") + "."
	}
	for _, w := range p.Warnings {
		if w.Kind == "rto" || w.Kind == "rpo" {
			d += " " + w.Message + "."
		}
	}
	return d
}

// unit adds the workflow steps of one checklist step and returns the ID of its first one. When
// the step has a condition: an action that runs the check into a variable, an if-condition, then
// the step's action (true) or a manual action saying what to do instead (false). next is where
// the unit continues; "" ends a parallel branch.
func (c *cacao) unit(s *respond.Step, next, operator, person, target string, activities map[string]bool) string {
	act := c.uuid("action", s.ID)
	a := c.action(s, operator, person, target)
	activities[s.Activity] = true
	if next != "" {
		a["on_completion"] = next
	}
	c.workflow[act] = a
	if s.Condition == nil {
		return act
	}
	v := "__" + strings.ToLower(s.ID) + "_condition__"
	c.vars[v] = map[string]any{"type": "string", "description": "Set by the check of " + s.ID + ": \"true\" when " + s.Condition.Means + ".", "value": "", "constant": false}
	otherwise := c.uuid("action", s.ID+"-otherwise")
	o := map[string]any{"type": "action", "name": s.ID + " otherwise", "description": s.Condition.Otherwise,
		"commands": []any{map[string]any{"type": "manual", "command": s.Condition.Otherwise}}, "agent": person}
	if next != "" {
		o["on_completion"] = next
	}
	c.workflow[otherwise] = o
	cond := c.uuid("if-condition", s.ID)
	c.workflow[cond] = map[string]any{"type": "if-condition", "name": s.ID + ": only if " + s.Condition.Means,
		"condition": v + ":value = 'true'", "on_true": act, "on_false": otherwise}
	check := c.uuid("action", s.ID+"-check")
	c.workflow[check] = map[string]any{"type": "action", "name": s.ID + " check: " + s.Condition.Means,
		"description": "Succeeds and prints a value when " + s.Condition.Means + "; set " + v + " to \"true\" then.",
		"commands":    []any{map[string]any{"type": "bash", "command": s.Condition.Check}},
		"agent":       operator, "targets": []string{target}, "out_args": []string{v}, "on_completion": cond}
	activities["scan-system"] = true
	return check
}

func (c *cacao) action(s *respond.Step, operator, person, target string) map[string]any {
	var cmds []any
	desc := s.Detail
	if s.Manual || len(s.Commands) == 0 {
		cmds = append(cmds, map[string]any{"type": "manual", "command": s.Title + ". " + s.Detail, "playbook_activity": s.Activity})
	}
	if write, ok := s.WriteBody(); ok {
		// The body the commands deploy travels with the step: the first command writes it.
		cmds = append(cmds, map[string]any{"type": "bash", "playbook_activity": s.Activity, "command": write})
	}
	for _, line := range s.Commands {
		cmds = append(cmds, map[string]any{"type": "bash", "command": line, "playbook_activity": s.Activity})
	}
	for _, r := range s.REST {
		desc += " REST: " + r.Method + " " + r.URL() + "."
	}
	if s.Undo != "" {
		desc += " Undo: " + s.Undo + "."
	}
	agent := operator
	if s.Manual && len(s.Commands) == 0 {
		agent = person
	}
	a := map[string]any{"type": "action", "name": s.ID + " " + s.Title, "description": desc, "commands": cmds, "agent": agent}
	if agent == operator {
		a["targets"] = []string{target}
	}
	if s.Minutes > 0 {
		a["timeout"] = s.Minutes * 3 * 60 * 1000 // three times the estimate, in milliseconds
	}
	return a
}
