package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/textsafe"
)

// writeDetectJSON writes one JSON object per line: every alert (oldest first), every incident,
// then a summary.
func DetectJSON(w io.Writer, r detect.Result, sum detect.Summary) error {
	enc := json.NewEncoder(w)
	for _, a := range r.Alerts {
		if err := enc.Encode(struct {
			Schema string `json:"schema"`
			Kind   string `json:"kind"`
			*detect.Alert
		}{incident.Schema, "alert", a}); err != nil {
			return err
		}
	}
	for _, inc := range r.Incidents {
		if err := enc.Encode(struct {
			Schema string `json:"schema"`
			Kind   string `json:"kind"`
			*detect.Incident
		}{incident.Schema, "incident", inc}); err != nil {
			return err
		}
	}
	sum.Alerts, sum.Incidents = len(r.Alerts), len(r.Incidents)
	return enc.Encode(struct {
		Schema string `json:"schema"`
		Kind   string `json:"kind"`
		detect.Summary
	}{incident.Schema, "summary", sum})
}

func clock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func principalLine(p *detect.Principal) string {
	s := p.Caller
	if s == "" {
		s = "(not seen acting)"
	}
	var extra []string
	if p.PrincipalID != "" && !strings.EqualFold(p.PrincipalID, p.Caller) {
		extra = append(extra, "object "+p.PrincipalID)
	}
	if p.GrantedBy != "" {
		extra = append(extra, "granted a role by "+p.GrantedBy+" at "+clock(p.GrantedAt))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

func RecoveryLine(inc *detect.Incident) string {
	deleted := 0
	for _, r := range inc.Resources {
		if r.Deleted {
			deleted++
		}
	}
	var parts []string
	for _, k := range []string{detect.Reversible, detect.Lost, detect.Unknown} {
		if n := inc.Recovery[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	s := fmt.Sprintf("%d changed, %d deleted; %s", len(inc.Resources), deleted, strings.Join(parts, ", "))
	if inc.ResourcesNotListed > 0 {
		s += fmt.Sprintf(" (%d more not listed)", inc.ResourcesNotListed)
	}
	return s
}

func resourceWhat(r *detect.Resource) string {
	what := "changed"
	if r.Deleted {
		what = "deleted"
	}
	if r.CascadeOf != "" {
		what += " with " + r.CascadeOf[strings.LastIndex(r.CascadeOf, "/")+1:]
	}
	if r.Inferred {
		what += " (from snapshot)"
	}
	if r.Status == "Failure" {
		what = "attempted (failed)"
	}
	return what
}

func blast(r *detect.Resource) string {
	if r.BlastRadius == nil {
		return "-"
	}
	return fmt.Sprint(*r.BlastRadius)
}

// incidentFacts starts a two-column table of an incident's stages, window and principals.
func IncidentFacts(w io.Writer, inc *detect.Incident, indent string) *Columns {
	t := NewColumns(w)
	t.Row(indent+"stages", strings.Join(inc.Stages, " → "))
	t.Row(indent+"window", clock(inc.First)+" – "+clock(inc.Last)+" UTC")
	for i, p := range inc.Principals {
		label := ""
		if i == 0 {
			label = indent + "principals"
		}
		t.Row(label, principalLine(p))
	}
	return t
}

func DetectTable(w io.Writer, r detect.Result, sum detect.Summary, st Styler) error {
	for _, inc := range r.Incidents {
		fmt.Fprintf(w, "%s %s  %s\n", st.Bold("INCIDENT "+inc.ID), st.Warn(strings.ToUpper(inc.Severity)), inc.Title)
		t := IncidentFacts(w, inc, "  ")
		for i, why := range inc.OpenedBy {
			label := ""
			if i == 0 {
				label = "  opened by"
			}
			if i == 5 && len(inc.OpenedBy) > 6 {
				t.Row("", fmt.Sprintf("and %d more reasons (-o json lists them)", len(inc.OpenedBy)-5))
				break
			}
			t.Row(label, why)
		}
		t.Row("  source IPs", Dash(strings.Join(inc.SourceIPs, ", ")))
		t.Row("  resources", RecoveryLine(inc))
		if err := t.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		t = NewColumns(w, "  time", "stage", "level", "alert", "caller", "resource")
		for _, e := range inc.Timeline {
			t.Row("  "+clock(e.Time), Dash(e.Stage), e.Level, e.Title, Dash(e.Caller), Dash(shortID(e.ResourceID)))
		}
		if err := t.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		t = NewColumns(w, "  component", "resource", "type", "what", "blast", "recovery")
		for _, res := range inc.Resources {
			t.Row("  "+Dash(res.Component), res.Name, res.Type, resourceWhat(res), blast(res), res.Recovery.Status+": "+res.Recovery.Reason)
		}
		if err := t.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(r.Alerts) > 0 {
		fmt.Fprintln(w, st.Bold("ALERTS"))
		t := NewColumns(w, "time", "level", "stage", "rule", "caller", "actor (accountable)", "resource", "incident")
		for _, a := range r.Alerts {
			res := ""
			if a.Type == "detection" && len(a.Events) > 0 {
				res = shortID(a.Events[0].ResourceID)
			} else {
				res = fmt.Sprintf("%d events", a.EventCount)
			}
			caller := alertCaller(a)
			t.Row(clock(a.Time), a.Rule.Level, Dash(a.Rule.Stage), a.Rule.Title, caller, actorOf(a, caller), res, incidentCell(a))
		}
		if err := t.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s, %s, %s from %s\n", Plural(sum.Stats.Events, "event", "events"), Plural(len(r.Alerts), "alert", "alerts"),
		Plural(len(r.Incidents), "incident", "incidents"), Plural(sum.Rules, "rule", "rules"))
	if sum.Partial {
		fmt.Fprintf(w, "%s %s could not be read (left out), the first: %s\n", st.Warn("partial:"),
			Plural(sum.Malformed, "line or row", "lines or rows"), textsafe.Cell(sum.Problems[0]))
	}
	for _, line := range suppressionLines(sum) {
		fmt.Fprintln(w, textsafe.Cell(line))
	}
	return nil
}

// incidentCell is an alert's incident column: the incident, "suppressed (line N)", or "-".
func incidentCell(a *detect.Alert) string {
	if a.Suppressed != nil {
		return fmt.Sprintf("suppressed (line %d)", a.Suppressed.Line)
	}
	return Dash(a.Incident)
}

// suppressionLines says what each bulwark.yaml suppression did: suppressed alerts are counted,
// never silently dropped.
func suppressionLines(sum detect.Summary) []string {
	var out []string
	for _, s := range sum.Suppressions {
		state := fmt.Sprintf("until %s", s.Expires.Format("2006-01-02"))
		if s.Expired {
			state = fmt.Sprintf("EXPIRED on %s, suppresses nothing", s.Expires.Format("2006-01-02"))
		}
		out = append(out, fmt.Sprintf("suppressed: %s by %s: %s (%s)", Plural(s.Alerts, "alert", "alerts"), s.Describe, s.Reason, state))
	}
	return out
}

// alertCaller is the caller of an alert's events: the one caller, or "n callers".
func alertCaller(a *detect.Alert) string {
	seen := map[string]bool{}
	first := ""
	for _, e := range a.Events {
		if e.Caller != "" && !seen[e.Caller] {
			if len(seen) == 0 {
				first = e.Caller
			}
			seen[e.Caller] = true
		}
	}
	switch len(seen) {
	case 0:
		return "-"
	case 1:
		return first
	}
	return fmt.Sprintf("%d callers", len(seen))
}

// actorOf is who an alert is attributed to — the principal that granted the caller its role
// minutes before, when there is one — or "same" when that is the caller (alertCaller) itself.
func actorOf(a *detect.Alert, caller string) string {
	if a.Actor == "" {
		return "-"
	}
	if a.Actor == caller {
		return "same"
	}
	return a.Actor
}

// shortID keeps the last type segment and the name ("locks/payments-no-delete"), enough to
// recognise a resource in a table; JSON and the resource list carry full IDs.
func shortID(id string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return id
}

func DetectMarkdown(w io.Writer, r detect.Result, sum detect.Summary) error {
	fmt.Fprintf(w, "# Bulwark detection\n\n%s, %s, %s from %s.\n\n", Plural(sum.Stats.Events, "event", "events"),
		Plural(len(r.Alerts), "alert", "alerts"), Plural(len(r.Incidents), "incident", "incidents"), Plural(sum.Rules, "rule", "rules"))
	if sum.Partial {
		fmt.Fprintf(w, "**Partial:** %s could not be read (left out), the first: `%s`.\n\n",
			Plural(sum.Malformed, "line or row", "lines or rows"), MarkdownEscape(sum.Problems[0]))
	}
	for _, inc := range r.Incidents {
		fmt.Fprintf(w, "## %s — %s (%s)\n\n", inc.ID, MarkdownEscape(inc.Title), inc.Severity)
		fmt.Fprintf(w, "- **Stages:** %s\n- **Window:** %s – %s UTC\n- **Source IPs:** %s\n- **Resources:** %s\n- **Principals:**\n",
			strings.Join(inc.Stages, " → "), clock(inc.First), clock(inc.Last), Dash(strings.Join(inc.SourceIPs, ", ")), RecoveryLine(inc))
		for _, why := range inc.OpenedBy {
			fmt.Fprintf(w, "- **Opened by:** %s\n", MarkdownEscape(why))
		}
		for _, p := range inc.Principals {
			fmt.Fprintf(w, "  - %s\n", MarkdownEscape(principalLine(p)))
		}
		fmt.Fprintf(w, "\n### Timeline\n\n| time (UTC) | stage | level | alert | caller | resource |\n|---|---|---|---|---|---|\n")
		for _, e := range inc.Timeline {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | `%s` |\n", clock(e.Time), Dash(e.Stage), e.Level, MarkdownEscape(e.Title), MarkdownEscape(Dash(e.Caller)), MarkdownEscape(Dash(shortID(e.ResourceID))))
		}
		fmt.Fprintf(w, "\n### Resources\n\n| component | resource | type | what | blast radius | recovery |\n|---|---|---|---|---|---|\n")
		rs := append([]*detect.Resource(nil), inc.Resources...)
		sort.SliceStable(rs, func(i, j int) bool { return recoveryOrder(rs[i]) < recoveryOrder(rs[j]) })
		for _, res := range rs {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | **%s**: %s |\n", Dash(res.Component), MarkdownEscape(res.Name), MarkdownEscape(res.Type), MarkdownEscape(resourceWhat(res)),
				blast(res), res.Recovery.Status, MarkdownEscape(res.Recovery.Reason))
		}
		fmt.Fprintln(w)
	}
	if len(r.Alerts) > 0 {
		fmt.Fprintf(w, "## Alerts\n\n| time (UTC) | level | stage | rule | caller | actor (accountable) | incident |\n|---|---|---|---|---|---|---|\n")
		for _, a := range r.Alerts {
			caller := alertCaller(a)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", clock(a.Time), a.Rule.Level, Dash(a.Rule.Stage), MarkdownEscape(a.Rule.Title),
				MarkdownEscape(caller), MarkdownEscape(actorOf(a, caller)), incidentCell(a))
		}
		fmt.Fprintln(w)
	}
	for _, line := range suppressionLines(sum) {
		fmt.Fprintf(w, "- %s\n", MarkdownEscape(line))
	}
	return nil
}

// recoveryOrder puts what is lost first, then what must be acted on before retention ends.
func recoveryOrder(r *detect.Resource) int {
	switch r.Recovery.Status {
	case detect.Lost:
		return 0
	case detect.Reversible:
		if r.Deleted {
			return 1
		}
		return 3
	}
	return 2
}
