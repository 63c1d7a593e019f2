package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/graph"
)

// NewCmdApps builds `bulwark apps`.
func NewCmdApps(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Show the applications of an estate and what belongs to them",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdAppsList(app, nil))
	return cmd
}

type appsListOptions struct {
	args              []string
	in                snapshotInputs
	appsPath, cfgPath string
}

func newCmdAppsList(app *App, runF func(*appsListOptions) error) *cobra.Command {
	var opts appsListOptions
	cmd := &cobra.Command{
		Use:   "list --snapshot PATH... [--apps FILE]",
		Short: "List each application's resources by component A–E, its dependencies, and what belongs to none",
		Long: `List the applications of an estate: those in apps.yaml (resources matched by ID, resource group or
tag selector), else by the application tag (default "app"), else by resource group when there is no
apps.yaml. For each: owner, criticality, RTO/RPO, IaC folder, its top-level resources by component
A–E, the applications it declares it depends on, and those its resources actually reference (from
the dependency graph). Resources of components A–E that belong to no application are listed last:
they are in nobody's recovery plan (RSP-001). -v lists every resource.`,
		Example: `  bulwark apps list --snapshot ./estate --apps apps.yaml
  bulwark apps list --snapshot ./estate -o json | jq '.unassigned[].id'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args = args
			return seam(cmd.Context(), app, &opts, runF, runAppsList)
		},
	}
	opts.in.register(cmd)
	cmd.Flags().StringVar(&opts.appsPath, "apps", "", "apps.yaml: applications, owners, RTO/RPO, resources, dependencies")
	cmd.Flags().StringVar(&opts.cfgPath, "config", "", "bulwark.yaml: the application tag")
	return cmd
}

func runAppsList(ctx context.Context, app *App, opts *appsListOptions) error {
	args := opts.args
	in, appsPath, cfgPath := &opts.in, opts.appsPath, opts.cfgPath

	format, err := app.format("table", "json")
	if err != nil {
		return err
	}
	ec, err := loadContext(app, cfgPath, appsPath, nil)
	if err != nil {
		return err
	}
	in.limits = ec.Config.Limits
	f := ec.Apps
	res, err := in.load(ctx, app, args)
	if err != nil {
		return err
	}
	x := arm.NewIndex(res.Snapshot.Resources)
	g := graph.Build(x, nil) // resource references only: declared dependencies are listed apart
	deps := func(o *arm.Object) []*arm.Object {
		var out []*arm.Object
		for _, e := range g.DependsOn(o) {
			out = append(out, e.To)
		}
		return out
	}
	inv := apps.List(f, apps.Resolve(f, x, ec.Config), x, deps)
	if format == "json" {
		return writeJSON(app.Stdout, inv)
	}
	return writeAppsTable(app, inv, f != nil)
}
func writeAppsTable(app *App, inv apps.Inventory, haveFile bool) error {
	w := app.Stdout
	t := newTable(w, "application", "owner", "critical", "rto", "rpo", "A", "B", "C", "D", "E", "depends on", "uses")
	for _, l := range inv.Apps {
		crit := "-"
		if l.Critical {
			crit = "yes"
		}
		name := l.Name
		if haveFile && !l.Declared {
			name += " (not in apps.yaml)"
		}
		cells := []string{name, dash(l.Owner), crit, dash(l.RTO), dash(l.RPO)}
		for _, c := range []string{"A", "B", "C", "D", "E"} {
			cells = append(cells, strconv.Itoa(len(l.Components[c])))
		}
		cells = append(cells, dash(strings.Join(l.DependsOn, ", ")), dash(strings.Join(l.Uses, ", ")))
		t.Row(cells...)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if app.Verbose {
		for _, l := range inv.Apps {
			fmt.Fprintf(w, "\n%s\n", l.Name)
			for _, c := range []string{"A", "B", "C", "D", "E"} {
				for _, r := range l.Components[c] {
					fmt.Fprintf(w, "  %s  %-28s %-45s %s\n", c, r.Name, r.Type, r.How)
				}
			}
		}
	}
	if len(inv.Unassigned) == 0 {
		fmt.Fprintln(w, "\nEvery resource of components A–E belongs to an application.")
		return nil
	}
	fmt.Fprintf(w, "\n%s in no application (in nobody's recovery plan):\n", plural(len(inv.Unassigned), "resource", "resources"))
	t = newTable(w, "  component", "resource", "type")
	for _, r := range inv.Unassigned {
		t.Row("  "+r.Component, r.Name, r.Type)
	}
	return t.Flush()
}
