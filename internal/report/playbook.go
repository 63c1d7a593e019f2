package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/respond"
)

// PlaybookMarkdown renders the playbook as a runbook: what it is about and what is lost first, then the
// ordered checklist by phase, each step with its commands, REST call, requirements and undo.
func PlaybookMarkdown(w io.Writer, p *respond.Playbook) error {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	f("# %s\n\n", p.Title)
	f("| | |\n|---|---|\n")
	f("| Playbook | `%s` (%s) |\n", p.ID, p.Schema)
	switch p.Scope.Kind {
	case "incident":
		f("| Incident | `%s`, severity **%s**, actor %s |\n", p.Scope.Incident, p.Scope.Severity, p.Scope.Actor)
		f("| Attack began | %s |\n", p.Reference.UTC().Format("2006-01-02 15:04 UTC"))
	default:
		f("| Application | %s — planned as if every resource of it were destroyed |\n", p.Scope.App)
		f("| Snapshot taken | %s |\n", p.Reference.UTC().Format("2006-01-02 15:04 UTC"))
	}
	rto := ""
	if p.Summary.RTOMinutes > 0 {
		verdict := "within"
		if p.CriticalPath.Minutes > p.Summary.RTOMinutes {
			verdict = "**over**"
		}
		rto = fmt.Sprintf(" — %s the tightest RTO (%s)", verdict, respond.Duration(p.Summary.RTOMinutes))
	}
	f("| Critical path | **%s**%s: %s |\n", respond.Duration(p.CriticalPath.Minutes), rto, strings.Join(p.CriticalPath.Steps, " → "))
	f("| Steps | %d, %d need a person; %d restore resources, %s |\n", p.Summary.Steps, p.Summary.Manual, p.Summary.Restored, Plural(p.Summary.Lost, "loss", "losses"))
	if len(p.Apps) > 0 {
		var as []string
		for _, a := range p.Apps {
			s := a.Name
			var bits []string
			if a.RTO != "" {
				bits = append(bits, "RTO "+a.RTO)
			}
			if a.RPO != "" {
				bits = append(bits, "RPO "+a.RPO)
			}
			if a.Owner != "" {
				bits = append(bits, a.Owner)
			}
			if len(bits) > 0 {
				s += " (" + strings.Join(bits, ", ") + ")"
			}
			as = append(as, s)
		}
		f("| Applications | %s |\n", strings.Join(as, "; "))
	}
	if len(p.Summary.Contained) > 0 {
		f("| Contained | %s |\n", strings.Join(p.Summary.Contained, ", "))
	}
	f("\n")
	if len(p.Lost) > 0 {
		f("## What is lost\n\n| Resource | Component | Lost | Since | Why | Step |\n|---|---|---|---|---|---|\n")
		for _, l := range p.Lost {
			since := "if destroyed"
			if !l.Since.IsZero() {
				since = l.Since.UTC().Format("2006-01-02 15:04 UTC")
			}
			f("| %s | %s | %s | %s | %s | %s |\n", l.Resource.Name, Dash(l.Resource.Component), l.What, since, cell(l.Reason), Dash(l.Step))
		}
		f("\n")
	}
	var warn []respond.Warning
	for _, w := range p.Warnings {
		if w.Kind != "lost" {
			warn = append(warn, w)
		}
	}
	if len(warn) > 0 || len(p.Summary.Blocked) > 0 {
		f("## Before you start\n\n")
		for _, w := range warn {
			f("- **%s**: %s\n", w.Kind, w.Message)
		}
		for _, bl := range p.Summary.Blocked {
			f("- **held**: %s (a lock, multi-user authorization or purge protection stopped it)\n", bl)
		}
		f("\n")
	}
	f("## Checklist\n\nRun the steps in order; a step may start once the steps it requires are done. Contain comes before everything, Verify after everything.\n")
	phase := respond.Phase("")
	n := 0
	for _, s := range p.Steps {
		if s.Phase != phase {
			phase = s.Phase
			n++
			f("\n### %d. %s\n", n, phase.Title())
		}
		writeStep(&b, s)
	}
	if len(p.Intact) > 0 {
		f("\n## Not restored: check these are up\n\nThe restored resources depend on them; the playbook assumes they survived.\n\n")
		for _, r := range p.Intact {
			f("- %s (%s%s)\n", r.Name, r.Type, componentSuffix(r.Component))
		}
	}
	if len(p.DependsOnApps) > 0 {
		f("\nApplications this one depends on, which have playbooks of their own: %s.\n", strings.Join(p.DependsOnApps, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeStep(b *strings.Builder, s *respond.Step) {
	f := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	tags := []string{respond.Duration(s.Minutes)}
	if s.Component != "" {
		tags = append(tags, "component "+s.Component)
	}
	if s.Manual {
		tags = append(tags, "manual")
	}
	if s.Weak {
		tags = append(tags, "weaker path")
	}
	if s.DataLoss != "" {
		tags = append(tags, "loses "+s.DataLoss+" of data")
	}
	f("\n- [ ] **%s · %s** — %s\n", s.ID, s.Title, strings.Join(tags, " · "))
	if len(s.Resources) > 0 && s.Action != "disable-principal" {
		var names []string
		for _, r := range s.Resources {
			names = append(names, "`"+r.ID+"`")
		}
		if len(names) > 4 {
			names = append(names[:4], fmt.Sprintf("and %d more", len(names)-4))
		}
		f("  Resources: %s\n", strings.Join(names, ", "))
	}
	f("  %s\n", s.Detail)
	if s.Condition != nil {
		f("  Only if %s — check: `%s`. Otherwise: %s.\n", s.Condition.Means, s.Condition.Check, s.Condition.Otherwise)
	}
	if len(s.Commands) > 0 {
		f("  ```bash\n")
		for _, c := range s.Commands {
			f("  %s\n", c)
		}
		f("  ```\n")
	}
	for _, r := range s.REST {
		f("  REST: `%s %s`\n", r.Method, r.URL())
	}
	if s.Body != nil {
		data, _ := json.MarshalIndent(s.Body, "  ", "  ")
		f("  <details><summary>Definition from the snapshot (%s.json)</summary>\n\n  ```json\n  %s\n  ```\n  </details>\n", s.Resources[0].Name, data)
	}
	var tail []string
	if len(s.Requires) > 0 {
		tail = append(tail, "Requires "+strings.Join(s.Requires, ", "))
	}
	if s.Undo != "" {
		tail = append(tail, "Undo: "+s.Undo)
	}
	if len(tail) > 0 {
		f("  %s.\n", strings.Join(tail, ". "))
	}
}

// cell escapes the pipes of a runbook table cell (the playbook goldens keep their angle brackets).
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func componentSuffix(c string) string {
	if c == "" {
		return ""
	}
	return ", component " + c
}
