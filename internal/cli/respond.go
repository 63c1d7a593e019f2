package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/collect"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/report"
	"github.com/bulwarkhq/bulwark/internal/respond"
)

type respondOptions struct {
	args     []string // the command line arguments
	format   string   // -o
	in       snapshotInputs
	app      string
	incident string
	id       string
	apps     string
	iac      []string
	config   string
	cloud    string
}

// NewCmdRespond builds `bulwark respond`.
// NewCmdRespond: flags become respondOptions; runF (runRespond when nil) does the work.
func NewCmdRespond(app *App, runF func(*respondOptions) error) *cobra.Command {
	var opts respondOptions
	cmd := &cobra.Command{
		Use:   "respond (--app NAME | --incident FILE) --snapshot PATH... [flags]",
		Short: "Generate a recovery playbook for an application or an incident, in dependency order",
		Long: `Generate a recovery playbook from the estate's snapshot: for an application (--app: as if every
resource of it were destroyed) or for an incident (--incident: the JSON lines of bulwark detect -o json;
the playbook covers what the incident deleted or changed, and what that depends on).

Phases: contain (incidents: remove the attacker's role assignments, disable its principals, export
the evidence, snapshot surviving disks), the recovery infrastructure, configuration-based services,
data services, virtual machines, automation, then verify and re-harden. Steps follow the dependency
graph; each has the exact az commands, the REST call, what it requires, an estimated duration and
its undo. The playbook totals the critical path against the applications' RTO, warns when a restore
loses more data than their RPO, and lists what cannot be recovered.

Formats: markdown (default: a runbook), json (schema bulwark.playbook/v1, docs/playbook-json.md),
cacao (OASIS CACAO 2.0, for SOAR tools). Nothing is changed in Azure: the playbook is a plan.`,
		Example: `  bulwark respond --app payments --snapshot ./estate --apps apps.yaml --iac ./infra
  bulwark detect ./activity --snapshot ./estate -o json > detect.jsonl
  bulwark respond --incident detect.jsonl --snapshot ./estate --apps apps.yaml -o cacao > playbook.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := app.format("markdown", "json", "cacao")
			if err != nil {
				return err
			}
			opts.args, opts.format = args, format
			if runF != nil {
				return runF(&opts)
			}
			return runRespond(cmd.Context(), app, &opts)
		},
	}
	opts.in.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.app, "app", "", "the application to plan the recovery of (apps.yaml name, application tag, or resource group)")
	f.StringVar(&opts.incident, "incident", "", "bulwark detect -o json output (a file, or - for stdin)")
	f.StringVar(&opts.id, "id", "", "the incident to plan for, when --incident holds several (INC-…)")
	f.StringVar(&opts.apps, "apps", "", "apps.yaml: applications, dependencies, RTO/RPO, owners")
	f.StringArrayVar(&opts.iac, "iac", nil, "ARM templates, Terraform state or plan JSON to redeploy from (file or folder, repeatable)")
	f.StringVar(&opts.config, "config", "", "bulwark.yaml")
	f.StringVar(&opts.cloud, "cloud", "AzurePublic", "the estate's cloud, for the REST endpoints of the playbook: "+strings.Join(collect.CloudNames(), ", "))
	return cmd
}

func writePlaybook(w io.Writer, format string, pb *respond.Playbook) error {
	switch format {
	case "json":
		return writeJSON(w, pb)
	case "cacao":
		return writeJSON(w, report.CACAO(pb))
	}
	return report.PlaybookMarkdown(w, pb)
}

// readIncident reads detect's JSON lines and picks the incident: the one with --id, or the only one.
func readIncident(app *App, path, id string) (*detect.Incident, error) {
	var r io.Reader = app.Stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read incidents: %w", err)
		}
		defer f.Close()
		r, name = f, path
	}
	incs, err := incident.Read(r, name)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, inc := range incs {
		if id != "" && strings.EqualFold(inc.ID, id) {
			return inc, nil
		}
		ids = append(ids, inc.ID)
	}
	switch {
	case len(incs) == 0:
		return nil, fmt.Errorf("%s holds no incident (bulwark detect found alerts only, or this is not its -o json output)", name)
	case id != "":
		return nil, usagef("%s has no incident %s; it has: %s", name, id, strings.Join(ids, ", "))
	case len(incs) > 1:
		return nil, usagef("%s holds %d incidents: pick one with --id (%s)", name, len(incs), strings.Join(ids, ", "))
	}
	return incs[0], nil
}

// runRespond does bulwark respond's work with its options.
func runRespond(ctx context.Context, app *App, opts *respondOptions) error {
	format := opts.format
	var err error
	if (opts.app == "") == (opts.incident == "") {
		return usagef("give exactly one of --app NAME or --incident FILE")
	}
	if opts.id != "" && opts.incident == "" {
		return usagef("--id picks an incident from --incident FILE")
	}
	var inc *detect.Incident
	if opts.incident != "" {
		if inc, err = readIncident(app, opts.incident, opts.id); err != nil {
			return err
		}
	}
	ec, err := loadContext(app, opts.config, opts.apps, opts.iac)
	if err != nil {
		return err
	}
	opts.in.limits = ec.Config.Limits
	res, err := opts.in.load(ctx, app, nil)
	if err != nil {
		return err
	}
	for _, s := range res.Warnings() {
		app.notef("skipped %s %s: %s", s.File, s.Path, s.Reason)
	}
	env := assess.NewEnv(assess.Inputs{Snapshot: res.Snapshot, Config: ec.Config, Apps: ec.Apps, IaC: ec.IaC})
	c, err := cloudNamed(opts.cloud)
	if err != nil {
		return err
	}
	pb, err := respond.Generate(respond.Inputs{Env: env, App: opts.app, Incident: inc, Endpoint: c.Services[cloud.ResourceManager].Endpoint})
	if err != nil {
		if opts.app != "" {
			return usagef("%v", err)
		}
		return err
	}
	return writePlaybook(app.Stdout, format, pb)
}
