package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/harden"
	"github.com/bulwarkhq/bulwark/internal/harden/apply"
)

type hardenOptions struct {
	args              []string
	format            string
	in                snapshotInputs
	apps, config      string
	iac               []string
	checks            []string
	allowIrreversible bool
	resourceGroup     string
	apply             bool
	w                 writeFlags
}

// NewCmdHarden builds `bulwark harden`.
func NewCmdHarden(app *App, runF func(*hardenOptions) error) *cobra.Command {
	var opts hardenOptions
	cmd := &cobra.Command{
		Use:   "harden --snapshot PATH... [--check ID...] [-o text|json|azcli|bicep] [--apply [--yes]]",
		Short: "Plan the fixes for the failing findings, in order, and apply them with a journal",
		Long: `Turn the assessment's failing findings into an ordered plan: locks first on the resources with the
largest blast radius (CanNotDelete on the resource itself, the narrowest scope that protects it), then
settings in the order their prerequisites need (blob soft delete, versioning and change feed before
point-in-time restore; vault soft delete before immutability; unlocked immutability before locked).
Irreversible changes (Key Vault purge protection, vault soft delete always on, locked immutability)
are marked and left out unless --allow-irreversible. Findings without an automated fix are listed
with why.

Formats: text (default), json (schema bulwark.harden/v1), azcli (a script to review: set -euo
pipefail, a comment per action), bicep (a deployable file for one resource group: --resource-group).

--apply makes the changes through ARM: it shows the exact requests and asks on a terminal (without a
terminal it needs --yes), re-reads each resource first and skips what is already in place (a second
apply writes nothing), and journals an intent before each write and its outcome after. A run
interrupted between the two is resumed from the resource's actual state.`,
		Example: `  bulwark harden --snapshot ./estate
  bulwark harden --snapshot ./estate -o azcli > harden.sh
  bulwark harden --snapshot ./estate --resource-group /subscriptions/…/resourceGroups/rg-shop -o bicep > rg-shop.bicep
  bulwark harden --snapshot ./estate --check LOCK-001 --apply`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.EqualFold(app.Output, "table") { // the global -o's human format: harden's is text
				app.Output = "text"
			}
			format, err := app.format("text", "json", "azcli", "bicep")
			if err != nil {
				return err
			}
			if opts.resourceGroup != "" {
				if id, err := arm.ParseID(opts.resourceGroup); err != nil || id.ResourceGroup() == "" {
					return usagef("--resource-group needs a resource group ID: /subscriptions/…/resourceGroups/NAME")
				}
			}
			for _, c := range opts.checks {
				if _, err := assess.Select([]string{c}, nil); err != nil {
					return usagef("--check %s: %v", c, err)
				}
			}
			opts.args, opts.format = args, format
			return seam(cmd.Context(), app, &opts, runF, runHarden)
		},
	}
	opts.in.register(cmd)
	opts.w.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.apps, "apps", "", "apps.yaml (business-critical applications get the costlier protections)")
	f.StringArrayVar(&opts.iac, "iac", nil, "ARM templates or Terraform state (file or folder, repeatable)")
	f.StringVar(&opts.config, "config", "", "bulwark.yaml")
	f.StringArrayVar(&opts.checks, "check", nil, "plan the fixes of this check only (repeatable)")
	f.BoolVar(&opts.allowIrreversible, "allow-irreversible", false, "include changes that cannot be undone (purge protection, soft delete always on, locked immutability)")
	f.StringVar(&opts.resourceGroup, "resource-group", "", "plan only the resources of this resource group (an ID); -o bicep needs it")
	f.BoolVar(&opts.apply, "apply", false, "make the changes through ARM (asks first; --yes to skip the question)")
	return cmd
}

// runHarden does bulwark harden's work with its options: plan, then render or apply.
func runHarden(ctx context.Context, app *App, opts *hardenOptions) error {
	ec, err := loadContext(app, opts.config, opts.apps, opts.iac)
	if err != nil {
		return err
	}
	opts.in.limits = ec.Config.Limits
	res, err := opts.in.load(ctx, app, opts.args)
	if err != nil {
		return err
	}
	env := assess.NewEnv(assess.Inputs{Snapshot: res.Snapshot, Config: ec.Config, Apps: ec.Apps, IaC: ec.IaC})
	p := harden.Build(env, assess.Run(env, assess.Checks()), harden.Options{Checks: opts.checks, AllowIrreversible: opts.allowIrreversible, ResourceGroup: opts.resourceGroup})
	if opts.apply {
		return applyPlan(ctx, app, opts, p)
	}
	switch opts.format {
	case "json":
		return writeJSON(app.Stdout, p)
	case "azcli":
		return harden.AzCLI(app.Stdout, p)
	case "bicep":
		b, err := harden.BicepFile(p)
		if err != nil {
			return usagef("%v", err)
		}
		_, err = fmt.Fprint(app.Stdout, b)
		return err
	}
	c, err := cloudNamed(opts.w.cloud)
	if err != nil {
		return err
	}
	return harden.Text(app.Stdout, p, c.Services[cloud.ResourceManager].Endpoint)
}

func applyPlan(ctx context.Context, app *App, opts *hardenOptions, p *harden.Plan) error {
	if len(p.Actions) == 0 {
		app.notef("nothing to apply")
		return nil
	}
	path, j, entries, err := opts.w.openJournal(app)
	if err != nil {
		return err
	}
	defer j.Close()
	client, who, err := opts.w.connect(ctx, app)
	if err != nil {
		return err
	}
	ap := &apply.Applier{Client: client, Journal: j, Who: who, Entries: entries}
	reqs, err := ap.Preview(ctx, p)
	if err != nil {
		return err
	}
	if len(reqs) == 0 {
		app.notef("all %d actions are already in place: nothing to write", len(p.Actions))
		return nil
	}
	if err := opts.w.confirm(app, reqs); err != nil {
		return err
	}
	results, err := ap.Apply(ctx, p)
	t := newTable(app.Stdout, "action", "status", "change", "detail")
	failed := 0
	for _, r := range results {
		if r.Status == "failed" {
			failed++
		}
		t.Row(r.Action, r.Status, r.Title, dash(r.Message))
	}
	t.Flush()
	app.notef("journal: %s (as %s)", path, who)
	if err != nil {
		return err
	}
	if failed > 0 {
		return errors.New(plural(failed, "change failed", "changes failed") + ": see the detail above and bulwark journal show")
	}
	return nil
}
