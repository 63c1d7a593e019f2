package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/report"
	"github.com/bulwarkhq/bulwark/internal/textsafe"
)

type assessOptions struct {
	args      []string // the command line arguments
	format    string   // -o
	in        snapshotInputs
	live      bool
	scope     liveScope
	save      string
	iac       []string
	apps      string
	config    string
	failOn    string
	include   []string
	exclude   []string
	framework string
}

// NewCmdAssess builds `bulwark assess`.
// NewCmdAssess: flags become assessOptions; runF (runAssess when nil) does the work.
func NewCmdAssess(app *App, runF func(*assessOptions) error) *cobra.Command {
	var opts assessOptions
	cmd := &cobra.Command{
		Use:   "assess (--snapshot PATH... | --live [scope flags]) [flags]",
		Short: "Assess an estate against the guidance and rank the gaps by blast radius",
		Long: `Assess every resource of an estate against the checks of the guidance (locks, just-in-time
access, backup, soft delete, immutability, multi-user authorization, replication, IaC, detection and
response readiness). Each result is pass, fail, warn, unknown (an input is missing: the report says
which) or n/a, with the evidence seen. Findings are ranked by severity and blast radius.

With --live, the estate is collected from Azure first, read-only (as bulwark collect does; --save
keeps the snapshot). Formats: table (default), json (schema bulwark.assessment/v1,
docs/assessment-json.md), sarif (SARIF 2.1.0 for GitHub code scanning), markdown, html (one
self-contained file), csv (one row per result, with its evidence) and xlsx (an Excel workbook: a
summary sheet and a results sheet with filters).`,
		Example: `  bulwark assess --snapshot ./estate --apps apps.yaml --iac ./infra
  bulwark assess --snapshot estate.json -o sarif > bulwark.sarif
  bulwark assess --snapshot estate.json -o html > report.html
  bulwark assess --snapshot estate.json --fail-on high --check KV-002 --check RSV-001
  bulwark assess --live --subscription 11111111-1111-4111-8111-111111111111 --save estate.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := app.format(report.Formats...)
			if err != nil {
				return err
			}
			opts.args, opts.format = args, format
			if runF != nil {
				return runF(&opts)
			}
			return runAssess(cmd.Context(), app, &opts)
		},
	}
	opts.in.register(cmd)
	opts.scope.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&opts.live, "live", false, "collect the estate from Azure first (read-only; see bulwark collect for the scope flags)")
	f.StringVar(&opts.save, "save", "", "with --live, also write the collected snapshot to this file")
	f.StringArrayVar(&opts.iac, "iac", nil, "ARM templates, Terraform state or plan JSON (file or folder, repeatable)")
	f.StringVar(&opts.apps, "apps", "", "apps.yaml: applications, dependencies, recovery objectives, drills")
	f.StringVar(&opts.config, "config", "", "bulwark.yaml: criticality tag, break-glass accounts, severity overrides, RPO")
	f.StringVar(&opts.failOn, "fail-on", "", "exit 1 when a check fails at or above this severity (info|low|medium|high|critical)")
	f.StringArrayVar(&opts.include, "check", nil, "run only this check (repeatable)")
	f.StringArrayVar(&opts.exclude, "skip", nil, "skip this check (repeatable)")
	f.StringVar(&opts.framework, "framework", "", "run only the checks mapped to this framework's controls (mcsb, cis-azure; docs/compliance.md)")
	return cmd
}

// noteExceptions warns of the bulwark.yaml exceptions that expired (their results fail again) and
// of those that match no result (a renamed resource, a fixed finding: remove them).
func noteExceptions(app *App, file string, xs []config.Exception, rep *assess.Report) {
	used, expired := map[int]bool{}, map[int]int{}
	for _, r := range rep.Results {
		if x := r.Exception; x != nil {
			used[x.Line] = true
			if x.Expired {
				expired[x.Line]++
			}
		}
	}
	for _, x := range xs {
		switch {
		case expired[x.Line] > 0:
			app.notef("warning: %s line %d: the exception for %s expired on %s: %s again (owner %s)", file, x.Line, x.Check,
				x.Until.Format("2006-01-02"), plural(expired[x.Line], "result fails", "results fail"), x.Owner)
		case !used[x.Line]:
			app.notef("note: %s line %d: the exception for %s matches no failing result: remove it if the finding was fixed", file, x.Line, x.Check)
		}
	}
}

// runAssess does bulwark assess's work with its options.
func runAssess(ctx context.Context, app *App, opts *assessOptions) error {
	format := opts.format
	var err error
	var min assess.Severity
	if opts.failOn != "" {
		if min, err = assess.ParseSeverity(opts.failOn); err != nil {
			return usagef("--fail-on: %v", err)
		}
	}
	checks, err := assess.Selection{Include: opts.include, Exclude: opts.exclude, Framework: opts.framework}.Checks()
	if err != nil {
		return usagef("%v", err)
	}
	if opts.framework != "" {
		app.notef("--framework %s: %d checks map to the %s through the built-in Azure Policy each is equivalent to, by Microsoft's published mapping (docs/compliance.md); the others are left out",
			opts.framework, len(checks), assess.Frameworks[opts.framework])
	}
	ec, err := loadContext(app, opts.config, opts.apps, opts.iac)
	if err != nil {
		return err
	}
	opts.in.limits = ec.Config.Limits
	inputs := append(append([]string(nil), opts.in.paths...), opts.args...)
	if opts.save != "" && !opts.live {
		return usagef("--save writes what --live collected")
	}
	snap, err := estate(ctx, app, &opts.in, opts.args, opts.live, opts.scope)
	if err != nil {
		return err
	}
	if opts.live {
		inputs = []string{"live Azure"}
		if opts.save != "" {
			if err := writeSnapshot(opts.save, app.Stdout, snap); err != nil {
				return err
			}
			app.notef("wrote %s", opts.save)
		}
	}
	env := assess.NewEnv(assess.Inputs{Snapshot: snap, Config: ec.Config, Apps: ec.Apps, IaC: ec.IaC})
	rep := assess.Run(env, checks)
	noteExceptions(app, opts.config, ec.Config.Exceptions, rep)
	meta := report.Meta{Version: buildVersion().Version, GeneratedAt: time.Now(), CollectedAt: env.Now, Objects: len(snap.Resources),
		Inputs: inputs, Apps: opts.apps, IaC: opts.iac, Color: app.color(), Verbose: app.Verbose, Unreadable: opts.in.unreadable}
	if app.Quiet && format == "table" {
		// -q: the failed results only (at or above --fail-on when given), one line each.
		t := newTable(app.Stdout)
		for _, r := range rep.Results {
			if r.Status == assess.Fail && (opts.failOn == "" || r.Severity >= min) {
				t.Row(r.Severity.String(), r.CheckID, r.Name, r.Message)
			}
		}
		if err := t.Flush(); err != nil {
			return err
		}
	} else if format == "xlsx" {
		// A workbook is binary: never to a terminal, and past the terminal filter untouched.
		raw := textsafe.Unwrap(app.Stdout)
		if isTerminal(raw) {
			return usagef("-o xlsx writes a binary workbook: redirect it to a file (bulwark assess … -o xlsx > report.xlsx)")
		}
		if err := report.Write(raw, format, rep, checks, meta); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else if err := report.Write(app.Stdout, format, rep, checks, meta); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if len(snap.Resources) == 0 { // --live found nothing
		return &NothingReadError{What: "ARM object", From: describeInputs(inputs)}
	}
	if opts.failOn != "" {
		if n := rep.AtOrAbove(min); n > 0 {
			app.notef("%d failed results at or above --fail-on %s", n, min)
			return &FailOnError{Count: n, Threshold: min.String()}
		}
	}
	return nil
}
