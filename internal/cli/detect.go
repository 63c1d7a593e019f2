package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/textsafe"
	"github.com/bulwarkhq/bulwark/sigma"
)

type detectOptions struct {
	rules     []string
	noBuiltin bool
	snap      snapshotInputs
	config    string
	since     string
	until     string
	lateness  time.Duration
	failOn    string
	maxGroups int
	maxActors int
	// allowPartial accepts unreadable lines; allowEmpty accepts inputs without any event.
	allowPartial, allowEmpty bool
}

// DetectSchema names the JSON-lines schema of `bulwark detect -o json` (docs/detect-json.md).
const DetectSchema = incident.Schema

// NewCmdDetect builds `bulwark detect`.
func NewCmdDetect(app *App) *cobra.Command {
	var opts detectOptions
	cmd := &cobra.Command{
		Use:   "detect PATH... [flags]",
		Short: "Detect destructive attacks in Azure Activity Logs and group the alerts into incidents",
		Long: `Read Azure Activity Log events — az monitor activity-log list output, the diagnostic-settings
export (storage JSON lines in the y=/m=/d=/h= layout, Event Hubs records), Log Analytics AzureActivity
as JSON or the portal's CSV, gzipped or not, files, folders or - for stdin — and run the built-in
Sigma rule pack for the destructive kill chain (privilege, defense impairment, recovery inhibition,
destruction) plus any --rules, on event time.

Alerts are grouped into incidents by actor: a caller, and every principal it granted a role (A grants
B a role, B destroys: one incident). An incident opens on a high or critical alert or a correlation
(mass deletion, sabotage then destruction, the full chain); its severity rises with the stages
reached. Each incident lists its principals, source IPs, every resource the actor changed from an
hour before the first alert (component A–E, and blast radius with --snapshot) and whether each change
can still be undone.

Formats: table (incidents first, then alerts), json (JSON lines, schema bulwark.detect/v1,
docs/detect-json.md), markdown. Thresholds and windows of correlation rules are set in bulwark.yaml
(detection.correlations) without editing rules.`,
		Example: `  bulwark detect ./activity
  az monitor activity-log list --offset 7d -o json | bulwark detect -
  bulwark detect AzureActivity.csv --snapshot ./estate -o markdown > incident.md
  bulwark detect ./insights-activity-logs --since 2026-11-25 --fail-on high -o json > alerts.jsonl`,
		Args: minArgs(1, "Activity Log files, folders or - for stdin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := app.format("table", "json", "markdown")
			if err != nil {
				return err
			}
			failRank := -1
			if opts.failOn != "" {
				if failRank = detect.LevelRank(opts.failOn); failRank < 0 {
					return usagef("--fail-on: %q is not one of %s", opts.failOn, strings.Join(detect.Levels, ", "))
				}
			}
			now := time.Now().UTC()
			dopts := detect.Options{Lateness: opts.lateness, MaxGroups: opts.maxGroups, MaxActors: opts.maxActors}
			if dopts.Since, err = parseTime(opts.since, now); err != nil {
				return usagef("--since: %v", err)
			}
			if dopts.Until, err = parseTime(opts.until, now); err != nil {
				return usagef("--until: %v", err)
			}
			if opts.lateness < 0 {
				return usagef("--lateness: must not be negative")
			}
			if opts.noBuiltin && len(opts.rules) == 0 {
				return usagef("--no-builtin needs --rules: there would be no rules to run")
			}
			if opts.config != "" {
				cfg, err := config.Load(opts.config)
				if err != nil {
					return err
				}
				dopts.Overrides = cfg.Detection.Correlations
				dopts.Context, dopts.Suppress = cfg.Detection.Context, cfg.Detection.Suppress
			}
			dopts.Now = now
			rules, errs := detect.LoadRules(!opts.noBuiltin, opts.rules...)
			for _, e := range errs {
				app.notef("rules: %s", e)
			}
			if len(errs) > 0 {
				return fmt.Errorf("%s: fix them or leave them out (bulwark rules lint shows every problem)", plural(len(errs), "invalid rule", "invalid rules"))
			}
			dopts.Rules = rules
			if _, err := detect.WithOverrides(rules, dopts.Overrides); err != nil {
				return fmt.Errorf("%s: %w", opts.config, err)
			}
			if len(opts.snap.paths) > 0 {
				res, err := opts.snap.load(cmd.Context(), app, nil)
				if err != nil {
					return err
				}
				dopts.Estate = detect.NewEstate(res.Snapshot)
			}
			progress := !app.Quiet && isTerminal(app.Stderr)
			last := time.Now()
			shown := false
			c := &detect.Collect{OnProgress: func(p detect.Progress) {
				if progress && time.Since(last) > 2*time.Second {
					last, shown = time.Now(), true
					app.progress(fmt.Sprintf("%d events read (%s)…", p.Events, p.Source))
				}
			}}
			sum, err := detect.Run(cmd.Context(), activity.Paths(args), dopts, detect.RunOptions{Stdin: app.Stdin, Inputs: args}, c)
			var cerrs sigma.Errors
			if errors.As(err, &cerrs) {
				for _, e := range cerrs {
					app.notef("rules: %s", e)
				}
				return fmt.Errorf("%s: fix them or leave them out (bulwark rules lint shows every problem)", plural(len(cerrs), "invalid rule", "invalid rules"))
			}
			if err != nil {
				return err
			}
			if shown {
				app.progress("")
			}
			result := c.Result
			for _, p := range sum.Problems {
				app.notef("skipped %s", p)
			}
			if more := sum.Malformed - len(sum.Problems); more > 0 {
				app.notef("skipped %s more (%d malformed in all; the first %d are listed above)", plural(more, "malformed line or row", "malformed lines or rows"), sum.Malformed, len(sum.Problems))
			}
			if app.Verbose {
				app.notef("%d events (%d duplicates dropped, %d malformed) in %s; %+v", result.Stats.Events, sum.Duplicates, sum.Malformed,
					sum.Elapsed.Round(time.Millisecond), result.Stats)
			}
			if result.Stats.Late > 0 {
				app.notef("%d events arrived more than --lateness %s after later ones and were correlated out of order", result.Stats.Late, dopts.Lateness)
			}
			for _, s := range sum.Suppressions {
				if s.Expired {
					app.notef("%s: detection.suppress %s expired on %s and suppresses nothing: renew it or remove it", opts.config, s.Describe, s.Expires.Format("2006-01-02"))
				}
			}
			n := sum.Read
			if n == 0 && (sum.Malformed > 0 || !opts.allowEmpty) {
				detail := ""
				if sum.Malformed > 0 {
					detail = fmt.Sprintf("%s, the first: %s", plural(sum.Malformed, "malformed line or row", "malformed lines or rows"), sum.Problems[0])
				}
				return &NothingReadError{What: "event", From: describeInputs(args), Detail: detail}
			}
			switch format {
			case "json":
				err = writeDetectJSON(app.Stdout, result, *sum)
			case "markdown":
				err = writeDetectMarkdown(app.Stdout, result, *sum)
			default:
				err = writeDetectTable(app.Stdout, result, *sum, styler{app.color()})
			}
			if err != nil {
				return fmt.Errorf("write results: %w", err)
			}
			if sum.Partial && !opts.allowPartial {
				return fmt.Errorf("partial input: %s could not be read (the results above leave them out; --allow-partial accepts that)",
					plural(sum.Malformed, "line or row", "lines or rows"))
			}
			if failRank >= 0 {
				n := 0
				for _, inc := range result.Incidents {
					if detect.LevelRank(inc.Severity) >= failRank {
						n++
					}
				}
				if n > 0 {
					app.notef("%s at or above --fail-on %s", plural(n, "incident", "incidents"), opts.failOn)
					return &FailOnError{Count: n, Threshold: opts.failOn}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.rules, "rules", nil, "more Sigma rules: a file or folder (repeatable)")
	f.BoolVar(&opts.noBuiltin, "no-builtin", false, "do not run the built-in rule pack")
	f.StringArrayVar(&opts.snap.paths, "snapshot", nil, "estate snapshot for components and blast radius: a file or folder (repeatable)")
	f.StringVar(&opts.config, "config", "", "bulwark.yaml: detection.correlations thresholds and windows, detection.context, detection.suppress")
	f.StringVar(&opts.since, "since", "", "skip events before this time (RFC 3339, a date, or a duration ago such as 24h or 7d)")
	f.StringVar(&opts.until, "until", "", "skip events at or after this time (same forms as --since)")
	f.DurationVar(&opts.lateness, "lateness", 20*time.Minute, "how late an out-of-order event may arrive and still be correlated in order")
	f.StringVar(&opts.failOn, "fail-on", "", "exit 1 when an incident reaches this severity (low|medium|high|critical)")
	f.IntVar(&opts.maxGroups, "max-groups", 100_000, "correlation groups kept per rule (least recently seen evicted beyond it)")
	f.BoolVar(&opts.allowPartial, "allow-partial", false, "exit 0 even when some lines or rows could not be read (the output still says how many)")
	f.BoolVar(&opts.allowEmpty, "allow-empty", false, "exit 0 when the inputs hold no event at all (by default that is an error: nothing was read)")
	f.IntVar(&opts.maxActors, "max-actors", 100_000, "actors whose changes are tracked (least recently seen without an alert evicted beyond it)")
	cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(detect.Levels[1:], cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseTime reads --since and --until: RFC 3339, a date (UTC), or a duration before now.
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := config.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2026-11-25T21:00:00Z, 2026-11-25) or a duration ago (24h, 7d)", s)
}

// detectSummary is the summary line of -o json (detect.Summary).
type detectSummary = detect.Summary

// writeDetectJSON writes one JSON object per line: every alert (oldest first), every incident,
// then a summary.
func writeDetectJSON(w io.Writer, r detect.Result, sum detectSummary) error {
	enc := json.NewEncoder(w)
	for _, a := range r.Alerts {
		if err := enc.Encode(struct {
			Schema string `json:"schema"`
			Kind   string `json:"kind"`
			*detect.Alert
		}{DetectSchema, "alert", a}); err != nil {
			return err
		}
	}
	for _, inc := range r.Incidents {
		if err := enc.Encode(struct {
			Schema string `json:"schema"`
			Kind   string `json:"kind"`
			*detect.Incident
		}{DetectSchema, "incident", inc}); err != nil {
			return err
		}
	}
	sum.Alerts, sum.Incidents = len(r.Alerts), len(r.Incidents)
	return enc.Encode(struct {
		Schema string `json:"schema"`
		Kind   string `json:"kind"`
		detectSummary
	}{DetectSchema, "summary", sum})
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

func recoveryLine(inc *detect.Incident) string {
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
func incidentFacts(w io.Writer, inc *detect.Incident, indent string) *table {
	t := newTable(w)
	t.row(indent+"stages", strings.Join(inc.Stages, " → "))
	t.row(indent+"window", clock(inc.First)+" – "+clock(inc.Last)+" UTC")
	for i, p := range inc.Principals {
		label := ""
		if i == 0 {
			label = indent + "principals"
		}
		t.row(label, principalLine(p))
	}
	return t
}

func writeDetectTable(w io.Writer, r detect.Result, sum detectSummary, st styler) error {
	for _, inc := range r.Incidents {
		fmt.Fprintf(w, "%s %s  %s\n", st.bold("INCIDENT "+inc.ID), st.warn(strings.ToUpper(inc.Severity)), inc.Title)
		t := incidentFacts(w, inc, "  ")
		for i, why := range inc.OpenedBy {
			label := ""
			if i == 0 {
				label = "  opened by"
			}
			if i == 5 && len(inc.OpenedBy) > 6 {
				t.row("", fmt.Sprintf("and %d more reasons (-o json lists them)", len(inc.OpenedBy)-5))
				break
			}
			t.row(label, why)
		}
		t.row("  source IPs", dash(strings.Join(inc.SourceIPs, ", ")))
		t.row("  resources", recoveryLine(inc))
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		t = newTable(w, "  time", "stage", "level", "alert", "caller", "resource")
		for _, e := range inc.Timeline {
			t.row("  "+clock(e.Time), dash(e.Stage), e.Level, e.Title, dash(e.Caller), dash(shortID(e.ResourceID)))
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		t = newTable(w, "  component", "resource", "type", "what", "blast", "recovery")
		for _, res := range inc.Resources {
			t.row("  "+dash(res.Component), res.Name, res.Type, resourceWhat(res), blast(res), res.Recovery.Status+": "+res.Recovery.Reason)
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(r.Alerts) > 0 {
		fmt.Fprintln(w, st.bold("ALERTS"))
		t := newTable(w, "time", "level", "stage", "rule", "caller", "actor (accountable)", "resource", "incident")
		for _, a := range r.Alerts {
			res := ""
			if a.Type == "detection" && len(a.Events) > 0 {
				res = shortID(a.Events[0].ResourceID)
			} else {
				res = fmt.Sprintf("%d events", a.EventCount)
			}
			caller := alertCaller(a)
			t.row(clock(a.Time), a.Rule.Level, dash(a.Rule.Stage), a.Rule.Title, caller, actorOf(a, caller), res, incidentCell(a))
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s, %s, %s from %s\n", plural(sum.Stats.Events, "event", "events"), plural(len(r.Alerts), "alert", "alerts"),
		plural(len(r.Incidents), "incident", "incidents"), plural(sum.Rules, "rule", "rules"))
	if sum.Partial {
		fmt.Fprintf(w, "%s %s could not be read (left out), the first: %s\n", st.warn("partial:"),
			plural(sum.Malformed, "line or row", "lines or rows"), textsafe.Cell(sum.Problems[0]))
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
	return dash(a.Incident)
}

// suppressionLines says what each bulwark.yaml suppression did: suppressed alerts are counted,
// never silently dropped.
func suppressionLines(sum detectSummary) []string {
	var out []string
	for _, s := range sum.Suppressions {
		state := fmt.Sprintf("until %s", s.Expires.Format("2006-01-02"))
		if s.Expired {
			state = fmt.Sprintf("EXPIRED on %s, suppresses nothing", s.Expires.Format("2006-01-02"))
		}
		out = append(out, fmt.Sprintf("suppressed: %s by %s: %s (%s)", plural(s.Alerts, "alert", "alerts"), s.Describe, s.Reason, state))
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

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func writeDetectMarkdown(w io.Writer, r detect.Result, sum detectSummary) error {
	fmt.Fprintf(w, "# Bulwark detection\n\n%s, %s, %s from %s.\n\n", plural(sum.Stats.Events, "event", "events"),
		plural(len(r.Alerts), "alert", "alerts"), plural(len(r.Incidents), "incident", "incidents"), plural(sum.Rules, "rule", "rules"))
	if sum.Partial {
		fmt.Fprintf(w, "**Partial:** %s could not be read (left out), the first: `%s`.\n\n",
			plural(sum.Malformed, "line or row", "lines or rows"), mdEscape(sum.Problems[0]))
	}
	for _, inc := range r.Incidents {
		fmt.Fprintf(w, "## %s — %s (%s)\n\n", inc.ID, mdEscape(inc.Title), inc.Severity)
		fmt.Fprintf(w, "- **Stages:** %s\n- **Window:** %s – %s UTC\n- **Source IPs:** %s\n- **Resources:** %s\n- **Principals:**\n",
			strings.Join(inc.Stages, " → "), clock(inc.First), clock(inc.Last), dash(strings.Join(inc.SourceIPs, ", ")), recoveryLine(inc))
		for _, why := range inc.OpenedBy {
			fmt.Fprintf(w, "- **Opened by:** %s\n", mdEscape(why))
		}
		for _, p := range inc.Principals {
			fmt.Fprintf(w, "  - %s\n", mdEscape(principalLine(p)))
		}
		fmt.Fprintf(w, "\n### Timeline\n\n| time (UTC) | stage | level | alert | caller | resource |\n|---|---|---|---|---|---|\n")
		for _, e := range inc.Timeline {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | `%s` |\n", clock(e.Time), dash(e.Stage), e.Level, mdEscape(e.Title), mdEscape(dash(e.Caller)), mdEscape(dash(shortID(e.ResourceID))))
		}
		fmt.Fprintf(w, "\n### Resources\n\n| component | resource | type | what | blast radius | recovery |\n|---|---|---|---|---|---|\n")
		rs := append([]*detect.Resource(nil), inc.Resources...)
		sort.SliceStable(rs, func(i, j int) bool { return recoveryOrder(rs[i]) < recoveryOrder(rs[j]) })
		for _, res := range rs {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | **%s**: %s |\n", dash(res.Component), mdEscape(res.Name), mdEscape(res.Type), mdEscape(resourceWhat(res)),
				blast(res), res.Recovery.Status, mdEscape(res.Recovery.Reason))
		}
		fmt.Fprintln(w)
	}
	if len(r.Alerts) > 0 {
		fmt.Fprintf(w, "## Alerts\n\n| time (UTC) | level | stage | rule | caller | actor (accountable) | incident |\n|---|---|---|---|---|---|---|\n")
		for _, a := range r.Alerts {
			caller := alertCaller(a)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", clock(a.Time), a.Rule.Level, dash(a.Rule.Stage), mdEscape(a.Rule.Title),
				mdEscape(caller), mdEscape(actorOf(a, caller)), incidentCell(a))
		}
		fmt.Fprintln(w)
	}
	for _, line := range suppressionLines(sum) {
		fmt.Fprintf(w, "- %s\n", mdEscape(line))
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
