package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/collect"
)

// liveScope is the flags of every command that reads Azure.
type liveScope struct {
	subscriptions   []string
	managementGroup string
	tenant          string
	cloud           string
	concurrency     int
	timeout         time.Duration
	keepSecrets     bool
}

func (l *liveScope) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&l.subscriptions, "subscription", nil, "subscription ID to collect (repeatable; default: every subscription the credential can see)")
	f.StringVar(&l.managementGroup, "management-group", "", "collect the subscriptions under this management group")
	f.StringVar(&l.tenant, "tenant", "", "Microsoft Entra tenant ID to sign in to")
	f.StringVar(&l.cloud, "cloud", "AzurePublic", "cloud: "+strings.Join(collect.CloudNames(), ", "))
	f.IntVar(&l.concurrency, "concurrency", 8, "ARM calls in flight")
	f.DurationVar(&l.timeout, "timeout", 60*time.Second, "per-call timeout (each retry gets it afresh)")
	f.BoolVar(&l.keepSecrets, "keep-secrets", false, "keep connection strings, keys and passwords found in resource properties (by default they are redacted before anything is kept)")
	cmd.RegisterFlagCompletionFunc("cloud", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return collect.CloudNames(), cobra.ShellCompDirectiveNoFileComp
	})
}

// collect runs a collection with a progress line on a terminal. A cancelled run returns what it
// had with the cancellation.
func (l *liveScope) collect(ctx context.Context, app *App) (*collect.Result, error) {
	c, err := cloudNamed(l.cloud)
	if err != nil {
		return nil, err
	}
	if l.managementGroup != "" && len(l.subscriptions) > 0 {
		return nil, usagef("give --subscription or --management-group, not both")
	}
	if l.concurrency < 1 {
		return nil, usagef("--concurrency must be at least 1")
	}
	for _, s := range l.subscriptions {
		if _, err := arm.ParseID("/subscriptions/" + s); err != nil || strings.Contains(s, "/") {
			return nil, usagef("--subscription %q is not a subscription ID", s)
		}
	}
	opts, err := app.Azure(l.tenant, c)
	if err != nil {
		return nil, err
	}
	opts.Subscriptions, opts.ManagementGroup = l.subscriptions, l.managementGroup
	opts.Concurrency, opts.CallTimeout, opts.KeepSecrets = l.concurrency, l.timeout, l.keepSecrets
	var p *progressLine
	if isTerminal(app.Stderr) && !app.Quiet {
		p = &progressLine{app: app}
		opts.Progress = p.update
	}
	res, err := collect.Collect(ctx, opts)
	if p != nil {
		p.done()
	}
	if res != nil && !app.Quiet {
		pr := res.Progress
		app.notef("collected %s from %s (%d Resource Graph pages, %d ARM calls); %s",
			plural(pr.Objects, "object", "objects"), plural(pr.Subscriptions, "subscription", "subscriptions"), pr.Queries, pr.Calls,
			plural(pr.Errors, "call failed", "calls failed"))
		for _, e := range res.Snapshot.Errors {
			app.notef("  %s: %s: %s", e.Scope, e.Operation, e.Message)
		}
		if pr.Redacted > 0 {
			app.notef("redacted %s (connection strings, keys, passwords: --keep-secrets keeps them)", plural(pr.Redacted, "secret value", "secret values"))
		}
	}
	return res, err
}

// progressLine rewrites one stderr line, at most five times a second.
type progressLine struct {
	app  *App
	mu   sync.Mutex
	last time.Time
	p    collect.Progress
}

func (l *progressLine) update(p collect.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p = p
	if time.Since(l.last) < 200*time.Millisecond {
		return
	}
	l.last = time.Now()
	l.print()
}

func (l *progressLine) print() {
	l.app.progress(fmt.Sprintf("collecting: %d subscriptions · %d queries · %d calls · %d objects · %d errors",
		l.p.Subscriptions, l.p.Queries, l.p.Calls, l.p.Objects, l.p.Errors))
}

func (l *progressLine) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.print()
	fmt.Fprintln(l.app.Stderr)
}

type collectOptions struct {
	scope liveScope
	out   string
}

// NewCmdCollect builds `bulwark collect`.
func NewCmdCollect(app *App, runF func(*collectOptions) error) *cobra.Command {
	var opts collectOptions
	cmd := &cobra.Command{
		Use:   "collect [--subscription ID... | --management-group ID] -o FILE",
		Short: "Read an Azure estate into a snapshot file (read-only)",
		Long: `Read an Azure estate into a bulwark.snapshot/v1 file, read-only: Azure Resource Graph for resources,
resource groups, recovery services items, role assignments and definitions, and Defender plans; ARM
GETs for locks, subscription diagnostic settings, PIM eligibility, blob and file service settings,
containers and shares, SQL retention, failover groups and replication links, vault Resource Guard
proxies and Sentinel onboarding. The README lists every API and the roles it needs (Reader; Security
Reader for Defender plans).

Credentials come from DefaultAzureCredential: environment variables, workload identity, managed
identity, then the Azure CLI's login (az login). Throttled calls (429) and server errors are retried
with back-off, honouring Retry-After; a call that still fails — a 403 on one subscription, say — is
recorded in the snapshot's errors and the run goes on, and the checks that needed it report unknown.
Ctrl-C stops the run and still writes what was collected.`,
		Example: `  bulwark collect -o estate.json
  bulwark collect --subscription 11111111-1111-4111-8111-111111111111 -o prod.json
  bulwark collect --management-group contoso-prod --cloud AzureUSGovernment -o gov.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return seam(cmd.Context(), app, &opts, runF, runCollect) },
	}
	opts.scope.register(cmd)
	// -o names the output file, as for snapshot merge.
	cmd.Flags().StringVarP(&opts.out, "output", "o", "-", "file to write the snapshot to (- for stdout)")
	return cmd
}

func runCollect(ctx context.Context, app *App, opts *collectOptions) error {
	scope, out := &opts.scope, opts.out

	res, err := scope.collect(ctx, app)
	if res == nil {
		return err
	}
	if werr := writeSnapshot(out, app.Stdout, res.Snapshot); werr != nil {
		return werr
	}
	if out != "-" {
		app.notef("wrote %s", out)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: %s holds what was collected before the interruption", out)
	}
	return err
}

// estate is the snapshot a command works on: collected from Azure with --live, else loaded from
// the --snapshot inputs and args (load warnings go to stderr).
func estate(ctx context.Context, app *App, in *snapshotInputs, args []string, live bool, scope liveScope) (*arm.Snapshot, error) {
	if live {
		if len(in.paths) > 0 || len(args) > 0 {
			return nil, usagef("--live reads Azure: give it no --snapshot or files")
		}
		res, err := scope.collect(ctx, app)
		if err != nil {
			return nil, err
		}
		return res.Snapshot, nil
	}
	res, err := in.load(ctx, app, args)
	if err != nil {
		return nil, err
	}
	for _, s := range res.Warnings() {
		app.notef("skipped %s %s: %s", s.File, s.Path, s.Reason)
	}
	return res.Snapshot, nil
}

// cloudNamed resolves --cloud.
func cloudNamed(name string) (cloud.Configuration, error) {
	c, ok := collect.Clouds[name]
	if !ok {
		return c, usagef("--cloud %q: choose one of %s", name, strings.Join(collect.CloudNames(), ", "))
	}
	return c, nil
}
