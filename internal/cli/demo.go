package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/harden"
	"github.com/bulwarkhq/bulwark/internal/report"
	"github.com/bulwarkhq/bulwark/internal/respond"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

type demoOptions struct {
	out   string
	force bool
}

type demoReport struct {
	Estate   snapshot.Summary `json:"estate"`
	Files    int              `json:"files"`
	Warnings []snapshot.Skip  `json:"warnings"`
	Steps    []string         `json:"steps"`
	Assess   demoAssess       `json:"assessment"`
	Detect   demoDetect       `json:"detection"`
	// Respond is the playbook for each incident detected (bulwark.playbook/v1).
	Respond []*respond.Playbook `json:"playbooks"`
}

type demoDetect struct {
	Source    string             `json:"source"`
	Events    int                `json:"events"`
	Alerts    int                `json:"alerts"`
	Unjoined  int                `json:"alertsWithoutIncident"`
	Incidents []*detect.Incident `json:"incidents"`
}

type demoAssess struct {
	Scores      assess.Scores         `json:"scores"`
	Counts      map[assess.Status]int `json:"counts"`
	TopFindings []assess.Result       `json:"topFindings"`
	// Plan is what bulwark harden would change (irreversible changes left out).
	Plan *harden.Plan `json:"plan"`
}

// NewCmdDemo builds `bulwark demo`: Bulwark's whole job on the embedded Contoso estate, offline.
func NewCmdDemo(app *App, runF func(*demoOptions) error) *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Bulwark on the embedded Contoso demo estate (no Azure access needed)",
		Long: `Run Bulwark on the embedded Contoso demo estate: two subscriptions with virtual machines, data
services, recovery infrastructure, networks and DevOps, protected well in places and badly in
others (examples/contoso/README.md lists what is wrong on purpose).

With --out DIR, write the demo inputs (estate/, apps.yaml, iac/, activity/) to DIR so that every
command can be run on them by hand.`,
		Example: `  bulwark demo
  bulwark demo -o json
  bulwark demo --out ./contoso && bulwark snapshot inspect ./contoso/estate`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return seam(cmd.Context(), app, &opts, runF, runDemo) },
	}
	cmd.Flags().StringVar(&opts.out, "out", "", "write the demo inputs to this folder instead of running the demo")
	cmd.Flags().BoolVar(&opts.force, "force", false, "with --out, write into a folder that is not empty (existing files are overwritten)")
	return cmd
}

// runDemo does bulwark demo's work: the estate, assess, detect and respond, or --out.
func runDemo(ctx context.Context, app *App, opts *demoOptions) error {
	if opts.out != "" {
		return writeDemo(app, *opts)
	}
	format, err := app.format("table", "json")
	if err != nil {
		return err
	}
	env, res, err := demoestate.Load(ctx)
	if err != nil {
		return err
	}
	rep := demoReport{Estate: snapshot.Summarize(res.Snapshot), Files: len(res.Files), Warnings: res.Warnings(), Steps: []string{"estate", "assess", "detect", "respond"}}
	if rep.Warnings == nil {
		rep.Warnings = []snapshot.Skip{}
	}
	ar := assess.Run(env, assess.Checks())
	top := ar.Findings()
	if len(top) > 10 {
		top = top[:10]
	}
	rep.Assess = demoAssess{Scores: ar.Scores, Counts: ar.Counts, TopFindings: top, Plan: harden.Build(env, ar, harden.Options{})}
	if rep.Detect, err = demoDetection(ctx, res.Snapshot); err != nil {
		return fmt.Errorf("detect on the embedded activity log: %w", err)
	}
	rep.Respond = []*respond.Playbook{}
	for _, inc := range rep.Detect.Incidents {
		pb, err := respond.Generate(respond.Inputs{Env: env, Incident: inc})
		if err != nil {
			return fmt.Errorf("playbook for %s: %w", inc.ID, err)
		}
		rep.Respond = append(rep.Respond, pb)
	}
	if format == "json" {
		return writeJSON(app.Stdout, rep)
	}
	return renderDemo(app, rep)
}

func renderDemo(app *App, rep demoReport) error {
	st := styler{On: app.color()}
	w := app.Stdout
	fmt.Fprintln(w, st.Bold("Bulwark demo: the Contoso estate")+" (embedded, offline)")
	fmt.Fprintf(w, "\n%s loaded %s in %s from %s, %s.\n", st.Bold("1. Estate"),
		plural(rep.Estate.Objects, "ARM object", "ARM objects"), plural(len(rep.Estate.Subscriptions), "subscription", "subscriptions"),
		plural(rep.Files, "file", "files"), plural(len(rep.Warnings), "warning", "warnings"))
	for _, s := range rep.Estate.Subscriptions {
		fmt.Fprintf(w, "   %s  %-16s %s\n", s.ID, dash(s.DisplayName), plural(s.Objects, "object", "objects"))
	}
	fmt.Fprintln(w)
	t := newTable(w, "  ", "component", "resources", "settings", "main types")
	for _, c := range rep.Estate.Components {
		t.Row("  "+componentLabel(c.ID), c.Title, strconv.Itoa(c.Resources), strconv.Itoa(c.Children), topTypes(c.Types, 4))
	}
	t.Flush()
	if n := len(rep.Estate.Errors); n > 0 {
		fmt.Fprintf(w, "\n   %s could not be collected; the checks that need it report unknown:\n", st.Warn(plural(n, "item", "items")))
		for _, e := range rep.Estate.Errors {
			fmt.Fprintf(w, "   - %s: %s\n     %s\n", e.Operation, e.Scope, e.Message)
		}
	}
	for _, s := range rep.Warnings {
		fmt.Fprintf(w, "%s %s %s: %s\n", st.Warn("warning:"), s.File, s.Path, s.Reason)
	}
	a := rep.Assess
	fmt.Fprintf(w, "\n%s estate score %s/100 — %d pass, %d warn, %d fail, %d unknown\n", st.Bold("2. Assess"),
		a.Scores.Estate.Display(), a.Counts[assess.Pass], a.Counts[assess.Warn], a.Counts[assess.Fail], a.Counts[assess.Unknown])
	t = newTable(w, "  ", "area", "score", "fail")
	for _, s := range a.Scores.Areas {
		t.Row("  ", s.Name, s.Display(), strconv.Itoa(s.Fail))
	}
	t.Flush()
	fmt.Fprintf(w, "\n   Top findings, by severity and blast radius:\n")
	t = newTable(w, "  ", "#", "severity", "check", "resource", "blast", "finding")
	for i, r := range a.TopFindings {
		t.Row("  ", strconv.Itoa(i+1), r.Severity.String(), r.CheckID, r.Name, strconv.Itoa(r.BlastRadius), r.Message)
	}
	t.Flush()
	if p := a.Plan; p != nil && len(p.Actions) > 0 {
		var locks, irr []string
		for _, x := range p.Actions {
			if x.Kind == "lock" && len(locks) < 5 {
				locks = append(locks, x.Resource.Name)
			}
		}
		for _, l := range p.Left {
			if strings.HasPrefix(l.Reason, "irreversible") {
				irr = append(irr, l.Check)
			}
		}
		fmt.Fprintf(w, "\n   bulwark harden plans %s: locks first, largest blast radius first\n   (%s, …), then settings in prerequisite order;\n"+
			"   %s left for a decision (--allow-irreversible); %d findings have no automated fix.\n",
			plural(len(p.Actions), "change", "changes"), strings.Join(locks, ", "), plural(len(irr), "irreversible change is", "irreversible changes are"), len(p.Left)-len(irr))
	}
	d := rep.Detect
	fmt.Fprintf(w, "\n%s %s from %s (a benign day, then an attack): %s, %s.\n", st.Bold("3. Detect"),
		plural(d.Events, "event", "events"), d.Source, plural(d.Alerts, "alert", "alerts"), plural(len(d.Incidents), "incident", "incidents"))
	fmt.Fprintf(w, "   The benign day's %s (routine snapshot clean-up, a VM stopped) open no incident.\n", plural(d.Unjoined, "alert", "alerts"))
	for _, inc := range d.Incidents {
		fmt.Fprintf(w, "\n   %s %s  %s\n", st.Bold(inc.ID), st.Warn(strings.ToUpper(inc.Severity)), inc.Title)
		t = report.IncidentFacts(w, inc, "     ")
		t.Row("     resources", report.RecoveryLine(inc))
		var lost []string
		for _, r := range inc.Resources {
			if r.Deleted && r.Recovery.Status == detect.Lost && r.Component != "" {
				name := r.Name
				if i := strings.LastIndex(name, ";"); i >= 0 { // a backup item: VM;iaasvmcontainerv2;rg;vm
					name = "backup of " + name[i+1:]
				}
				lost = append(lost, name)
			}
		}
		t.Row("     lost", dash(strings.Join(lost, ", ")))
		t.Flush()
	}
	for _, pb := range rep.Respond {
		renderDemoPlaybook(w, st, pb)
	}
	fmt.Fprintf(w, "\nThe demo inputs are in the binary: 'bulwark demo --out DIR' writes them out, then\n"+
		"  bulwark snapshot inspect DIR/estate\n"+
		"  bulwark assess --snapshot DIR/estate --apps DIR/apps.yaml --iac DIR/iac --config DIR/bulwark.yaml -o html > report.html\n"+
		"  bulwark detect DIR/activity/rest --snapshot DIR/estate --config DIR/bulwark.yaml -o json > detect.jsonl\n"+
		"  bulwark respond --incident detect.jsonl --snapshot DIR/estate --apps DIR/apps.yaml --iac DIR/iac > playbook.md\n")
	return nil
}

// renderDemoPlaybook shows an incident's playbook in brief: what is contained, the restore order
// across A–E, and what cannot be recovered.
func renderDemoPlaybook(w io.Writer, st styler, pb *respond.Playbook) {
	rto := ""
	if pb.Summary.RTOMinutes > 0 {
		verdict := "within"
		if pb.CriticalPath.Minutes > pb.Summary.RTOMinutes {
			verdict = st.Warn("over")
		}
		rto = fmt.Sprintf(", %s the tightest RTO (%s)", verdict, respond.Duration(pb.Summary.RTOMinutes))
	}
	fmt.Fprintf(w, "\n%s playbook %s for %s: %s, critical path %s%s.\n", st.Bold("4. Respond"), pb.ID, pb.Scope.Incident,
		plural(pb.Summary.Steps, "step", "steps"), respond.Duration(pb.CriticalPath.Minutes), rto)
	var contain []string
	for _, s := range pb.Steps {
		if s.Phase == respond.Contain {
			contain = append(contain, strings.ToLower(s.Title[:1])+s.Title[1:])
		}
	}
	fmt.Fprintf(w, "   contain: %s\n\n   restore, in dependency order:\n", strings.Join(contain, "; "))
	t := newTable(w, "  ", "step", "phase", "c", "action", "resource", "time", "after")
	for _, s := range pb.Steps {
		if s.Phase == respond.Contain || s.Phase == respond.Verify || s.Lost {
			continue
		}
		name := ""
		if len(s.Resources) > 0 {
			name = s.Resources[0].Name
			if len(s.Resources) > 1 {
				name += fmt.Sprintf(" +%d", len(s.Resources)-1)
			}
		}
		t.Row("  ", s.ID, string(s.Phase), dash(s.Component), s.Action, name, respond.Duration(s.Minutes), dash(strings.Join(s.Requires, ",")))
	}
	t.Flush()
	fmt.Fprintf(w, "\n   %s %s\n", st.Warn("cannot be recovered:"), dash(strings.Join(pb.LostSummary(), "; ")))
	fmt.Fprintf(w, "   then: re-apply locks, re-assess, close (the full runbook: bulwark respond --incident, below)\n")
}

// demoActivity is the demo's Activity Log, as az monitor activity-log list returns it.
const demoActivity = "activity/rest/activity-2026-11-25.json"

// demoDetection runs the built-in rules on the embedded activity log, with the estate for
// components, blast radius and backups.
func demoDetection(ctx context.Context, snap *arm.Snapshot) (demoDetect, error) {
	rules, errs := detect.LoadRules(true)
	if len(errs) > 0 {
		return demoDetect{}, errs[0]
	}
	c := &detect.Collect{}
	src := activity.FSFile{FS: examples.FS, Name: examples.Root + "/" + demoActivity, As: demoActivity}
	sum, err := detect.Run(ctx, src, detect.Options{Rules: rules, Estate: detect.NewEstate(snap)}, detect.RunOptions{}, c)
	if err != nil {
		return demoDetect{}, err
	}
	if len(sum.Problems) > 0 {
		return demoDetect{}, fmt.Errorf("%s", sum.Problems[0])
	}
	res := c.Result
	out := demoDetect{Source: demoActivity, Events: res.Stats.Events, Alerts: len(res.Alerts), Incidents: res.Incidents}
	for _, a := range res.Alerts {
		if a.Incident == "" {
			out.Unjoined++
		}
	}
	if out.Incidents == nil {
		out.Incidents = []*detect.Incident{}
	}
	return out, nil
}

// topTypes renders the most frequent types as "virtualMachines 6, disks 7, …".
func topTypes(ts []snapshot.TypeCount, n int) string {
	var parts []string
	for i, t := range ts {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(ts)-n))
			break
		}
		// "Microsoft.KeyVault/vaults" → "KeyVault/vaults": short, yet distinct from RecoveryServices/vaults.
		short := strings.TrimPrefix(strings.TrimPrefix(t.Type, "Microsoft."), "microsoft.")
		parts = append(parts, fmt.Sprintf("%s %d", short, t.Count))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// writeDemo copies the embedded examples to opts.out.
func writeDemo(app *App, opts demoOptions) error {
	if entries, err := os.ReadDir(opts.out); err == nil && len(entries) > 0 && !opts.force {
		return usagef("%s is not empty: choose another folder or add --force to overwrite the demo files in it", opts.out)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", opts.out, err)
	}
	n := 0
	err := fs.WalkDir(examples.FS, examples.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, examples.Root), "/")
		dst := filepath.Join(opts.out, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(examples.FS, p)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("write the demo to %s: %w", opts.out, err)
	}
	app.notef("wrote %s to %s", plural(n, "file", "files"), opts.out)
	app.notef("next: bulwark snapshot inspect %s", filepath.Join(opts.out, "estate"))
	return nil
}
