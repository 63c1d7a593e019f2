package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"github.com/bulwarkhq/bulwark/internal/load"
	"github.com/bulwarkhq/bulwark/internal/report"
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
	maxHeld   int
	changed   map[string]bool // the flags given on the command line
	// allowPartial accepts unreadable lines; allowEmpty accepts inputs without any event.
	allowPartial, allowEmpty bool
	paths                    []string // the arguments: files, folders, - for stdin
	format                   string   // -o
}

// NewCmdDetect builds `bulwark detect`: flags become detectOptions, and runF (runDetect when nil)
// does the work, so a test can check the options a command line gives without running it.
func NewCmdDetect(app *App, runF func(*detectOptions) error) *cobra.Command {
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
B a role, B destroys: one incident). Each rule's bulwark.incident says when its alerts open an
incident (docs/detection.md): a correlation (mass deletion, sabotage then destruction, the full
chain), a change that removes recovery on its own (a Key Vault purge, vault soft delete disabled), a
backup deleted while soft delete was off, a high alert by a principal granted a privileged role the
day before, or mass deallocation with another alert by the same actor. A routine delete or
deallocation is an alert, never an incident on its own; an actor removing what it created itself
(a pipeline's ephemeral resources) is churn. An incident's severity rises with the stages reached
and with what was lost. Each incident lists its principals, source IPs, every resource the actor changed from an
hour before the first alert (component A–E, and blast radius with --snapshot) and whether each change
can still be undone.

Formats: table (incidents first, then alerts), json (JSON lines, schema bulwark.detect/v1,
docs/detect-json.md), markdown. Thresholds and windows of correlation rules are set in bulwark.yaml
(detection.correlations) without editing rules; detection.context tunes mass deallocation, and
detection.suppress silences alerts with a reason and an expiry (they stay listed and counted).`,
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
			opts.paths, opts.format = args, format
			opts.flagsGiven(cmd)
			if runF != nil {
				return runF(&opts)
			}
			return runDetect(cmd.Context(), app, &opts)
		},
	}
	f := cmd.Flags()
	opts.detectorFlags(f)
	f.StringVar(&opts.since, "since", "", "skip events before this time (RFC 3339, a date, or a duration ago such as 24h or 7d)")
	f.StringVar(&opts.until, "until", "", "skip events at or after this time (same forms as --since)")
	f.StringVar(&opts.failOn, "fail-on", "", "exit 1 when an incident reaches this severity (low|medium|high|critical)")
	f.BoolVar(&opts.allowPartial, "allow-partial", false, "exit 0 even when some lines or rows could not be read (the output still says how many)")
	f.BoolVar(&opts.allowEmpty, "allow-empty", false, "exit 0 when the inputs hold no event at all (by default that is an error: nothing was read)")
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

// runDetect is bulwark detect: read, detect, render, and the exit code.
func runDetect(ctx context.Context, app *App, opts *detectOptions) error {
	format := opts.format
	var err error
	failRank := -1
	if opts.failOn != "" {
		if failRank = detect.LevelRank(opts.failOn); failRank < 0 {
			return usagef("--fail-on: %q is not one of %s", opts.failOn, strings.Join(detect.Levels, ", "))
		}
	}
	now := time.Now().UTC()
	dopts, lim, err := opts.detector(ctx, app, now)
	if err != nil {
		return err
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
	sum, err := detect.Run(ctx, activity.Paths(opts.paths), dopts, detect.RunOptions{Files: hostfs.FS{}, Stdin: app.Stdin, Inputs: opts.paths, Limits: lim}, c)
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
	if n := result.Stats.AlertsDropped; n > 0 {
		app.notef("%d alerts were counted, not kept: %d alerts were kept already (limits.maxAlerts in bulwark.yaml), and these could open no incident, by actors with no other alert", n, dopts.MaxAlerts)
	}
	if n := result.Stats.AlertsNotKept; n > 0 {
		app.notef("%d alerts were counted on an earlier alert of the same rule and actor, not kept: %d of one rule by one actor are kept (limits.maxAlertsPerRule in bulwark.yaml); each such first alert says how many (alertsNotKept)", n, dopts.MaxAlertsPerRule)
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
		return &NothingReadError{What: "event", From: describeInputs(opts.paths), Detail: detail}
	}
	switch format {
	case "json":
		err = report.DetectJSON(app.Stdout, result, *sum)
	case "markdown":
		err = report.DetectMarkdown(app.Stdout, result, *sum)
	default:
		err = report.DetectTable(app.Stdout, result, *sum, styler{On: app.color()})
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
}

// detector builds the detector's options from the flags, bulwark.yaml and --snapshot: what
// bulwark detect and bulwark watch share.
func (opts *detectOptions) detector(ctx context.Context, app *App, now time.Time) (detect.Options, limits.Limits, error) {
	var err error
	dopts := detect.Options{Lateness: opts.lateness}
	var lim limits.Limits
	if dopts.Since, err = parseTime(opts.since, now); err != nil {
		return dopts, lim, usagef("--since: %v", err)
	}
	if dopts.Until, err = parseTime(opts.until, now); err != nil {
		return dopts, lim, usagef("--until: %v", err)
	}
	if opts.lateness < 0 {
		return dopts, lim, usagef("--lateness: must not be negative")
	}
	if opts.noBuiltin && len(opts.rules) == 0 {
		return dopts, lim, usagef("--no-builtin needs --rules: there would be no rules to run")
	}
	if opts.config != "" {
		cfg, err := load.Config(opts.config)
		if err != nil {
			return dopts, lim, err
		}
		dopts.Overrides = cfg.Detection.Correlations
		dopts.Context, dopts.Suppress = cfg.Detection.Context, cfg.Detection.Suppress
		lim = cfg.Limits
	}
	// A flag given wins over bulwark.yaml's limits, which win over the defaults.
	if opts.changed["max-actors"] {
		lim.MaxActors = opts.maxActors
	}
	if opts.changed["max-groups"] {
		lim.MaxGroups = opts.maxGroups
	}
	if opts.changed["max-held"] {
		lim.MaxHeld = opts.maxHeld
	}
	lim = lim.Or()
	dopts.MaxActors, dopts.MaxGroups, dopts.MaxHeld, dopts.MaxAlerts, dopts.MaxAlertsPerRule, dopts.MaxRuleValues = lim.MaxActors, lim.MaxGroups, lim.MaxHeld,
		lim.MaxAlerts, lim.MaxAlertsPerRule, lim.MaxRuleValues
	dopts.Now = now
	rules, errs := loadRules(!opts.noBuiltin, opts.rules)
	for _, e := range errs {
		app.notef("rules: %s", e)
	}
	if len(errs) > 0 {
		return dopts, lim, fmt.Errorf("%s: fix them or leave them out (bulwark rules lint shows every problem)", plural(len(errs), "invalid rule", "invalid rules"))
	}
	// The overrides are applied here, once, so that their errors name bulwark.yaml.
	if dopts.Rules, err = detect.WithOverrides(rules, dopts.Overrides); err != nil {
		return dopts, lim, fmt.Errorf("%s: %w", opts.config, err)
	}
	dopts.Overrides = nil
	if len(opts.snap.paths) > 0 {
		opts.snap.limits = lim
		res, err := opts.snap.load(ctx, app, nil)
		if err != nil {
			return dopts, lim, err
		}
		dopts.Estate = detect.NewEstate(res.Snapshot)
	}
	return dopts, lim, nil
}

// detectorFlags are the flags bulwark detect and bulwark watch share.
func (opts *detectOptions) detectorFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&opts.rules, "rules", nil, "more Sigma rules: a file or folder (repeatable)")
	f.BoolVar(&opts.noBuiltin, "no-builtin", false, "do not run the built-in rule pack")
	f.StringArrayVar(&opts.snap.paths, "snapshot", nil, "estate snapshot for components and blast radius: a file or folder (repeatable)")
	f.StringVar(&opts.config, "config", "", "bulwark.yaml: detection.correlations thresholds and windows, detection.context, detection.suppress")
	f.DurationVar(&opts.lateness, "lateness", 20*time.Minute, "how late an out-of-order event may arrive and still be correlated in order")
	f.IntVar(&opts.maxGroups, "max-groups", limits.Default.MaxGroups, "correlation groups kept per rule (least recently seen evicted beyond it; bulwark.yaml limits.maxGroups)")
	f.IntVar(&opts.maxActors, "max-actors", limits.Default.MaxActors, "actors whose changes are tracked (least recently seen without an alert evicted beyond it; limits.maxActors)")
	f.IntVar(&opts.maxHeld, "max-held", limits.Default.MaxHeld, "events held to be put in time order (beyond it the oldest are passed on early, counted as releasedEarly; limits.maxHeld)")
}

// flagsGiven notes which limits were given on the command line (they win over bulwark.yaml).
func (opts *detectOptions) flagsGiven(cmd *cobra.Command) {
	opts.changed = map[string]bool{}
	for _, n := range []string{"max-actors", "max-groups", "max-held"} {
		opts.changed[n] = cmd.Flags().Changed(n)
	}
}
